package db

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// BulkEnquiry is one enquiry for BulkLoad: what intake stores, then what happened to it afterwards.
type BulkEnquiry struct {
	// NewEnquiry is stored exactly as CreateEnquiry stores it with crm.PlanIntake (its ReceivedAt is its
	// created_at).
	crm.NewEnquiry
	// Changes are applied in order after creation, each as UpdateEnquiry applies a change (the same UPDATE,
	// timeline events, notes and queued mail).
	Changes []BulkChange
	// RemindedAt, when set, records the overdue reminder as the reminder sweep does.
	RemindedAt time.Time
	// MailSentAt, when set, marks every message queued for the enquiry as sent at that time.
	MailSentAt time.Time
}

// BulkChange is one change to a bulk-loaded enquiry, made by Actor at At.
type BulkChange struct {
	At     time.Time
	Actor  crm.Actor
	Change crm.Change
}

// BulkLoad stores enquiries through the same SQL as intake, staff changes and the reminder sweep, all in one
// write transaction (one commit for the lot), and on SQLite indexes them for search in it. It is for filling a database for benchmarks and demos: callers
// pass enquiries in created_at order, and in created_at order after every enquiry already stored, or searches
// lose their fast path (see enquiry_order in migration 00002). It returns the receipts in the order given; if
// any enquiry fails nothing is stored. Errors wrap crm.ErrUnavailable when the database cannot take writes.
func (d *EnquiryStore) BulkLoad(ctx context.Context, batch []BulkEnquiry) ([]crm.Receipt, error) {
	out := make([]crm.Receipt, len(batch))
	err := d.writer.do(ctx, func(tx *Tx) error {
		ct := d.writer.cached(tx)
		for i, b := range batch {
			rec, err := bulkOne(ct, b)
			if err != nil {
				return fmt.Errorf("bulk enquiry %d: %w", i, err)
			}
			out[i] = rec
		}
		if d.pg {
			return nil
		}
		// Indexed in the same transaction: the search indexer's batches, queued behind loads like this one,
		// would fall behind.
		_, err := d.indexAboveMark(tx, math.MaxInt)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bulk load: %w", err)
	}
	return out, nil
}

func bulkOne(tx writeTx, b BulkEnquiry) (crm.Receipt, error) {
	rec, _, err := createEnquiry(tx, b.NewEnquiry, crm.PlanIntake, noWebhooks) // the intake rules, as crm's IntakeService uses them
	if err != nil || rec.Replayed {
		return rec, err
	}
	var e crm.Enquiry
	if err := tx.Get(&e.ID, `SELECT id FROM enquiries WHERE reference = ?`, rec.Reference); err != nil {
		return rec, fmt.Errorf("read back %s: %w", rec.Reference, err)
	}
	e.Status = rec.Status
	for _, c := range b.Changes {
		if err := applyChange(tx, e, c.Change, c.Actor, ms(c.At), noWebhooks); err != nil {
			return rec, fmt.Errorf("change %s: %w", rec.Reference, err)
		}
		if c.Change.Status != "" {
			e.Status = c.Change.Status
		}
	}
	rec.Status = e.Status
	if !b.RemindedAt.IsZero() {
		at := ms(b.RemindedAt)
		if _, err := tx.Exec(`UPDATE enquiries SET reminded_at = ? WHERE id = ?`, at, e.ID); err != nil {
			return rec, fmt.Errorf("mark %s reminded: %w", rec.Reference, err)
		}
		if _, err := tx.Exec(`INSERT INTO events (enquiry_id, at, kind) VALUES (?, ?, 'reminder')`, e.ID, at); err != nil {
			return rec, fmt.Errorf("record reminder of %s: %w", rec.Reference, err)
		}
		var to string
		err := tx.Get(&to, `SELECT coalesce((SELECT s.email FROM enquiries e JOIN staff s ON s.id = e.assignee_id
			WHERE e.id = ?), ?)`, e.ID, b.IntakeInbox)
		if err != nil {
			return rec, fmt.Errorf("remind %s: %w", rec.Reference, err)
		}
		if to != "" {
			if err := queueMail(tx, e.ID, crm.Mail{Kind: crm.MailOverdue, Recipient: to}, at); err != nil {
				return rec, fmt.Errorf("queue reminder for %s: %w", rec.Reference, err)
			}
		}
	}
	if !b.MailSentAt.IsZero() {
		if _, err := tx.Exec(`UPDATE outbox SET status = 'sent', attempts = 1, sent_at = ? WHERE enquiry_id = ?`,
			ms(b.MailSentAt), e.ID); err != nil {
			return rec, fmt.Errorf("mark mail of %s sent: %w", rec.Reference, err)
		}
	}
	return rec, nil
}
