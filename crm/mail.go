package crm

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

// IntakeMail lists the messages a newly stored enquiry sends: a confirmation to the patient, a notice to the
// intake inbox when one is set, and a notice to the clinician it was assigned to. Spam sends nothing.
func IntakeMail(e NewEnquiry, assigneeEmail string) []Mail {
	if e.Spam {
		return nil
	}
	out := []Mail{{Kind: MailConfirmation, Recipient: e.Email}}
	if e.IntakeInbox != "" {
		out = append(out, Mail{Kind: MailNewEnquiry, Recipient: e.IntakeInbox})
	}
	if assigneeEmail != "" && assigneeEmail != e.IntakeInbox {
		out = append(out, Mail{Kind: MailAssigned, Recipient: assigneeEmail})
	}
	return out
}
