package crm_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
)

// received is one request the test's receiver got.
type received struct {
	id, timestamp, signature, contentType string
	body                                  []byte
	answered                              int
}

// receiver is a webhook endpoint on loopback that answers 500 to the first request and 204 to the rest.
type receiver struct {
	mu   sync.Mutex
	got  []received
	more chan struct{}
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	code := http.StatusNoContent
	if len(r.got) == 0 {
		code = http.StatusInternalServerError
	}
	r.got = append(r.got, received{id: req.Header.Get("webhook-id"), timestamp: req.Header.Get("webhook-timestamp"),
		signature: req.Header.Get("webhook-signature"), contentType: req.Header.Get("Content-Type"), body: body, answered: code})
	r.mu.Unlock()
	w.WriteHeader(code)
	select {
	case r.more <- struct{}{}:
	default:
	}
}

// delivered waits for a delivered event of type typ (the test fails after a minute without one) and returns it
// with its parsed body.
func (r *receiver) delivered(t *testing.T, typ string) (received, map[string]any) {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		r.mu.Lock()
		for _, g := range r.got {
			var b map[string]any
			if g.answered == http.StatusNoContent && json.Unmarshal(g.body, &b) == nil && b["type"] == typ {
				r.mu.Unlock()
				return g, b
			}
		}
		r.mu.Unlock()
		select {
		case <-r.more:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %s event delivered", typ)
		}
	}
}

