package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SessionStore keeps values with an expiry in one table: the staff's sign-in sessions (the sessions table), or
// the intake rate limit's counters (rate_limits). Its methods are exactly those of Fiber v2's fiber.Storage, so
// web can hand it to the session or limiter middleware without db importing Fiber. Writes go through the
// database's writer; reads use the read pool. Fiber's interface carries no context, so each call is bounded by
// storageTimeout.
type SessionStore struct {
	d *engine
	// table is sessions or rate_limits: a constant, never input.
	table string
}

// storageTimeout bounds each SessionStore call, which has no context of its own.
const storageTimeout = 10 * time.Second

// Sessions returns the session storage over d.
func (d *StaffStore) Sessions() *SessionStore { return &SessionStore{d: d.engine, table: "sessions"} }

// RateLimits returns the storage of the rate limits' counters (intake, password resets, set-up guesses) over d,
// shared by every process using the database. Its Reset forgets every counter.
func (d *StaffStore) RateLimits() *SessionStore {
	return &SessionStore{d: d.engine, table: "rate_limits"}
}

// Get returns the value stored under key, or nil (and no error) when there is none or it has expired.
func (s *SessionStore) Get(key string) ([]byte, error) {
	if key == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
	defer cancel()
	var val []byte
	err := s.d.read.GetContext(ctx, &val, `SELECT value FROM `+s.table+` WHERE key = ? AND (expires_at = 0 OR expires_at > ?)`,
		key, ms(time.Now()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get from %s: %w", s.table, err)
	}
	return val, nil
}

// Set stores val under key for exp (0: without expiry; a negative exp stores it already expired). An empty key
// or value is ignored, as Fiber's own storages do.
func (s *SessionStore) Set(key string, val []byte, exp time.Duration) error {
	if key == "" || len(val) == 0 {
		return nil
	}
	var expires int64
	if exp != 0 {
		expires = max(ms(time.Now().Add(exp)), 1) // 0 would mean "never"
	}
	ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
	defer cancel()
	err := s.d.writer.doLoadFree(ctx, func(tx *Tx) error {
		_, err := s.d.writer.cached(tx).Exec(`INSERT INTO `+s.table+` (key, value, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`, key, val, expires)
		return err
	})
	if err != nil {
		return fmt.Errorf("set in %s: %w", s.table, err)
	}
	return nil
}

// Delete removes the value stored under key, if any.
func (s *SessionStore) Delete(key string) error {
	if key == "" {
		return nil
	}
	return s.exec("delete from "+s.table, `DELETE FROM `+s.table+` WHERE key = ?`, key)
}

// Reset removes every value: on sessions, everybody is signed out.
func (s *SessionStore) Reset() error {
	return s.exec("reset "+s.table, `DELETE FROM `+s.table)
}

// Close does nothing: the database is closed by its owner.
func (s *SessionStore) Close() error { return nil }

func (s *SessionStore) exec(what, query string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
	defer cancel()
	err := s.d.writer.doLoadFree(ctx, func(tx *Tx) error {
		_, err := tx.Exec(query, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// PurgeExpiredSessions deletes the sessions whose expiry has passed and returns how many, the expired rate-limit
// counters, and the records of
// sessions long gone (see purgeStaffSessions); serve calls it periodically (Get already ignores them, this only
// reclaims the space). Errors wrap crm.ErrUnavailable when the database cannot take writes.
func (d *StaffStore) PurgeExpiredSessions(ctx context.Context) (int, error) {
	var n int64
	err := d.writer.do(ctx, func(tx *Tx) error {
		now := time.Now()
		res, err := tx.Exec(`DELETE FROM sessions WHERE expires_at > 0 AND expires_at <= ?`, ms(now))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM rate_limits WHERE expires_at > 0 AND expires_at <= ?`, ms(now)); err != nil {
			return err
		}
		return purgeStaffSessions(tx, now)
	})
	if err != nil {
		return 0, fmt.Errorf("purge expired sessions: %w", err)
	}
	return int(n), nil
}
