package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SessionStore keeps the staff's sign-in sessions in the sessions table. Its methods are exactly those of
// Fiber v2's fiber.Storage, so web can hand it to the session middleware without db importing Fiber. Writes go
// through the database's group-commit writer; reads use the read pool. Fiber's interface carries no context,
// so each call is bounded by storageTimeout.
type SessionStore struct {
	d *DB
}

// storageTimeout bounds each SessionStore call, which has no context of its own.
const storageTimeout = 10 * time.Second

// Sessions returns the session storage over d.
func (d *DB) Sessions() *SessionStore { return &SessionStore{d: d} }

// Get returns the value stored under key, or nil (and no error) when there is none or it has expired.
func (s *SessionStore) Get(key string) ([]byte, error) {
	if key == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
	defer cancel()
	var val []byte
	err := s.d.read.GetContext(ctx, &val, `SELECT value FROM sessions WHERE key = ? AND (expires_at = 0 OR expires_at > ?)`,
		key, ms(time.Now()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get session: %w", err)
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
	err := s.d.writer.do(ctx, func(tx *Tx) error {
		_, err := s.d.writer.cached(tx).Exec(`INSERT INTO sessions (key, value, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`, key, val, expires)
		return err
	})
	if err != nil {
		return fmt.Errorf("set session: %w", err)
	}
	return nil
}

// Delete removes the value stored under key, if any.
func (s *SessionStore) Delete(key string) error {
	if key == "" {
		return nil
	}
	return s.exec("delete session", `DELETE FROM sessions WHERE key = ?`, key)
}

// Reset removes every session: everybody is signed out.
func (s *SessionStore) Reset() error {
	return s.exec("reset sessions", `DELETE FROM sessions`)
}

// Close does nothing: the database is closed by its owner.
func (s *SessionStore) Close() error { return nil }

func (s *SessionStore) exec(what, query string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), storageTimeout)
	defer cancel()
	err := s.d.writer.do(ctx, func(tx *Tx) error {
		_, err := tx.Exec(query, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// PurgeExpiredSessions deletes the sessions whose expiry has passed and returns how many, and the records of
// sessions long gone (see purgeStaffSessions); serve calls it periodically (Get already ignores them, this only
// reclaims the space).
func (d *DB) PurgeExpiredSessions(ctx context.Context) (int, error) {
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
		return purgeStaffSessions(tx, now)
	})
	if err != nil {
		return 0, fmt.Errorf("purge expired sessions: %w", err)
	}
	return int(n), nil
}
