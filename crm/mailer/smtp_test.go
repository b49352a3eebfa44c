package mailer_test

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/mailer"
	"github.com/frontdesk/frontdesk/crm/mailer/mailertest"
)

var messageIDPattern = regexp.MustCompile(`^<[0-9a-f]{32}@klinik\.example>$`)

func TestDeliversConfirmationAndStaffNoticeWithCorrectHeaders(t *testing.T) {
	d := openDB(t)
	srv := mailertest.Start(t, mailertest.Options{})
	before := time.Now().Add(-time.Second)
	ref := enquire(t, d, "Zoë Åberg", "zoe@patient.example", true)
	_, logs, _ := startWorker(t, d, smtpTransport(t, srv.Addr, nil), fastConfig())

	got := srv.Wait(t, 2, 10*time.Second)
	waitOutbox(t, d, 5*time.Second, "all sent", allStatus(crm.OutboxSent))
	if len(got) != 2 {
		t.Fatalf("received %d messages, want 2", len(got))
	}
	byRcpt := map[string]parsed{}
	ids := map[string]bool{}
	for _, r := range got {
		if r.From != senderAddr || len(r.To) != 1 {
			t.Errorf("envelope from %q to %v", r.From, r.To)
		}
		for _, b := range r.Data {
			if b > 127 {
				t.Fatalf("message is not 7-bit clean (headers must be encoded):\n%s", r.Data)
			}
		}
		p := parse(t, r.Data)
		byRcpt[r.To[0]] = p

		from, err := p.Header.AddressList("From")
		if err != nil || len(from) != 1 || from[0].Name != clinicName || from[0].Address != senderAddr {
			t.Errorf("From = %q (%v), want %q <%s>", p.Header.Get("From"), err, clinicName, senderAddr)
		}
		if !strings.Contains(p.Header.Get("From"), "=?") {
			t.Errorf("From %q: the UTF-8 name is not an encoded word", p.Header.Get("From"))
		}
		date, err := p.Header.Date()
		if err != nil || date.Before(before) || date.After(time.Now().Add(time.Second)) {
			t.Errorf("Date = %q (%v), want the time the enquiry was queued", p.Header.Get("Date"), err)
		}
		id := p.Header.Get("Message-Id")
		if !messageIDPattern.MatchString(id) {
			t.Errorf("Message-ID = %q, want <32 hex digits@klinik.example>", id)
		}
		ids[id] = true
		if p.Header.Get("Mime-Version") != "1.0" || p.Header.Get("Auto-Submitted") != "auto-generated" {
			t.Errorf("MIME-Version %q, Auto-Submitted %q", p.Header.Get("Mime-Version"), p.Header.Get("Auto-Submitted"))
		}
		for _, part := range []string{p.Subject, p.Text, p.HTML} {
			for _, secret := range []string{patientMessage, patientDOB, "+447700900123", "7700 900123"} {
				if strings.Contains(part, secret) {
					t.Errorf("an email repeats what the patient wrote (%q)", secret)
				}
			}
		}
	}
	if len(ids) != 2 {
		t.Errorf("Message-IDs are not distinct: %v", ids)
	}

	conf, ok := byRcpt["zoe@patient.example"]
	if !ok {
		t.Fatalf("no confirmation to the patient; recipients: %v", byRcpt)
	}
	if !strings.Contains(conf.Subject, clinicName) || !strings.Contains(conf.Subject, ref) {
		t.Errorf("confirmation subject %q lacks the clinic name or reference", conf.Subject)
	}
	if !strings.Contains(strings.Join(conf.Header["Subject"], ""), "=?") {
		t.Errorf("the UTF-8 subject is not encoded: %q", conf.Header["Subject"])
	}
	if rt := conf.Header.Get("Reply-To"); !strings.Contains(rt, "hello@klinik.example") {
		t.Errorf("confirmation Reply-To = %q, want the clinic's address", rt)
	}
	for _, body := range []string{conf.Text, conf.HTML} {
		for _, want := range []string{ref, "Zoë Åberg", "24 hours", "999", "A&", "116 123", "NHS 111", "020 7946 0000", "hello@klinik.example"} {
			if !strings.Contains(body, want) {
				t.Errorf("confirmation lacks %q:\n%s", want, body)
			}
		}
		if strings.Contains(body, "ADHD") || strings.Contains(strings.ToLower(body), "adhd") {
			t.Errorf("the confirmation names the treatment:\n%s", body)
		}
	}

	staff, ok := byRcpt[intakeInbox]
	if !ok {
		t.Fatalf("no notice to the intake inbox; recipients: %v", byRcpt)
	}
	link := "https://enquiries.klinik.example/enquiries/" + ref
	for _, body := range []string{staff.Text, staff.HTML} {
		for _, want := range []string{ref, "ADHD", link, "nobody"} {
			if !strings.Contains(strings.ToLower(body), strings.ToLower(want)) {
				t.Errorf("staff notice lacks %q:\n%s", want, body)
			}
		}
		for _, never := range []string{"Zoë", "zoe@patient.example"} {
			if strings.Contains(body, never) {
				t.Errorf("staff notice contains the patient's %q", never)
			}
		}
	}
	// A subject shows on a lock screen: the reference only, never the treatment.
	if !strings.Contains(staff.Subject, ref) || strings.Contains(staff.Subject, "ADHD") {
		t.Errorf("staff subject %q", staff.Subject)
	}
	if !strings.Contains(logs.String(), "mail sent") || !strings.Contains(logs.String(), "ref="+ref) {
		t.Errorf("the log does not record the sends with the reference:\n%s", logs)
	}
	logs.noPersonalData(t, "zoe@patient.example", "Zoë", "Åberg")
}

