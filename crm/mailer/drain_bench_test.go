package mailer_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/mailer"
	"github.com/frontdesk/frontdesk/crm/mailer/mailertest"
	"github.com/frontdesk/frontdesk/db"
	"github.com/frontdesk/frontdesk/intake"
)

// queueMail stores enquiries through the intake SQL until at least n messages are queued (each enquiry queues
// a confirmation and a notice to the intake inbox), in one transaction per 500 enquiries, and returns how many
// messages it queued.
func queueMail(tb testing.TB, d *db.DB, n int) int {
	tb.Helper()
	now := time.Now().UTC()
	queued := 0
	for i := 0; queued < n; {
		var batch []db.BulkEnquiry
		for ; len(batch) < 500 && queued < n; i++ {
			batch = append(batch, db.BulkEnquiry{NewEnquiry: crm.NewEnquiry{
				Enquiry: intake.Enquiry{Name: "Olivia Smith", Email: fmt.Sprintf("olivia.smith.%d@patient.example", i),
					PreferredContact: "either", Treatment: "adhd", Message: patientMessage,
					Consent: intake.Consent{GivenAt: now, Version: intake.PrivacyNoticeVersion}},
				ReceivedAt:  now,
				Fingerprint: fmt.Sprintf("fp-%d", i),
				IntakeInbox: intakeInbox,
			}})
			queued += 2
		}
		if _, err := d.BulkLoad(context.Background(), batch); err != nil {
			tb.Fatal(err)
		}
	}
	return queued
}

// drain runs w until nothing is queued, and returns how long that took.
func drain(tb testing.TB, d *db.DB, w *mailer.Worker) time.Duration {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() { defer close(done); w.Run(ctx) }()
	far := time.Now().Add(time.Hour)
	for {
		n, err := d.CountUnsent(context.Background(), far)
		if err != nil {
			tb.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Since(start) > 5*time.Minute {
			tb.Fatalf("%d messages still queued after 5 minutes", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	cancel()
	<-done
	return elapsed
}

// benchDB opens a migrated database in a fresh folder of b's, and returns it with the folder.
func benchDB(b *testing.B) (*db.DB, string) {
	dir := b.TempDir()
	d, err := db.Open(filepath.Join(dir, "frontdesk.db"), db.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return d, dir
}

// benchWorker is serve's mail worker with the file transport writing into dir/mail, logging nowhere.
func benchWorker(b *testing.B, d *db.DB, dir string) *mailer.Worker {
	ft, err := mailer.NewFileTransport(filepath.Join(dir, "mail"))
	if err != nil {
		b.Fatal(err)
	}
	return mailer.NewWorker(d, newRenderer(b, ""), ft, mailer.WorkerConfig{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// BenchmarkDrainToFiles measures the mail worker of serve with the file transport (default settings) writing a
// backlog of b.N queued messages into a folder beside the database, timed until the outbox is empty. Run it
// with a fixed count, e.g. -benchtime=6000x.
func BenchmarkDrainToFiles(b *testing.B) {
	d, dir := benchDB(b)
	n := queueMail(b, d, max(b.N, 2))
	w := benchWorker(b, d, dir)
	b.ResetTimer()
	elapsed := drain(b, d, w)
	b.StopTimer()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "mails/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkDrainToSMTP is BenchmarkDrainToFiles with the SMTP transport (batches of 20 over one connection) and
// a loopback SMTP server that keeps what it receives.
func BenchmarkDrainToSMTP(b *testing.B) {
	d, _ := benchDB(b)
	n := queueMail(b, d, max(b.N, 2))
	srv := mailertest.Start(b, mailertest.Options{})
	host, portText, _ := net.SplitHostPort(srv.Addr)
	port, _ := strconv.Atoi(portText)
	tr, err := mailer.NewSMTPTransport(mailer.SMTPConfig{Host: host, Port: port, TLS: mailer.TLSNone, HELO: "bench.example"})
	if err != nil {
		b.Fatal(err)
	}
	w := mailer.NewWorker(d, newRenderer(b, ""), tr, mailer.WorkerConfig{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.ResetTimer()
	elapsed := drain(b, d, w)
	b.StopTimer()
	if got := len(srv.Received()); got != n {
		b.Fatalf("the server received %d of %d messages", got, n)
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "mails/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkDrainToFilesBesideIntake runs the worker as serve does while 16 clients store enquiries as fast as
// the database takes them (b.N/2 enquiries, each queueing a confirmation and an intake-inbox notice): it reports
// intake's rate, the mail written per second until the outbox is empty, and how many messages were still
// queued when intake stopped (0: the worker kept pace).
func BenchmarkDrainToFilesBesideIntake(b *testing.B) {
	d, dir := benchDB(b)
	w := benchWorker(b, d, dir)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	enquiries := int64(max(b.N/2, 1))
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	go func() { defer close(done); w.Run(ctx) }()
	d.OnMailQueued(w.Wake)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= enquiries; i = next.Add(1) {
				now := time.Now().UTC()
				_, err := d.CreateEnquiry(context.Background(), crm.NewEnquiry{
					Enquiry: intake.Enquiry{Name: "Olivia Smith", Email: fmt.Sprintf("olivia.smith.%d@patient.example", i),
						PreferredContact: "either", Treatment: "adhd", Message: patientMessage,
						Consent: intake.Consent{GivenAt: now, Version: intake.PrivacyNoticeVersion}},
					ReceivedAt: now, Fingerprint: fmt.Sprintf("fp-%d", i), IntakeInbox: intakeInbox,
				}, crm.PlanIntake)
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	intakeTime := time.Since(start)
	far := time.Now().Add(time.Hour)
	behind, err := d.CountUnsent(context.Background(), far)
	if err != nil {
		b.Fatal(err)
	}
	for n := behind; n > 0; {
		if time.Since(start) > 10*time.Minute {
			b.Fatalf("%d messages still queued after 10 minutes", n)
		}
		time.Sleep(20 * time.Millisecond)
		if n, err = d.CountUnsent(context.Background(), far); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	cancel()
	<-done
	b.StopTimer()
	b.ReportMetric(float64(enquiries)/intakeTime.Seconds(), "enquiries/s")
	b.ReportMetric(float64(2*enquiries)/elapsed.Seconds(), "mails/s")
	b.ReportMetric(float64(behind), "behind")
	b.ReportMetric(0, "ns/op")
}
