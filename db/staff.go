package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/jmoiron/sqlx"
)

// StaffStore keeps the staff and their access (crm.StaffStore, crm.StaffSessionStore, crm.TokenStore,
// crm.TwoFactorStore, crm.PasswordResetStore): accounts, sign-in sessions, API tokens, second factors and
// password resets; and the storage Fiber keeps sessions and rate-limit counters in (Sessions, RateLimits).
type StaffStore struct{ *engine }

var _ crm.StaffStore = (*DB)(nil)

// staffRow is an account with its treatments as a comma-separated list.
type staffRow struct {
	ID             int64         `db:"id"`
	Email          string        `db:"email"`
	Name           string        `db:"name"`
	Role           string        `db:"role"`
	PasswordHash   string        `db:"password_hash"`
	DisabledAt     sql.NullInt64 `db:"disabled_at"`
	LastAssignedAt sql.NullInt64 `db:"last_assigned_at"`
	CreatedAt      int64         `db:"created_at"`
	Treatments     string        `db:"treatments"`
	OpenEnquiries  int           `db:"open_enquiries"`
	SecondFactor   bool          `db:"second_factor"`
	FailedSignIns  int           `db:"failed_sign_ins"`
}

// staffSelect reads staffRow; callers add the WHERE clause on s.
const staffSelect = `SELECT s.id, s.email, s.name, s.role, s.password_hash, ` + staffColumns + ` FROM staff s`

// staffSelectWithoutHash reads staffRow with an empty password hash, for listings that must not carry it;
// callers add FROM (with staff as s) and what follows.
const staffSelectWithoutHash = `SELECT s.id, s.email, s.name, s.role, '' AS password_hash, ` + staffColumns

// staffColumns are the columns of staffRow after the password hash. string_agg is PostgreSQL's aggregate and,
// since 3.44, SQLite's name for group_concat: one text for both engines (staffRow.staff sorts the list).
const staffColumns = `s.disabled_at, s.last_assigned_at, s.created_at,
		coalesce((SELECT string_agg(t.treatment, ',') FROM staff_treatments t WHERE t.staff_id = s.id), '') AS treatments,
		s.open_enquiries, ` + staffFactorColumns

// staffFactorColumns read whether an account s has a second factor, and its failed sign-in count.
const staffFactorColumns = `EXISTS (SELECT 1 FROM staff_totp f WHERE f.staff_id = s.id) AS second_factor, s.failed_sign_ins`

func (r staffRow) staff() crm.Staff {
	s := crm.Staff{
		ID: r.ID, Email: r.Email, Name: r.Name, Role: crm.Role(r.Role), Treatments: []string{},
		Disabled: r.DisabledAt.Valid, CreatedAt: fromMS(r.CreatedAt), LastAssignedAt: nullMS(r.LastAssignedAt),
		OpenEnquiries: r.OpenEnquiries, SecondFactor: r.SecondFactor, FailedSignIns: r.FailedSignIns,
	}
	if r.Treatments != "" {
		s.Treatments = strings.Split(r.Treatments, ",")
		slices.Sort(s.Treatments)
	}
	return s
}

func getStaff(ctx context.Context, q sqlx.QueryerContext, where string, arg any) (staffRow, error) {
	var row staffRow
	err := sqlx.GetContext(ctx, q, &row, staffSelect+` WHERE `+where, arg)
	if errors.Is(err, sql.ErrNoRows) {
		return staffRow{}, crm.ErrNotFound
	}
	return row, err
}

// setTreatments replaces the account's treatments.
func setTreatments(tx *Tx, staffID int64, treatments []string) error {
	if _, err := tx.Exec(`DELETE FROM staff_treatments WHERE staff_id = ?`, staffID); err != nil {
		return err
	}
	for _, t := range treatments {
		if _, err := tx.Exec(`INSERT INTO staff_treatments (staff_id, treatment) VALUES (?, ?) ON CONFLICT DO NOTHING`, staffID, t); err != nil {
			return fmt.Errorf("treatment %q: %w", t, err)
		}
	}
	return nil
}

// CreateStaff implements crm.StaffStore: it returns the account as stored. Errors wrap crm.ErrConflict when the
// email is taken (compared as stored, case and all) or crm.ErrUnavailable when the database cannot take writes;
// an unknown role or treatment is refused by the schema's CHECK as a plain database error.
func (d *StaffStore) CreateStaff(ctx context.Context, n crm.NewStaff, passwordHash string, ch crm.StaffChange) (crm.Staff, error) {
	var row staffRow
	err := d.writer.do(ctx, func(tx *Tx) error {
		var id int64
		err := tx.Get(&id, `INSERT INTO staff (email, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)
			RETURNING id`, n.Email, n.Name, n.Role, passwordHash, ms(ch.At))
		if isUniqueViolation(err) {
			return crm.ErrConflict
		}
		if err != nil {
			return err
		}
		if err := setTreatments(tx, id, n.Treatments); err != nil {
			return err
		}
		if err := d.applyChange(tx, id, ch); err != nil {
			return err
		}
		row, err = getStaff(ctx, tx, "s.id = ?", id)
		return err
	})
	if err != nil {
		return crm.Staff{}, fmt.Errorf("create staff %s: %w", n.Email, err)
	}
	return row.staff(), nil
}

