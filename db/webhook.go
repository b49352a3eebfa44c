package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake/screening"
)

// Webhook events are outbox rows of the webhook_* kinds, their body (crm.WebhookMail) in payload: queued by the
// change that causes them, in its transaction and, for a new enquiry, in the same INSERT as its email; claimed
// by the webhook sender (crm.WebhookQueue) and never by the mail worker.

var _ crm.WebhookQueue = (*DB)(nil)

// EnableWebhooks makes every later change queue its webhook events (enquiry.created, enquiry.status_changed,
// enquiry.assigned, enquiry.flagged), their links made from baseURL (FRONTDESK_BASE_URL, not empty). serve
// calls it when FRONTDESK_WEBHOOK_URL is set, before serving; without it nothing is queued and intake does no
// more work.
func (d *OutboxStore) EnableWebhooks(baseURL string) { d.webhookBase.Store(&baseURL) }

// webhooks returns the base URL of the events' links: noWebhooks ("") when webhooks are off.
func (d *engine) webhooks() string {
	if p := d.webhookBase.Load(); p != nil {
		return *p
	}
	return noWebhooks
}

// flagNames are the screening flags an enquiry carries, in the order the flags are listed everywhere.
func flagNames(risk, review bool) []string {
	out := make([]string, 0, 2)
	if risk {
		out = append(out, screening.FlagRisk)
	}
	if review {
		out = append(out, screening.FlagReview)
	}
	return out
}

// intakeWebhooks are the events of a new enquiry stored as p plans it: enquiry.created (with its assignee and
// flags), and enquiry.flagged when it arrived flagged. Spam has none. assigneeEmail is the plan's assignee's.
func intakeWebhooks(base, ref string, p crm.IntakePlan, e crm.NewEnquiry, assigneeEmail string, at time.Time) []crm.Mail {
	if p.Status == crm.StatusSpam {
		return nil
	}
	d := crm.WebhookData{Reference: ref, Status: p.Status, Treatment: e.Treatment, Priority: p.Priority,
		Flags: flagNames(containsFlag(p.Flags, screening.FlagRisk), containsFlag(p.Flags, screening.FlagReview))}
	if assigneeEmail != "" {
		d.Assignee = &assigneeEmail
	}
	out := []crm.Mail{crm.WebhookMail(crm.WebhookCreated, at, base, d)}
	if len(p.Flags) > 0 {
		out = append(out, crm.WebhookMail(crm.WebhookFlagged, at, base, d))
	}
	return out
}

func containsFlag(flags []string, f string) bool {
	for _, g := range flags {
		if g == f {
			return true
		}
	}
	return false
}

// queueWebhooks queues one event of each kind about enquiry id as it stands in tx (after the change), at at.
func queueWebhooks(tx writeTx, base string, id int64, at int64, kinds ...crm.MailKind) error {
	if len(kinds) == 0 {
		return nil
	}
	var row struct {
		Reference string         `db:"reference"`
		Status    string         `db:"status"`
		Treatment string         `db:"treatment"`
		Priority  string         `db:"priority"`
		Risk      bool           `db:"risk"`
		Review    bool           `db:"review"`
		Assignee  sql.NullString `db:"assignee"`
	}
	err := tx.Get(&row, `SELECT e.reference, e.status, e.treatment, e.priority, e.flag_risk_at IS NOT NULL AS risk,
			e.flag_review_at IS NOT NULL AS review, s.email AS assignee
		FROM enquiries e LEFT JOIN staff s ON s.id = e.assignee_id WHERE e.id = ?`, id)
	if err != nil {
		return fmt.Errorf("read enquiry %d for its webhook events: %w", id, err)
	}
	d := crm.WebhookData{Reference: row.Reference, Status: crm.Status(row.Status), Treatment: row.Treatment,
		Priority: row.Priority, Flags: flagNames(row.Risk, row.Review)}
	if row.Assignee.Valid {
		d.Assignee = &row.Assignee.String
	}
	mails := make([]crm.Mail, len(kinds))
	for i, k := range kinds {
		mails[i] = crm.WebhookMail(k, fromMS(at), base, d)
	}
	if err := queueMails(tx, id, mails, at); err != nil {
		return fmt.Errorf("queue webhook events of %s: %w", row.Reference, err)
	}
	return nil
}

// ClaimDueWebhooks implements crm.WebhookQueue: ClaimDue's claim (one UPDATE … RETURNING, SKIP LOCKED on
// PostgreSQL) restricted to the webhook kinds. Errors wrap crm.ErrUnavailable when the database cannot take
// writes.
func (d *OutboxStore) ClaimDueWebhooks(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]crm.WebhookMessage, error) {
	var rows []struct {
		ID        int64          `db:"id"`
		Kind      string         `db:"kind"`
		MessageID string         `db:"message_id"`
		Attempts  int            `db:"attempts"`
		QueuedAt  int64          `db:"queued_at"`
		Reference string         `db:"reference"`
		Payload   sql.NullString `db:"payload"`
		Erased    bool           `db:"erased"`
	}
	err := d.writer.doLoadFree(ctx, func(tx *Tx) error {
		rows = nil
		ct := d.writer.cached(tx)
		ids, err := d.leaseDue(ct, "kind LIKE 'webhook%'", now, lease, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		return ct.Select(&rows, `SELECT o.id, o.kind, o.message_id, o.attempts, o.queued_at,
				coalesce(e.reference, '') AS reference, o.payload, e.erased_at IS NOT NULL AS erased
			FROM outbox o LEFT JOIN enquiries e ON e.id = o.enquiry_id
			WHERE `+d.idIn("o.id")+` ORDER BY o.next_attempt_at, o.id`, d.idArg(ids))
	})
	if err != nil {
		return nil, fmt.Errorf("claim due webhook events: %w", err)
	}
	out := make([]crm.WebhookMessage, len(rows))
	for i, r := range rows {
		out[i] = crm.WebhookMessage{ID: r.ID, Kind: crm.MailKind(r.Kind), MessageID: r.MessageID, Attempts: r.Attempts,
			QueuedAt: fromMS(r.QueuedAt), Reference: r.Reference, Body: []byte(r.Payload.String), Erased: r.Erased}
	}
	return out, nil
}
