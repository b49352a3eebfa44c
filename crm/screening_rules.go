package crm

import (
	"slices"

	"github.com/frontdesk/frontdesk/intake/screening"
)

// The rules of answers given through a screening link live here, as those of a new enquiry live in
// intake_rules.go: which flags they raise, whether the enquiry becomes urgent, who is told, and what the thanks
// page learns. A store takes the link, reads the ScreeningFacts inside the same transaction, asks
// PlanScreeningAnswers, and stores the ScreeningPlan as it is: the store decides nothing.

// ScreeningFacts are what a store read of the enquiry whose link was taken, inside the transaction that stores
// the answers: plain facts, no rule applied to them.
type ScreeningFacts struct {
	Reference string
	Priority  string
	// RiskFlagged and ReviewFlagged: the enquiry already carries screening.FlagRisk, screening.FlagReview.
	RiskFlagged   bool
	ReviewFlagged bool
	// AssigneeEmail is the address of the enquiry's assignee when it has one that is not disabled; "" otherwise
	// (a disabled assignee is nobody to tell).
	AssigneeEmail string
	// Admins are the addresses of the active administrators, oldest account first; read only when
	// ScreeningAnswers.NeedsAdmins says so, nil otherwise.
	Admins []string
}

// ScreeningPlan is what answers through a screening link do to their enquiry; the store writes it as it is.
type ScreeningPlan struct {
	// Raise are the flags the enquiry did not carry that the answers raise (screening.FlagRisk, then
	// screening.FlagReview), each to be set with the answers' time; when there are any, a "flagged" event says
	// what raised them (FlagReason). A flag the enquiry carries keeps the time it was first raised.
	Raise      []string
	FlagReason string
	// Urgent makes the priority PriorityUrgent, with a "priority" event.
	Urgent bool
	// Mail is queued in the same transaction.
	Mail []Mail
	// Outcome is what the store returns to the thanks page.
	Outcome ScreeningOutcome
}

// NeedsAdmins reports whether PlanScreeningAnswers may need the active administrators (ScreeningFacts.Admins):
// only for answers that raise risk with no intake inbox to tell. A store reads them only then.
func (a ScreeningAnswers) NeedsAdmins() bool {
	return a.Assessment.Has(screening.FlagRisk) && a.IntakeInbox == ""
}

// PlanScreeningAnswers decides what answers a through a screening link do to the enquiry described by f:
//   - each flag of a.Assessment the enquiry does not carry is raised, with a "flagged" event naming what raised
//     it (FlagReason of the raised flags only); a flag it carries is left as it is;
//   - a newly raised risk flag makes the priority PriorityUrgent, unless it already is;
//   - a newly raised risk flag sends the urgent notice to the intake inbox and the active assignee
//     (UrgentMail), or, when neither is set, to each active administrator (UrgentFallback);
//   - the outcome names the enquiry, its flags after the answers (risk, then review) and the flags raised.
//
// A risk flag the enquiry already carried sends nothing and changes no priority: staff were told when it was
// first raised.
func PlanScreeningAnswers(a ScreeningAnswers, f ScreeningFacts) ScreeningPlan {
	risk := a.Assessment.Has(screening.FlagRisk) && !f.RiskFlagged
	review := a.Assessment.Has(screening.FlagReview) && !f.ReviewFlagged
	raised := screening.Assessment{RiskSources: a.Assessment.RiskSources, Review: a.Assessment.Review}
	if risk {
		raised.Flags = append(raised.Flags, screening.FlagRisk)
	}
	if review {
		raised.Flags = append(raised.Flags, screening.FlagReview)
	}
	p := ScreeningPlan{Raise: raised.Flags, Urgent: risk && f.Priority != PriorityUrgent}
	if len(raised.Flags) > 0 {
		p.FlagReason = FlagReason(raised)
	}
	if risk {
		p.Mail = UrgentMail(f.AssigneeEmail, a.IntakeInbox)
		if len(p.Mail) == 0 {
			p.Mail = UrgentFallback(f.Admins)
		}
	}
	p.Outcome = ScreeningOutcome{Reference: f.Reference, Flags: []string{}, Raised: slices.Clone(raised.Flags)}
	if f.RiskFlagged || risk {
		p.Outcome.Flags = append(p.Outcome.Flags, screening.FlagRisk)
	}
	if f.ReviewFlagged || review {
		p.Outcome.Flags = append(p.Outcome.Flags, screening.FlagReview)
	}
	return p
}