func TestSTARTTLSIsRequiredAndUsed(t *testing.T) {
	certs := mailertest.NewCertificates(t)
	withRoots := func(c *mailer.SMTPConfig) {
		c.TLS = mailer.TLSStartTLS
		c.TLSConfig = &tls.Config{RootCAs: certs.Roots}
	}

	t.Run("offered", func(t *testing.T) {
		d := openDB(t)
		srv := mailertest.Start(t, mailertest.Options{TLS: certs.Server})
		enquire(t, d, "Ann Example", "ann@patient.example", false)
		startWorker(t, d, smtpTransport(t, srv.Addr, withRoots), fastConfig())
		got := srv.Wait(t, 1, 10*time.Second)
		if !got[0].TLS {
			t.Error("the message was sent without TLS")
		}
		waitOutbox(t, d, 5*time.Second, "sent", allStatus(crm.OutboxSent))
	})

	t.Run("not offered: never plain text", func(t *testing.T) {
		d := openDB(t)
		srv := mailertest.Start(t, mailertest.Options{}) // no STARTTLS
		enquire(t, d, "Ann Example", "ann@patient.example", false)
		startWorker(t, d, smtpTransport(t, srv.Addr, withRoots), fastConfig())
		es := waitOutbox(t, d, 5*time.Second, "retried", func(es []crm.OutboxEntry) bool {
			return es[0].Attempts >= 2
		})
		if es[0].Status != crm.OutboxQueued || !strings.Contains(es[0].LastError, "STARTTLS") {
			t.Errorf("row = %+v, want queued for retry with a STARTTLS error", es[0])
		}
		if n := len(srv.Received()); n != 0 {
			t.Errorf("%d messages went in plain text", n)
		}
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		d := openDB(t)
		srv := mailertest.Start(t, mailertest.Options{TLS: certs.Server})
		enquire(t, d, "Ann Example", "ann@patient.example", false)
		startWorker(t, d, smtpTransport(t, srv.Addr, func(c *mailer.SMTPConfig) { c.TLS = mailer.TLSStartTLS }), fastConfig())
		es := waitOutbox(t, d, 5*time.Second, "retried", func(es []crm.OutboxEntry) bool { return es[0].Attempts >= 1 && es[0].LastError != "" })
		if !strings.Contains(es[0].LastError, "certificate") || len(srv.Received()) != 0 {
			t.Errorf("row = %+v, received %d; want a certificate error and nothing sent", es[0], len(srv.Received()))
		}
	})
}

