package crm_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/hours"
	"github.com/frontdesk/frontdesk/crm/report"
)

// withOpeningHours gives the world a workspace whose targets (8 hours; 4 for risk) count only the opening
// hours spec in London.
func (w *world) withOpeningHours(spec string) *hours.Schedule {
	w.t.Helper()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		w.t.Fatal(err)
	}
	oh, err := hours.Parse(spec, london)
	if err != nil {
		w.t.Fatal(err)
	}
	w.ws = crm.NewWorkspace(w.db, w.db, w.db, crm.WorkspaceConfig{FirstContact: 8 * time.Hour, UrgentContact: 4 * time.Hour,
		OpeningHours: oh, IntakeInbox: "intake@clinic.example", Location: london}, quiet)
	return oh
}

// An enquiry sent on Friday at 18:00 to a clinic open Monday to Friday, 09:00–17:30, with an 8-hour target: round
// the clock it would be overdue at 02:00 on Saturday; in clinic hours it is due on Monday at 17:00. One flagged
// risk at the same moment is due 4 clinic hours later: Monday 13:00. The overdue flag, the overdue filter, the
// reminder sweep and the report's workload all agree.
func TestOpeningHoursDecideWhenAnEnquiryIsOverdue(t *testing.T) {
	w := newWorld(t)
	oh := w.withOpeningHours("Mon-Fri 09:00-17:30")
	ctx := context.Background()
	raw := w.rawDB()
	london := oh.Location()
	local := func(day, hour, min int) time.Time { return time.Date(2026, 12, day, hour, min, 0, 0, london) }
	friday := local(4, 18, 0)
	risk := w.submitAt(friday, "Robin", "Some days I want to end my life.", false)
	plain := w.submitAt(friday, "Sam", "I would like to know about your waiting times.", false)

	w.at(friday.Add(time.Minute))
	if e, _ := w.ws.Get(ctx, w.coord, plain); !e.FirstContactDue.Equal(local(7, 17, 0)) {
		t.Errorf("plain enquiry due %s, want Monday 17:00", e.FirstContactDue.In(london))
	}
	if e, _ := w.ws.Get(ctx, w.coord, risk); !e.HasFlag("risk") || !e.FirstContactDue.Equal(local(7, 13, 0)) {
		t.Errorf("risk enquiry (flags %v) due %s, want Monday 13:00", e.Flags(), e.FirstContactDue.In(london))
	}

	svc := report.New(w.db, w.db, w.db, report.Config{FirstContact: 8 * time.Hour, UrgentContact: 4 * time.Hour,
		OpeningHours: oh, Location: london}, quiet)
	// The workload's overdue count takes the ordinary target only, as it always has.
	check := func(when time.Time, wantOverdue []string, wantReminders, wantWorkload int) {
		t.Helper()
		w.at(when)
		page, err := w.ws.List(ctx, w.coord, crm.ListFilter{Overdue: "true"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range page.Items {
			got = append(got, e.Reference)
		}
		slices.Sort(got)
		slices.Sort(wantOverdue)
		if !slices.Equal(got, wantOverdue) {
			t.Errorf("%s: the overdue filter shows %v, want %v", when.In(london), got, wantOverdue)
		}
		for _, ref := range []string{risk, plain} {
			e, err := w.ws.Get(ctx, w.coord, ref)
			if err != nil {
				t.Fatal(err)
			}
			if want := slices.Contains(wantOverdue, ref); e.Overdue != want {
				t.Errorf("%s: %s overdue %v, want %v (due %s)", when.In(london), ref, e.Overdue, want, e.FirstContactDue.In(london))
			}
		}
		if n, err := w.ws.SendOverdueReminders(ctx); err != nil || n != wantReminders {
			t.Errorf("%s: the sweep queued %d reminders (%v), want %d", when.In(london), n, err, wantReminders)
		}
		svc.SetClock(func() time.Time { return when })
		r, err := svc.Report(ctx, w.admin, report.Range{From: "2026-12-01", To: "2026-12-31"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Workload.Total.Overdue != wantWorkload {
			t.Errorf("%s: the report's workload counts %d overdue, want %d", when.In(london), r.Workload.Total.Overdue, wantWorkload)
		}
	}
	check(local(5, 12, 0), nil, 0, 0)                   // Saturday noon: closed since Friday
	check(local(7, 12, 59), nil, 0, 0)                  // Monday, a minute before the urgent target
	check(local(7, 13, 1), []string{risk}, 1, 0)        // past the urgent target
	check(local(7, 16, 59), []string{risk}, 0, 0)       // the ordinary target not yet
	check(local(7, 17, 1), []string{risk, plain}, 1, 2) // both
	if n := rawCount(t, raw, `SELECT count(*) FROM outbox WHERE kind = 'staff_overdue'`); n != 2 {
		t.Errorf("%d reminders queued in all, want one each", n)
	}
}

// The report counts time to first contact in clinic hours when the clinic has them: an enquiry of Friday evening
// answered on Monday at 16:00 waited 7 clinic hours, within its 8-hour target (though 70 hours round the clock);
// one answered on Tuesday at 10:00 is late.
func TestReportCountsFirstContactInClinicHours(t *testing.T) {
	w := newWorld(t)
	oh := w.withOpeningHours("Mon-Fri 09:00-17:30")
	ctx := context.Background()
	london := oh.Location()
	local := func(day, hour, min int) time.Time { return time.Date(2026, 12, day, hour, min, 0, 0, london) }
	quick := w.submitAt(local(4, 18, 0), "Quick", "Hello.", false)
	late := w.submitAt(local(4, 18, 30), "Late", "Hello.", false)
	w.move(local(7, 16, 0), quick, crm.StatusContacted)
	w.move(local(8, 10, 0), late, crm.StatusContacted)

	svc := report.New(w.db, w.db, w.db, report.Config{FirstContact: 8 * time.Hour, OpeningHours: oh, Location: london}, quiet)
	svc.SetClock(func() time.Time { return local(9, 12, 0) })
	r, err := svc.Report(ctx, w.admin, report.Range{From: "2026-12-01", To: "2026-12-31"})
	if err != nil {
		t.Fatal(err)
	}
	fc := r.FirstContact.Overall
	if fc.Contacted != 2 || fc.WithinTarget != 1 {
		t.Errorf("contacted %d, within target %d; want 2 and 1", fc.Contacted, fc.WithinTarget)
	}
	// 7 and 9.5 clinic hours.
	if fc.MedianHours == nil || *fc.MedianHours != 8.25 {
		t.Errorf("median %v clinic hours, want 8.25", fc.MedianHours)
	}
}
