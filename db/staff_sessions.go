package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

var _ crm.StaffSessionStore = (*DB)(nil)

// sessionTouchEvery is how often at most a session's last_seen_at is written.
const sessionTouchEvery = time.Minute

// applyChange does inside tx what ch asks beside a change to the account staffID: end its access, and write the
// audit entry. Store methods that change an account call it in their own transaction.
func (d *StaffStore) applyChange(tx *Tx, staffID int64, ch crm.StaffChange) error {
	if ch.EndAccess {
		if err := endAccess(tx, staffID, ch.At); err != nil {
			return err
		}
	}
	if ch.Audit.Action == "" {
		return nil
	}
	return d.appendAudit(tx, ch.Audit)
}

// endAccess ends every live session of the account — deleting its stored session data, so the browser's next
// request is signed out — and revokes every token it has, at at.
func endAccess(tx *Tx, staffID int64, at time.Time) error {
	if _, err := endSessions(tx, staffID, crm.SessionFilter{}, at); err != nil {
		return err
	}
	_, err := tx.Exec(`UPDATE api_tokens SET revoked_at = ? WHERE staff_id = ? AND revoked_at IS NULL`, ms(at), staffID)
	return err
}

// endSessions ends the account's sessions that f picks (every account's when staffID is 0) and returns how many.
func endSessions(tx *Tx, staffID int64, f crm.SessionFilter, at time.Time) (int, error) {
	where, args := `ended_at IS NULL`, []any{}
	if staffID != 0 {
		where, args = where+` AND staff_id = ?`, append(args, staffID)
	}
	if f.ID != 0 {
		where, args = where+` AND id = ?`, append(args, f.ID)
	}
	if f.Key != "" {
		where, args = where+` AND session_key = ?`, append(args, f.Key)
	}
	if f.ExceptKey != "" {
		where, args = where+` AND session_key <> ?`, append(args, f.ExceptKey)
	}
	if _, err := tx.Exec(`DELETE FROM sessions WHERE key IN (SELECT session_key FROM staff_sessions WHERE `+where+`)`,
		args...); err != nil {
		return 0, err
	}
	res, err := tx.Exec(`UPDATE staff_sessions SET ended_at = ? WHERE `+where, append([]any{ms(at)}, args...)...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// EndStaffAccess implements crm.StaffStore. It returns an error wrapping crm.ErrNotFound when there is no such
// account (nothing changes) or crm.ErrUnavailable when the database cannot take writes.
func (d *StaffStore) EndStaffAccess(ctx context.Context, id int64, ch crm.StaffChange) error {
	ch.EndAccess = true
	err := d.writer.do(ctx, func(tx *Tx) error {
		var exists bool
		if err := tx.Get(&exists, `SELECT EXISTS (SELECT 1 FROM staff WHERE id = ?)`, id); err != nil {
			return err
		}
		if !exists {
			return crm.ErrNotFound
		}
		return d.applyChange(tx, id, ch)
	})
	if err != nil {
		return fmt.Errorf("end access of staff %d: %w", id, err)
	}
	return nil
}

// StartStaffSession implements crm.StaffSessionStore: it returns the new session's ID. A key already stored or an
// unknown account breaks a constraint and is a plain database error; errors wrap crm.ErrUnavailable when the
// database cannot take writes.
func (d *StaffStore) StartStaffSession(ctx context.Context, s crm.StaffSession) (int64, error) {
	var id int64
	err := d.writer.do(ctx, func(tx *Tx) error {
		return tx.Get(&id, `INSERT INTO staff_sessions (session_key, staff_id, created_at, last_seen_at, client_ip,
				user_agent)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, s.Key, s.StaffID, ms(s.CreatedAt), ms(s.LastSeenAt), s.ClientIP,
			s.UserAgent)
	})
	if err != nil {
		return 0, fmt.Errorf("start session of staff %d: %w", s.StaffID, err)
	}
	return id, nil
}

type staffSessionRow struct {
	ID         int64         `db:"id"`
	Key        string        `db:"session_key"`
	StaffID    int64         `db:"staff_id"`
	CreatedAt  int64         `db:"created_at"`
	LastSeenAt int64         `db:"last_seen_at"`
	ClientIP   string        `db:"client_ip"`
	UserAgent  string        `db:"user_agent"`
	EndedAt    sql.NullInt64 `db:"ended_at"`
}

const staffSessionColumns = `ss.id, ss.session_key, ss.staff_id, ss.created_at, ss.last_seen_at, ss.client_ip,
	ss.user_agent, ss.ended_at`

func (r staffSessionRow) session() crm.StaffSession {
	return crm.StaffSession{ID: r.ID, Key: r.Key, StaffID: r.StaffID, CreatedAt: fromMS(r.CreatedAt),
		LastSeenAt: fromMS(r.LastSeenAt), ClientIP: r.ClientIP, UserAgent: r.UserAgent, EndedAt: nullMS(r.EndedAt)}
}

// StaffSessionByKey implements crm.StaffSessionStore. Like a token's use, the session's last_seen_at is
// written in the background at most about once a minute, so a page view does not wait for a write. It returns
// the session, ended or not (the caller judges it); an error wrapping crm.ErrNotFound when no session has key, or
// a wrapped error of the database — never one of the background write.
func (d *StaffStore) StaffSessionByKey(ctx context.Context, key string, now time.Time) (crm.StaffSession, error) {
	var r staffSessionRow
	err := d.read.GetContext(ctx, &r, `SELECT `+staffSessionColumns+` FROM staff_sessions ss WHERE ss.session_key = ?`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return crm.StaffSession{}, fmt.Errorf("session by key: %w", crm.ErrNotFound)
	}
	if err != nil {
		return crm.StaffSession{}, fmt.Errorf("session by key: %w", err)
	}
	if !r.EndedAt.Valid && now.Sub(fromMS(r.LastSeenAt)) >= sessionTouchEvery {
		d.touch(`UPDATE staff_sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at <= ?`, r.ID, now, sessionTouchEvery)
	}
	return r.session(), nil
}

// ListStaffSessions implements crm.StaffSessionStore: a session is live while it is not ended and its
// session data has not expired. None is an empty list, an unknown account included. Its only errors are the
// database's (wrapped).
func (d *StaffStore) ListStaffSessions(ctx context.Context, staffID int64, createdAfter, now time.Time) ([]crm.StaffSession, error) {
	var rows []staffSessionRow
	err := d.read.SelectContext(ctx, &rows, `SELECT `+staffSessionColumns+`
		FROM staff_sessions ss JOIN sessions f ON f.key = ss.session_key
		WHERE ss.staff_id = ? AND ss.ended_at IS NULL AND ss.created_at > ? AND (f.expires_at = 0 OR f.expires_at > ?)
		ORDER BY ss.created_at DESC, ss.id DESC`, staffID, ms(createdAfter), ms(now))
	if err != nil {
		return nil, fmt.Errorf("list sessions of staff %d: %w", staffID, err)
	}
	out := make([]crm.StaffSession, len(rows))
	for i, r := range rows {
		out[i] = r.session()
	}
	return out, nil
}

// EndStaffSessions implements crm.StaffSessionStore: it returns how many sessions it ended, 0 (and no audit entry)
// when none matched — an unknown account included. Errors wrap crm.ErrUnavailable when the database cannot take
// writes.
func (d *StaffStore) EndStaffSessions(ctx context.Context, staffID int64, f crm.SessionFilter, ch crm.StaffChange) (int, error) {
	var n int
	err := d.writer.do(ctx, func(tx *Tx) error {
		var err error
		if n, err = endSessions(tx, staffID, f, ch.At); err != nil || n == 0 {
			return err
		}
		ch.EndAccess = false // only the sessions f picks
		return d.applyChange(tx, staffID, ch)
	})
	if err != nil {
		return 0, fmt.Errorf("end sessions of staff %d: %w", staffID, err)
	}
	return n, nil
}

// purgeStaffSessions deletes the records of sessions whose session data is gone (ended, signed out or
// expired) and that were not seen for a day: a session is recorded a moment before its data is first saved, so
// a fresh record must not be taken for a stale one.
func purgeStaffSessions(tx *Tx, now time.Time) error {
	_, err := tx.Exec(`DELETE FROM staff_sessions WHERE last_seen_at < ?
		AND NOT EXISTS (SELECT 1 FROM sessions f WHERE f.key = staff_sessions.session_key)`, ms(now.Add(-24*time.Hour)))
	return err
}
