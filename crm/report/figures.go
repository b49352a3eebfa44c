package report

import (
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// The figures of a report, as the reports page, its tables and the JSON API give them. How they are counted is
// in builder.go (one enquiry at a time), stats.go (medians, percentiles, shares) and workload.go.

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
