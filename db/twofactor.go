package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

var _ crm.TwoFactorStore = (*DB)(nil)

// SecondFactor implements crm.TwoFactorStore: the secret with the unused recovery codes (an empty list when all
// are used), read by two statements. It returns an error wrapping crm.ErrNotFound when the account has no
// second factor (or does not exist), or a wrapped error of the database.
func (d *StaffStore) SecondFactor(ctx context.Context, staffID int64) (crm.SecondFactor, error) {
	var row struct {
		Secret     string `db:"secret"`
		EnrolledAt int64  `db:"enrolled_at"`
		LastStep   int64  `db:"last_step"`
	}
	err := d.read.GetContext(ctx, &row, `SELECT secret, enrolled_at, last_step FROM staff_totp WHERE staff_id = ?`, staffID)
	if errors.Is(err, sql.ErrNoRows) {
		return crm.SecondFactor{}, fmt.Errorf("second factor of staff %d: %w", staffID, crm.ErrNotFound)
	}
	if err != nil {
		return crm.SecondFactor{}, fmt.Errorf("second factor of staff %d: %w", staffID, err)
	}
	f := crm.SecondFactor{StaffID: staffID, Secret: row.Secret, EnrolledAt: fromMS(row.EnrolledAt), LastStep: row.LastStep,
		RecoveryCodes: []crm.RecoveryCode{}}
	err = d.read.SelectContext(ctx, &f.RecoveryCodes, `SELECT id AS "id", code_hash AS "hash" FROM staff_recovery_codes
		WHERE staff_id = ? AND used_at IS NULL ORDER BY id`, staffID)
	if err != nil {
		return crm.SecondFactor{}, fmt.Errorf("recovery codes of staff %d: %w", staffID, err)
	}
	return f, nil
}

// EnrolSecondFactor implements crm.TwoFactorStore: crm.ErrConflict when the account has a second factor
// already. The insert does nothing on a conflict rather than failing, so of two enrolments at once on
// PostgreSQL the second also ends in crm.ErrConflict (a failed statement would abort its transaction).
func (d *StaffStore) EnrolSecondFactor(ctx context.Context, f crm.SecondFactor, codeHashes []string, e crm.AuditEntry) error {
	err := d.writer.do(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`INSERT INTO staff_totp (staff_id, secret, enrolled_at, last_step) VALUES (?, ?, ?, ?)
			ON CONFLICT (staff_id) DO NOTHING`, f.StaffID, f.Secret, ms(f.EnrolledAt), f.LastStep)
		if err := affectedOr(res, err, crm.ErrConflict); err != nil {
			return err
		}
		if err := replaceRecoveryCodes(tx, f.StaffID, codeHashes, f.EnrolledAt); err != nil {
			return err
		}
		return d.appendAudit(tx, e)
	})
	if err != nil {
		return fmt.Errorf("enrol second factor of staff %d: %w", f.StaffID, err)
	}
	return nil
}

// replaceRecoveryCodes deletes the account's recovery codes, used or not, and stores hashes as its new ones.
func replaceRecoveryCodes(tx *Tx, staffID int64, hashes []string, at time.Time) error {
	if _, err := tx.Exec(`DELETE FROM staff_recovery_codes WHERE staff_id = ?`, staffID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := tx.Exec(`INSERT INTO staff_recovery_codes (staff_id, code_hash, created_at) VALUES (?, ?, ?)`,
			staffID, h, ms(at)); err != nil {
			return err
		}
	}
	return nil
}

