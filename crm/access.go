package crm

import (
	"context"
	"errors"
	"time"
)

// ErrLinkExpired: a password reset link that was already used, has expired, or belongs to an account that has
// since been disabled. The person can ask for a new one.
var ErrLinkExpired = errors.New("the link has expired or was already used")

// StaffChange is what a store does alongside a change to an account, inside the change's own transaction, so
// that the change, its audit entry and the end of the account's access stand or fall together.
type StaffChange struct {
	// At is when the change happens.
	At time.Time
	// Audit records the change; an entry with an empty Action is not written.
	Audit AuditEntry
	// EndAccess ends every session of the account (its stored session data is deleted, so the next request
	// of that browser is signed out) and revokes every API token it has.
	EndAccess bool
}

// Token is an API token's record; the token itself is shown once and never stored.
type Token struct {
	ID int64
	// StaffID and StaffEmail are the account the token acts as.
	StaffID    int64
	StaffEmail string
	Label      string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time
}

// Active reports whether the token still opens the API at now: neither revoked nor expired.
func (t Token) Active(now time.Time) bool { return t.RevokedAt == nil && now.Before(t.ExpiresAt) }

// TokenStore keeps API tokens (only their hashes).
type TokenStore interface {
	// CreateToken stores the hash of a new API token for the account, made at ch.At and expiring at expires,
	// writes ch.Audit in the same transaction, and returns the token's ID; ErrNotFound when there is no such
	// account.
	CreateToken(ctx context.Context, staffID int64, label, tokenHash string, expires time.Time, ch StaffChange) (int64, error)
	// StaffByToken returns the account whose token has that hash and is neither revoked nor expired at now, or
	// ErrNotFound. It records the token's use (at most about once a minute).
	StaffByToken(ctx context.Context, tokenHash string, now time.Time) (Staff, error)
	// GetToken returns the token with that ID, or ErrNotFound.
	GetToken(ctx context.Context, id int64) (Token, error)
	// RevokeToken revokes the token id of the account staffID at ch.At (a revoked token keeps its first
	// revocation time) and writes ch.Audit in the same transaction; ErrNotFound when it has no such token.
	RevokeToken(ctx context.Context, staffID, tokenID int64, ch StaffChange) error
	// ListTokens returns the tokens of the account staffID (every account's when staffID is 0), without
	// hashes, newest first.
	ListTokens(ctx context.Context, staffID int64) ([]Token, error)
}

// StaffSession is one sign-in of an account, from sign-in until it is ended or expires.
type StaffSession struct {
	ID      int64
	StaffID int64
	// Key is the session cookie's value: a secret, never shown to anyone or logged.
	Key        string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ClientIP and UserAgent are those of the sign-in request (the user agent truncated).
	ClientIP  string
	UserAgent string
	EndedAt   *time.Time
}

// SessionFilter picks which of an account's sessions EndStaffSessions ends; the zero filter picks them all.
type SessionFilter struct {
	// ID, when set, picks only that session.
	ID int64
	// Key, when set, picks only the session with that key.
	Key string
	// ExceptKey, when set, leaves the session with that key alone.
	ExceptKey string
}

// StaffSessionStore records sign-in sessions per account.
type StaffSessionStore interface {
	// StartStaffSession records a new session and returns its ID.
	StartStaffSession(ctx context.Context, s StaffSession) (int64, error)
	// StaffSessionByKey returns the session with that key, or ErrNotFound. It records that the session was
	// seen at now (at most about once a minute).
	StaffSessionByKey(ctx context.Context, key string, now time.Time) (StaffSession, error)
	// ListStaffSessions returns the account's sessions that are still live at now (not ended, their session
	// data not expired) and were created after createdAfter, newest first.
	ListStaffSessions(ctx context.Context, staffID int64, createdAfter, now time.Time) ([]StaffSession, error)
	// EndStaffSessions ends the account's live sessions that f picks (every account's when staffID is 0),
	// deleting their session data, writes ch.Audit in the same transaction (only when some session was ended),
	// and returns how many it ended.
	EndStaffSessions(ctx context.Context, staffID int64, f SessionFilter, ch StaffChange) (int, error)
}

// PasswordReset is a request for a new password: a single-use link, valid for a while, emailed to the account.
type PasswordReset struct {
	ID      int64
	StaffID int64
	// RequestedBy is the administrator who asked for it; 0 when the person asked from the sign-in page.
	RequestedBy int64
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UsedAt      *time.Time
}

// Usable reports whether the link still works at now.
func (r PasswordReset) Usable(now time.Time) bool { return r.UsedAt == nil && now.Before(r.ExpiresAt) }

// PasswordResetStore keeps password resets (only the hash of each link's token).
type PasswordResetStore interface {
	// CreatePasswordReset stores r under tokenHash and queues the email (kind MailPasswordReset, to recipient,
	// carrying token until it is sent), writing ch.Audit, all in one transaction.
	CreatePasswordReset(ctx context.Context, r PasswordReset, tokenHash, token, recipient string, ch StaffChange) error
	// CountPasswordResets returns how many resets of the account were asked for since then.
	CountPasswordResets(ctx context.Context, staffID int64, since time.Time) (int, error)
	// PasswordResetByHash returns the reset whose token has that hash, or ErrNotFound.
	PasswordResetByHash(ctx context.Context, tokenHash string) (PasswordReset, error)
	// UsePasswordReset marks reset id used at ch.At — and every other unused reset of its account, so no older
	// link works either — sets the account's password hash and applies ch, in one transaction. ErrLinkExpired
	// when the reset was already used or has expired by ch.At, or the account is disabled; nothing changes then.
	UsePasswordReset(ctx context.Context, id int64, passwordHash string, ch StaffChange) error
}