// verify checks a request as a receiver following the Standard Webhooks specification would, written apart
// from Frontdesk's signer: the base64 HMAC-SHA256 of "id.timestamp.body" under the decoded secret must be one
// of the space-separated "v1," signatures, and the timestamp within five minutes of now.
func verify(secret string, g received) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	ts, err := strconv.ParseInt(g.timestamp, 10, 64)
	if err != nil {
		return errors.New("timestamp is not a number of seconds")
	}
	if d := time.Since(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("timestamp is not recent")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(g.id + "." + g.timestamp + "." + string(g.body)))
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(g.signature) {
		v, b64, ok := strings.Cut(sig, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if ok && v == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no valid signature")
}

func TestWebhooksAreSignedRetriedAndCarryNothingPersonal(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.db.EnableWebhooks("https://enquiries.example.org")
	raw := make([]byte, 32)
	rand.Read(raw)
	secret := "whsec_" + base64.StdEncoding.EncodeToString(raw)
	key, err := crm.ParseWebhookSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	rcv := &receiver{more: make(chan struct{}, 1)}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	sender := crm.NewWebhookSender(w.db, crm.WebhookConfig{URL: srv.URL + "/hooks/catch/1/abc", Key: key,
		Poll: 20 * time.Millisecond, RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); sender.Run(runCtx) }()
	defer func() { stop(); <-done }()

	const name, email, phone, message = "Pat Webhook", "pat.webhook@example.org", "07700 900123",
		"Some days I want to end my life."
	rec, err := w.intake.Submit(ctx, intake.Submission{Name: name, Email: email, Phone: phone, Treatment: "other",
		Message: message, Consent: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	created, body := rcv.delivered(t, "enquiry.created")
	data := body["data"].(map[string]any)
	if data["reference"] != rec.Reference || data["status"] != "new" || data["treatment"] != "other" ||
		data["link"] != "https://enquiries.example.org/enquiries/"+rec.Reference {
		t.Errorf("enquiry.created data: %v", data)
	}
	if _, err := time.Parse(time.RFC3339Nano, body["timestamp"].(string)); err != nil {
		t.Errorf("timestamp %v: %v", body["timestamp"], err)
	}
	_, body = rcv.delivered(t, "enquiry.flagged")
	if flags := body["data"].(map[string]any)["flags"]; len(flags.([]any)) == 0 || flags.([]any)[0] != "risk" {
		t.Errorf("enquiry.flagged flags: %v", flags)
	}

	e, err := w.ws.Transition(ctx, w.admin, rec.Reference, crm.StatusContacted, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, body = rcv.delivered(t, "enquiry.status_changed"); body["data"].(map[string]any)["status"] != "contacted" {
		t.Errorf("enquiry.status_changed data: %v", body["data"])
	}
	if _, err := w.ws.Assign(ctx, w.admin, rec.Reference, w.clin.Email, e.Version); err != nil {
		t.Fatal(err)
	}
	if _, body = rcv.delivered(t, "enquiry.assigned"); body["data"].(map[string]any)["assignee"] != w.clin.Email {
		t.Errorf("enquiry.assigned data: %v", body["data"])
	}

	rcv.mu.Lock()
	got := append([]received(nil), rcv.got...)
	rcv.mu.Unlock()
	for _, g := range got {
		if err := verify(secret, g); err != nil {
			t.Errorf("event %s: %v (signature %q)", g.id, err, g.signature)
		}
		if g.contentType != "application/json" || !strings.HasPrefix(g.id, "msg_") {
			t.Errorf("event %q: content type %q", g.id, g.contentType)
		}
		for _, personal := range []string{name, "Pat", email, "webhook@", phone, "7700900123", message, "end my life"} {
			if strings.Contains(string(g.body), personal) {
				t.Errorf("event %s carries %q: %s", g.id, personal, g.body)
			}
		}
	}
	// The first attempt was answered 500; the same event (same webhook-id) was delivered on a retry.
	if got[0].answered != http.StatusInternalServerError || got[0].id != created.id {
		t.Fatalf("first request: %+v", got[0])
	}
	retried := false
	for _, g := range got[1:] {
		retried = retried || (g.id == got[0].id && g.answered == http.StatusNoContent && string(g.body) == string(got[0].body))
	}
	if !retried {
		t.Errorf("the event answered 500 (%s) was not delivered again", got[0].id)
	}

	// The outbox shows the four as sent (once the sender has recorded the last delivery).
	deadline := time.Now().Add(time.Minute)
	for {
		entries, err := crm.NewOutbox(w.db, nil).List(ctx, w.admin, crm.OutboxFilter{Status: crm.OutboxSent})
		if err != nil {
			t.Fatal(err)
		}
		hooks := 0
		for _, en := range entries {
			if en.Kind.IsWebhook() {
				hooks++
			}
		}
		if hooks == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d webhook events sent in the outbox, want 4", hooks)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWebhookEventsAreQueuedOnlyWithTheirChange(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	outbox := crm.NewOutbox(w.db, nil)
	count := func() map[crm.MailKind]int {
		t.Helper()
		entries, err := outbox.List(ctx, w.admin, crm.OutboxFilter{})
		if err != nil {
			t.Fatal(err)
		}
		n := map[crm.MailKind]int{}
		for _, en := range entries {
			if en.Kind.IsWebhook() {
				n[en.Kind]++
			}
		}
		return n
	}
	// Off until enabled: nothing is queued.
	ref := w.enquiry(&w.clin)
	if n := count(); len(n) != 0 {
		t.Fatalf("webhooks off, yet queued: %v", n)
	}
	w.db.EnableWebhooks("https://enquiries.example.org")
	e, err := w.ws.Transition(ctx, w.admin, ref, crm.StatusContacted, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	// Committed with the change: there when the change returns.
	if n := count(); n[crm.WebhookStatusChanged] != 1 || len(n) != 1 {
		t.Fatalf("after a move: %v", n)
	}
	// Failed changes queue nothing: a move the pipeline does not allow, a change to a stale version.
	if _, err := w.ws.Transition(ctx, w.admin, ref, crm.StatusNew, "", 0); !errors.Is(err, crm.ErrTransitionNotAllowed) {
		t.Fatalf("move back to new: %v", err)
	}
	if _, err := w.ws.Assign(ctx, w.admin, ref, w.other.Email, e.Version-1); !errors.Is(err, crm.ErrConflict) {
		t.Fatalf("assign a stale version: %v", err)
	}
	if n := count(); n[crm.WebhookStatusChanged] != 1 || len(n) != 1 {
		t.Errorf("after failed changes: %v", n)
	}
	// The mail worker never claims an event; the webhook sender claims only events.
	msgs, err := w.db.ClaimDue(ctx, time.Now(), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Kind.IsWebhook() {
			t.Errorf("the mail worker claimed webhook event %d", m.ID)
		}
	}
	events, err := w.db.ClaimDueWebhooks(ctx, time.Now(), time.Minute, 100)
	if err != nil || len(events) != 1 || events[0].Kind != crm.WebhookStatusChanged || events[0].Reference != ref {
		t.Fatalf("claimed events: %+v, %v", events, err)
	}
	var b struct {
		Data crm.WebhookData `json:"data"`
	}
	if err := json.Unmarshal(events[0].Body, &b); err != nil || b.Data.Status != crm.StatusContacted ||
		b.Data.Assignee == nil || *b.Data.Assignee != w.clin.Email {
		t.Errorf("stored body %s: %v", events[0].Body, err)
	}
}

func TestParseWebhookSecret(t *testing.T) {
	good := "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 32))
	if k, err := crm.ParseWebhookSecret(good); err != nil || len(k) != 32 {
		t.Errorf("%q: %d bytes, %v", good, len(k), err)
	}
	for _, bad := range []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 8))} {
		if _, err := crm.ParseWebhookSecret(bad); err == nil || strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// refusing is a webhook endpoint that answers 503 until open is set, then 204.
type refusing struct {
	mu        sync.Mutex
	open      bool
	delivered int
}

func (r *refusing) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.open {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	r.delivered++
	w.WriteHeader(http.StatusNoContent)
}

// TestFailedWebhookIsRetriedFromTheOutbox: an event its receiver kept refusing until the sender gave up is
// failed in the outbox like a failed email, and the outbox's Retry (the admin page's button and `frontdesk
// outbox retry`) queues it again, so it is delivered once the receiver answers.
func TestFailedWebhookIsRetriedFromTheOutbox(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.db.EnableWebhooks("https://enquiries.example.org")
	key, err := crm.ParseWebhookSecret("whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	rcv := &refusing{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	sender := crm.NewWebhookSender(w.db, crm.WebhookConfig{URL: srv.URL, Key: key, Poll: 10 * time.Millisecond,
		RetryBase: time.Millisecond, RetryMax: 2 * time.Millisecond, GiveUpAfter: 50 * time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); sender.Run(runCtx) }()
	defer func() { stop(); <-done }()

	if _, err := w.intake.Submit(ctx, intake.Submission{Name: "Sam Retry", Email: "sam.retry@example.org",
		Treatment: "adhd", Consent: true}, ""); err != nil {
		t.Fatal(err)
	}
	outbox := crm.NewOutbox(w.db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	event := func(status crm.OutboxStatus) (crm.OutboxEntry, bool) {
		entries, err := outbox.List(ctx, w.admin, crm.OutboxFilter{Status: status})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Kind == crm.WebhookCreated {
				return e, true
			}
		}
		return crm.OutboxEntry{}, false
	}
	var failed crm.OutboxEntry
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var ok bool
		if failed, ok = event(crm.OutboxFailed); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refused event never failed")
		}
	}
	rcv.mu.Lock()
	rcv.open = true
	rcv.mu.Unlock()
	if err := outbox.Retry(ctx, w.admin, failed.ID); err != nil {
		t.Fatal(err)
	}
	sender.Wake()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if sent, ok := event(crm.OutboxSent); ok && sent.ID == failed.ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the retried event was not delivered")
		}
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.delivered != 1 {
		t.Errorf("delivered %d times, want once", rcv.delivered)
	}
}

// With webhooks on, the subject access document lists the events sent about an enquiry as notifications to the
// clinic's other systems, apart from its emails: they are not emails, and their recipient is not clinic staff.
func TestSubjectAccessListsWebhookEventsApartFromEmails(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.db.EnableWebhooks("https://enquiries.example.org")
	ref := w.enquiry(&w.clin)
	if _, err := w.ws.Transition(ctx, w.admin, ref, crm.StatusContacted, "", 0); err != nil {
		t.Fatal(err)
	}
	e, err := w.ws.Get(ctx, w.admin, ref)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := crm.NewPrivacy(w.db, w.db, nil, crm.PrivacyConfig{}, quiet).SubjectAccess(ctx, w.admin, e.Email)
	if err != nil || len(doc.Enquiries) != 1 {
		t.Fatalf("%+v %v", doc, err)
	}
	se := doc.Enquiries[0]
	var events []string
	for _, n := range se.Notifications {
		events = append(events, n.Event)
		if !strings.Contains(n.To, "other systems") || n.Status == "" || n.CreatedAt.IsZero() {
			t.Errorf("notification %+v", n)
		}
	}
	if !slices.Equal(events, []string{"enquiry.created", "enquiry.assigned", "enquiry.status_changed"}) {
		t.Errorf("notifications %v, want created, assigned (at intake), status_changed", events)
	}
	if len(se.Emails) == 0 {
		t.Error("the confirmation is missing from the emails")
	}
	for _, m := range se.Emails {
		if m.Kind.IsWebhook() {
			t.Errorf("a webhook event is listed as an email: %+v", m)
		}
	}
}