// UseSecondFactor implements crm.TwoFactorStore. The step and the code are claimed by conditional updates, so
// of two requests with one code only the first succeeds. Errors wrap crm.ErrNotFound when the account has no
// second factor, crm.ErrCodeReused when the step or the recovery code was taken already (nothing changes then),
// or crm.ErrUnavailable when the database cannot take writes.
func (d *StaffStore) UseSecondFactor(ctx context.Context, u crm.FactorUse) error {
	err := d.writer.do(ctx, func(tx *Tx) error {
		var exists bool
		if err := tx.Get(&exists, `SELECT EXISTS (SELECT 1 FROM staff_totp WHERE staff_id = ?)`, u.StaffID); err != nil {
			return err
		}
		if !exists {
			return crm.ErrNotFound
		}
		if u.Step != 0 {
			res, err := tx.Exec(`UPDATE staff_totp SET last_step = ? WHERE staff_id = ? AND last_step < ?`, u.Step, u.StaffID, u.Step)
			if err := claimed(res, err); err != nil {
				return err
			}
		}
		if u.RecoveryCodeID != 0 {
			res, err := tx.Exec(`UPDATE staff_recovery_codes SET used_at = ? WHERE id = ? AND staff_id = ? AND used_at IS NULL`,
				ms(u.At), u.RecoveryCodeID, u.StaffID)
			if err := claimed(res, err); err != nil {
				return err
			}
		}
		if u.NewRecoveryCodes != nil {
			if err := replaceRecoveryCodes(tx, u.StaffID, u.NewRecoveryCodes, u.At); err != nil {
				return err
			}
		}
		if u.SignIn {
			if _, err := tx.Exec(`UPDATE staff SET failed_sign_ins = 0 WHERE id = ?`, u.StaffID); err != nil {
				return err
			}
		}
		for _, e := range u.Audit {
			if err := d.appendAudit(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("use second factor of staff %d: %w", u.StaffID, err)
	}
	return nil
}

// claimed turns a conditional UPDATE that changed nothing into crm.ErrCodeReused.
func claimed(res sql.Result, err error) error { return affectedOr(res, err, crm.ErrCodeReused) }

// ResetSecondFactor implements crm.TwoFactorStore: it reports whether the account had a second factor. ch is
// applied either way (its audit entry written, access ended when asked): a reset ends access even when it finds
// no factor. An unknown account is no error. Errors wrap crm.ErrUnavailable when the database cannot take writes.
func (d *StaffStore) ResetSecondFactor(ctx context.Context, staffID int64, ch crm.StaffChange) (bool, error) {
	var had bool
	err := d.writer.do(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`DELETE FROM staff_totp WHERE staff_id = ?`, staffID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM staff_recovery_codes WHERE staff_id = ?`, staffID); err != nil {
			return err
		}
		had = n > 0
		return d.applyChange(tx, staffID, ch)
	})
	if err != nil {
		return false, fmt.Errorf("reset second factor of staff %d: %w", staffID, err)
	}
	return had, nil
}

// RecordSignIn implements crm.TwoFactorStore. An unknown staffID changes no count and still writes e; no error
// tells it. Errors wrap crm.ErrUnavailable when the database cannot take writes.
func (d *StaffStore) RecordSignIn(ctx context.Context, staffID int64, ok bool, e crm.AuditEntry) error {
	err := d.writer.do(ctx, func(tx *Tx) error {
		if staffID != 0 {
			q := `UPDATE staff SET failed_sign_ins = failed_sign_ins + 1 WHERE id = ?`
			if ok {
				q = `UPDATE staff SET failed_sign_ins = 0 WHERE id = ?`
			}
			if _, err := tx.Exec(q, staffID); err != nil {
				return err
			}
		}
		return d.appendAudit(tx, e)
	})
	if err != nil {
		return fmt.Errorf("record sign-in: %w", err)
	}
	return nil
}

// ClearFailedSignIns implements crm.TwoFactorStore. It returns an error wrapping crm.ErrNotFound when there is no
// such account (nothing is written) or crm.ErrUnavailable when the database cannot take writes.
func (d *StaffStore) ClearFailedSignIns(ctx context.Context, staffID int64, e crm.AuditEntry) error {
	err := d.writer.do(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE staff SET failed_sign_ins = 0 WHERE id = ?`, staffID)
		if err := affectedOne(res, err); err != nil {
			return err
		}
		return d.appendAudit(tx, e)
	})
	if err != nil {
		return fmt.Errorf("clear failed sign-ins of staff %d: %w", staffID, err)
	}
	return nil
}