func TestImplicitTLS(t *testing.T) {
	certs := mailertest.NewCertificates(t)
	d := openDB(t)
	srv := mailertest.Start(t, mailertest.Options{TLS: certs.Server, Implicit: true})
	enquire(t, d, "Ann Example", "ann@patient.example", false)
	startWorker(t, d, smtpTransport(t, srv.Addr, func(c *mailer.SMTPConfig) {
		c.TLS = mailer.TLSImplicit
		c.TLSConfig = &tls.Config{RootCAs: certs.Roots}
	}), fastConfig())
	if got := srv.Wait(t, 1, 10*time.Second); !got[0].TLS {
		t.Error("not encrypted")
	}
}

func TestAuthPlain(t *testing.T) {
	certs := mailertest.NewCertificates(t)
	users := map[string]string{"frontdesk": "s3cret-pässword"}
	auth := func(user, pass string) func(*mailer.SMTPConfig) {
		return func(c *mailer.SMTPConfig) {
			c.TLS = mailer.TLSStartTLS
			c.TLSConfig = &tls.Config{RootCAs: certs.Roots}
			c.Username, c.Password = user, pass
		}
	}

	t.Run("right password", func(t *testing.T) {
		d := openDB(t)
		srv := mailertest.Start(t, mailertest.Options{TLS: certs.Server, Users: users})
		enquire(t, d, "Ann Example", "ann@patient.example", true)
		_, logs, _ := startWorker(t, d, smtpTransport(t, srv.Addr, auth("frontdesk", "s3cret-pässword")), fastConfig())
		got := srv.Wait(t, 2, 10*time.Second)
		for _, r := range got {
			if r.User != "frontdesk" || !r.TLS {
				t.Errorf("received as user %q, TLS %v", r.User, r.TLS)
			}
		}
		if srv.Connections() != 1 {
			t.Errorf("%d connections for one batch, want 1 (one connection reused)", srv.Connections())
		}
		logs.noPersonalData(t, "ann@patient.example", "s3cret")
	})

	t.Run("wrong password", func(t *testing.T) {
		d := openDB(t)
		srv := mailertest.Start(t, mailertest.Options{TLS: certs.Server, Users: users})
		enquire(t, d, "Ann Example", "ann@patient.example", false)
		startWorker(t, d, smtpTransport(t, srv.Addr, auth("frontdesk", "wrong")), fastConfig())
		es := waitOutbox(t, d, 5*time.Second, "retried", func(es []crm.OutboxEntry) bool { return es[0].Attempts >= 2 })
		// A refused login is the clinic's configuration, not the message's fault: it stays queued.
		if es[0].Status != crm.OutboxQueued || !strings.Contains(es[0].LastError, "535") {
			t.Errorf("row = %+v, want queued with the 535 reply", es[0])
		}
	})
}

func TestServerDownIsRetriedAndDeliveredOnce(t *testing.T) {
	d := openDB(t)
	addr := freeAddr(t)
	enquire(t, d, "Ann Example", "ann@patient.example", true)
	enquire(t, d, "Bob Example", "bob@patient.example", true)
	_, logs, _ := startWorker(t, d, smtpTransport(t, addr, nil), fastConfig())

	es := waitOutbox(t, d, 5*time.Second, "retried while down", func(es []crm.OutboxEntry) bool {
		for _, e := range es {
			if e.Attempts < 2 {
				return false
			}
		}
		return true
	})
	for _, e := range es {
		if e.Status != crm.OutboxQueued || !strings.Contains(e.LastError, "refused") {
			t.Errorf("while the server is down: %+v", e)
		}
	}
	srv := mailertest.Start(t, mailertest.Options{Addr: addr})
	srv.Wait(t, 4, 10*time.Second)
	waitOutbox(t, d, 5*time.Second, "all sent", allStatus(crm.OutboxSent))
	time.Sleep(200 * time.Millisecond) // more than a retry interval: nothing more may arrive
	got := srv.Received()
	ids := map[string]bool{}
	for _, r := range got {
		ids[parse(t, r.Data).Header.Get("Message-Id")] = true
	}
	if len(got) != 4 || len(ids) != 4 {
		t.Errorf("received %d messages with %d distinct Message-IDs, want 4 and 4", len(got), len(ids))
	}
	if !strings.Contains(logs.String(), "will retry") {
		t.Errorf("the retries are not logged:\n%s", logs)
	}
	logs.noPersonalData(t, "ann@patient.example", "bob@patient.example")
}

