package crm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// maxUserAgent is how much of a browser's User-Agent header a session keeps: enough to tell browsers apart.
const maxUserAgent = 200

// StartSession records a new sign-in session of the actor under key (the new session ID, after the session was
// regenerated), from clientIP with userAgent (truncated). A request whose session was never started this way is
// not signed in (SessionActor).
func (a *Accounts) StartSession(ctx context.Context, actor Actor, key, clientIP, userAgent string) error {
	if key == "" || actor.ID == 0 {
		return fmt.Errorf("start session: no session key or account")
	}
	now := a.now().UTC()
	_, err := a.staff.StartStaffSession(ctx, StaffSession{StaffID: actor.ID, Key: key, CreatedAt: now, LastSeenAt: now,
		ClientIP: truncate(clientIP, 64), UserAgent: truncate(userAgent, maxUserAgent)})
	return err
}

// truncate keeps at most n bytes of s, and only valid UTF-8 (a character cut in two is dropped).
func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}

// SessionActor returns the signed-in actor for the session key whose data says it belongs to staffID. It is
// checked on every request: a session that was ended (signed out elsewhere, the password changed, the account
// disabled) or never recorded, or an account that is gone or disabled, is ErrUnauthenticated.
func (a *Accounts) SessionActor(ctx context.Context, key string, staffID int64) (Actor, error) {
	sess, err := a.staff.StaffSessionByKey(ctx, key, a.now().UTC())
	if errors.Is(err, ErrNotFound) || (err == nil && (sess.EndedAt != nil || sess.StaffID != staffID)) {
		return Actor{}, ErrUnauthenticated
	}
	if err != nil {
		return Actor{}, err
	}
	return a.Actor(ctx, staffID)
}

// Sessions returns the actor's own live sessions created after since (the absolute session limit), newest
// first.
func (a *Accounts) Sessions(ctx context.Context, actor Actor, since time.Time) ([]StaffSession, error) {
	return a.staff.ListStaffSessions(ctx, actor.ID, since, a.now().UTC())
}

// EndSession signs out one of the actor's own sessions (its browser's next request goes to the sign-in page),
// audited as session_end; ErrNotFound when the actor has no such live session.
func (a *Accounts) EndSession(ctx context.Context, actor Actor, sessionID int64) error {
	n, err := a.staff.EndStaffSessions(ctx, actor.ID, SessionFilter{ID: sessionID},
		a.change(actor, "session_end", fmt.Sprintf("session %d", sessionID)))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("session %d: %w", sessionID, ErrNotFound)
	}
	return nil
}

// EndOtherSessions signs out every session of the actor but the one with key currentKey, audited as
// session_end, and returns how many it ended.
func (a *Accounts) EndOtherSessions(ctx context.Context, actor Actor, currentKey string) (int, error) {
	return a.staff.EndStaffSessions(ctx, actor.ID, SessionFilter{ExceptKey: currentKey},
		a.change(actor, "session_end", "every other session"))
}

// SignOut ends the actor's session with that key, audited as sign_out. Signing out a session already ended
// is not an error.
func (a *Accounts) SignOut(ctx context.Context, actor Actor, key string) error {
	_, err := a.staff.EndStaffSessions(ctx, actor.ID, SessionFilter{Key: key}, a.change(actor, "sign_out", ""))
	return err
}

// EndAllAccess ends every session of the account staffID and revokes every token it has, at once, with an
// audit entry (action, detail) by actor in the same transaction. Administrators (and Frontdesk itself) only:
// ErrForbidden otherwise; ErrNotFound when there is no such account. A change that must end access in its own
// transaction (a new password, a disabled account) passes StaffChange.EndAccess to its store method instead.
func (a *Accounts) EndAllAccess(ctx context.Context, actor Actor, staffID int64, action, detail string) error {
	if actor.Role != RoleAdmin {
		return ErrForbidden
	}
	ch := a.change(actor, action, detail)
	ch.EndAccess = true
	return a.staff.EndStaffAccess(ctx, staffID, ch)
}

// SignOutEverywhere ends every session and revokes every API token of the account with that email, for an
// administrator who fears it is misused (a lost laptop, someone leaving). ErrForbidden for anyone but an
// administrator; an InputError names "email" when no account has it.
func (a *Accounts) SignOutEverywhere(ctx context.Context, actor Actor, email string) (Staff, error) {
	if actor.Role != RoleAdmin {
		return Staff{}, ErrForbidden
	}
	s, err := a.accountByEmail(ctx, email)
	if err != nil {
		return Staff{}, err
	}
	err = a.EndAllAccess(ctx, actor, s.ID, "session_end", fmt.Sprintf("every session and token of %s", s.Email))
	return s, err
}

// SignOutEveryone ends every live session of every account but the one whose key is keep (the administrator's
// own), for a clinic that fears a breach; tokens are left alone (revoke them one by one, or disable accounts).
// It returns how many sessions it ended. Administrators only: ErrForbidden otherwise.
func (a *Accounts) SignOutEveryone(ctx context.Context, actor Actor, keep string) (int, error) {
	if actor.Role != RoleAdmin {
		return 0, ErrForbidden
	}
	return a.staff.EndStaffSessions(ctx, 0, SessionFilter{ExceptKey: keep},
		a.change(actor, "session_end", "every session of every account, but the one that asked"))
}
