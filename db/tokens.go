package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// tokenTouchEvery is how often at most a token's last_used_at is written, so reads through the API do not each
// become a write.
const tokenTouchEvery = time.Minute

// CreateToken implements crm.TokenStore: it returns the new token's ID. Errors wrap crm.ErrNotFound when there is
// no such account (nothing changes) or crm.ErrUnavailable when the database cannot take writes; a token hash
// already stored breaks a UNIQUE constraint and is a plain database error.
func (d *StaffStore) CreateToken(ctx context.Context, staffID int64, label, tokenHash string, expires time.Time, ch crm.StaffChange) (int64, error) {
	var id int64
	err := d.writer.do(ctx, func(tx *Tx) error {
		var exists bool
		if err := tx.Get(&exists, `SELECT EXISTS (SELECT 1 FROM staff WHERE id = ?)`, staffID); err != nil {
			return err
		}
		if !exists {
			return crm.ErrNotFound
		}
		err := tx.Get(&id, `INSERT INTO api_tokens (staff_id, label, token_hash, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, staffID, label, tokenHash, ms(ch.At), ms(expires))
		if err != nil {
			return err
		}
		return d.applyChange(tx, staffID, ch)
	})
	if err != nil {
		return 0, fmt.Errorf("create token for staff %d: %w", staffID, err)
	}
	return id, nil
}

// StaffByToken implements crm.TokenStore. It records the token's use at most about once a minute, in the
// background through the writer, so the request never waits for it. It returns the account, disabled or not
// (the caller judges it); an error wrapping crm.ErrNotFound when no live token has the hash, or a wrapped error of
// the database — never one of the background write.
func (d *StaffStore) StaffByToken(ctx context.Context, tokenHash string, now time.Time) (crm.Staff, error) {
	var row struct {
		staffRow
		TokenID  int64         `db:"token_id"`
		LastUsed sql.NullInt64 `db:"last_used_at"`
	}
	err := d.read.GetContext(ctx, &row, staffSelectWithoutHash+`, k.id AS token_id, k.last_used_at
		FROM api_tokens k JOIN staff s ON s.id = k.staff_id
		WHERE k.token_hash = ? AND k.revoked_at IS NULL AND k.expires_at > ?`, tokenHash, ms(now))
	if errors.Is(err, sql.ErrNoRows) {
		return crm.Staff{}, fmt.Errorf("staff by token: %w", crm.ErrNotFound)
	}
	if err != nil {
		return crm.Staff{}, fmt.Errorf("staff by token: %w", err)
	}
	if !row.LastUsed.Valid || now.Sub(fromMS(row.LastUsed.Int64)) >= tokenTouchEvery {
		d.touch(`UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
			row.TokenID, now, tokenTouchEvery)
	}
	return row.staff(), nil
}

// touch records in the background that row id (of the UPDATE query, whose arguments are the time, the id and
// the time every before) was used at now. Requests that arrive before the write commits may each ask for it
// again; the query's condition makes the repeats change nothing.
func (d *StaffStore) touch(query string, id int64, now time.Time, every time.Duration) {
	go func() {
		// Best effort: a lost touch only leaves "last used" older than it should be.
		_ = d.writer.do(context.Background(), func(tx *Tx) error {
			_, err := d.writer.cached(tx).Exec(query, ms(now), id, ms(now.Add(-every)))
			return err
		})
	}()
}

// RevokeToken implements crm.TokenStore. Revoking a revoked token keeps its first revocation time (and writes
// ch.Audit again). Errors wrap crm.ErrNotFound when the account has no such token (nothing changes) or
// crm.ErrUnavailable when the database cannot take writes.
func (d *StaffStore) RevokeToken(ctx context.Context, staffID, tokenID int64, ch crm.StaffChange) error {
	err := d.writer.do(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? AND staff_id = ?`,
			ms(ch.At), tokenID, staffID)
		if err := affectedOne(res, err); err != nil {
			return err
		}
		return d.applyChange(tx, staffID, ch)
	})
	if err != nil {
		return fmt.Errorf("revoke token %d of staff %d: %w", tokenID, staffID, err)
	}
	return nil
}

// tokenRow is an api_tokens row with its owner's email, without the hash.
type tokenRow struct {
	ID         int64         `db:"id"`
	StaffID    int64         `db:"staff_id"`
	StaffEmail string        `db:"email"`
	Label      string        `db:"label"`
	CreatedAt  int64         `db:"created_at"`
	LastUsed   sql.NullInt64 `db:"last_used_at"`
	ExpiresAt  int64         `db:"expires_at"`
	RevokedAt  sql.NullInt64 `db:"revoked_at"`
}

const tokenSelect = `SELECT k.id, k.staff_id, s.email, k.label, k.created_at, k.last_used_at, k.expires_at, k.revoked_at
	FROM api_tokens k JOIN staff s ON s.id = k.staff_id`

func (r tokenRow) token() crm.Token {
	return crm.Token{ID: r.ID, StaffID: r.StaffID, StaffEmail: r.StaffEmail, Label: r.Label,
		CreatedAt: fromMS(r.CreatedAt), LastUsedAt: nullMS(r.LastUsed), ExpiresAt: fromMS(r.ExpiresAt),
		RevokedAt: nullMS(r.RevokedAt)}
}

// GetToken implements crm.TokenStore: the token without its hash, revoked or expired included. It returns an
// error wrapping crm.ErrNotFound when there is no such token, or a wrapped error of the database.
func (d *StaffStore) GetToken(ctx context.Context, id int64) (crm.Token, error) {
	var r tokenRow
	err := d.read.GetContext(ctx, &r, tokenSelect+` WHERE k.id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return crm.Token{}, fmt.Errorf("get token %d: %w", id, crm.ErrNotFound)
	}
	if err != nil {
		return crm.Token{}, fmt.Errorf("get token %d: %w", id, err)
	}
	return r.token(), nil
}

// ListTokens implements crm.TokenStore: revoked and expired tokens included, newest first (created_at, then id);
// none is an empty list. Its only errors are the database's (wrapped).
func (d *StaffStore) ListTokens(ctx context.Context, staffID int64) ([]crm.Token, error) {
	var rows []tokenRow
	err := d.read.SelectContext(ctx, &rows, tokenSelect+` WHERE ? = 0 OR k.staff_id = ?
		ORDER BY k.created_at DESC, k.id DESC`, staffID, staffID)
	if err != nil {
		return nil, fmt.Errorf("list tokens of staff %d: %w", staffID, err)
	}
	out := make([]crm.Token, len(rows))
	for i, r := range rows {
		out[i] = r.token()
	}
	return out, nil
}