// GetStaff implements crm.StaffStore: the account, disabled or not. It returns an error wrapping crm.ErrNotFound
// when there is no such account, or a wrapped error of the database.
func (d *StaffStore) GetStaff(ctx context.Context, id int64) (crm.Staff, error) {
	row, err := getStaff(ctx, d.read, "s.id = ?", id)
	if err != nil {
		return crm.Staff{}, fmt.Errorf("get staff %d: %w", id, err)
	}
	return row.staff(), nil
}

// StaffByEmail implements crm.StaffStore: the account, disabled or not, and its password hash; email is compared
// as given (callers lower-case it). It returns an error wrapping crm.ErrNotFound when no account has it, or a
// wrapped error of the database.
func (d *StaffStore) StaffByEmail(ctx context.Context, email string) (crm.Staff, string, error) {
	row, err := getStaff(ctx, d.read, "s.email = ?", email)
	if err != nil {
		return crm.Staff{}, "", fmt.Errorf("get staff by email: %w", err)
	}
	return row.staff(), row.PasswordHash, nil
}

// ListStaff implements crm.StaffStore: every account, without its password hash, by name regardless of the
// case of ASCII letters (lower() folds those alone on SQLite, as COLLATE NOCASE did; on PostgreSQL it folds
// every letter the database's character type knows), then by id. OpenEnquiries is staff.open_enquiries, which
// triggers keep (see migration 00002), so the list costs the same however many enquiries there are. Disabled
// accounts are included. Its only errors are the database's (wrapped).
func (d *StaffStore) ListStaff(ctx context.Context) ([]crm.Staff, error) {
	var rows []staffRow
	err := d.read.SelectContext(ctx, &rows, staffSelectWithoutHash+`
		FROM staff s
		ORDER BY lower(s.name), s.id`)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	out := make([]crm.Staff, len(rows))
	for i, r := range rows {
		out[i] = r.staff()
	}
	return out, nil
}

// CountStaff implements crm.StaffStore: every account, disabled ones included. Its only errors are the
// database's (wrapped).
func (d *StaffStore) CountStaff(ctx context.Context) (int, error) {
	var n int
	if err := d.read.GetContext(ctx, &n, `SELECT count(*) FROM staff`); err != nil {
		return 0, fmt.Errorf("count staff: %w", err)
	}
	return n, nil
}

// UpdateStaff implements crm.StaffStore. Only the role, the treatments and the disabled state are written;
// disabling keeps the time it was first disabled. It returns the account as changed; update's error unwrapped;
// errors wrapping crm.ErrNotFound when there is no such account, or crm.ErrUnavailable when the database cannot
// take writes; an unknown role or treatment is refused by the schema's CHECK as a plain database error. On
// PostgreSQL the account's row is locked (FOR UPDATE) before it is read, so update sees it as the change will
// find it; after a deadlock the whole write, update included, runs again.
func (d *StaffStore) UpdateStaff(ctx context.Context, id int64, update func(*crm.Staff) (crm.StaffChange, error)) (crm.Staff, error) {
	var row staffRow
	var updateErr error
	err := d.writer.do(ctx, func(tx *Tx) error {
		updateErr = nil
		// On PostgreSQL the row is locked first, so that update sees the account as the change will find it.
		if d.pg {
			if _, err := tx.Exec(`SELECT 1 FROM staff s WHERE id = ?`+d.forUpdate("s"), id); err != nil {
				return err
			}
		}
		before, err := getStaff(ctx, tx, "s.id = ?", id)
		if err != nil {
			return err
		}
		s := before.staff()
		ch, err := update(&s)
		if err != nil {
			updateErr = err
			return err
		}
		if ch.At.IsZero() {
			ch.At = time.Now()
		}
		disabledAt := before.DisabledAt
		switch {
		case s.Disabled && !disabledAt.Valid:
			disabledAt = sql.NullInt64{Int64: ms(ch.At), Valid: true}
		case !s.Disabled:
			disabledAt = sql.NullInt64{}
		}
		if _, err := tx.Exec(`UPDATE staff SET role = ?, disabled_at = ? WHERE id = ?`, s.Role, disabledAt, id); err != nil {
			return err
		}
		if err := setTreatments(tx, id, s.Treatments); err != nil {
			return err
		}
		if err := d.applyChange(tx, id, ch); err != nil {
			return err
		}
		row, err = getStaff(ctx, tx, "s.id = ?", id)
		return err
	})
	if updateErr != nil {
		return crm.Staff{}, updateErr
	}
	if err != nil {
		return crm.Staff{}, fmt.Errorf("update staff %d: %w", id, err)
	}
	return row.staff(), nil
}

// SetPassword implements crm.StaffStore: a new password also clears the count of failed sign-ins. It returns an
// error wrapping crm.ErrNotFound when there is no such account (nothing changes) or crm.ErrUnavailable when the
// database cannot take writes.
func (d *StaffStore) SetPassword(ctx context.Context, id int64, passwordHash string, ch crm.StaffChange) error {
	err := d.writer.do(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE staff SET password_hash = ?, failed_sign_ins = 0 WHERE id = ?`, passwordHash, id)
		if err := affectedOne(res, err); err != nil {
			return err
		}
		return d.applyChange(tx, id, ch)
	})
	if err != nil {
		return fmt.Errorf("set password of staff %d: %w", id, err)
	}
	return nil
}

// affectedOne turns an UPDATE that touched no row into crm.ErrNotFound.
func affectedOne(res sql.Result, err error) error { return affectedOr(res, err, crm.ErrNotFound) }

// affectedOr turns a statement that touched no row into none; err, when not nil, is returned as it is.
func affectedOr(res sql.Result, err, none error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return none
	}
	return nil
}
