package report

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
)

// Range is a report's date range as people ask for it: YYYY-MM-DD dates in the clinic's time zone, inclusive.
// Both empty means this month.
type Range struct {
	From string
	To   string
}

// Report is every figure of the reports page for one date range. Enquiries are counted by the day they
// arrived (created_at, in the clinic's time zone); spam is left out of every figure but Spam. Workload is the
// state now, whatever the range.
type Report struct {
	// From and To are the range's first and last days (YYYY-MM-DD, inclusive).
	From string `json:"from"`
	To   string `json:"to"`
	// Start and End bound created_at: Start <= created_at < End.
	Start time.Time `json:"-"`
	End   time.Time `json:"-"`
	// Weeks are the Mondays (YYYY-MM-DD) of the weeks that overlap the range; the first and last may be partly
	// outside it. Per-week figures are aligned with it.
	Weeks []string `json:"weeks"`
	// Enquiries counts the enquiries that arrived in the range, spam left out; Spam counts the spam.
	Enquiries    int          `json:"enquiries"`
	Spam         int          `json:"spam"`
	Funnel       Funnel       `json:"funnel"`
	FirstContact FirstContact `json:"first_contact"`
	// Urgent is the first contact of the enquiries flagged risk, against the urgent target.
	Urgent     UrgentContact `json:"urgent_contact"`
	Treatments Breakdown     `json:"treatments"`
	Sources    Breakdown     `json:"referral_sources"`
	UTM        []UTMRow      `json:"utm"`
	Workload   Workload      `json:"workload"`
}

// Funnel is how far the range's enquiries have gone through the pipeline.
type Funnel struct {
	// Stages has one entry per active status, in pipeline order.
	Stages []Stage `json:"stages"`
	// Current counts the enquiries in each status now (every status but spam, in pipeline order).
	Current []StatusCount `json:"current"`
	// Closed counts the closed enquiries per closing status, with their reasons grouped.
	Closed []Outcome `json:"closed"`
}

// Stage is one step of the funnel. An enquiry reached a stage when the furthest active status it has ever
// been in — its current status or any status its timeline names — is that stage or a later one; every
// enquiry reached "new".
type Stage struct {
	Status  crm.Status `json:"status"`
	Label   string     `json:"label"`
	Reached int        `json:"reached"`
	// Conversion is Reached over the previous stage's Reached (nil for the first stage, or when the previous
	// stage reached none).
	Conversion *float64 `json:"conversion"`
	// Share is Reached over every enquiry of the range (nil when there are none).
	Share *float64 `json:"share"`
}

// StatusCount is how many enquiries are in one status.
type StatusCount struct {
	Status crm.Status `json:"status"`
	Label  string     `json:"label"`
	Count  int        `json:"count"`
}

// Outcome is one closing status with the reasons given for it.
type Outcome struct {
	Status  crm.Status    `json:"status"`
	Label   string        `json:"label"`
	Count   int           `json:"count"`
	Reasons []ReasonCount `json:"reasons"`
}

// ReasonCount is one reason for closing and how many enquiries were closed with it. Reasons are grouped
// without regard to case or spacing; Reason is the group's first spelling in sort order.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// FirstContact is the time from arrival to first contact (created_at to first_contacted_at).
type FirstContact struct {
	// TargetHours is the target (FRONTDESK_FIRST_CONTACT_HOURS).
	TargetHours float64      `json:"target_hours"`
	Overall     ContactStats `json:"overall"`
	// Weeks is aligned with Report.Weeks: the enquiries that arrived in each week.
	Weeks []WeekContact `json:"weeks"`
	// Clinicians has one entry per current assignee (nil: unassigned), by name.
	Clinicians []ClinicianContact `json:"clinicians"`
}

// ContactStats are the first-contact figures of a group of enquiries. Median and P90 are over the contacted
// ones, by linear interpolation between the nearest ranks (as Excel's MEDIAN and PERCENTILE.INC); they are nil
// when none was contacted.
type ContactStats struct {
	Enquiries    int      `json:"enquiries"`
	Contacted    int      `json:"contacted"`
	NotContacted int      `json:"not_contacted"`
	MedianHours  *float64 `json:"median_hours"`
	P90Hours     *float64 `json:"p90_hours"`
	// WithinTarget counts the contacted ones first contacted within the target (inclusive).
	WithinTarget int `json:"within_target"`
	// ShareWithinTarget is WithinTarget over Contacted (nil when none was contacted); the ones not yet
	// contacted are counted apart, in NotContacted.
	ShareWithinTarget *float64 `json:"share_within_target"`
}

// WeekContact is the first-contact figures of the enquiries that arrived in one week.
type WeekContact struct {
	Week string `json:"week"`
	ContactStats
}

