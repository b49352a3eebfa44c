package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// OutboxStore keeps the emails to send (crm.OutboxStore for the worker, crm.OutboxQueue for staff): queued in
// the transaction of the change that asks for them, claimed with a lease, marked sent or failed.
type OutboxStore struct{ *engine }

// The outbox: the listing and retry the crm.Outbox service needs (crm.OutboxStore), and the claims and outcomes
// of the mail worker (crm.OutboxQueue).
var (
	_ crm.OutboxStore = (*DB)(nil)
	_ crm.OutboxQueue = (*DB)(nil)
)

// OnMailQueued registers fn to be called, in the caller's goroutine, after each commit that queued mail — the
// mail worker's Wake, so a new message goes out at once rather than at the next poll. fn must not block.
func (d *OutboxStore) OnMailQueued(fn func()) { d.mailQueued.Store(&fn) }

func (d *engine) notifyMailQueued() {
	if fn := d.mailQueued.Load(); fn != nil {
		(*fn)()
	}
}

// outboxMessage is a claimed row joined to the summary of its enquiry. The enquiry's message, contact details
// and answers are not selected: what is not read cannot be rendered.
type outboxMessage struct {
	ID           int64         `db:"id"`
	Kind         string        `db:"kind"`
	Recipient    string        `db:"recipient"`
	MessageID    string        `db:"message_id"`
	Attempts     int           `db:"attempts"`
	CreatedAt    int64         `db:"created_at"`
	QueuedAt     int64         `db:"queued_at"`
	NextAt       int64         `db:"next_attempt_at"`
	Reference    string        `db:"reference"`
	PatientName  string        `db:"patient_name"`
	Treatment    string        `db:"treatment"`
	ReceivedAt   sql.NullInt64 `db:"received_at"`
	AssigneeID   sql.NullInt64 `db:"assignee_id"`
	AssigneeName string        `db:"assignee_name"`
	Erased       bool          `db:"erased"`
	LinkToken    string        `db:"link_token"`
	RiskAt       sql.NullInt64 `db:"flag_risk_at"`
}

const outboxMessageSelect = `SELECT o.id, o.kind, o.recipient, o.message_id, o.attempts, o.created_at, o.queued_at,
		o.next_attempt_at, coalesce(e.reference, '') AS reference, coalesce(e.name, '') AS patient_name,
		coalesce(e.treatment, '') AS treatment, e.created_at AS received_at, e.assignee_id,
		coalesce(s.name, '') AS assignee_name, e.erased_at IS NOT NULL AS erased,
		coalesce(o.link_token, '') AS link_token, e.flag_risk_at
	FROM outbox o LEFT JOIN enquiries e ON e.id = o.enquiry_id LEFT JOIN staff s ON s.id = e.assignee_id`

