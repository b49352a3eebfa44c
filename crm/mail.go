package crm

import (
	"regexp"
	"time"
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
	// MailPasswordReset sends a member of staff a single-use link to choose a new password.
	MailPasswordReset MailKind = "staff_password_reset"
)

// Mail is one message to queue in the outbox with the change that causes it.
type Mail struct {
	Kind      MailKind
	Recipient string
}

// MaxConfirmationsPerDay is how many confirmations one address is sent in 24 hours. Anyone can type any
// address into the form, so without a bound the clinic could be made to mail a stranger again and again; the
// enquiries past it are still stored and staff still told.
const MaxConfirmationsPerDay = 3

// ConfirmationWindow is the period MaxConfirmationsPerDay counts over.
const ConfirmationWindow = 24 * time.Hour

// IntakeMail lists the messages a newly stored enquiry sends: a confirmation to the patient (unless that
// address was already sent MaxConfirmationsPerDay confirmations in the ConfirmationWindow, as
// confirmationsSent says), a notice to the intake inbox when one is set, and a notice to the clinician it was
// assigned to. Spam sends nothing.
func IntakeMail(e NewEnquiry, assigneeEmail string, confirmationsSent int) []Mail {
	if e.Spam {
		return nil
	}
	var out []Mail
	if confirmationsSent < MaxConfirmationsPerDay {
		out = append(out, Mail{Kind: MailConfirmation, Recipient: e.Email})
	}
	if e.IntakeInbox != "" {
		out = append(out, Mail{Kind: MailNewEnquiry, Recipient: e.IntakeInbox})
	}
	if assigneeEmail != "" && assigneeEmail != e.IntakeInbox {
		out = append(out, Mail{Kind: MailAssigned, Recipient: assigneeEmail})
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
