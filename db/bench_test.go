package db

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
)

// benchEnquiry is a realistic enquiry with a unique email.
func benchEnquiry(i int64) crm.NewEnquiry {
	now := time.Now()
	return crm.NewEnquiry{
		Enquiry: intake.Enquiry{Name: "Olivia Smith", Email: fmt.Sprintf("olivia.smith.%d@example.org", i),
			Phone: "+447700900123", PreferredContact: "either", Treatment: []string{"adhd", "depression", "ptsd"}[i%3],
			Message:        "I was diagnosed with ADHD last year. Stimulants helped a little but the side effects were hard.",
			ReferralSource: "search", Consent: intake.Consent{GivenAt: now, Version: intake.PrivacyNoticeVersion}},
		ReceivedAt:  now,
		Fingerprint: fmt.Sprintf("fp-%d", i),
		IntakeInbox: "intake@clinic.example",
	}
}

// reportWriter reports the writer's share of each write between two WriterStats: its time per write, commits
// included (writer-us/op), the commits' share of it (commit-us/op), and writes per batch.
func reportWriter(b *testing.B, before, after WriterStats) {
	writes := after.Writes - before.Writes
	if writes == 0 {
		return
	}
	b.ReportMetric(float64((after.Busy-before.Busy).Microseconds())/float64(writes), "writer-us/op")
	b.ReportMetric(float64((after.Commit-before.Commit).Microseconds())/float64(writes), "commit-us/op")
	b.ReportMetric(float64(writes)/float64(after.Batches-before.Batches), "writes/batch")
}

// BenchmarkCreateEnquiry stores enquiries from 16 goroutines at once, as intake under load does: each is the
// enquiry, its assignment, timeline, search index and three outbox messages, durably committed by group commit.
// It reports the largest WAL file seen (sampled every millisecond) as wal-MB: with writes back to back, that
// is what the writer's own checkpoint bounds (see boundWAL); run it long enough (-benchtime=20000x) to pass
// walLimit.
func BenchmarkCreateEnquiry(b *testing.B) { benchCreateEnquiry(b, false) }

// BenchmarkCreateEnquiryWithWebhooks is BenchmarkCreateEnquiry with webhooks on: each enquiry also queues its
// enquiry.created event, in the same INSERT as its email.
func BenchmarkCreateEnquiryWithWebhooks(b *testing.B) { benchCreateEnquiry(b, true) }

func benchCreateEnquiry(b *testing.B, webhooks bool) {
	d := openTest(b)
	if webhooks {
		d.EnableWebhooks("https://enquiries.example.org")
	}
	addStaff(b, d, "a@clinic.example", crm.RoleClinician, "adhd", "depression")
	addStaff(b, d, "b@clinic.example", crm.RoleClinician, "ptsd", "depression")
	var n atomic.Int64
	ctx := context.Background()
	stop := make(chan struct{})
	largest := walSampler(d, stop)
	b.SetParallelism(8)
	b.ReportAllocs()
	before := d.WriterStats()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := d.CreateEnquiry(ctx, benchEnquiry(n.Add(1)), crm.PlanIntake); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	close(stop)
	wal, _ := largest()
	b.ReportMetric(float64(wal)/(1<<20), "wal-MB")
	reportWriter(b, before, d.WriterStats())
}
