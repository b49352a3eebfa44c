package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"path/filepath"
	"strconv"
	"time"

	"github.com/frontdesk/frontdesk/crm/mailer"
	"github.com/frontdesk/frontdesk/crm/mailer/mailertest"
	"github.com/frontdesk/frontdesk/db"
)

// mailResult is one drain of the outbox.
type mailResult struct {
	messages    int
	received    int
	connections int
	elapsed     time.Duration
	err         error
}

func (m mailResult) rate() float64 {
	if m.elapsed <= 0 {
		return 0
	}
	return float64(m.messages) / m.elapsed.Seconds()
}

// drainOutbox sends every queued message of the database at path with the mail worker of serve (its SMTP
// transport, one connection reused across each batch, default settings) to a loopback SMTP server, and times
// it from start until the outbox is empty.
func drainOutbox(path string) mailResult {
	var res mailResult
	ctx := context.Background()
	d, err := db.Open(path, db.Options{})
	if err != nil {
		res.err = err
		return res
	}
	defer d.Close()
	far := time.Now().Add(24 * time.Hour)
	if res.messages, err = d.CountUnsent(ctx, far); err != nil {
		res.err = err
		return res
	}
	srv, err := mailertest.Listen(mailertest.Options{})
	if err != nil {
		res.err = err
		return res
	}
	defer srv.Close()
	host, portText, _ := net.SplitHostPort(srv.Addr)
	port, _ := strconv.Atoi(portText)
	renderer, err := mailer.NewRenderer(mailer.RenderConfig{
		Clinic:            mailer.Clinic{Name: "Bench Clinic"},
		From:              &netmail.Address{Name: "Frontdesk", Address: "no-reply@bench.example"},
		BaseURL:           "http://localhost:8080",
		FirstContactHours: 24,
	})
	if err != nil {
		res.err = err
		return res
	}
	transport, err := mailer.NewSMTPTransport(mailer.SMTPConfig{Host: host, Port: port, TLS: mailer.TLSNone, HELO: "bench.example"})
	if err != nil {
		res.err = err
		return res
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := mailer.NewWorker(d, renderer, transport, mailer.WorkerConfig{}, quiet)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	t0 := time.Now()
	go func() { defer close(done); w.Run(runCtx) }()
	deadline := t0.Add(10 * time.Minute)
	for {
		n, err := d.CountUnsent(ctx, far)
		if err != nil {
			res.err = err
			break
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			res.err = fmt.Errorf("%d messages still queued after 10 minutes", n)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	res.elapsed = time.Since(t0)
	stop()
	<-done
	res.received = len(srv.Received())
	res.connections = srv.Connections()
	if res.err == nil && res.received < res.messages {
		res.err = fmt.Errorf("the SMTP server received %d of %d messages", res.received, res.messages)
	}
	return res
}

// mailPhase drains an outbox of about o.mail messages made by bench/gen to a loopback SMTP server.
func mailPhase(o options, b bins, rep *report) error {
	fmt.Printf("\n== mail: draining about %d messages to a loopback SMTP server\n", o.mail)
	path := filepath.Join(o.out, "mail.db")
	removeDB(path)
	// Each enquiry queues a confirmation, a notice to the intake inbox and one to its clinician (when it has one).
	n := max(o.mail*10/27, 1)
	if err := gen(b, "-db", path, "-n", strconv.Itoa(n), "-days", "1", "-queued", strconv.Itoa(n), "-password", o.password); err != nil {
		return err
	}
	m := drainOutbox(path)
	if m.err != nil {
		rep.add("mail drain", "failed", ">= 500/s", "", check(false))
		rep.note("mail drain: %v", m.err)
		return nil
	}
	rep.add("mail drain (SMTP, loopback)", fmt.Sprintf("%.0f msg/s", m.rate()), ">= 500/s",
		fmt.Sprintf("%d msgs, %d connections", m.messages, m.connections), check(m.rate() >= 500))
	return nil
}
