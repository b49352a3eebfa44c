package report

import (
	"slices"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	opening "github.com/frontdesk/frontdesk/crm/hours"
)

// UrgentContact is how quickly the enquiries flagged risk were first contacted, against the urgent target
// (FRONTDESK_URGENT_CONTACT_HOURS, counted from the flag; or the ordinary target, when that comes sooner).
type UrgentContact struct {
	// TargetHours is the urgent target.
	TargetHours float64     `json:"target_hours"`
	Overall     UrgentStats `json:"overall"`
	// Weeks is aligned with Report.Weeks: the flagged enquiries that arrived in each week.
	Weeks []UrgentWeek `json:"weeks"`
}

// UrgentStats are the urgent first-contact figures of a group of enquiries flagged risk.
type UrgentStats struct {
	// Flagged counts the enquiries flagged risk.
	Flagged   int `json:"flagged"`
	Contacted int `json:"contacted"`
	// WithinTarget counts those first contacted by their due time (inclusive); ShareWithinTarget is that
	// over Contacted (nil when none was contacted).
	WithinTarget      int      `json:"within_target"`
	ShareWithinTarget *float64 `json:"share_within_target"`
	// MedianHours is the median time from the flag to first contact (0 for one contacted before it was
	// flagged), over the contacted ones; nil when none was.
	MedianHours *float64 `json:"median_hours"`
	// WaitingPastTarget counts those not yet contacted whose due time has passed; Waiting those not yet
	// contacted and still within it.
	WaitingPastTarget int `json:"waiting_past_target"`
	Waiting           int `json:"waiting"`
}

// UrgentWeek is the urgent first-contact figures of the flagged enquiries that arrived in one week.
type UrgentWeek struct {
	Week string `json:"week"`
	UrgentStats
}

// urgentAcc collects a group's flagged enquiries.
type urgentAcc struct {
	flagged, within, waitingPast, waiting int
	hours                                 []float64
}

// add counts one enquiry flagged risk, due at due, as of now; its time from flag to first contact is counted in
// the opening hours oh (nil: round the clock).
func (a *urgentAcc) add(f *Fact, due, now time.Time, oh *opening.Schedule) {
	a.flagged++
	switch {
	case !f.FirstContactedAt.IsZero():
		a.hours = append(a.hours, max(0, oh.Elapsed(f.RiskAt, f.FirstContactedAt).Hours()))
		if !f.FirstContactedAt.After(due) {
			a.within++
		}
	case now.After(due):
		a.waitingPast++
	default:
		a.waiting++
	}
}

func (a *urgentAcc) stats() UrgentStats {
	st := UrgentStats{Flagged: a.flagged, Contacted: len(a.hours), WithinTarget: a.within,
		WaitingPastTarget: a.waitingPast, Waiting: a.waiting}
	if len(a.hours) > 0 {
		slices.Sort(a.hours)
		med := Percentile(a.hours, 0.5)
		st.MedianHours = &med
		st.ShareWithinTarget = ratio(a.within, len(a.hours))
	}
	return st
}

// addUrgent counts f in the urgent figures when it is flagged risk.
func (b *builder) addUrgent(f *Fact, week int) {
	if f.RiskAt.IsZero() {
		return
	}
	risk := f.RiskAt
	due := crm.Targets{FirstContact: b.target, Urgent: b.urgent, Hours: b.hours}.Due(f.CreatedAt, &risk)
	b.urgentAll.add(f, due, b.now, b.hours)
	b.urgentWeeks[week].add(f, due, b.now, b.hours)
}

// finishUrgent fills the report's urgent figures.
func (b *builder) finishUrgent() {
	u := &b.r.Urgent
	u.TargetHours = b.urgent.Hours()
	u.Overall = b.urgentAll.stats()
	u.Weeks = make([]UrgentWeek, len(b.r.Weeks))
	for i, w := range b.r.Weeks {
		u.Weeks[i] = UrgentWeek{Week: w, UrgentStats: b.urgentWeeks[i].stats()}
	}
}

var urgentColumns = []string{"Flagged risk", "Contacted", "Contacted within the urgent target",
	"Share within target", "Median hours from flag to first contact", "Still waiting, past target",
	"Waiting, within target"}

func urgentCells(s UrgentStats) []string {
	return []string{itoa(s.Flagged), itoa(s.Contacted), itoa(s.WithinTarget), percent(s.ShareWithinTarget),
		hours(s.MedianHours), itoa(s.WaitingPastTarget), itoa(s.Waiting)}
}

func (r *Report) urgentTable() Table {
	t := Table{Name: "urgent-first-contact",
		Title:   "Risk-flagged enquiries: time to first contact against the urgent target, by week of arrival",
		Columns: append([]string{"Week commencing"}, urgentColumns...)}
	for _, w := range r.Urgent.Weeks {
		t.Rows = append(t.Rows, append([]string{w.Week}, urgentCells(w.UrgentStats)...))
	}
	t.Footer = append([]string{"All weeks"}, urgentCells(r.Urgent.Overall)...)
	return t
}
