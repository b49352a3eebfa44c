package crm

import (
	"time"

	"github.com/frontdesk/frontdesk/crm/hours"
)

// Targets are the clinic's first-contact promises: the ordinary target (FRONTDESK_FIRST_CONTACT_HOURS), the
// urgent one of an enquiry flagged risk, counted from its flag (FRONTDESK_URGENT_CONTACT_HOURS), and the opening
// hours they count (FRONTDESK_OPENING_HOURS; nil: round the clock). Every deadline a page, an email, a report
// or the reminder sweep states is worked out here, so they all agree.
type Targets struct {
	FirstContact time.Duration
	Urgent       time.Duration
	// Hours, when not nil, are the clinic's opening hours: a target then counts only the time the clinic is open.
	Hours *hours.Schedule
}

// Due is when first contact is due for an enquiry created at created and flagged risk at riskAt (nil: not
// flagged): FirstContact after created, or Urgent after riskAt when that is sooner, each counted in opening hours.
func (t Targets) Due(created time.Time, riskAt *time.Time) time.Time {
	due := t.Hours.Add(created, t.FirstContact)
	if riskAt != nil {
		if u := t.Hours.Add(*riskAt, t.Urgent); u.Before(due) {
			due = u
		}
	}
	return due
}

// Cutoffs are, at now, the instants before which a new enquiry's creation (overdueBefore) or its risk flag
// (urgentBefore) puts it past its target: "overdue" is exactly "created before overdueBefore, or flagged before
// urgentBefore", which a store can select with its indexes.
func (t Targets) Cutoffs(now time.Time) (overdueBefore, urgentBefore time.Time) {
	return t.Hours.Cutoff(now, t.FirstContact), t.Hours.Cutoff(now, t.Urgent)
}

// Past reports whether an enquiry created at created and flagged risk at riskAt (nil: not flagged) is past its
// target, given the cutoffs of the moment (Cutoffs).
func Past(created time.Time, riskAt *time.Time, overdueBefore, urgentBefore time.Time) bool {
	return created.Before(overdueBefore) || (riskAt != nil && riskAt.Before(urgentBefore))
}

// Elapsed is the time from a to b that the targets count: opening time when the clinic has opening hours,
// else b.Sub(a).
func (t Targets) Elapsed(a, b time.Time) time.Duration { return t.Hours.Elapsed(a, b) }
