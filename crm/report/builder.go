package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	opening "github.com/frontdesk/frontdesk/crm/hours"
	"github.com/frontdesk/frontdesk/intake"
)

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
	urgent time.Duration
	// hours are the clinic's opening hours the targets count (nil: round the clock); times to first contact
	// are then opening time too, so that they compare with the targets.
	hours       *opening.Schedule
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
	// Within target means by the due time the patient was given (so a contact made after closing, once the
	// target's opening hours were used up, is late).
	due := b.hours.Add(f.CreatedAt, b.target)
	for _, acc := range []*contactAcc{&b.overall, &b.weeks[week], &p.acc} {
		acc.enquiries++
		if !f.FirstContactedAt.IsZero() {
			acc.hours = append(acc.hours, b.hours.Elapsed(f.CreatedAt, f.FirstContactedAt).Hours())
			if !f.FirstContactedAt.After(due) {
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