func TestPermanentRefusalFailsAtOnceAndTemporaryIsRetried(t *testing.T) {
	d := openDB(t)
	var temp atomic.Int32
	srv := mailertest.Start(t, mailertest.Options{Reply: func(rcpt string) error {
		switch rcpt {
		case "gone@patient.example":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable: no such user"}
		case intakeInbox:
			if temp.Add(1) == 1 {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
			}
		}
		return nil
	}})
	ref := enquire(t, d, "Gone Example", "gone@patient.example", true)
	_, logs, _ := startWorker(t, d, smtpTransport(t, srv.Addr, nil), fastConfig())

	es := waitOutbox(t, d, 10*time.Second, "settled", func(es []crm.OutboxEntry) bool {
		for _, e := range es {
			if e.Status == crm.OutboxQueued {
				return false
			}
		}
		return true
	})
	time.Sleep(200 * time.Millisecond) // several retry intervals: a failed message must not be tried again
	for _, e := range outbox(t, d) {
		switch e.Kind {
		case crm.MailConfirmation:
			if e.Status != crm.OutboxFailed || e.Attempts != 1 {
				t.Errorf("after a 550: status %s after %d attempts, want failed after 1", e.Status, e.Attempts)
			}
			if !strings.Contains(e.LastError, "550") || !strings.Contains(e.LastError, "Mailbox unavailable: no such user") {
				t.Errorf("last error %q does not keep the server's reply", e.LastError)
			}
		case crm.MailNewEnquiry:
			if e.Status != crm.OutboxSent || e.Attempts != 2 {
				t.Errorf("after a 451: status %s after %d attempts, want sent on the 2nd", e.Status, e.Attempts)
			}
		}
	}
	if n := len(srv.Received()); n != 1 {
		t.Errorf("received %d messages, want only the staff notice", n)
	}
	if !strings.Contains(logs.String(), "smtp_code=550") || !strings.Contains(logs.String(), "ref="+ref) {
		t.Errorf("the refusal is not logged with its code and reference:\n%s", logs)
	}
	logs.noPersonalData(t, "gone@patient.example")
	_ = es
}

