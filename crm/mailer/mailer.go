// Package mailer is Frontdesk's email: the templates of every message (embedded, overridable from a folder), the
// durable outbox worker that claims queued messages, renders and sends them and retries what failed, and the
// transports that deliver them (an .eml file per message, or SMTP with go-mail). It is the only package that
// imports go-mail. The outbox itself is stored by package db, which implements Store.
//
// What an email may say is decided here: a claimed Message carries a summary of its enquiry (reference,
// treatment, when it arrived, who has it) and never the patient's message, date of birth or other answers, so
// no template can repeat them.
package mailer

import (
	"context"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// Status is where an outbox message stands.
type Status string

// The statuses of an outbox message.
const (
	// StatusQueued: waiting to be sent (or being sent, while a worker holds its lease).
	StatusQueued Status = "queued"
	// StatusSent: accepted by the transport (the SMTP server, or written as a file).
	StatusSent Status = "sent"
	// StatusFailed: refused for good (a 5xx reply), or still not delivered after GiveUpAfter. Staff may queue it
	// again with `frontdesk outbox retry`.
	StatusFailed Status = "failed"
)

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool { return s == StatusQueued || s == StatusSent || s == StatusFailed }

// Message is one outbox row claimed for sending, with what rendering needs and nothing more.
type Message struct {
	// ID is the outbox row's id; logs name a message by it.
	ID   int64
	Kind crm.MailKind
	// Recipient is the address the message goes to. It is personal data: never log it.
	Recipient string
	// MessageID is the stored random part of the Message-ID header; with the sender's domain it makes the same
	// header on every attempt, so a resend after a crash is recognisably the same message.
	MessageID string
	// Attempts counts the attempts started, this one included.
	Attempts int
	// CreatedAt is when the message was first queued; it is the message's Date header.
	CreatedAt time.Time
	// QueuedAt is when it was queued, or queued again by `outbox retry`; it is given up GiveUpAfter later.
	QueuedAt time.Time
	// Enquiry summarises the enquiry the message is about (none for a password reset).
	Enquiry Summary
	// LinkToken is a password reset's single-use token, or a confirmation's screening link token, for the link
	// in its email; empty for other kinds, and once the link no longer works. It is a secret: never log it.
	LinkToken string
}

// Summary is what an email may know of an enquiry. It deliberately has no field for the patient's message,
// contact details, date of birth or any other answer.
type Summary struct {
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

// Entry is an outbox row as `frontdesk outbox list` and the admin page show it.
type Entry struct {
	ID        int64
	Kind      crm.MailKind
	Status    Status
	Attempts  int
	Reference string
	// Recipient is personal data: show it masked, never log it.
	Recipient     string
	CreatedAt     time.Time
	NextAttemptAt time.Time
	SentAt        *time.Time
	// Leased is true while a worker holds the message (it is being sent).
	Leased bool
	// LastError is the last failure: for a refused message, the SMTP server's reply.
	LastError string
}

// ListFilter narrows List.
type ListFilter struct {
	// Status, when set, keeps only messages in that status.
	Status Status
	// Limit bounds how many are returned, newest first (default 100).
	Limit int
}

// Store is the durable outbox the worker needs. package db implements it; every method is safe for concurrent
// use, including by two processes sharing the database.
type Store interface {
	// ClaimDue leases up to limit queued messages whose next attempt is due at now and whose lease (if any)
	// has expired, oldest due first: their lease runs until now+lease and their attempt count goes up by one,
	// in one write transaction, so two workers never claim the same message while its lease runs. A message
	// claimed by a process that died is claimed again once its lease has expired. It returns no messages and a
	// nil error when nothing is due.
	ClaimDue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Message, error)
	// MarkSent records that message id was delivered at at, and ends its lease. It returns crm.ErrNotFound if
	// no such message exists and crm.ErrConflict if it is no longer queued.
	MarkSent(ctx context.Context, id int64, at time.Time) error
	// MarkSentAll records that each message of ids was delivered at at and ends its lease, in one write
	// transaction (one commit for a whole batch). A message no longer queued is left as it is. It returns the
	// ids of the messages that no longer exist (their enquiry was erased while they were being sent).
	MarkSentAll(ctx context.Context, ids []int64, at time.Time) (gone []int64, err error)
	// RenewLease moves the lease of each message of ids that is still queued and still leased until held (the
	// lease its worker claimed or last renewed) to until, and returns the ids it renewed. A message missing
	// from the answer is no longer this worker's: it was finished, or its lease ran out and another worker
	// claimed it.
	RenewLease(ctx context.Context, ids []int64, held, until time.Time) (renewed []int64, err error)
	// MarkRetry ends the lease of message id, keeps lastErr and makes it due again at next. It returns
	// crm.ErrNotFound if no such message exists and crm.ErrConflict if it is no longer queued.
	MarkRetry(ctx context.Context, id int64, next time.Time, lastErr string) error
	// MarkFailed marks message id failed for good, keeping lastErr (for a refused message, the server's
	// reply). It returns crm.ErrNotFound if no such message exists and crm.ErrConflict if it is no longer
	// queued.
	MarkFailed(ctx context.Context, id int64, lastErr string) error
	// Release gives back a claimed message that was not attempted (the worker is stopping): its lease ends and
	// the attempt ClaimDue counted is taken back, so another worker may send it at once. It returns
	// crm.ErrNotFound if no such message exists and crm.ErrConflict if it is no longer queued.
	Release(ctx context.Context, id int64) error
	// List returns the messages f selects, newest first.
	List(ctx context.Context, f ListFilter) ([]Entry, error)
	// Requeue queues failed message id again, due at now, with its attempts reset and its give-up time counted
	// from now. It returns crm.ErrNotFound if no such message exists and crm.ErrConflict if it is not failed.
	Requeue(ctx context.Context, id int64, now time.Time) error
	// CountUnsent returns how many messages are still queued that were queued before queuedBefore.
	CountUnsent(ctx context.Context, queuedBefore time.Time) (int, error)
}