// ClinicianContact is the first-contact figures of one assignee's enquiries.
type ClinicianContact struct {
	Assignee *Person `json:"assignee"`
	ContactStats
}

// Person is a member of staff as reports name them.
type Person struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Key is one category of a breakdown: its stored value and how people read it.
type Key struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// Breakdown counts enquiries per category and week.
type Breakdown struct {
	Keys []Key `json:"keys"`
	// Weeks is aligned with Report.Weeks; each week's Counts with Keys.
	Weeks []WeekCounts `json:"weeks"`
	// Totals is aligned with Keys.
	Totals []int `json:"totals"`
	Total  int   `json:"total"`
}

// WeekCounts is one week of a breakdown.
type WeekCounts struct {
	Week   string `json:"week"`
	Counts []int  `json:"counts"`
	Total  int    `json:"total"`
}

// UTMRow counts the enquiries of one combination of UTM source, medium and campaign ("" when not given).
type UTMRow struct {
	Source   string `json:"source"`
	Medium   string `json:"medium"`
	Campaign string `json:"campaign"`
	Total    int    `json:"total"`
	// Weeks is aligned with Report.Weeks.
	Weeks []int `json:"weeks"`
}

// Workload is the open enquiries each member of staff holds now.
type Workload struct {
	// At is when it was counted; overdue means new and past the first-contact target at that moment.
	At time.Time `json:"at"`
	// Statuses are the active statuses, in pipeline order; each row's ByStatus is aligned with it.
	Statuses []crm.Status  `json:"statuses"`
	Rows     []WorkloadRow `json:"rows"`
	Total    WorkloadRow   `json:"total"`
}

