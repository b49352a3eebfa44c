package crm

import (
	"slices"
	"time"

	"github.com/frontdesk/frontdesk/intake/screening"
)

// The rules of a new enquiry live here, in one place: whether it is spam, which earlier enquiry of the same
// address it is linked to, who it is given to, its priority and flags, and which messages it sends. A store
// reads the facts they need (what NewEnquiry.Lookup names, as IntakeFacts) inside the transaction that stores
// the enquiry, asks PlanIntake, and stores the IntakePlan as it is: the store decides nothing.

// RelatedWindow is how far back an earlier enquiry from the same email address is linked to a new one.
const RelatedWindow = 30 * 24 * time.Hour

// RelatedLookback is how many of an address's enquiries within RelatedWindow, newest first, are looked at for
// the one to link to. It bounds what an address used again and again costs each new enquiry of it: only when
// that many newer ones are all spam is an older one not linked.
const RelatedLookback = 20

// IntakeLookup is what a store reads for a new enquiry before PlanIntake decides on it. crm says what; the
// store reads exactly that and nothing else.
type IntakeLookup struct {
	// Email, when not "", is the address whose earlier enquiries and confirmations are read.
	Email string
	// EarlierSince and EarlierLimit: the enquiries from Email created at or after EarlierSince are read, newest
	// first (created_at, then id), at most EarlierLimit of them (none when it is 0).
	EarlierSince time.Time
	EarlierLimit int
	// ConfirmationsSince, when not zero, counts the confirmations queued for the enquiries from Email created
	// after it.
	ConfirmationsSince time.Time
	// Treatment, when not "", reads every account whose treatments include it, whatever its role or state. The
	// treatment is a key of the lookup, as the address is, rather than a fact of each account: reading each
	// account's whole list of treatments costs a scan of them per account on every new enquiry.
	Treatment string
	// Admins reads the addresses of the active (not disabled) administrators.
	Admins bool
}

// IntakeFacts are what a store read, as IntakeLookup asked, inside the transaction that stores a new enquiry:
// plain facts, no rule applied to them.
type IntakeFacts struct {
	// Earlier are the enquiries from the same address created since IntakeLookup.EarlierSince, newest first.
	Earlier []EarlierEnquiry
	// ConfirmationsSent is how many confirmations were queued for the enquiries from the same address created
	// after IntakeLookup.ConfirmationsSince.
	ConfirmationsSent int
	// Staff are the accounts whose treatments include IntakeLookup.Treatment.
	Staff []IntakeStaff
	// Admins are the addresses of the active administrators, oldest account first; read only when asked.
	Admins []string
}

// EarlierEnquiry is an enquiry stored before a new one from the same address.
type EarlierEnquiry struct {
	ID        int64
	CreatedAt time.Time
	Status    Status
	Erased    bool
}

// IntakeStaff is an account that treats a new enquiry's treatment, as the assignment rule sees it.
type IntakeStaff struct {
	ID       int64
	Email    string
	Role     Role
	Disabled bool
	// Open is how many enquiries it has that are not closed.
	Open int
	// LastAssignedAt is when it was last given an enquiry (zero if never).
	LastAssignedAt time.Time
}

// IntakePlan is what a new enquiry becomes; the store writes it as it is.
type IntakePlan struct {
	// Status is StatusNew, or StatusSpam for a filled honeypot.
	Status Status
	// RelatedID is the earlier enquiry it is linked to; 0 for none.
	RelatedID int64
	// AssigneeID is the account it is given to (recorded with an "assigned" event); 0 leaves it unassigned.
	AssigneeID int64
	// Priority is the priority it starts with.
	Priority string
	// Flags are the flags it arrives with (screening.FlagRisk, screening.FlagReview), each stored with the time
	// it arrived; when there are any, a "flagged" event says what raised them (FlagReason).
	Flags      []string
	FlagReason string
	// Mail is queued in the same transaction.
	Mail []Mail
}

