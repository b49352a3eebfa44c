package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// Range is a report's date range as people ask for it: YYYY-MM-DD dates in the clinic's time zone, inclusive.
// Both empty means the last DefaultDays days, today included.
type Range struct {
	From string
	To   string
}

// Report computes every figure for the range; administrators only (ErrForbidden otherwise). An InputError
// names a bad "from" or "to", or a range longer than MaxReportDays.
func (s *Service) Report(ctx context.Context, actor crm.Actor, rg Range) (*Report, error) {
	if err := allowed(actor); err != nil {
		return nil, err
	}
	r, err := s.newReport(rg)
	if err != nil {
		return nil, err
	}
	b := newBuilder(r, s.target)
	b.urgent, b.hours, b.now = s.urgent, s.hours, s.now()
	if err := s.store.ReportFacts(ctx, r.Start, r.End, b.add); err != nil {
		return nil, fmt.Errorf("report facts: %w", err)
	}
	b.finish()
	if err := s.workload(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// DefaultDays is how many days, ending today, a report covers when no range is asked for. A rolling window
// rather than "this month", which on the 1st showed almost nothing.
const DefaultDays = 30

// DefaultRange is the range a report covers when none is asked for: the last DefaultDays days, today
// included, in the clinic's time zone.
func (s *Service) DefaultRange() Range {
	today := s.now().In(s.loc)
	return Range{From: today.AddDate(0, 0, 1-DefaultDays).Format(dateLayout), To: today.Format(dateLayout)}
}

// newReport checks the range and lays out its weeks. An empty range is DefaultRange.
func (s *Service) newReport(rg Range) (*Report, error) {
	from, to := strings.TrimSpace(rg.From), strings.TrimSpace(rg.To)
	if from == "" && to == "" {
		d := s.DefaultRange()
		from, to = d.From, d.To
	}
	errs := crm.InputError{}
	start, end, problems := crm.ParseDateRange(from, to, s.loc)
	problems.WordInto(errs, exportWords)
	if from == "" {
		errs["from"] = "Give the start date as YYYY-MM-DD."
	}
	if to == "" {
		errs["to"] = "Give the end date as YYYY-MM-DD."
	}
	if len(errs) == 0 && civilDays(end)-civilDays(start) > MaxReportDays {
		errs["to"] = fmt.Sprintf("Choose a range of at most %d days.", MaxReportDays)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	r := &Report{From: from, To: to, Start: start, End: end}
	for w := monday(start); w.Before(end); w = w.AddDate(0, 0, 7) {
		r.Weeks = append(r.Weeks, w.Format(dateLayout))
	}
	return r, nil
}

// monday is the start of the week (Monday, local midnight) that t falls in.
func monday(t time.Time) time.Time {
	y, m, d := t.Date()
	back := (int(t.Weekday()) + 6) % 7
	return time.Date(y, m, d-back, 0, 0, 0, 0, t.Location())
}

// civilDays numbers t's calendar date (in t's zone) as days since 1970-01-01, free of daylight saving.
func civilDays(t time.Time) int {
	y, m, d := t.Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}
