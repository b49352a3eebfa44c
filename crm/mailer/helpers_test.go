package mailer_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/mailer"
	"github.com/frontdesk/frontdesk/db"
	"github.com/frontdesk/frontdesk/intake"
)

// The clinic of these tests has a name that needs encoding in headers.
const (
	clinicName  = "Klinik Zürich — Café"
	senderAddr  = "no-reply@klinik.example"
	intakeInbox = "intake@klinik.example"
	// What a patient wrote, which no email may repeat.
	patientMessage = "I have been struggling to concentrate since my brother died"
	patientDOB     = "1990-04-02"
)

// openDB opens a migrated database in a file of its own.
func openDB(t *testing.T) *db.DB {
	t.Helper()
	d, err := db.Open(filepath.Join(t.TempDir(), "frontdesk.db"), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

// enquire stores an enquiry from email (telling intakeInbox when inbox is true) and returns its reference.
func enquire(t *testing.T, d *db.DB, name, email string, inbox bool) string {
	t.Helper()
	e := crm.NewEnquiry{
		Enquiry: intake.Enquiry{Name: name, Email: email, PreferredContact: "either", Treatment: "adhd",
			Message: patientMessage, DateOfBirth: patientDOB, Phone: "+447700900123",
			Consent: intake.Consent{GivenAt: time.Now(), Version: intake.PrivacyNoticeVersion}},
		ReceivedAt:  time.Now().UTC(),
		Fingerprint: "fp-" + email,
	}
	if inbox {
		e.IntakeInbox = intakeInbox
	}
	rec, err := d.CreateEnquiry(context.Background(), e, crm.PlanIntake)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Reference
}

func newRenderer(t testing.TB, dir string) *mailer.Renderer {
	t.Helper()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	r, err := mailer.NewRenderer(mailer.RenderConfig{
		Clinic:            mailer.Clinic{Name: clinicName, Phone: "020 7946 0000", Email: "hello@klinik.example"},
		From:              &netmail.Address{Name: clinicName, Address: senderAddr},
		BaseURL:           "https://enquiries.klinik.example/",
		FirstContactHours: 24,
		Location:          london,
		TemplatesDir:      dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fastConfig is a worker configuration with every wait shortened for tests.
func fastConfig() mailer.WorkerConfig {
	return mailer.WorkerConfig{
		Poll: 20 * time.Millisecond, Lease: 4 * time.Second, SendTimeout: 2 * time.Second,
		RetryBase: 40 * time.Millisecond, RetryMax: 150 * time.Millisecond,
	}
}

// logBuffer collects the log of a test, to check what it says and what it must never say.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// noPersonalData fails the test when the log names a recipient or the patient or repeats what they wrote.
func (b *logBuffer) noPersonalData(t *testing.T, secrets ...string) {
	t.Helper()
	out := b.String()
	for _, s := range append(secrets, patientMessage, patientDOB, intakeInbox) {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("the log contains personal data %q:\n%s", s, out)
		}
	}
}

// startWorker runs a worker until the test ends (or until the returned stop is called, which waits for Run).
func startWorker(t *testing.T, d *db.DB, tr mailer.Transport, cfg mailer.WorkerConfig) (*mailer.Worker, *logBuffer, func()) {
	t.Helper()
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := mailer.NewWorker(d, newRenderer(t, ""), tr, cfg, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return w, logs, stop
}

func smtpTransport(t *testing.T, addr string, mod func(*mailer.SMTPConfig)) mailer.Transport {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mailer.SMTPConfig{Host: host, TLS: mailer.TLSNone, Timeout: 2 * time.Second, HELO: "frontdesk.test"}
	if cfg.Port, err = net.LookupPort("tcp", port); err != nil {
		t.Fatal(err)
	}
	if mod != nil {
		mod(&cfg)
	}
	tr, err := mailer.NewSMTPTransport(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// outbox returns every outbox row, newest first.
func outbox(t *testing.T, d *db.DB) []crm.OutboxEntry {
	t.Helper()
	es, err := d.List(context.Background(), crm.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// waitOutbox waits until ok holds for the outbox, or fails the test with the rows.
func waitOutbox(t *testing.T, d *db.DB, timeout time.Duration, what string, ok func([]crm.OutboxEntry) bool) []crm.OutboxEntry {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		es := outbox(t, d)
		if ok(es) {
			return es
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, outbox never reached %q: %+v", timeout, what, es)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func allStatus(s crm.OutboxStatus) func([]crm.OutboxEntry) bool {
	return func(es []crm.OutboxEntry) bool {
		for _, e := range es {
			if e.Status != s {
				return false
			}
		}
		return len(es) > 0
	}
}

// freeAddr is a loopback address nothing listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// parsed is a received email taken apart.
type parsed struct {
	Header  netmail.Header
	Subject string
	Text    string
	HTML    string
}

// parse reads an RFC 5322 message and its multipart/alternative body, failing the test on anything malformed.
func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, data)
	}
	var p parsed
	p.Header = m.Header
	dec := new(mime.WordDecoder)
	if p.Subject, err = dec.DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("subject %q: %v", m.Header.Get("Subject"), err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		pt, pp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if !strings.EqualFold(pp["charset"], "utf-8") {
			t.Errorf("part %s has charset %q, want UTF-8", pt, pp["charset"])
		}
		switch pt {
		case "text/plain":
			p.Text = string(b)
		case "text/html":
			p.HTML = string(b)
		default:
			t.Errorf("unexpected part %s", pt)
		}
	}
	if p.Text == "" || p.HTML == "" {
		t.Fatalf("want a text and an HTML part, got text=%d bytes html=%d bytes", len(p.Text), len(p.HTML))
	}
	return p
}

func mustAddress(t *testing.T, s string) *netmail.Address {
	t.Helper()
	a, err := netmail.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
