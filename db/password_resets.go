package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

var _ crm.PasswordResetStore = (*DB)(nil)

// CreatePasswordReset implements crm.PasswordResetStore. The email is queued with no enquiry; its link_token
// column carries the token to the mail worker and is cleared once the message is sent or has failed. A token
// hash already stored or an unknown account breaks a constraint and is a plain database error; errors wrap
// crm.ErrUnavailable when the database cannot take writes.
func (d *StaffStore) CreatePasswordReset(ctx context.Context, r crm.PasswordReset, tokenHash, token, recipient string, ch crm.StaffChange) error {
	now := ms(ch.At)
	msgID, err := newMessageID(now)
	if err != nil {
		return fmt.Errorf("password reset for staff %d: %w", r.StaffID, err)
	}
	var by sql.NullInt64
	if r.RequestedBy != 0 {
		by = sql.NullInt64{Int64: r.RequestedBy, Valid: true}
	}
	err = d.writer.do(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO password_resets (staff_id, token_hash, requested_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, r.StaffID, tokenHash, by, ms(r.CreatedAt), ms(r.ExpiresAt))
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO outbox (enquiry_id, kind, recipient, message_id, next_attempt_at, queued_at,
				created_at, link_token)
			VALUES (NULL, ?, ?, ?, ?, ?, ?, ?)`, crm.MailPasswordReset, recipient, msgID, now, now, now, token)
		if err != nil {
			return err
		}
		return d.applyChange(tx, r.StaffID, ch)
	})
	if err != nil {
		return fmt.Errorf("password reset for staff %d: %w", r.StaffID, err)
	}
	d.notifyMailQueued()
	return nil
}

// CountPasswordResets implements crm.PasswordResetStore: the resets of the account created after since, used,
// expired or not. Its only errors are the database's (wrapped).
func (d *StaffStore) CountPasswordResets(ctx context.Context, staffID int64, since time.Time) (int, error) {
	var n int
	err := d.read.GetContext(ctx, &n, `SELECT count(*) FROM password_resets WHERE staff_id = ? AND created_at > ?`,
		staffID, ms(since))
	if err != nil {
		return 0, fmt.Errorf("count password resets of staff %d: %w", staffID, err)
	}
	return n, nil
}

type passwordResetRow struct {
	ID          int64         `db:"id"`
	StaffID     int64         `db:"staff_id"`
	RequestedBy sql.NullInt64 `db:"requested_by"`
	CreatedAt   int64         `db:"created_at"`
	ExpiresAt   int64         `db:"expires_at"`
	UsedAt      sql.NullInt64 `db:"used_at"`
}

// PasswordResetByHash implements crm.PasswordResetStore: the reset as stored, used or expired included (the
// caller judges it). It returns an error wrapping crm.ErrNotFound when no reset has that hash.
func (d *StaffStore) PasswordResetByHash(ctx context.Context, tokenHash string) (crm.PasswordReset, error) {
	var r passwordResetRow
	err := d.read.GetContext(ctx, &r, `SELECT id, staff_id, requested_by, created_at, expires_at, used_at
		FROM password_resets WHERE token_hash = ?`, tokenHash)
	if errors.Is(err, sql.ErrNoRows) {
		return crm.PasswordReset{}, fmt.Errorf("password reset: %w", crm.ErrNotFound)
	}
	if err != nil {
		return crm.PasswordReset{}, fmt.Errorf("password reset: %w", err)
	}
	return crm.PasswordReset{ID: r.ID, StaffID: r.StaffID, RequestedBy: r.RequestedBy.Int64,
		CreatedAt: fromMS(r.CreatedAt), ExpiresAt: fromMS(r.ExpiresAt), UsedAt: nullMS(r.UsedAt)}, nil
}

// UsePasswordReset implements crm.PasswordResetStore. The reset is taken by an UPDATE that only matches an
// unused, unexpired link of an enabled account, so two uses racing each other cannot both succeed. It returns an
// error wrapping crm.ErrLinkExpired when the reset is unknown, used, expired or its account disabled (nothing
// changes), or crm.ErrUnavailable when the database cannot take writes.
func (d *StaffStore) UsePasswordReset(ctx context.Context, id int64, passwordHash string, ch crm.StaffChange) error {
	err := d.writer.do(ctx, func(tx *Tx) error {
		var staffID int64
		err := tx.Get(&staffID, `UPDATE password_resets SET used_at = ?
			WHERE id = ? AND used_at IS NULL AND expires_at > ?
				AND (SELECT disabled_at FROM staff WHERE staff.id = password_resets.staff_id) IS NULL
			RETURNING staff_id`, ms(ch.At), id, ms(ch.At))
		if errors.Is(err, sql.ErrNoRows) {
			return crm.ErrLinkExpired
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE password_resets SET used_at = ? WHERE staff_id = ? AND used_at IS NULL`,
			ms(ch.At), staffID); err != nil {
			return err
		}
		// The reset's emails still waiting to be sent carry a link that no longer works.
		if _, err := tx.Exec(`UPDATE outbox SET link_token = NULL WHERE kind = ? AND link_token IS NOT NULL
				AND recipient = (SELECT email FROM staff WHERE id = ?)`, crm.MailPasswordReset, staffID); err != nil {
			return err
		}
		res, err := tx.Exec(`UPDATE staff SET password_hash = ?, failed_sign_ins = 0 WHERE id = ?`, passwordHash, staffID)
		if err := affectedOne(res, err); err != nil {
			return err
		}
		return d.applyChange(tx, staffID, ch)
	})
	if err != nil {
		return fmt.Errorf("use password reset %d: %w", id, err)
	}
	return nil
}
