package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/mailer"
	"github.com/frontdesk/frontdesk/crm/mailer/mailertest"
	"github.com/frontdesk/frontdesk/db"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/frontdesk/frontdesk/web"
)

// TestFiveConfirmationsSurviveADownServerAndKill9 is the outbox issue's "Done when": with the SMTP transport,
// 5 enquiries sent while the mail server is down, then kill -9 of Frontdesk, then the server and Frontdesk
// started again, end with exactly 5 confirmations delivered.
func TestFiveConfirmationsSurviveADownServerAndKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "frontdesk.db")
	smtpAddr := freeAddr(t) // nothing listens there yet
	host, port, _ := net.SplitHostPort(smtpAddr)
	env := []string{
		"FRONTDESK_DB=" + dbPath, "FRONTDESK_MAIL_TRANSPORT=smtp", "FRONTDESK_SMTP_HOST=" + host,
		"FRONTDESK_SMTP_PORT=" + port, "FRONTDESK_SMTP_TLS=none", "FRONTDESK_INTAKE_INBOX=",
		"FRONTDESK_MAIL_FROM=Klinik Zürich <no-reply@klinik.example>", "FRONTDESK_CLINIC_NAME=Klinik Zürich — Café",
	}

	srv := startServer(t, env...)
	var refs []string
	for i := 0; i < 5; i++ {
		ref, err := postEnquiry(http.DefaultClient, srv.url(""), i)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	// Wait until every confirmation has been tried against the dead server and is waiting for its retry, so
	// the kill finds them queued with attempts behind them.
	store, err := db.Open(dbPath, db.Options{Readers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	waitFor(t, 20*time.Second, "every confirmation tried once", func() bool {
		es, err := store.List(context.Background(), crm.OutboxFilter{})
		if err != nil || len(es) != 5 {
			return false
		}
		for _, e := range es {
			if e.Kind != crm.MailConfirmation || e.Status != crm.OutboxQueued || e.Attempts < 1 || e.Leased ||
				!strings.Contains(e.LastError, "refused") {
				return false
			}
		}
		return true
	})
	srv.cmd.Process.Signal(syscall.SIGKILL)
	<-srv.done

	mail, err := mailertest.Listen(mailertest.Options{Addr: smtpAddr})
	if err != nil {
		t.Fatalf("start the SMTP server on %s: %v", smtpAddr, err)
	}
	defer mail.Close()
	srv = startServer(t, env...)
	got := mail.Wait(t, 5, 60*time.Second)
	waitFor(t, 10*time.Second, "every confirmation marked sent", func() bool {
		es, err := store.List(context.Background(), crm.OutboxFilter{Status: crm.OutboxSent})
		return err == nil && len(es) == 5
	})
	time.Sleep(1500 * time.Millisecond) // more than a poll: a duplicate would have arrived by now
	got = mail.Received()

	perRcpt := map[string]int{}
	ids := map[string]bool{}
	for _, r := range got {
		m, err := netmail.ReadMessage(bytes.NewReader(r.Data))
		if err != nil {
			t.Fatal(err)
		}
		ids[m.Header.Get("Message-Id")] = true
		perRcpt[strings.Join(r.To, ",")]++
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		if !strings.Contains(subject, "Klinik Zürich — Café") {
			t.Errorf("subject %q", subject)
		}
	}
	if len(got) != 5 || len(ids) != 5 {
		t.Errorf("delivered %d messages with %d distinct Message-IDs, want exactly 5", len(got), len(ids))
	}
	for i := 0; i < 5; i++ {
		if rcpt := "p" + strconv.Itoa(i) + "@example.org"; perRcpt[rcpt] != 1 {
			t.Errorf("%s got %d confirmations, want 1", rcpt, perRcpt[rcpt])
		}
	}
	if code := srv.stop(t, syscall.SIGTERM, 25*time.Second); code != 0 {
		t.Errorf("serve exited %d", code)
	}
	logs := srv.logs.String()
	for _, ref := range refs {
		if !strings.Contains(logs, "ref="+ref) {
			t.Errorf("the log does not name %s", ref)
		}
	}
	if strings.Contains(logs, "@example.org") {
		t.Errorf("the log names a patient's address:\n%s", logs)
	}
}

func TestOutboxListAndRetry(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "frontdesk.db")
	vars := map[string]string{"FRONTDESK_DB": dbPath}
	ctx := context.Background()
	store, err := db.Open(dbPath, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rec, err := store.CreateEnquiry(ctx, crm.NewEnquiry{
		Enquiry: intake.Enquiry{Name: "Ann Example", Email: "ann.patient@example.org", PreferredContact: "either",
			Treatment: "ptsd", Consent: intake.Consent{GivenAt: time.Now(), Version: intake.PrivacyNoticeVersion}},
		ReceivedAt: time.Now(), IntakeInbox: "intake@clinic.example", Fingerprint: "fp",
	}, crm.PlanIntake)
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := store.ClaimDue(ctx, time.Now(), time.Minute, 10)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %v, %d", err, len(claimed))
	}
	var failed, sent int64
	for _, m := range claimed {
		if m.Kind == crm.MailConfirmation {
			failed = m.ID
			err = store.MarkFailed(ctx, m.ID, "sending SMTP RCPT TO command: 550 5.1.1 <ann.patient@example.org>: no such user")
		} else {
			sent = m.ID
			err = store.MarkSent(ctx, m.ID, time.Now())
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	code, out, errOut := runInProcess([]string{"outbox", "list"}, vars)
	if code != 0 {
		t.Fatalf("outbox list: exit %d, %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(out, rec.Reference) {
		t.Fatalf("outbox list:\n%s", out)
	}
	for _, want := range []string{"failed", "sent", "550 5.1.1", "a***@example.org", "i***@clinic.example", "staff_new", "confirmation"} {
		if !strings.Contains(out, want) {
			t.Errorf("outbox list lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ann.patient@example.org") {
		t.Errorf("outbox list shows a recipient's address:\n%s", out)
	}
	code, out, _ = runInProcess([]string{"outbox", "list", "--status", "failed"}, vars)
	if code != 0 || strings.Count(strings.TrimSpace(out), "\n") != 1 || !strings.Contains(out, "failed") {
		t.Errorf("outbox list --status failed: exit %d\n%s", code, out)
	}

	usage := []struct {
		args []string
		want string
	}{
		{[]string{"outbox", "retry"}, "--id"},
		{[]string{"outbox", "retry", "--id", "twelve"}, "--id"},
		{[]string{"outbox", "retry", "--id", "-3"}, "--id"},
		{[]string{"outbox", "list", "--status", "lost"}, "--status"},
		{[]string{"outbox", "resend"}, "resend"},
		{[]string{"outbox"}, "list or retry"},
	}
	for _, u := range usage {
		code, _, errOut := runInProcess(u.args, vars)
		if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, u.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line naming %s", u.args, code, errOut, u.want)
		}
	}
	for _, c := range []struct {
		id   int64
		want string
	}{{999, "no email with id 999"}, {sent, "is sent, not failed"}} {
		code, _, errOut := runInProcess([]string{"outbox", "retry", "--id", strconv.FormatInt(c.id, 10)}, vars)
		if code != 1 || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("retry --id %d: exit %d, stderr %q; want 1 and %q", c.id, code, errOut, c.want)
		}
	}

	code, out, errOut = runInProcess([]string{"outbox", "retry", "--id", strconv.FormatInt(failed, 10)}, vars)
	if code != 0 || !strings.Contains(out, "queued again") {
		t.Fatalf("retry of a failed email: exit %d, %s%s", code, out, errOut)
	}
	es, err := store.List(ctx, crm.OutboxFilter{Status: crm.OutboxQueued})
	if err != nil || len(es) != 1 || es[0].ID != failed || es[0].Attempts != 0 {
		t.Errorf("after retry: %+v, %v", es, err)
	}
	// Only the retry that changed something is recorded, as done by Frontdesk itself.
	audit, _, err := store.ListAudit(ctx, crm.AuditQuery{Action: "outbox_retry"})
	if err != nil || len(audit) != 1 || audit[0].Actor != nil || audit[0].Detail != "email "+strconv.FormatInt(failed, 10) {
		t.Errorf("retries in the audit log: %+v, %v", audit, err)
	}
}

func TestReadyzWarnsOfMailUnsentForTooLong(t *testing.T) {
	ctx := context.Background()
	store, err := db.Open(filepath.Join(t.TempDir(), "frontdesk.db"), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r, err := mailer.NewRenderer(mailer.RenderConfig{From: &netmail.Address{Address: "no-reply@localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(freeAddr(t))
	p, _ := strconv.Atoi(port)
	tr, err := mailer.NewSMTPTransport(mailer.SMTPConfig{Host: host, Port: p, TLS: mailer.TLSNone})
	if err != nil {
		t.Fatal(err)
	}
	worker := mailer.NewWorker(store, r, tr, mailer.WorkerConfig{StaleAfter: 15 * time.Minute}, log)
	app, err := web.New(web.Config{}, web.Deps{Ready: store, Mail: worker, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	readyz := func() (int, string) {
		resp, err := app.Test(httptest.NewRequest(http.MethodGet, "/readyz", nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := readyz(); code != 200 || body != "ready" {
		t.Errorf("nothing queued: %d %q", code, body)
	}
	// Three emails queued 20 minutes ago and never sent (the worker is not running).
	for _, email := range []string{"a@example.org", "b@example.org"} {
		e := crm.NewEnquiry{
			Enquiry: intake.Enquiry{Name: "Ann Example", Email: email, PreferredContact: "either", Treatment: "adhd",
				Consent: intake.Consent{GivenAt: time.Now(), Version: intake.PrivacyNoticeVersion}},
			ReceivedAt: time.Now().Add(-20 * time.Minute), Fingerprint: email,
		}
		if email == "a@example.org" {
			e.IntakeInbox = "intake@clinic.example"
		}
		if _, err := store.CreateEnquiry(ctx, e, crm.PlanIntake); err != nil {
			t.Fatal(err)
		}
	}
	code, body := readyz()
	if code != 200 || body != "ready\nwarning: 3 emails unsent for over 15 minutes" {
		t.Errorf("stale mail: %d %q", code, body)
	}
}

// waitFor polls ok until it holds, or fails the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: not %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestServeRefusesToStartWithABrokenMailTemplate(t *testing.T) {
	dir := t.TempDir()
	tpl := filepath.Join(dir, "templates")
	if err := os.MkdirAll(tpl, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tpl, "confirmation.txt"), []byte("{{define \"subject\"}}Hello{{end}}\nDear {{.PatientName\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runInProcess([]string{"serve"}, map[string]string{
		"FRONTDESK_DB": filepath.Join(dir, "f.db"), "FRONTDESK_ADDR": "127.0.0.1:0", "FRONTDESK_MAIL_TEMPLATES": tpl,
		"FRONTDESK_MAIL_DIR": filepath.Join(dir, "mail"),
	})
	if code != 1 || !strings.Contains(errOut, "confirmation.txt:2") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want 1 and one line naming confirmation.txt:2", code, errOut)
	}
}
