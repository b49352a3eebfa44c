package crm

import (
	"regexp"
	"time"

	"github.com/frontdesk/frontdesk/intake/screening"
)

// MailKind says which message an outbox row will become.
type MailKind string

// The messages Frontdesk sends.
const (
	// MailConfirmation goes to the patient as soon as an enquiry is accepted.
	MailConfirmation MailKind = "confirmation"
	// MailNewEnquiry tells the intake inbox of a new enquiry (and whether it is unassigned).
	MailNewEnquiry MailKind = "staff_new"
	// MailAssigned tells a member of staff an enquiry was given to them.
	MailAssigned MailKind = "staff_assigned"
	// MailOverdue reminds the assignee (or the intake inbox) that an enquiry passed its first-contact target.
	MailOverdue MailKind = "staff_overdue"
	// MailUrgent tells the assignee and the intake inbox at once that an enquiry was flagged risk: the reference
	// and a link only.
	MailUrgent MailKind = "staff_urgent"
	// MailPasswordReset sends a member of staff a single-use link to choose a new password.
	MailPasswordReset MailKind = "staff_password_reset"
)

// Mail is one message to queue in the outbox with the change that causes it.
type Mail struct {
	Kind      MailKind
	Recipient string
	// LinkToken, when set, is a token the message's link needs (the confirmation's screening link); the outbox
	// keeps it only until the message is sent.
	LinkToken string
	// Payload is a webhook event's body (WebhookMail), stored with it; "" for an email. A webhook has no
	// Recipient: it goes to FRONTDESK_WEBHOOK_URL as it is when sent.
	Payload string
}

// MaxConfirmationsPerDay is how many confirmations one address is sent in 24 hours. Anyone can type any
// address into the form, so without a bound the clinic could be made to mail a stranger again and again; the
// enquiries past it are still stored and staff still told.
const MaxConfirmationsPerDay = 3

// ConfirmationWindow is the period MaxConfirmationsPerDay counts over.
const ConfirmationWindow = 24 * time.Hour

// IntakeMail lists the messages a newly stored enquiry sends: a confirmation to the patient with the link to
// the questionnaires (unless that address was already sent MaxConfirmationsPerDay confirmations in the
// ConfirmationWindow, as confirmationsSent says), a notice to the intake inbox when one is set, and a notice to
// the clinician it was assigned to. For an enquiry flagged risk both notices are the urgent one (MailUrgent).
// Spam sends nothing.
func IntakeMail(e NewEnquiry, assigneeEmail string, confirmationsSent int) []Mail {
	if e.Spam {
		return nil
	}
	var out []Mail
	if confirmationsSent < MaxConfirmationsPerDay {
		out = append(out, Mail{Kind: MailConfirmation, Recipient: e.Email, LinkToken: e.Link.Token})
	}
	inbox, assigned := MailNewEnquiry, MailAssigned
	if e.Assessment.Has(screening.FlagRisk) {
		inbox, assigned = MailUrgent, MailUrgent
	}
	if e.IntakeInbox != "" {
		out = append(out, Mail{Kind: inbox, Recipient: e.IntakeInbox})
	}
	if assigneeEmail != "" && assigneeEmail != e.IntakeInbox {
		out = append(out, Mail{Kind: assigned, Recipient: assigneeEmail})
	}
	return out
}

// UrgentMail lists the urgent notices for an enquiry flagged risk after it arrived (through the screening
// page): one to the assignee and one to the intake inbox, each when set, without repeating an address.
func UrgentMail(assigneeEmail, inbox string) []Mail {
	var out []Mail
	if inbox != "" {
		out = append(out, Mail{Kind: MailUrgent, Recipient: inbox})
	}
	if assigneeEmail != "" && assigneeEmail != inbox {
		out = append(out, Mail{Kind: MailUrgent, Recipient: assigneeEmail})
	}
	return out
}

// greetingName is what a name must look like to be written into the patient's confirmation: letters (of any
// alphabet, with their accents), spaces, hyphens and apostrophes, at most 40 characters. Anything else — a
// link, digits, punctuation that makes a sentence — could turn the clinic's email into a message of the
// sender's choosing to whatever address they typed, so it is left out.
var greetingName = regexp.MustCompile(`^[\p{L}\p{M}][\p{L}\p{M} '’-]{0,39}$`)

// GreetingName returns name when it is safe to greet the patient with, and "" otherwise (the email then
// greets without a name).
func GreetingName(name string) string {
	if len([]rune(name)) > 40 || !greetingName.MatchString(name) {
		return ""
	}
	return name
}

// UrgentFallback lists the urgent notices for a risk-flagged enquiry that nobody else is set to be told of (no
// intake inbox, nobody assigned): one to each administrator.
func UrgentFallback(admins []string) []Mail {
	out := make([]Mail, 0, len(admins))
	for _, a := range admins {
		out = append(out, Mail{Kind: MailUrgent, Recipient: a})
	}
	return out
}
