package report

import (
	"context"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// Without a range a report covers the last 30 days, today included, in the clinic's time zone: on the 1st of a
// month it still shows the month before, which "this month" did not.
func TestReportDefaultsToTheLast30Days(t *testing.T) {
	s, _ := newTestService(&fakeStore{})
	for _, c := range []struct {
		now      time.Time
		from, to string
	}{
		// 1 December, 08:00 in London.
		{time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), "2026-11-02", "2026-12-01"},
		// 23:30 UTC on 31 May is already 1 June in London (BST).
		{time.Date(2026, 5, 31, 23, 30, 0, 0, time.UTC), "2026-05-03", "2026-06-01"},
	} {
		s.SetClock(func() time.Time { return c.now })
		r, err := s.Report(context.Background(), crm.System, Range{})
		if err != nil {
			t.Fatal(err)
		}
		if r.From != c.from || r.To != c.to {
			t.Errorf("at %s the default range is %s to %s, want %s to %s", c.now, r.From, r.To, c.from, c.to)
		}
		if d := s.DefaultRange(); d.From != c.from || d.To != c.to {
			t.Errorf("DefaultRange at %s: %+v", c.now, d)
		}
	}
}
