package db

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// The reminder sweep: one reminder for each enquiry past its first-contact target (or, flagged risk, its urgent
// target), queued in batches.

// reminderBatch bounds how many enquiries one QueueOverdueReminders call reminds, so the sweep never holds the
// writer for long; the next run takes the rest.
const reminderBatch = 500

// overdueSQL selects the enquiries to remind. INDEXED BY holds SQLite's planner to the partial index: without
// statistics it would prefer (status, created_at) and step over every enquiry already reminded.
func (d *EnquiryStore) overdueSQL() string {
	return `SELECT e.id, s.email AS assignee_email
	FROM enquiries e` + d.indexedBy("enquiries_unreminded") + ` LEFT JOIN staff s ON s.id = e.assignee_id
	WHERE e.status = 'new' AND e.reminded_at IS NULL AND e.erased_at IS NULL AND e.created_at < ?
	ORDER BY e.created_at, e.id
	LIMIT ?`
}

// urgentSQL selects the enquiries flagged risk to remind, through the partial index of flagged enquiries:
// those past their urgent target, which is counted from the flag.
func (d *EnquiryStore) urgentSQL() string {
	return `SELECT e.id, s.email AS assignee_email
	FROM enquiries e` + d.indexedBy("enquiries_risk") + ` LEFT JOIN staff s ON s.id = e.assignee_id
	WHERE e.flag_risk_at IS NOT NULL AND e.flag_risk_at < ? AND e.status = 'new' AND e.reminded_at IS NULL
		AND e.erased_at IS NULL
	ORDER BY e.flag_risk_at, e.id
	LIMIT ?`
}

// QueueOverdueReminders implements crm.EnquiryStore. It reminds at most reminderBatch enquiries in one write
// transaction: those flagged risk past their urgent target first, then the rest oldest first; the partial
// indexes enquiries_risk and enquiries_unreminded keep the sweep from stepping over enquiries already reminded.
// The reminder goes to the assignee's email even if that account is disabled. It returns how many enquiries it
// reminded (with or without a mail); errors wrap crm.ErrUnavailable when the database cannot take writes.
//
// On PostgreSQL several processes may run the sweep at once: the transaction first tries the advisory lock
// lockReminders, and when another process holds it (it is sweeping now) returns 0 having changed nothing.
func (d *EnquiryStore) QueueOverdueReminders(ctx context.Context, dueBefore, urgentBefore time.Time, inbox string, at time.Time) (int, error) {
	var n int
	var mailed bool
	err := d.writer.do(ctx, func(tx *Tx) error {
		n, mailed = 0, false
		if ok, err := d.tryJobLock(tx, lockReminders); err != nil || !ok {
			return err
		}
		type dueRow struct {
			ID            int64          `db:"id"`
			AssigneeEmail sql.NullString `db:"assignee_email"`
		}
		var due []dueRow
		if !urgentBefore.IsZero() {
			if err := tx.Select(&due, d.urgentSQL(), ms(urgentBefore), reminderBatch); err != nil {
				return fmt.Errorf("find enquiries past their urgent target: %w", err)
			}
		}
		if len(due) < reminderBatch {
			var overdue []dueRow
			if err := tx.Select(&overdue, d.overdueSQL(), ms(dueBefore), reminderBatch); err != nil {
				return fmt.Errorf("find overdue enquiries: %w", err)
			}
			for _, o := range overdue {
				if len(due) == reminderBatch {
					break
				}
				if !slices.ContainsFunc(due, func(r dueRow) bool { return r.ID == o.ID }) {
					due = append(due, o)
				}
			}
		}
		now := ms(at)
		ct := d.writer.cached(tx)
		for _, e := range due {
			if _, err := ct.Exec(`UPDATE enquiries SET reminded_at = ? WHERE id = ?`, now, e.ID); err != nil {
				return fmt.Errorf("mark enquiry %d reminded: %w", e.ID, err)
			}
			if _, err := ct.Exec(`INSERT INTO events (enquiry_id, at, kind) VALUES (?, ?, 'reminder')`, e.ID, now); err != nil {
				return fmt.Errorf("record reminder of enquiry %d: %w", e.ID, err)
			}
			to := inbox
			if e.AssigneeEmail.Valid {
				to = e.AssigneeEmail.String
			}
			if to != "" {
				if err := queueMail(ct, e.ID, crm.Mail{Kind: crm.MailOverdue, Recipient: to}, now); err != nil {
					return fmt.Errorf("queue reminder for enquiry %d: %w", e.ID, err)
				}
				mailed = true
			}
		}
		n = len(due)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("queue overdue reminders: %w", err)
	}
	if mailed {
		d.notifyMailQueued()
	}
	return n, nil
}
