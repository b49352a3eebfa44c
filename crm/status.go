// Package crm is the clinic's side of Frontdesk: the pipeline of statuses and its transition table, assignment,
// notes, the timeline, roles and what each may see, first-contact targets and reports. It declares the storage
// interfaces it needs; package db implements them.
package crm

// Status is where an enquiry stands in the clinic's pipeline.
type Status string

// The statuses, as the README gives them. Active ones are in pipeline order.
const (
	StatusNew              Status = "new"
	StatusContacted        Status = "contacted"
	StatusScreening        Status = "screening"
	StatusAssessmentBooked Status = "assessment_booked"
	StatusTreatmentOffered Status = "treatment_offered"
	StatusInTreatment      Status = "in_treatment"
	StatusNotSuitable      Status = "not_suitable"
	StatusLost             Status = "lost"
	StatusReferred         Status = "referred"
	StatusSpam             Status = "spam"
)

// ActiveStatuses are the working stages, in pipeline order; the board shows a column for each.
var ActiveStatuses = []Status{
	StatusNew, StatusContacted, StatusScreening, StatusAssessmentBooked, StatusTreatmentOffered, StatusInTreatment,
}

// ClosedStatuses end an enquiry; moving to one needs a reason.
var ClosedStatuses = []Status{StatusNotSuitable, StatusLost, StatusReferred}

// AllStatuses lists every status: active, closed, then spam.
var AllStatuses = append(append(append([]Status{}, ActiveStatuses...), ClosedStatuses...), StatusSpam)

var statusLabels = map[Status]string{
	StatusNew: "New", StatusContacted: "Contacted", StatusScreening: "Screening",
	StatusAssessmentBooked: "Assessment booked", StatusTreatmentOffered: "Treatment offered",
	StatusInTreatment: "In treatment", StatusNotSuitable: "Not suitable", StatusLost: "Lost",
	StatusReferred: "Referred elsewhere", StatusSpam: "Spam",
}

// Label is the status as staff read it.
func (s Status) Label() string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return string(s)
}

// Valid reports whether s is one of the statuses of the pipeline.
func (s Status) Valid() bool { _, ok := statusLabels[s]; return ok }

// rank is the position of an active status in the pipeline, or -1.
func (s Status) rank() int {
	for i, a := range ActiveStatuses {
		if a == s {
			return i
		}
	}
	return -1
}

// Active reports whether s is a working stage.
func (s Status) Active() bool { return s.rank() >= 0 }

// Closed reports whether s ends the enquiry (and so needs a reason).
func (s Status) Closed() bool {
	for _, c := range ClosedStatuses {
		if c == s {
			return true
		}
	}
	return false
}

// CanTransition reports whether the pipeline allows moving from one status to another: an active status to any
// later active one or to a closed one; a closed one back to contacted (reopen); spam back to new.
func CanTransition(from, to Status) bool {
	switch {
	case from.Active() && to.Active():
		return to.rank() > from.rank()
	case from.Active() && to.Closed():
		return true
	case from.Closed():
		return to == StatusContacted
	case from == StatusSpam:
		return to == StatusNew
	}
	return false
}

// NextStatuses lists the statuses an enquiry in from may move to, in pipeline order.
func NextStatuses(from Status) []Status {
	var out []Status
	for _, to := range AllStatuses {
		if CanTransition(from, to) {
			out = append(out, to)
		}
	}
	return out
}
