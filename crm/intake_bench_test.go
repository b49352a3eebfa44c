package crm_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/demo"
	"github.com/frontdesk/frontdesk/intake"
)

// receiptStore stores nothing and answers at once, so BenchmarkSubmit measures the service's own work.
type receiptStore struct{}

func (receiptStore) CreateEnquiry(context.Context, crm.NewEnquiry, func(crm.NewEnquiry, crm.IntakeFacts) (crm.IntakePlan, error)) (crm.Receipt, error) {
	return crm.Receipt{Reference: "FD-BENCH", Status: crm.FirstAnswer}, nil
}

// BenchmarkSubmit is IntakeService.Submit up to the store: Check, the fingerprint, the assessment (screening
// answers and risk language), the screening link and the log line, on varied demo enquiries (crm/demo: phone
// numbers in national and international forms, one message in eight with risk language), one in four with
// screening answers.
func BenchmarkSubmit(b *testing.B) {
	g := demo.New(13)
	subs := make([]intake.Submission, 256)
	for i := range subs {
		subs[i] = g.Varied(i)
		if i%4 == 0 {
			subs[i].Screening = demo.Screening(i, subs[i].Treatment)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	svc := crm.NewIntakeService(receiptStore{}, intake.NewValidator(nil, time.UTC), "intake@clinic.example", log)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := svc.Submit(ctx, subs[i%len(subs)], ""); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkFingerprint is the content hash that tells a resubmission from a new enquiry.
func BenchmarkFingerprint(b *testing.B) {
	v := intake.NewValidator(nil, time.UTC)
	sub := demo.New(13).Varied(0)
	sub.Screening = demo.Screening(1, sub.Treatment)
	e, err := v.Check(sub)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = crm.Fingerprint(e)
	}
}
