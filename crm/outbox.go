package crm

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// The outbox is the durable queue of email: every message Frontdesk sends is first a row, queued in the same
// transaction as the change that causes it (an enquiry, an assignment, a reminder, a password reset), and the
// mail worker (package crm/mailer) sends it from there. What the rows are, what an email may know of its
// enquiry, and who may see or retry them are decided here; storing them is package db's (OutboxStore,
// OutboxQueue), and rendering and delivery are crm/mailer's.

// OutboxStatus is where an outbox message stands.
type OutboxStatus string

// The statuses of an outbox message.
const (
	// OutboxQueued: waiting to be sent (or being sent, while a worker holds its lease).
	OutboxQueued OutboxStatus = "queued"
	// OutboxSent: accepted by the transport (the SMTP server, or written as a file).
	OutboxSent OutboxStatus = "sent"
	// OutboxFailed: refused for good (a 5xx reply), or still not delivered when the worker gave up on it. An
	// administrator may queue it again (Outbox.Retry).
	OutboxFailed OutboxStatus = "failed"
)

// Valid reports whether s is one of the statuses.
func (s OutboxStatus) Valid() bool { return s == OutboxQueued || s == OutboxSent || s == OutboxFailed }

// OutboxMessage is one outbox row claimed for sending, with what rendering needs and nothing more.
type OutboxMessage struct {
	// ID is the outbox row's id; logs name a message by it.
	ID   int64
	Kind MailKind
	// Recipient is the address the message goes to. It is personal data: never log it.
	Recipient string
	// MessageID is the stored random part of the Message-ID header; with the sender's domain it makes the same
	// header on every attempt, so a resend after a crash is recognisably the same message.
	MessageID string
	// Attempts counts the attempts started, this one included.
	Attempts int
	// CreatedAt is when the message was first queued; it is the message's Date header.
	CreatedAt time.Time
	// QueuedAt is when it was queued, or queued again by Outbox.Retry; the worker gives up on it some days
	// later.
	QueuedAt time.Time
	// Enquiry summarises the enquiry the message is about (none for a password reset).
	Enquiry OutboxSummary
	// LinkToken is a password reset's single-use token, or a confirmation's screening link token, for the link
	// in its email; empty for other kinds, and once the link no longer works. It is a secret: never log it.
	LinkToken string
}

// OutboxSummary is what an email may know of an enquiry. It deliberately has no field for the patient's
// message, contact details, date of birth or any other answer, so no template can repeat them.
type OutboxSummary struct {
	// Reference is the enquiry's reference; empty when the enquiry no longer exists.
	Reference string
	// PatientName is the name the patient gave (personal data: never log it).
	PatientName string
	// Treatment is the treatment code (adhd, ptsd, …).
	Treatment string
	// ReceivedAt is when the enquiry arrived.
	ReceivedAt time.Time
	// Assigned is true when a member of staff has the enquiry; AssigneeName is then their name.
	Assigned     bool
	AssigneeName string
	// Erased is true when the patient's data was erased: nothing more is sent about the enquiry.
	Erased bool
	// RiskAt is when the enquiry was flagged risk; zero when it is not.
	RiskAt time.Time
}

// OutboxEntry is an outbox row as `frontdesk outbox list` and the admin outbox page show it.
type OutboxEntry struct {
	ID        int64
	Kind      MailKind
	Status    OutboxStatus
	Attempts  int
	Reference string
	// Recipient is personal data: Outbox.List masks it (MaskAddress); never log it.
	Recipient     string
	CreatedAt     time.Time
	NextAttemptAt time.Time
	SentAt        *time.Time
	// Leased is true while a worker holds the message (it is being sent).
	Leased bool
	// LastError is the last failure: for a refused message, the SMTP server's reply (which may quote the
	// recipient: Outbox.List masks addresses in it).
	LastError string
}

// OutboxFilter narrows a listing of the outbox.
type OutboxFilter struct {
	// Status, when set, keeps only messages in that status.
	Status OutboxStatus
	// Limit bounds how many are returned, newest first (default 100).
	Limit int
}

// OutboxStateError says an outbox message is not in the status a change needs: queuing again one that is not
// failed, or recording the outcome of one that is no longer queued. errors.Is(err, ErrConflict) holds for it.
type OutboxStateError struct {
	// ID is the message's id.
	ID int64
	// Status is the status it is in; Want the one the change needs.
	Status OutboxStatus
	Want   OutboxStatus
}

func (e *OutboxStateError) Error() string {
	return fmt.Sprintf("outbox message %d is %s, not %s", e.ID, e.Status, e.Want)
}

// Unwrap makes the error an ErrConflict, which web answers with 409.
func (e *OutboxStateError) Unwrap() error { return ErrConflict }

// Backoff is the delay before retrying an outbox message after its attempt-th failed attempt (1 for the
// first): base doubled for each earlier failure, at most max, less up to a fifth at random so that many
// messages failing together do not retry together. Email and webhooks retry alike.
func Backoff(attempt int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}
