package mailer_test

import (
	"context"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/mailer"
	"github.com/frontdesk/frontdesk/crm/mailer/mailertest"
)

func TestADeadWorkersBatchIsSentWithinTwentySeconds(t *testing.T) {
	d := openDB(t)
	srv := mailertest.Start(t, mailertest.Options{})
	enquire(t, d, "Ann Example", "ann@patient.example", true)
	// serve's worker claims the batch with its default lease and is killed before sending any of it.
	claimed, err := d.ClaimDue(context.Background(), time.Now(), mailer.DefaultLease, mailer.DefaultBatch)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %v, %d", err, len(claimed))
	}
	// serve starts again; 20 seconds later (its clock runs ahead) the dead worker's lease must be over.
	cfg := fastConfig()
	cfg.Lease = 0 // the default
	cfg.Now = func() time.Time { return time.Now().Add(20 * time.Second) }
	startWorker(t, d, smtpTransport(t, srv.Addr, nil), cfg)
	srv.Wait(t, 2, 10*time.Second)
	es := waitOutbox(t, d, 5*time.Second, "sent", allStatus(crm.OutboxSent))
	for _, e := range es {
		if e.Attempts != 2 {
			t.Errorf("message %d: %d attempts, want 2 (the dead worker's and this one)", e.ID, e.Attempts)
		}
	}
}

func TestASlowMessageIsNotSentTwiceWhileItsLeaseIsRenewed(t *testing.T) {
	d := openDB(t)
	// The server takes 2.5 s to accept a message: more than twice the lease.
	srv := mailertest.Start(t, mailertest.Options{DataDelay: 2500 * time.Millisecond})
	enquire(t, d, "Ann Example", "ann@patient.example", false)
	cfg := fastConfig()
	cfg.Lease, cfg.SendTimeout = time.Second, 10*time.Second
	slowOK := func(c *mailer.SMTPConfig) { c.Timeout = 10 * time.Second }
	// Two workers, as two serve processes on one database: the second polls every 20 ms throughout.
	_, _, stopA := startWorker(t, d, smtpTransport(t, srv.Addr, slowOK), cfg)
	_, _, stopB := startWorker(t, d, smtpTransport(t, srv.Addr, slowOK), cfg)
	es := waitOutbox(t, d, 20*time.Second, "sent", allStatus(crm.OutboxSent))
	// Each worker finishes what it is sending before it stops: a second copy would be received by then.
	stopA()
	stopB()
	if n := len(srv.Received()); n != 1 {
		t.Errorf("the server received %d copies, want 1", n)
	}
	if es[0].Attempts != 1 {
		t.Errorf("%d attempts, want 1", es[0].Attempts)
	}
}

func TestAWorkerStopsSendingOnceItsLeaseCannotBeKept(t *testing.T) {
	d := openDB(t)
	// The server takes 2 s to accept the recipient, and so the message: twice the lease.
	srv := mailertest.Start(t, mailertest.Options{Reply: func(string) error { time.Sleep(2 * time.Second); return nil }})
	enquire(t, d, "Ann Example", "ann@patient.example", false)
	cfg := fastConfig()
	cfg.Lease, cfg.SendTimeout = time.Second, 10*time.Second
	_, logs, stop := startWorker(t, d, smtpTransport(t, srv.Addr, func(c *mailer.SMTPConfig) { c.Timeout = 10 * time.Second }), cfg)
	waitOutbox(t, d, 5*time.Second, "leased", func(es []crm.OutboxEntry) bool { return es[0].Leased })
	// The database goes away while the message is being sent: the lease cannot be renewed, so the worker
	// cuts the exchange off before the lease runs out, rather than send on while another worker may claim it.
	d.Close()
	waitLog(t, logs, "the lease of the batch could not be renewed")
	// A worker stopping finishes the message it is sending: had it not been cut off, it would be received now.
	stop()
	if n := len(srv.Received()); n != 0 {
		t.Errorf("the server received %d messages after the lease was given up, want none", n)
	}
}
