package crm_test

import (
	"context"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/report"
)

// A risk-flagged enquiry is due for first contact within the urgent target (4 hours by default), counted from
// its flag: the overdue filter and the reminder sweep take it as soon as that passes, not after 24 hours; an
// ordinary enquiry of the same moment waits its 24 hours.
func TestUrgentReminderAtUrgentTarget(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	raw := w.rawDB()
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	risk := w.submitAt(t0, "Robin", "Some days I want to end my life.", false)
	plain := w.submitAt(t0, "Sam", "I would like to know about your waiting times.", false)

	w.at(t0.Add(time.Minute))
	e, err := w.ws.Get(ctx, w.coord, risk)
	if err != nil {
		t.Fatal(err)
	}
	if !e.HasFlag("risk") || e.Priority != crm.PriorityUrgent {
		t.Fatalf("risk language did not flag the enquiry: flags %v priority %s", e.Flags(), e.Priority)
	}
	if want := t0.Add(4 * time.Hour); !e.FirstContactDue.Equal(want) {
		t.Errorf("risk enquiry due %s, want %s (the urgent target)", e.FirstContactDue, want)
	}
	p, _ := w.ws.Get(ctx, w.coord, plain)
	if want := t0.Add(24 * time.Hour); !p.FirstContactDue.Equal(want) {
		t.Errorf("plain enquiry due %s, want %s", p.FirstContactDue, want)
	}

	overdueRefs := func() []string {
		t.Helper()
		page, err := w.ws.List(ctx, w.coord, crm.ListFilter{Overdue: "true"})
		if err != nil {
			t.Fatal(err)
		}
		var refs []string
		for _, e := range page.Items {
			if !e.Overdue {
				t.Errorf("overdue filter returned %s, which is not overdue (due %s)", e.Reference, e.FirstContactDue)
			}
			refs = append(refs, e.Reference)
		}
		return refs
	}
	reminders := func(ref string) int {
		return rawCount(t, raw, `SELECT count(*) FROM outbox o JOIN enquiries e ON e.id = o.enquiry_id
			WHERE e.reference = ? AND o.kind = 'staff_overdue'`, ref)
	}

	// Just before the urgent target: nothing is overdue, nothing is reminded.
	w.at(t0.Add(4*time.Hour - time.Minute))
	if n, err := w.ws.SendOverdueReminders(ctx); err != nil || n != 0 {
		t.Fatalf("before the urgent target: %d reminders, %v", n, err)
	}
	if refs := overdueRefs(); len(refs) != 0 {
		t.Errorf("before the urgent target the overdue filter shows %v", refs)
	}

	// Just after it: the risk enquiry is overdue and its reminder goes out, to the intake inbox (unassigned).
	w.at(t0.Add(4*time.Hour + time.Minute))
	if n, err := w.ws.SendOverdueReminders(ctx); err != nil || n != 1 {
		t.Fatalf("after the urgent target: %d reminders, %v; want 1", n, err)
	}
	if reminders(risk) != 1 || reminders(plain) != 0 {
		t.Errorf("reminders: risk %d, plain %d; want 1 and 0", reminders(risk), reminders(plain))
	}
	if n := rawCount(t, raw, `SELECT count(*) FROM outbox WHERE kind = 'staff_overdue' AND recipient = 'intake@clinic.example'`); n != 1 {
		t.Errorf("reminder to the intake inbox: %d", n)
	}
	if refs := overdueRefs(); len(refs) != 1 || refs[0] != risk {
		t.Errorf("after the urgent target the overdue filter shows %v, want [%s]", refs, risk)
	}
	if e, _ := w.ws.Get(ctx, w.coord, risk); !e.Overdue {
		t.Errorf("the risk enquiry is not marked overdue after its urgent target")
	}
	// A second sweep reminds nobody again.
	if n, _ := w.ws.SendOverdueReminders(ctx); n != 0 {
		t.Errorf("second sweep reminded %d", n)
	}

	// After 24 hours the ordinary enquiry's turn comes, once.
	w.at(t0.Add(24*time.Hour + time.Minute))
	if n, err := w.ws.SendOverdueReminders(ctx); err != nil || n != 1 {
		t.Fatalf("after 24 hours: %d reminders, %v; want 1", n, err)
	}
	if reminders(risk) != 1 || reminders(plain) != 1 {
		t.Errorf("reminders after 24 h: risk %d, plain %d; want 1 and 1", reminders(risk), reminders(plain))
	}
	if refs := overdueRefs(); len(refs) != 2 {
		t.Errorf("after 24 hours the overdue filter shows %v, want both", refs)
	}
}

// The report counts the risk-flagged enquiries of the range against the urgent target: contacted within it,
// the median time from flag to first contact, and those still waiting past it.
func TestReportUrgentFirstContact(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday
	fast := w.submitAt(t0, "Fast", "I keep thinking I want to end my life.", false)
	slow := w.submitAt(t0.Add(time.Hour), "Slow", "I have thought about suicide.", false)
	waiting := w.submitAt(t0.Add(2*time.Hour), "Waiting", "I want to kill myself.", false)
	pending := w.submitAt(t0.Add(8*time.Hour), "Pending", "Thoughts of ending my life again.", false)
	plain := w.submitAt(t0, "Plain", "Hello, I would like an appointment.", false)
	w.move(t0.Add(2*time.Hour), fast, crm.StatusContacted)  // 2 h after its flag: within 4 h
	w.move(t0.Add(7*time.Hour), slow, crm.StatusContacted)  // 6 h after its flag: late
	w.move(t0.Add(3*time.Hour), plain, crm.StatusContacted) // not flagged: not counted
	for _, ref := range []string{fast, slow, waiting, pending} {
		if e, _ := w.ws.Get(ctx, w.admin, ref); !e.HasFlag("risk") {
			t.Fatalf("%s was not flagged risk", ref)
		}
	}

	svc := report.New(w.db, w.db, w.db, report.Config{FirstContact: 24 * time.Hour, UrgentContact: 4 * time.Hour,
		Location: time.UTC}, quiet)
	svc.SetClock(func() time.Time { return t0.Add(10 * time.Hour) })
	r, err := svc.Report(ctx, w.admin, report.Range{From: "2026-03-01", To: "2026-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	u := r.Urgent.Overall
	if r.Urgent.TargetHours != 4 || u.Flagged != 4 || u.Contacted != 2 || u.WithinTarget != 1 ||
		u.WaitingPastTarget != 1 || u.Waiting != 1 {
		t.Errorf("urgent figures %+v (target %v)", u, r.Urgent.TargetHours)
	}
	if u.MedianHours == nil || *u.MedianHours != 4 { // (2 + 6) / 2
		t.Errorf("median hours from flag to first contact: %v, want 4", u.MedianHours)
	}
	tbl, ok := r.Table("urgent-first-contact")
	if !ok || len(tbl.Footer) != 8 || tbl.Footer[1] != "4" || tbl.Footer[6] != "1" {
		t.Errorf("urgent table %+v", tbl)
	}
	if _, err := svc.Report(ctx, w.coord, report.Range{}); err == nil {
		t.Error("a coordinator got the report")
	}
}