// WorkloadRow is one assignee's open enquiries: every active clinician, and anyone else who holds some; nil is
// the unassigned ones.
type WorkloadRow struct {
	Assignee *Person `json:"assignee"`
	ByStatus []int   `json:"by_status"`
	Open     int     `json:"open"`
	Overdue  int     `json:"overdue"`
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
	b.urgent, b.now = s.urgent, s.now()
	if err := s.store.ReportFacts(ctx, r.Start, r.End, b.add); err != nil {
		return nil, fmt.Errorf("report facts: %w", err)
	}
	b.finish()
	if err := s.workload(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// newReport checks the range and lays out its weeks. An empty range is this month.
func (s *Service) newReport(rg Range) (*Report, error) {
	from, to := strings.TrimSpace(rg.From), strings.TrimSpace(rg.To)
	now := s.now().In(s.loc)
	if from == "" && to == "" {
		first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, s.loc)
		from, to = first.Format(dateLayout), first.AddDate(0, 1, -1).Format(dateLayout)
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

// builder accumulates a report's figures one enquiry at a time.
type builder struct {
	r         *Report
	loc       *time.Location
	target    time.Duration
	firstWeek int // civilDays of the first week's Monday
	reached   []int
	current   map[crm.Status]int
	reasons   map[crm.Status]map[string]*reasonGroup
	overall   contactAcc
	weeks     []contactAcc
	people    map[int64]*personAcc
	treat     breakdownAcc
	source    breakdownAcc
	utm       map[[3]string][]int
	// urgent is the urgent target; now is when the report is made (for "still waiting past target").
	urgent      time.Duration
	now         time.Time
	urgentAll   urgentAcc
	urgentWeeks []urgentAcc
}

type reasonGroup struct {
	label string
	count int
}

type personAcc struct {
	who *Person
	acc contactAcc
}

// contactAcc collects a group's times to first contact, in hours.
type contactAcc struct {
	enquiries, within int
	hours             []float64
}

type breakdownAcc struct {
	index  map[string]int
	counts [][]int // [week][key]
}

func newBreakdownAcc(keys []Key, weeks int) breakdownAcc {
	b := breakdownAcc{index: map[string]int{}, counts: make([][]int, weeks)}
	for i, k := range keys {
		b.index[k.Value] = i
	}
	for w := range b.counts {
		b.counts[w] = make([]int, len(keys))
	}
	return b
}

var (
	treatmentKeys = choiceKeys(intake.Treatments, false)
	sourceKeys    = choiceKeys(intake.ReferralSources, true)
)

func choiceKeys(choices []intake.Choice, notGiven bool) []Key {
	keys := make([]Key, 0, len(choices)+1)
	for _, c := range choices {
		keys = append(keys, Key{Value: c.Value, Label: c.Label})
	}
	if notGiven {
		keys = append(keys, Key{Value: "", Label: "Not given"})
	}
	return keys
}

func newBuilder(r *Report, target time.Duration) *builder {
	loc := r.Start.Location()
	return &builder{
		r: r, loc: loc, target: target, firstWeek: civilDays(monday(r.Start)),
		reached: make([]int, len(crm.ActiveStatuses)),
		current: map[crm.Status]int{},
		reasons: map[crm.Status]map[string]*reasonGroup{},
		weeks:   make([]contactAcc, len(r.Weeks)),
		people:  map[int64]*personAcc{},
		treat:   newBreakdownAcc(treatmentKeys, len(r.Weeks)),
		source:  newBreakdownAcc(sourceKeys, len(r.Weeks)),
		utm:     map[[3]string][]int{},
		urgent:  crm.DefaultUrgentContactHours * time.Hour, now: time.Now(),
		urgentWeeks: make([]urgentAcc, len(r.Weeks)),
	}
}

// rank is an active status's place in the pipeline, or -1.
func rank(s crm.Status) int { return slices.Index(crm.ActiveStatuses, s) }

// add counts one enquiry.
func (b *builder) add(f *Fact) error {
	if f.Status == crm.StatusSpam {
		b.r.Spam++
		return nil
	}
	if f.CreatedAt.Before(b.r.Start) || !f.CreatedAt.Before(b.r.End) {
		return fmt.Errorf("report fact created at %s is outside the range asked for", f.CreatedAt)
	}
	b.r.Enquiries++
	week := (civilDays(monday(f.CreatedAt.In(b.loc))) - b.firstWeek) / 7

	// Funnel: every enquiry that is not spam reached "new"; it reached each stage up to its furthest.
	furthest := max(0, rank(f.Status), rank(f.Furthest))
	for k := 0; k <= furthest; k++ {
		b.reached[k]++
	}
	b.current[f.Status]++
	if f.Status.Closed() {
		groups := b.reasons[f.Status]
		if groups == nil {
			groups = map[string]*reasonGroup{}
			b.reasons[f.Status] = groups
		}
		label := strings.Join(strings.Fields(f.CloseReason), " ")
		key := strings.ToLower(label)
		g := groups[key]
		if g == nil {
			g = &reasonGroup{label: label}
			groups[key] = g
		}
		if label < g.label {
			g.label = label
		}
		g.count++
	}

	// Time to first contact, overall, per week of arrival and per current assignee.
	p := b.people[f.Assignee.ID]
	if p == nil {
		p = &personAcc{}
		if f.Assignee.ID != 0 {
			p.who = &Person{Name: f.Assignee.Name, Email: f.Assignee.Email}
		}
		b.people[f.Assignee.ID] = p
	}
	for _, acc := range []*contactAcc{&b.overall, &b.weeks[week], &p.acc} {
		acc.enquiries++
		if !f.FirstContactedAt.IsZero() {
			d := f.FirstContactedAt.Sub(f.CreatedAt)
			acc.hours = append(acc.hours, d.Hours())
			if d <= b.target {
				acc.within++
			}
		}
	}

	b.addUrgent(f, week)

	// Where they came from.
	if i, ok := b.treat.index[f.Treatment]; ok {
		b.treat.counts[week][i]++
	}
	if i, ok := b.source.index[f.ReferralSource]; ok {
		b.source.counts[week][i]++
	}
	key := [3]string{f.UTMSource, f.UTMMedium, f.UTMCampaign}
	perWeek := b.utm[key]
	if perWeek == nil {
		perWeek = make([]int, len(b.r.Weeks))
		b.utm[key] = perWeek
	}
	perWeek[week]++
	return nil
}

// finish turns the accumulated counts into the report's figures.
func (b *builder) finish() {
	r := b.r
	for k, st := range crm.ActiveStatuses {
		stage := Stage{Status: st, Label: st.Label(), Reached: b.reached[k]}
		if k > 0 {
			stage.Conversion = ratio(b.reached[k], b.reached[k-1])
		}
		stage.Share = ratio(b.reached[k], r.Enquiries)
		r.Funnel.Stages = append(r.Funnel.Stages, stage)
	}
	for _, st := range crm.AllStatuses {
		if st != crm.StatusSpam {
			r.Funnel.Current = append(r.Funnel.Current, StatusCount{Status: st, Label: st.Label(), Count: b.current[st]})
		}
	}
	for _, st := range crm.ClosedStatuses {
		o := Outcome{Status: st, Label: st.Label(), Count: b.current[st], Reasons: []ReasonCount{}}
		for _, g := range b.reasons[st] {
			label := g.label
			if label == "" {
				label = "(no reason given)"
			}
			o.Reasons = append(o.Reasons, ReasonCount{Reason: label, Count: g.count})
		}
		slices.SortFunc(o.Reasons, func(x, y ReasonCount) int {
			return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Reason, y.Reason))
		})
		r.Funnel.Closed = append(r.Funnel.Closed, o)
	}

	b.finishUrgent()
	fc := &r.FirstContact
	fc.TargetHours = b.target.Hours()
	fc.Overall = b.overall.stats()
	for i, w := range r.Weeks {
		fc.Weeks = append(fc.Weeks, WeekContact{Week: w, ContactStats: b.weeks[i].stats()})
	}
	for _, p := range b.people {
		fc.Clinicians = append(fc.Clinicians, ClinicianContact{Assignee: p.who, ContactStats: p.acc.stats()})
	}
	slices.SortFunc(fc.Clinicians, func(x, y ClinicianContact) int { return comparePeople(x.Assignee, y.Assignee) })

	r.Treatments = b.treat.breakdown(treatmentKeys, r.Weeks)
	r.Sources = b.source.breakdown(sourceKeys, r.Weeks)
	r.UTM = []UTMRow{}
	for k, perWeek := range b.utm {
		row := UTMRow{Source: k[0], Medium: k[1], Campaign: k[2], Weeks: perWeek}
		for _, n := range perWeek {
			row.Total += n
		}
		r.UTM = append(r.UTM, row)
	}
	slices.SortFunc(r.UTM, func(x, y UTMRow) int {
		return cmp.Or(cmp.Compare(y.Total, x.Total), cmp.Compare(x.Source, y.Source),
			cmp.Compare(x.Medium, y.Medium), cmp.Compare(x.Campaign, y.Campaign))
	})
}

// comparePeople orders people by name then email, the unassigned (nil) last.
func comparePeople(a, b *Person) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Email, b.Email))
}