// Lookup names the facts PlanIntake needs of e: none for spam; otherwise the address's enquiries within
// RelatedWindow (at most RelatedLookback) and its confirmations within ConfirmationWindow, the accounts that
// treat e's treatment (only they may be given it), and — for an enquiry flagged risk with no intake inbox to
// tell — the administrators.
func (e NewEnquiry) Lookup() IntakeLookup {
	if e.Spam {
		return IntakeLookup{}
	}
	return IntakeLookup{
		Email:              e.Email,
		EarlierSince:       e.ReceivedAt.Add(-RelatedWindow),
		EarlierLimit:       RelatedLookback,
		ConfirmationsSince: e.ReceivedAt.Add(-ConfirmationWindow),
		Treatment:          e.Treatment,
		Admins:             e.Assessment.Has(screening.FlagRisk) && e.IntakeInbox == "",
	}
}

// PlanIntake decides what the new enquiry e becomes, given the facts its Lookup named:
//   - spam (a filled honeypot) is stored as StatusSpam, linked to nothing, given to nobody, and sends nothing;
//   - it is linked to the newest earlier enquiry of its address created within RelatedWindow that is neither
//     spam nor erased;
//   - it is given, by ChooseAssignee, to one of the accounts that treat its treatment (f.Staff, as its Lookup
//     asks) that is a clinician and not disabled;
//   - it starts with e.Priority ("normal" when empty) and e.Assessment's flags;
//   - it sends IntakeMail, and for an enquiry flagged risk that nobody is set to be told of (no intake inbox,
//     nobody assigned), the urgent notice to each administrator (UrgentFallback).
//
// It never fails; the error is there for rules that may refuse.
func PlanIntake(e NewEnquiry, f IntakeFacts) (IntakePlan, error) {
	p := IntakePlan{Status: StatusNew, Priority: e.Priority, Flags: slices.Clone(e.Assessment.Flags)}
	if p.Priority == "" {
		p.Priority = "normal"
	}
	if len(p.Flags) > 0 {
		p.FlagReason = FlagReason(e.Assessment)
	}
	if e.Spam {
		p.Status = StatusSpam
		return p, nil
	}
	p.RelatedID = relatedTo(e, f.Earlier)
	assigneeEmail := ""
	p.AssigneeID, assigneeEmail = assignAtIntake(f.Staff)
	p.Mail = IntakeMail(e, assigneeEmail, f.ConfirmationsSent)
	if e.Assessment.Has(screening.FlagRisk) && !slices.ContainsFunc(p.Mail, func(m Mail) bool { return m.Kind == MailUrgent }) {
		p.Mail = append(p.Mail, UrgentFallback(f.Admins)...)
	}
	return p, nil
}

// relatedTo returns the ID of the newest of earlier created within RelatedWindow before e arrived that is
// neither spam nor erased (the highest ID among equals); 0 when there is none.
func relatedTo(e NewEnquiry, earlier []EarlierEnquiry) int64 {
	since := e.ReceivedAt.Add(-RelatedWindow)
	var best *EarlierEnquiry
	for i, x := range earlier {
		if x.Status == StatusSpam || x.Erased || x.CreatedAt.Before(since) {
			continue
		}
		if best == nil || x.CreatedAt.After(best.CreatedAt) || (x.CreatedAt.Equal(best.CreatedAt) && x.ID > best.ID) {
			best = &earlier[i]
		}
	}
	if best == nil {
		return 0
	}
	return best.ID
}

// assignAtIntake chooses, with ChooseAssignee, among the accounts of staff (those that treat the enquiry's
// treatment) that are clinicians and not disabled. It returns the account's ID and email, or 0 and "" when
// there is nobody.
func assignAtIntake(staff []IntakeStaff) (int64, string) {
	cands := make([]Candidate, 0, len(staff))
	for _, s := range staff {
		if s.Role == RoleClinician && !s.Disabled {
			cands = append(cands, Candidate{StaffID: s.ID, Open: s.Open, LastAssignedAt: s.LastAssignedAt})
		}
	}
	id, ok := ChooseAssignee(cands)
	if !ok {
		return 0, ""
	}
	for _, s := range staff {
		if s.ID == id {
			return id, s.Email
		}
	}
	return 0, ""
}