// ClaimDue implements crm.OutboxQueue: the claim is one UPDATE … RETURNING in a write transaction, which only takes
// rows whose lease is unset or expired, so two processes sharing the database never claim the same row, and a row
// whose claimer died is claimed again once its lease runs out. On SQLite the one writer at a time makes the choice
// and the update one step. On PostgreSQL several processes claim at once: the subquery locks the rows it chooses
// (FOR UPDATE) and passes over rows another claim has locked (SKIP LOCKED), so concurrent claims take different
// rows instead of waiting for each other; a row another claim updated and committed meanwhile is checked again
// against the lease condition before it is taken. It returns the claimed messages, oldest due first (none and a nil
// error when nothing is due); errors wrap crm.ErrUnavailable when the database cannot take writes.
func (d *OutboxStore) ClaimDue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]crm.OutboxMessage, error) {
	// Webhook events are the webhook sender's (ClaimDueWebhooks): a slow receiver never holds up email.
	var rows []outboxMessage
	err := d.writer.doLoadFree(ctx, func(tx *Tx) error {
		rows = nil
		ct := d.writer.cached(tx)
		ids, err := d.leaseDue(ct, "kind NOT LIKE 'webhook%'", now, lease, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		return ct.Select(&rows, outboxMessageSelect+` WHERE `+d.idIn("o.id")+`
			ORDER BY o.next_attempt_at, o.id`, d.idArg(ids))
	})
	if err != nil {
		return nil, fmt.Errorf("claim due mail: %w", err)
	}
	out := make([]crm.OutboxMessage, len(rows))
	for i, r := range rows {
		out[i] = crm.OutboxMessage{
			ID: r.ID, Kind: crm.MailKind(r.Kind), Recipient: r.Recipient, MessageID: r.MessageID,
			Attempts: r.Attempts, CreatedAt: fromMS(r.CreatedAt), QueuedAt: fromMS(r.QueuedAt), LinkToken: r.LinkToken,
			Enquiry: crm.OutboxSummary{
				Reference: r.Reference, PatientName: r.PatientName, Treatment: r.Treatment,
				Assigned: r.AssigneeID.Valid, AssigneeName: r.AssigneeName, Erased: r.Erased,
			},
		}
		if r.ReceivedAt.Valid {
			out[i].Enquiry.ReceivedAt = fromMS(r.ReceivedAt.Int64)
		}
		if r.RiskAt.Valid {
			out[i].Enquiry.RiskAt = fromMS(r.RiskAt.Int64)
		}
	}
	return out, nil
}

// leaseDue takes, in the write transaction ct, the lease on up to limit queued messages that are due at now and
// match kindCond (SQL on the outbox's kind: email or webhook events), oldest due first, and returns their ids.
// ClaimDue and ClaimDueWebhooks share it; see ClaimDue for why it is one UPDATE … RETURNING.
func (d *OutboxStore) leaseDue(ct cachedTx, kindCond string, now time.Time, lease time.Duration, limit int) ([]int64, error) {
	due := `SELECT id FROM outbox
				WHERE status = 'queued' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
					AND ` + kindCond + `
				ORDER BY next_attempt_at, id LIMIT ?`
	if d.pg {
		due += ` FOR UPDATE SKIP LOCKED`
	}
	var ids []int64
	err := ct.Select(&ids, `UPDATE outbox SET lease_until = ?, attempts = attempts + 1
			WHERE id IN (`+due+`)
			RETURNING id`, ms(now.Add(lease)), ms(now), ms(now), limit)
	return ids, err
}

// updateQueued runs one UPDATE on a queued outbox row in a write transaction: crm.ErrNotFound when the row does
// not exist, a *crm.OutboxStateError when it is no longer queued.
func (d *OutboxStore) updateQueued(ctx context.Context, what string, id int64, query string, args ...any) error {
	return d.updateOutbox(ctx, what, id, crm.OutboxQueued, nil, query, args...)
}

// updateOutbox runs one UPDATE on outbox row id while it has status from, and appends entry (when not nil) to
// the audit log, in one write transaction: crm.ErrNotFound when the row does not exist, a *crm.OutboxStateError
// when it is in another status (and then nothing is recorded).
func (d *OutboxStore) updateOutbox(ctx context.Context, what string, id int64, from crm.OutboxStatus, entry *crm.AuditEntry,
	query string, args ...any) error {
	err := d.writer.doLoadFree(ctx, func(tx *Tx) error {
		res, err := d.writer.cached(tx).Exec(query+` WHERE id = ? AND status = ?`, append(args, id, from)...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		switch {
		case err != nil:
			return err
		case n != 1:
			return outboxRowState(tx, id, from)
		case entry != nil:
			return d.appendAudit(tx, *entry)
		}
		return nil
	})
	var state *crm.OutboxStateError
	switch {
	case errors.As(err, &state):
		return fmt.Errorf("%s: %w", what, err) // the error names the message already
	case err != nil:
		return fmt.Errorf("%s outbox message %d: %w", what, id, err)
	}
	return nil
}

// outboxRowState explains why a change of a row in status want touched nothing.
func outboxRowState(tx *Tx, id int64, want crm.OutboxStatus) error {
	var status string
	err := tx.Get(&status, `SELECT status FROM outbox WHERE id = ?`, id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return crm.ErrNotFound
	case err != nil:
		return err
	}
	return &crm.OutboxStateError{ID: id, Status: crm.OutboxStatus(status), Want: want}
}

// MarkSent implements crm.OutboxQueue. A password reset's token is forgotten once its email is sent. It returns
// an error wrapping crm.ErrNotFound when the message is gone, a *crm.OutboxStateError (a crm.ErrConflict) when it
// is no longer queued — nothing changes then — or wrapping crm.ErrUnavailable when the database cannot take writes.
func (d *OutboxStore) MarkSent(ctx context.Context, id int64, at time.Time) error {
	return d.updateQueued(ctx, "mark sent", id,
		`UPDATE outbox SET status = 'sent', sent_at = ?, lease_until = NULL, last_error = '', link_token = NULL`, ms(at))
}

// idIn is the condition "col is one of a list of ids", the list being one argument (idArg): the query text is
// the same for every list, so it stays prepared. SQLite reads the list as a JSON array; PostgreSQL takes an
// array of bigint, which pgx encodes from a []int64.
func (d *engine) idIn(col string) string {
	if d.pg {
		return col + ` = ANY(?)`
	}
	return col + ` IN (SELECT value FROM json_each(?))`
}

// idArg is ids as the argument of idIn's condition.
func (d *engine) idArg(ids []int64) any {
	if d.pg {
		return ids
	}
	return idList(ids)
}

// idList is ids as a JSON array, for `IN (SELECT value FROM json_each(?))`.
func idList(ids []int64) string {
	b := make([]byte, 0, 2+len(ids)*8)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// MarkSentAll implements crm.OutboxQueue: one UPDATE for the whole batch, then, only when some row was not updated,
// one read to tell a deleted row from one in another status. It returns the ids that no longer exist (nil when all
// do); a row in another status is no error. Errors wrap crm.ErrUnavailable when the database cannot take writes.
func (d *OutboxStore) MarkSentAll(ctx context.Context, ids []int64, at time.Time) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list := d.idArg(ids)
	var gone []int64
	err := d.writer.doLoadFree(ctx, func(tx *Tx) error {
		gone = nil
		ct := d.writer.cached(tx)
		var done []int64
		err := ct.Select(&done, `UPDATE outbox SET status = 'sent', sent_at = ?, lease_until = NULL, last_error = '',
				link_token = NULL
			WHERE `+d.idIn("id")+` AND status = 'queued' RETURNING id`, ms(at), list)
		if err != nil || len(done) == len(ids) {
			return err
		}
		var present []int64
		if err := ct.Select(&present, `SELECT id FROM outbox WHERE `+d.idIn("id"), list); err != nil {
			return err
		}
		have := make(map[int64]bool, len(present))
		for _, id := range present {
			have[id] = true
		}
		for _, id := range ids {
			if !have[id] {
				gone = append(gone, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mark %d outbox messages sent: %w", len(ids), err)
	}
	return gone, nil
}

// RenewLease implements crm.OutboxQueue. The lease a worker holds is its token: a row whose lease_until is no
// longer held was claimed by someone else after the lease ran out, and is left alone. It returns the ids it
// renewed; errors wrap crm.ErrUnavailable when the database cannot take writes.
func (d *OutboxStore) RenewLease(ctx context.Context, ids []int64, held, until time.Time) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var renewed []int64
	err := d.writer.doLoadFree(ctx, func(tx *Tx) error {
		renewed = nil
		return d.writer.cached(tx).Select(&renewed, `UPDATE outbox SET lease_until = ?
			WHERE `+d.idIn("id")+` AND status = 'queued' AND lease_until = ? RETURNING id`,
			ms(until), d.idArg(ids), ms(held))
	})
	if err != nil {
		return nil, fmt.Errorf("renew the lease of %d outbox messages: %w", len(ids), err)
	}
	return renewed, nil
}

// MarkRetry implements crm.OutboxQueue. It returns an error wrapping crm.ErrNotFound when the message is gone,
// a *crm.OutboxStateError (a crm.ErrConflict) when it is no longer queued — nothing changes then — or wrapping
// crm.ErrUnavailable when the database cannot take writes.
func (d *OutboxStore) MarkRetry(ctx context.Context, id int64, next time.Time, lastErr string) error {
	return d.updateQueued(ctx, "mark retry", id,
		`UPDATE outbox SET next_attempt_at = ?, lease_until = NULL, last_error = ?`, ms(next), lastErr)
}

// MarkFailed implements crm.OutboxQueue. A password reset's token is forgotten too: asking again sends a new link.
// It returns an error wrapping crm.ErrNotFound when the message is gone, a *crm.OutboxStateError (a
// crm.ErrConflict) when it is no longer queued — nothing changes then — or wrapping crm.ErrUnavailable when the
// database cannot take writes.
func (d *OutboxStore) MarkFailed(ctx context.Context, id int64, lastErr string) error {
	return d.updateQueued(ctx, "mark failed", id,
		`UPDATE outbox SET status = 'failed', lease_until = NULL, last_error = ?, link_token = NULL`, lastErr)
}

// Release implements crm.OutboxQueue: the attempt count goes down by one, never below 0. It returns an error
// wrapping crm.ErrNotFound when the message is gone, a *crm.OutboxStateError (a crm.ErrConflict) when it is no
// longer queued — nothing changes then — or wrapping crm.ErrUnavailable when the database cannot take writes.
func (d *OutboxStore) Release(ctx context.Context, id int64) error {
	// SQLite's max of several arguments is PostgreSQL's greatest.
	fewer := `max(attempts - 1, 0)`
	if d.pg {
		fewer = `greatest(attempts - 1, 0)`
	}
	return d.updateQueued(ctx, "release", id, `UPDATE outbox SET lease_until = NULL, attempts = `+fewer)
}

// Requeue implements crm.OutboxStore: the row and the audit entry are written in one transaction, and the mail
// worker is woken. It returns an error wrapping crm.ErrNotFound when the message is gone, a
// *crm.OutboxStateError (a crm.ErrConflict) when it is not failed — nothing changes or is recorded then — or
// wrapping crm.ErrUnavailable when the database cannot take writes.
func (d *OutboxStore) Requeue(ctx context.Context, id int64, now time.Time, entry crm.AuditEntry) error {
	err := d.updateOutbox(ctx, "queue again", id, crm.OutboxFailed, &entry,
		`UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = ?, queued_at = ?, lease_until = NULL`,
		ms(now), ms(now))
	if err != nil {
		return err
	}
	d.notifyMailQueued()
	return nil
}

// List implements crm.OutboxStore: at most f.Limit messages (100 when 0), newest id first; a message of no enquiry
// (a password reset) has an empty Reference. Leased is worked out against this process's clock. Its only errors are
// the database's (wrapped).
func (d *OutboxStore) List(ctx context.Context, f crm.OutboxFilter) ([]crm.OutboxEntry, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var rows []struct {
		ID         int64         `db:"id"`
		Kind       string        `db:"kind"`
		Status     string        `db:"status"`
		Attempts   int           `db:"attempts"`
		Reference  string        `db:"reference"`
		Recipient  string        `db:"recipient"`
		CreatedAt  int64         `db:"created_at"`
		NextAt     int64         `db:"next_attempt_at"`
		SentAt     sql.NullInt64 `db:"sent_at"`
		LeaseUntil sql.NullInt64 `db:"lease_until"`
		LastError  string        `db:"last_error"`
	}
	q := `SELECT o.id, o.kind, o.status, o.attempts, coalesce(e.reference, '') AS reference, o.recipient,
			o.created_at, o.next_attempt_at, o.sent_at, o.lease_until, o.last_error
		FROM outbox o LEFT JOIN enquiries e ON e.id = o.enquiry_id`
	args := []any{}
	if f.Status != "" {
		q += ` WHERE o.status = ?`
		args = append(args, f.Status)
	}
	q += ` ORDER BY o.id DESC LIMIT ?`
	args = append(args, f.Limit)
	if err := d.read.SelectContext(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	now := ms(time.Now())
	out := make([]crm.OutboxEntry, len(rows))
	for i, r := range rows {
		out[i] = crm.OutboxEntry{
			ID: r.ID, Kind: crm.MailKind(r.Kind), Status: crm.OutboxStatus(r.Status), Attempts: r.Attempts,
			Reference: r.Reference, Recipient: r.Recipient, CreatedAt: fromMS(r.CreatedAt),
			NextAttemptAt: fromMS(r.NextAt), SentAt: nullMS(r.SentAt),
			Leased:    r.Status == string(crm.OutboxQueued) && r.LeaseUntil.Valid && r.LeaseUntil.Int64 > now,
			LastError: r.LastError,
		}
	}
	return out, nil
}

// CountUnsent implements crm.OutboxQueue: the queued emails (not webhook events) with queued_at before
// queuedBefore, leased or not. Its only errors are the database's (wrapped).
func (d *OutboxStore) CountUnsent(ctx context.Context, queuedBefore time.Time) (int, error) {
	var n int
	err := d.read.GetContext(ctx, &n, `SELECT count(*) FROM outbox WHERE status = 'queued' AND queued_at < ?
		AND kind NOT LIKE 'webhook%'`,
		ms(queuedBefore))
	if err != nil {
		return 0, fmt.Errorf("count unsent mail: %w", err)
	}
	return n, nil
}

// DiscardQueuedMail deletes every message still queued, leased or not, and returns how many. Only the demo uses it:
// its fictional patients must not be emailed. Errors wrap crm.ErrUnavailable when the database cannot take writes.
func (d *OutboxStore) DiscardQueuedMail(ctx context.Context) (int, error) {
	var n int64
	err := d.writer.doLoadFree(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`DELETE FROM outbox WHERE status = 'queued'`)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("discard queued mail: %w", err)
	}
	return int(n), nil
}
