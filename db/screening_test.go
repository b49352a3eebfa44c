package db

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
)

// A risk-flagged enquiry nobody is set to be told of (no intake inbox, no clinician for its treatment) reaches
// every active administrator instead; one that somebody is told of does not.
func TestUrgentNoticeFallsBackToAdministrators(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	addStaff(t, d, "admin1@clinic.example", crm.RoleAdmin)
	addStaff(t, d, "admin2@clinic.example", crm.RoleAdmin)
	gone := addStaff(t, d, "admin3@clinic.example", crm.RoleAdmin)
	if _, err := d.write.Exec(`UPDATE staff SET disabled_at = 1 WHERE id = ?`, gone.ID); err != nil {
		t.Fatal(err)
	}
	addStaff(t, d, "coord@clinic.example", crm.RoleCoordinator)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	submit := func(inbox, message string) string {
		svc := crm.NewIntakeService(d, intake.NewValidator(nil, time.UTC), inbox, quiet)
		rec, err := svc.Submit(ctx, intake.Submission{Name: "Ann Example", Email: "ann@example.org",
			Treatment: "chronic_pain", Message: message, Consent: true}, "")
		if err != nil {
			t.Fatal(err)
		}
		return rec.Reference
	}
	ref := submit("", "I want to kill myself")
	if n := count(t, d, `SELECT count(*) FROM outbox o JOIN enquiries e ON e.id = o.enquiry_id WHERE e.reference = ?
		AND o.kind = 'staff_urgent' AND o.recipient IN ('admin1@clinic.example', 'admin2@clinic.example')`, ref); n != 2 {
		t.Errorf("%d urgent notices to the active administrators, want 2", n)
	}
	if n := count(t, d, `SELECT count(*) FROM outbox o JOIN enquiries e ON e.id = o.enquiry_id WHERE e.reference = ?
		AND o.kind = 'staff_urgent'`, ref); n != 2 {
		t.Errorf("%d urgent notices in all, want 2 (not the disabled admin, not the coordinator)", n)
	}
	ref = submit("intake@clinic.example", "I want to kill myself")
	if n := count(t, d, `SELECT count(*) FROM outbox o JOIN enquiries e ON e.id = o.enquiry_id WHERE e.reference = ?
		AND o.kind = 'staff_urgent'`, ref); n != 1 {
		t.Errorf("%d urgent notices with an intake inbox set, want 1", n)
	}
}
