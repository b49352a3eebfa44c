package crm

import (
	"context"
	"time"
)

// OutboxStore is the storage the Outbox service needs: the listing of the outbox and queuing a failed message
// again. package db implements it; it is safe for concurrent use, including by two processes sharing the
// database.
type OutboxStore interface {
	// List returns the messages f selects, newest first (by id), at most f.Limit (100 when 0), with recipients
	// and server replies as stored. It returns an error only when the database cannot be read.
	List(ctx context.Context, f OutboxFilter) ([]OutboxEntry, error)
	// Requeue queues failed message id again, due at now, with its attempts reset and its give-up time counted
	// from now, and appends entry to the audit log in the same transaction. It returns an error wrapping
	// ErrNotFound if no such message exists, and an *OutboxStateError (an ErrConflict) if it is not failed; in
	// both cases nothing changed and nothing was recorded.
	Requeue(ctx context.Context, id int64, now time.Time, entry AuditEntry) error
}

// OutboxQueue is the outbox as the mail worker (package crm/mailer) sends from it: claims with a lease and the
// outcome of each attempt. package db implements it; every method is safe for concurrent use, including by two
// processes sharing the database.
type OutboxQueue interface {
	// ClaimDue leases up to limit queued messages whose next attempt is due at now and whose lease (if any)
	// has expired, oldest due first: their lease runs until now+lease and their attempt count goes up by one,
	// in one write transaction, so two workers never claim the same message while its lease runs. A message
	// claimed by a process that died is claimed again once its lease has expired. It returns no messages and a
	// nil error when nothing is due.
	ClaimDue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxMessage, error)
	// MarkSent records that message id was delivered at at, and ends its lease. It returns an error wrapping
	// ErrNotFound if no such message exists and an *OutboxStateError (an ErrConflict) if it is no longer
	// queued.
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
	// MarkRetry ends the lease of message id, keeps lastErr and makes it due again at next. It returns an
	// error wrapping ErrNotFound if no such message exists and an *OutboxStateError if it is no longer queued.
	MarkRetry(ctx context.Context, id int64, next time.Time, lastErr string) error
	// MarkFailed marks message id failed for good, keeping lastErr (for a refused message, the server's
	// reply). It returns an error wrapping ErrNotFound if no such message exists and an *OutboxStateError if
	// it is no longer queued.
	MarkFailed(ctx context.Context, id int64, lastErr string) error
	// Release gives back a claimed message that was not attempted (the worker is stopping): its lease ends and
	// the attempt ClaimDue counted is taken back, so another worker may send it at once. It returns an error
	// wrapping ErrNotFound if no such message exists and an *OutboxStateError if it is no longer queued.
	Release(ctx context.Context, id int64) error
	// CountUnsent returns how many messages are still queued that were queued before queuedBefore.
	CountUnsent(ctx context.Context, queuedBefore time.Time) (int, error)
}
