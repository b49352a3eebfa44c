package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/report"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/frontdesk/frontdesk/intake/screening"
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

// Answers given through a screening link are stored once: the link is taken, the answers and their flags
// stored, the risk flag raises the priority to urgent and tells the intake inbox; a second use of the link is
// refused and changes nothing. Exports read the stored answers back, instrument by instrument.
func TestAnswersThroughTheScreeningLinkAreStoredOnce(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	e := newEnquiry("ann@example.org")
	e.ReceivedAt = t0
	e.Link = crm.ScreeningLink{Hash: "link-hash", ExpiresAt: t0.Add(24 * time.Hour)}
	rec, err := d.CreateEnquiry(ctx, e, crm.PlanIntake)
	if err != nil {
		t.Fatal(err)
	}
	answers := screening.Answers{Questionnaires: map[string][]int{"phq9": {1, 1, 1, 1, 1, 1, 1, 1, 3}},
		Safety: map[string]bool{"self_harm_thoughts": true}}
	assessment, err := screening.Default().Assess(answers, "")
	if err != nil {
		t.Fatal(err)
	}
	if !assessment.Has(screening.FlagRisk) {
		t.Fatalf("the answers raise no risk flag: %+v", assessment)
	}
	at := t0.Add(time.Hour)
	out, err := d.AnswerScreening(ctx, crm.ScreeningAnswers{Hash: "link-hash", At: at, Answers: answers,
		Assessment: assessment, IntakeInbox: "intake@clinic.example"}, crm.PlanScreeningAnswers)
	if err != nil {
		t.Fatal(err)
	}
	if out.Reference != rec.Reference || !slices.Contains(out.Raised, screening.FlagRisk) {
		t.Errorf("outcome %+v", out)
	}
	got, err := d.GetEnquiry(ctx, rec.Reference)
	if err != nil {
		t.Fatal(err)
	}
	if got.Priority != crm.PriorityUrgent || got.RiskAt == nil || !got.RiskAt.Equal(at) {
		t.Errorf("after the answers: priority %s, risk flag at %v", got.Priority, got.RiskAt)
	}
	if n := count(t, d, `SELECT count(*) FROM outbox WHERE kind = 'staff_urgent' AND recipient = 'intake@clinic.example'`); n != 1 {
		t.Errorf("%d urgent notices to the inbox, want 1", n)
	}
	snapshot := func() string {
		return fmt.Sprint(count(t, d, `SELECT count(*) FROM events`), count(t, d, `SELECT count(*) FROM outbox`),
			count(t, d, `SELECT count(*) FROM screenings`))
	}
	before := snapshot()
	_, err = d.AnswerScreening(ctx, crm.ScreeningAnswers{Hash: "link-hash", At: at.Add(time.Minute), Answers: answers,
		Assessment: assessment}, crm.PlanScreeningAnswers)
	var le *crm.ScreeningLinkError
	if !errors.As(err, &le) || le.Problem != crm.LinkUsed {
		t.Errorf("a second use of the link: %v, want a used-link error", err)
	}
	if after := snapshot(); after != before {
		t.Errorf("a refused second use changed events, outbox, screenings: %s → %s", before, after)
	}

	rows, err := d.ExportEnquiries(ctx, report.Query{Answers: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var exported crm.Enquiry
	if !rows.Next() || rows.Scan(&exported) != nil {
		t.Fatalf("no exported row: %v", rows.Err())
	}
	s := rows.Screening()
	if len(s) != 2 || s[0].Instrument != "phq9" || s[0].Total != 11 || fmt.Sprint(s[0].Answers) != "[1 1 1 1 1 1 1 1 3]" ||
		s[1].Instrument != crm.SafetyInstrument || !s[1].Safety["self_harm_thoughts"] {
		t.Errorf("exported screening %+v", s)
	}
}

// The store reads the facts the rules of the screening link need — a disabled assignee is nobody, the
// administrators only when the answers may need them — and stores the plan as it is.
func TestAnswerScreeningReadsTheFactsAndStoresThePlan(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	clin := addStaff(t, d, "clin@clinic.example", crm.RoleClinician, "adhd")
	addStaff(t, d, "admin1@clinic.example", crm.RoleAdmin)
	gone := addStaff(t, d, "admin2@clinic.example", crm.RoleAdmin)
	if _, err := d.write.Exec(`UPDATE staff SET disabled_at = 1 WHERE id = ?`, gone.ID); err != nil {
		t.Fatal(err)
	}
	create := func(email, hash string) string {
		e := newEnquiry(email)
		e.ReceivedAt = t0
		e.Link = crm.ScreeningLink{Hash: hash, ExpiresAt: t0.Add(24 * time.Hour)}
		rec, err := d.CreateEnquiry(ctx, e, crm.PlanIntake)
		if err != nil {
			t.Fatal(err)
		}
		return rec.Reference
	}
	assigned, lapsed := create("ann@example.org", "hash-a"), create("bob@example.org", "hash-b")
	if _, err := d.write.Exec(`UPDATE enquiries SET flag_review_at = ? WHERE reference = ?`, ms(t0), lapsed); err != nil {
		t.Fatal(err)
	}
	risk := screening.Assessment{Flags: []string{screening.FlagRisk}, RiskSources: []string{"self_harm_thoughts"}}
	answers := screening.Answers{Safety: map[string]bool{"self_harm_thoughts": true}}
	at := t0.Add(time.Hour)
	answer := func(hash, inbox string) (crm.ScreeningFacts, crm.ScreeningOutcome) {
		t.Helper()
		var facts crm.ScreeningFacts
		out, err := d.AnswerScreening(ctx, crm.ScreeningAnswers{Hash: hash, At: at, Answers: answers,
			Assessment: risk, IntakeInbox: inbox}, func(a crm.ScreeningAnswers, f crm.ScreeningFacts) crm.ScreeningPlan {
			facts = f
			return crm.PlanScreeningAnswers(a, f)
		})
		if err != nil {
			t.Fatal(err)
		}
		return facts, out
	}

	// An active assignee, an intake inbox: the administrators are not read.
	f, out := answer("hash-a", "intake@clinic.example")
	if f.Reference != assigned || f.Priority != "normal" || f.RiskFlagged || f.ReviewFlagged ||
		f.AssigneeEmail != clin.Email || f.Admins != nil {
		t.Errorf("facts of the assigned enquiry %+v", f)
	}
	if out.Reference != assigned || !slices.Equal(out.Raised, []string{screening.FlagRisk}) {
		t.Errorf("outcome %+v", out)
	}
	if n := count(t, d, `SELECT count(*) FROM outbox o JOIN enquiries e ON e.id = o.enquiry_id WHERE e.reference = ?
		AND o.kind = 'staff_urgent' AND o.recipient IN ('intake@clinic.example', 'clin@clinic.example')`, assigned); n != 2 {
		t.Errorf("%d urgent notices to the inbox and the assignee, want 2", n)
	}

	// Its assignee disabled, no intake inbox, flagged review before: the active administrators are read.
	if _, err := d.write.Exec(`UPDATE staff SET disabled_at = 1 WHERE id = ?`, clin.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.write.Exec(`UPDATE enquiries SET assignee_id = ? WHERE reference = ?`, clin.ID, lapsed); err != nil {
		t.Fatal(err)
	}
	f, out = answer("hash-b", "")
	if f.Reference != lapsed || f.RiskFlagged || !f.ReviewFlagged || f.AssigneeEmail != "" ||
		!slices.Equal(f.Admins, []string{"admin1@clinic.example"}) {
		t.Errorf("facts of the enquiry with a disabled assignee %+v", f)
	}
	if !slices.Equal(out.Flags, []string{screening.FlagRisk, screening.FlagReview}) {
		t.Errorf("outcome %+v", out)
	}
	got, err := d.GetEnquiry(ctx, lapsed)
	if err != nil {
		t.Fatal(err)
	}
	if got.Priority != crm.PriorityUrgent || got.RiskAt == nil || !got.RiskAt.Equal(at) || got.ReviewAt == nil ||
		!got.ReviewAt.Equal(t0) {
		t.Errorf("after the answers: priority %s, risk flag at %v, review flag at %v", got.Priority, got.RiskAt, got.ReviewAt)
	}
	if n := count(t, d, `SELECT count(*) FROM outbox o JOIN enquiries e ON e.id = o.enquiry_id WHERE e.reference = ?
		AND o.kind = 'staff_urgent'`, lapsed); n != 1 {
		t.Errorf("%d urgent notices, want 1 (the active administrator)", n)
	}
	if n := count(t, d, `SELECT count(*) FROM events v JOIN enquiries e ON e.id = v.enquiry_id WHERE e.reference = ?
		AND ((v.kind = 'flagged' AND v.reason = 'risk: self_harm_thoughts') OR (v.kind = 'priority' AND v.priority = 'urgent'))
		AND v.at = ?`, lapsed, ms(at)); n != 2 {
		t.Errorf("%d flagged and priority events, want 2", n)
	}
}
