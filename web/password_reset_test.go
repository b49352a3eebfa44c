package web_test

import (
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	netmail "net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/mailer"
)

// mailbox runs the real mail worker over the harness's outbox with the file transport, as serve does without
// a mail server, and reads what it wrote.
type mailbox struct {
	t    *testing.T
	h    *harness
	dir  string
	seen int
}

func (h *harness) mailbox(t *testing.T) *mailbox {
	t.Helper()
	from, _ := netmail.ParseAddress("Frontdesk <no-reply@clinic.example>")
	r, err := mailer.NewRenderer(mailer.RenderConfig{Clinic: mailer.Clinic{Name: "Harbour Clinic"}, From: from,
		BaseURL: h.cfg.BaseURL, FirstContactHours: 24, Location: time.UTC, OpeningHours: h.cfg.OpeningHours})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tr, err := mailer.NewFileTransport(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := mailer.NewWorker(h.db, r, tr, mailer.WorkerConfig{Poll: 20 * time.Millisecond}, slog.New(slog.NewTextHandler(h.logs, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	h.db.OnMailQueued(w.Wake)
	t.Cleanup(func() { cancel(); <-done })
	return &mailbox{t: t, h: h, dir: dir}
}

// next waits for the next email written, and recorded as sent, and returns its recipient and plain-text body.
func (m *mailbox) next() (to, text string) {
	m.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		files := m.files()
		if len(files) > m.seen && m.h.count(`SELECT count(*) FROM outbox WHERE status = 'sent'`) > m.seen {
			m.seen++
			return readMail(m.t, files[m.seen-1])
		}
		if time.Now().After(deadline) {
			m.t.Fatal("no email was sent")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// files are the emails written so far, oldest first (not the one being written: a hidden .partial file).
func (m *mailbox) files() []string {
	all, _ := filepath.Glob(filepath.Join(m.dir, "*.eml"))
	var out []string
	for _, f := range all {
		if !strings.HasPrefix(filepath.Base(f), ".") {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// count is how many emails were written so far.
func (m *mailbox) count() int { return len(m.files()) }

func readMail(t *testing.T, path string) (to, text string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	msg, err := netmail.ReadMessage(f)
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text/plain part: %v", err)
		}
		if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			continue
		}
		var r io.Reader = p
		if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			r = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return msg.Header.Get("To"), string(b)
	}
}

var resetLink = regexp.MustCompile(`http://localhost:8080(/reset/[A-Za-z0-9_]+)`)

func TestPasswordResetThroughTheOutbox(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	h.addStaff("clin@clinic.example", crm.RoleClinician)
	box := h.mailbox(t)
	signedIn := h.signedIn("clin@clinic.example", staffPassword)
	token := h.token("clin@clinic.example")

	// The person asks from the sign-in page; an unknown address gets the very same answer and no email.
	visitor := h.agent()
	visitor.get("/login")
	if !strings.Contains(visitor.last, `href="/reset"`) {
		t.Error("the sign-in page has no link to reset a forgotten password")
	}
	visitor.get("/reset")
	resp := visitor.post("/reset", url.Values{"email": {"nobody@clinic.example"}})
	unknown := visitor.last
	if resp.StatusCode != http.StatusOK || !strings.Contains(unknown, "If an account with that email address exists") {
		t.Fatalf("unknown address: %d", resp.StatusCode)
	}
	resp = visitor.post("/reset", url.Values{"email": {"Clin@Clinic.example"}})
	if resp.StatusCode != http.StatusOK || visitor.last != unknown {
		t.Errorf("a known address is answered differently (%d) from an unknown one", resp.StatusCode)
	}
	if resp := visitor.post("/reset", url.Values{"email": {"not an address"}}); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(visitor.last, `id="email-error"`) {
		t.Errorf("malformed address: %d", resp.StatusCode)
	}
	to, text := box.next()
	if to != "<clin@clinic.example>" && to != "clin@clinic.example" {
		t.Errorf("reset sent to %q", to)
	}
	m := resetLink.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no reset link in the email:\n%s", text)
	}
	link := m[1]
	if n := h.count(`SELECT count(*) FROM password_resets WHERE token_hash = ?`, crm.TokenHash(strings.TrimPrefix(link, "/reset/"))); n != 1 {
		t.Error("the reset is not stored by the hash of its token")
	}
	if n := h.count(`SELECT count(*) FROM outbox WHERE link_token IS NOT NULL`); n != 0 {
		t.Error("the outbox kept the token after sending the email")
	}

	// The link shows a form; a weak password is refused beside the field, and nothing changes.
	person := h.agent()
	if resp := person.get(link); resp.StatusCode != http.StatusOK || !strings.Contains(person.last, `name="password"`) {
		t.Fatalf("reset page: %d", resp.StatusCode)
	}
	if resp := person.post(link, url.Values{"password": {"passwordpassword"}}); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(person.last, `id="password-error"`) || !strings.Contains(person.last, "too common") {
		t.Errorf("weak password: %d", resp.StatusCode)
	}
	if signedIn.signedOut() {
		t.Fatal("a refused reset ended the session")
	}
	const chosen = "lanterns along the quiet harbour"
	if resp := person.post(link, url.Values{"password": {chosen}}); resp.StatusCode != http.StatusOK ||
		!strings.Contains(person.last, "Your password has been changed") {
		t.Fatalf("reset: %d\n%s", resp.StatusCode, person.last)
	}
	// Every session and token of the account ended; the new password signs in.
	if !signedIn.signedOut() {
		t.Error("the reset left a session signed in")
	}
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries", token, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token after the reset: %d, want 401", resp.StatusCode)
	}
	if resp := h.agent().signIn("clin@clinic.example", staffPassword); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("old password after the reset: %d", resp.StatusCode)
	}
	h.signedIn("clin@clinic.example", chosen)

	// Used once: a second use is refused, with a way to ask again.
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		var resp *http.Response
		if method == http.MethodGet {
			resp = person.get(link)
		} else {
			resp = person.post(link, url.Values{"password": {"another fine long passphrase"}})
		}
		if resp.StatusCode != http.StatusGone || !strings.Contains(person.last, "already used") || !strings.Contains(person.last, `href="/reset"`) {
			t.Errorf("%s of a used link: %d", method, resp.StatusCode)
		}
	}
	h.signedIn("clin@clinic.example", chosen)

	// An administrator asks for another; once expired, it is refused.
	admin := h.signedIn("admin@clinic.example", staffPassword)
	admin.get("/admin/users")
	if !strings.Contains(admin.last, `action="/admin/users/reset"`) {
		t.Fatal("no password reset button on /admin/users")
	}
	if resp := admin.post("/admin/users/reset", url.Values{"email": {"clin@clinic.example"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin reset: %d", resp.StatusCode)
	}
	_, text = box.next()
	m = resetLink.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no reset link in the email:\n%s", text)
	}
	h.exec(`UPDATE password_resets SET expires_at = created_at - 1 WHERE used_at IS NULL`)
	if resp := person.get(m[1]); resp.StatusCode != http.StatusGone || !strings.Contains(person.last, "expired") {
		t.Errorf("expired link: %d", resp.StatusCode)
	}
	if resp := person.post(m[1], url.Values{"password": {"another fine long passphrase"}}); resp.StatusCode != http.StatusGone {
		t.Errorf("posting to an expired link: %d", resp.StatusCode)
	}
	if resp := person.get("/reset/fd_nosuchtoken"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown link: %d, want 404", resp.StatusCode)
	}
	h.signedIn("clin@clinic.example", chosen)

	for action, want := range map[string]int{"password_reset_request": 2, "password_reset": 1} {
		if n := h.count(`SELECT count(*) FROM audit_log WHERE action = ?`, action); n != want {
			t.Errorf("%d %s audit entries, want %d", n, action, want)
		}
	}
	if strings.Contains(h.logs.String(), strings.TrimPrefix(link, "/reset/")) {
		t.Error("a reset token was logged")
	}
}

func TestPasswordResetRequestsAreLimited(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("clin@clinic.example", crm.RoleClinician)
	box := h.mailbox(t)
	a := h.agent()
	a.get("/reset")
	for i := 0; i < crm.MaxResetsPerHour; i++ {
		if resp := a.post("/reset", url.Values{"email": {"clin@clinic.example"}}); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, resp.StatusCode)
		}
	}
	if resp := a.post("/reset", url.Values{"email": {"clin@clinic.example"}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("request over the limit: %d, want 429", resp.StatusCode)
	}
	for i := 0; i < crm.MaxResetsPerHour; i++ {
		box.next()
	}
	// The accounts service holds the same limit itself (as for requests through another process).
	if err := h.accounts.ForgotPassword(t.Context(), "clin@clinic.example"); err != nil {
		t.Fatal(err)
	}
	if n := h.count(`SELECT count(*) FROM outbox WHERE kind = 'staff_password_reset'`); n != crm.MaxResetsPerHour {
		t.Errorf("%d reset emails queued, want %d", n, crm.MaxResetsPerHour)
	}
	if box.count() != crm.MaxResetsPerHour {
		t.Errorf("%d emails sent", box.count())
	}
}