func (b breakdownAcc) breakdown(keys []Key, weeks []string) Breakdown {
	out := Breakdown{Keys: keys, Totals: make([]int, len(keys))}
	for w, counts := range b.counts {
		wc := WeekCounts{Week: weeks[w], Counts: counts}
		for i, n := range counts {
			wc.Total += n
			out.Totals[i] += n
		}
		out.Total += wc.Total
		out.Weeks = append(out.Weeks, wc)
	}
	return out
}

func (a *contactAcc) stats() ContactStats {
	st := ContactStats{Enquiries: a.enquiries, Contacted: len(a.hours), NotContacted: a.enquiries - len(a.hours),
		WithinTarget: a.within}
	if len(a.hours) > 0 {
		slices.Sort(a.hours)
		med, p90 := Percentile(a.hours, 0.5), Percentile(a.hours, 0.9)
		st.MedianHours, st.P90Hours = &med, &p90
		st.ShareWithinTarget = ratio(a.within, len(a.hours))
	}
	return st
}

// Percentile is the p-quantile (0 <= p <= 1) of sorted values by linear interpolation between the closest
// ranks — Excel's PERCENTILE.INC, and the median at p = 0.5: with n values the rank is h = (n-1)·p, and the
// result x[⌊h⌋] + (h-⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋]). It is NaN for no values.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := float64(len(sorted)-1) * p
	lo := int(math.Floor(h))
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// ratio is n/d, nil when d is 0.
func ratio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	v := float64(n) / float64(d)
	return &v
}

// workload fills r.Workload with the open enquiries per member of staff now.
func (s *Service) workload(ctx context.Context, r *Report) error {
	now := s.now()
	counts, err := s.store.Workload(ctx, now.Add(-s.target))
	if err != nil {
		return fmt.Errorf("workload: %w", err)
	}
	staff, err := s.staff.ListStaff(ctx)
	if err != nil {
		return fmt.Errorf("workload: %w", err)
	}
	n := len(crm.ActiveStatuses)
	rows := map[int64]*WorkloadRow{}
	row := func(ref crm.StaffRef) *WorkloadRow {
		w := rows[ref.ID]
		if w == nil {
			w = &WorkloadRow{ByStatus: make([]int, n)}
			if ref.ID != 0 {
				w.Assignee = &Person{Name: ref.Name, Email: ref.Email}
			}
			rows[ref.ID] = w
		}
		return w
	}
	for _, st := range staff {
		if st.Role == crm.RoleClinician && !st.Disabled {
			row(crm.StaffRef{ID: st.ID, Name: st.Name, Email: st.Email})
		}
	}
	row(crm.StaffRef{}) // the unassigned
	wl := Workload{At: now.In(s.loc), Statuses: crm.ActiveStatuses, Total: WorkloadRow{ByStatus: make([]int, n)}}
	for _, c := range counts {
		k := rank(c.Status)
		if k < 0 {
			continue
		}
		w := row(c.Assignee)
		w.ByStatus[k] += c.Count
		w.Open += c.Count
		w.Overdue += c.Overdue
		wl.Total.ByStatus[k] += c.Count
		wl.Total.Open += c.Count
		wl.Total.Overdue += c.Overdue
	}
	for _, w := range rows {
		wl.Rows = append(wl.Rows, *w)
	}
	slices.SortFunc(wl.Rows, func(a, b WorkloadRow) int { return comparePeople(a.Assignee, b.Assignee) })
	r.Workload = wl
	return nil
}