func TestLeaseOfADeadWorkerExpiresAndTheMessageIsSent(t *testing.T) {
	d := openDB(t)
	srv := mailertest.Start(t, mailertest.Options{})
	enquire(t, d, "Ann Example", "ann@patient.example", false)
	ctx := context.Background()

	// A worker claims the message and dies before sending it.
	const lease = 600 * time.Millisecond
	claimed, err := d.ClaimDue(ctx, time.Now(), lease, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %d messages", err, len(claimed))
	}
	// While the lease runs nobody else may claim it.
	if again, err := d.ClaimDue(ctx, time.Now(), lease, 10); err != nil || len(again) != 0 {
		t.Fatalf("claimed again during the lease: %v, %d messages", err, len(again))
	}

	cfg := fastConfig()
	cfg.Lease = lease
	start := time.Now()
	startWorker(t, d, smtpTransport(t, srv.Addr, nil), cfg)
	srv.Wait(t, 1, 10*time.Second)
	if waited := time.Since(start); waited < lease/2 {
		t.Errorf("sent after %s, before the dead worker's lease expired", waited)
	}
	es := waitOutbox(t, d, 5*time.Second, "sent", allStatus(crm.OutboxSent))
	if es[0].Attempts != 2 {
		t.Errorf("attempts = %d, want 2 (the dead one and the real one)", es[0].Attempts)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(srv.Received()); n != 1 {
		t.Errorf("received %d copies, want 1", n)
	}
}

func TestResendAfterCrashHasTheSameMessageIDAndDate(t *testing.T) {
	d := openDB(t)
	srv := mailertest.Start(t, mailertest.Options{})
	enquire(t, d, "Ann Example", "ann@patient.example", false)
	ctx := context.Background()

	// A worker claims, sends, and is killed before it records the send.
	const lease = 500 * time.Millisecond
	claimed, err := d.ClaimDue(ctx, time.Now(), lease, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %d", err, len(claimed))
	}
	r := newRenderer(t, "")
	msg, err := r.Compose(claimed[0])
	if err != nil {
		t.Fatal(err)
	}
	tr := smtpTransport(t, srv.Addr, nil)
	if err := tr.Send(ctx, mailer.Outgoing{OutboxID: claimed[0].ID, CreatedAt: claimed[0].CreatedAt, Msg: msg}); err != nil {
		t.Fatal(err)
	}
	tr.Close()

	cfg := fastConfig()
	cfg.Lease = lease
	startWorker(t, d, smtpTransport(t, srv.Addr, nil), cfg)
	got := srv.Wait(t, 2, 10*time.Second)
	first, second := parse(t, got[0].Data), parse(t, got[1].Data)
	for _, h := range []string{"Message-Id", "Date", "Subject", "From", "To"} {
		if first.Header.Get(h) != second.Header.Get(h) {
			t.Errorf("%s differs between the first send and the resend: %q, %q", h, first.Header.Get(h), second.Header.Get(h))
		}
	}
	if first.Text != second.Text {
		t.Error("the resend's text differs")
	}
	waitOutbox(t, d, 5*time.Second, "sent", allStatus(crm.OutboxSent))
}

func TestShutdownFinishesTheMessageBeingSent(t *testing.T) {
	d := openDB(t)
	inRcpt := make(chan struct{}, 1)
	srv := mailertest.Start(t, mailertest.Options{Reply: func(string) error {
		select {
		case inRcpt <- struct{}{}:
		default:
		}
		time.Sleep(400 * time.Millisecond) // a slow server
		return nil
	}})
	enquire(t, d, "Ann Example", "ann@patient.example", true)
	_, _, stop := startWorker(t, d, smtpTransport(t, srv.Addr, nil), fastConfig())
	select {
	case <-inRcpt:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker never started sending")
	}
	stop() // while the server is answering RCPT
	if n := len(srv.Received()); n != 1 {
		t.Fatalf("after shutdown %d messages were received, want the 1 in flight finished", n)
	}
	var sent, queued int
	for _, e := range outbox(t, d) {
		switch {
		case e.Status == crm.OutboxSent:
			sent++
		case e.Status == crm.OutboxQueued && !e.Leased:
			queued++
		}
	}
	if sent != 1 || queued != 1 {
		t.Errorf("sent %d, queued and released %d; want 1 and 1 (the rest handed back for the next start)", sent, queued)
	}
}

func TestWakeSendsNewMailAtOnce(t *testing.T) {
	d := openDB(t)
	srv := mailertest.Start(t, mailertest.Options{})
	cfg := fastConfig()
	cfg.Poll = time.Hour
	w, _, _ := startWorker(t, d, smtpTransport(t, srv.Addr, nil), cfg)
	d.OnMailQueued(w.Wake)
	time.Sleep(50 * time.Millisecond) // the worker has looked once and is waiting
	enquire(t, d, "Ann Example", "ann@patient.example", false)
	srv.Wait(t, 1, 3*time.Second)
}

func TestGivesUpAfterTheLimitAndWarnsOfStaleMail(t *testing.T) {
	d := openDB(t)
	enquire(t, d, "Ann Example", "ann@patient.example", false)
	cfg := fastConfig()
	cfg.GiveUpAfter = 500 * time.Millisecond
	cfg.StaleAfter = 100 * time.Millisecond
	cfg.WarnEvery = 50 * time.Millisecond
	w, logs, _ := startWorker(t, d, smtpTransport(t, freeAddr(t), nil), cfg)

	deadline := time.Now().Add(5 * time.Second)
	for {
		n, after, err := w.StaleMail(context.Background())
		if err != nil || after != cfg.StaleAfter {
			t.Fatal(err, after)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("StaleMail never reported the unsent message")
		}
		time.Sleep(10 * time.Millisecond)
	}
	es := waitOutbox(t, d, 5*time.Second, "failed", allStatus(crm.OutboxFailed))
	if !strings.HasPrefix(es[0].LastError, "gave up after") || es[0].Attempts < 2 {
		t.Errorf("row = %+v, want failed after retries with the reason", es[0])
	}
	if n, _, _ := w.StaleMail(context.Background()); n != 0 {
		t.Errorf("StaleMail = %d after the message failed, want 0", n)
	}
	if c := strings.Count(logs.String(), "mail unsent for too long"); c < 1 {
		t.Errorf("no warning of stale mail in the log:\n%s", logs)
	}
	logs.noPersonalData(t, "ann@patient.example")

	// outbox retry: queued again, with its time counted afresh.
	outbox := crm.NewOutbox(d, slog.New(slog.NewTextHandler(logs, nil)))
	if err := outbox.Retry(context.Background(), crm.System, es[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := outbox.Retry(context.Background(), crm.System, es[0].ID); !errors.Is(err, crm.ErrConflict) {
		t.Errorf("retry of a queued message: %v, want ErrConflict", err)
	}
}

func TestMessageIDHeaderUsesTheSenderDomain(t *testing.T) {
	r := newRenderer(t, "")
	m := sampleMessage(crm.MailConfirmation)
	if got := r.MessageID(m); got != m.MessageID+"@klinik.example" {
		t.Errorf("MessageID = %q", got)
	}
	msg, err := r.Compose(m)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if _, err := msg.WriteTo(&sb); err != nil {
		t.Fatal(err)
	}
	pm, err := mail.ReadMessage(strings.NewReader(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	if pm.Header.Get("Message-Id") != "<"+m.MessageID+"@klinik.example>" {
		t.Errorf("Message-ID header %q", pm.Header.Get("Message-Id"))
	}
}

func TestDroppedConnectionIsRedialled(t *testing.T) {
	d := openDB(t)
	srv := mailertest.Start(t, mailertest.Options{})
	enquire(t, d, "Ann Example", "ann@patient.example", true)
	ms, err := d.ClaimDue(context.Background(), time.Now(), time.Minute, 10)
	if err != nil || len(ms) != 2 {
		t.Fatalf("claim: %v, %d", err, len(ms))
	}
	r := newRenderer(t, "")
	tr := smtpTransport(t, srv.Addr, nil)
	defer tr.Close()
	for i, m := range ms {
		msg, err := r.Compose(m)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			srv.DropConnections() // the server hangs up on the idle connection between two messages
		}
		if err := tr.Send(context.Background(), mailer.Outgoing{OutboxID: m.ID, CreatedAt: m.CreatedAt, Msg: msg}); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if n, c := len(srv.Received()), srv.Connections(); n != 2 || c != 2 {
		t.Errorf("received %d over %d connections, want 2 over 2 (one redial)", n, c)
	}
}

func TestUnansweringServerTimesOutAndIsRetried(t *testing.T) {
	d := openDB(t)
	// A server that accepts connections and never says a word.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	enquire(t, d, "Ann Example", "ann@patient.example", true)
	cfg := fastConfig()
	cfg.SendTimeout = 300 * time.Millisecond
	start := time.Now()
	startWorker(t, d, smtpTransport(t, ln.Addr().String(), func(c *mailer.SMTPConfig) { c.Timeout = 10 * time.Second }), cfg)
	es := waitOutbox(t, d, 5*time.Second, "retried", func(es []crm.OutboxEntry) bool {
		for _, e := range es {
			if e.Attempts < 2 {
				return false
			}
		}
		return true
	})
	if time.Since(start) > 4*time.Second {
		t.Errorf("the send deadline did not cut the silent server off")
	}
	for _, e := range es {
		if e.Status != crm.OutboxQueued || !strings.Contains(e.LastError, "deadline") {
			t.Errorf("%+v: want queued for retry after a timeout", e)
		}
	}
}
