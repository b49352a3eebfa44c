package crm

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// MaxFailedSignIns is how many consecutive failed sign-ins, from any clients, an account takes before it is
// refused until its password is reset (NIST SP 800-63B §5.2.2 allows at most 100). Clients that fail are slowed
// down long before that, each on its own (web), so one attacker cannot lock a colleague out.
const MaxFailedSignIns = 100

// ErrSignInLocked: the account has had MaxFailedSignIns failed sign-ins in a row; an administrator must reset
// its password (or clear the count) before it can sign in again.
var ErrSignInLocked = errors.New("too many failed sign-ins: the password must be reset")

// PasswordCheck is a correct email and password: the account, and whether sign-in needs its second factor
// (VerifySecondFactor) or is complete (CompleteSignIn).
type PasswordCheck struct {
	Actor        Actor
	SecondFactor bool
}

// CheckSignIn checks an email and password given from client (an IP address, for the audit log). A failure
// is recorded — the account's count of consecutive failures grows and a sign_in_failed entry names the account
// if it exists, never the password — and returned as ErrUnauthenticated, the same for an unknown account, a
// wrong password and a disabled account. An account past MaxFailedSignIns answers ErrSignInLocked whatever
// the password. Nothing is recorded for a correct password: the sign-in is not complete yet.
func (a *Accounts) CheckSignIn(ctx context.Context, email, password, client string) (PasswordCheck, error) {
	s, hash, err := a.staff.StaffByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, ErrNotFound) {
		_, _ = CheckPassword(dummyHash(), password)
		return PasswordCheck{}, a.signInFailed(ctx, nil, "unknown account", client)
	}
	if err != nil {
		return PasswordCheck{}, err
	}
	ok, err := CheckPassword(hash, password)
	if err != nil {
		return PasswordCheck{}, fmt.Errorf("check password of staff %d: %w", s.ID, err)
	}
	switch {
	case s.FailedSignIns >= MaxFailedSignIns:
		e := a.signInEntry(&s, "sign_in_failed", "refused: too many failed sign-ins, the password must be reset", client)
		if err := a.staff.RecordSignIn(ctx, 0, false, e); err != nil {
			return PasswordCheck{}, err
		}
		return PasswordCheck{}, ErrSignInLocked
	case s.Disabled:
		return PasswordCheck{}, a.signInFailed(ctx, &s, "account disabled", client)
	case !ok:
		return PasswordCheck{}, a.signInFailed(ctx, &s, "wrong password", client)
	}
	return PasswordCheck{Actor: actorOf(s), SecondFactor: s.SecondFactor}, nil
}

// CompleteSignIn records the sign-in of an account that has no second factor (its password was checked by
// CheckSignIn): a sign_in entry, and its failed sign-in count back to 0, in one transaction.
func (a *Accounts) CompleteSignIn(ctx context.Context, actor Actor, client string) error {
	s, err := a.staff.GetStaff(ctx, actor.ID)
	if err != nil {
		return err
	}
	e := a.signInEntry(&s, "sign_in", "with password; no second factor enrolled", client)
	if err := a.staff.RecordSignIn(ctx, s.ID, true, e); err != nil {
		return fmt.Errorf("record sign-in of staff %d: %w", s.ID, err)
	}
	return nil
}

// VerifySecondFactor completes the sign-in of account staffID, whose password was checked by CheckSignIn,
// with code: a current code from its authenticator app or one of its unused recovery codes. Accepted, the
// code is used up, the sign-in is recorded and the failed count returns to 0, all in one transaction, and the
// account is returned. A wrong code is recorded as a failed sign-in and answered ErrCodeRefused (ErrCodeReused
// for a correct code already used); ErrUnauthenticated when the account is gone or disabled; ErrSignInLocked
// past MaxFailedSignIns.
func (a *Accounts) VerifySecondFactor(ctx context.Context, staffID int64, code, client string) (Actor, error) {
	s, err := a.staff.GetStaff(ctx, staffID)
	if errors.Is(err, ErrNotFound) || (err == nil && s.Disabled) {
		return Actor{}, ErrUnauthenticated
	}
	if err != nil {
		return Actor{}, err
	}
	if s.FailedSignIns >= MaxFailedSignIns {
		return Actor{}, ErrSignInLocked
	}
	f, err := a.staff.SecondFactor(ctx, staffID)
	if err != nil {
		return Actor{}, fmt.Errorf("second factor of staff %d: %w", staffID, err)
	}
	now := a.now()
	u := FactorUse{StaffID: staffID, At: now.UTC(), SignIn: true}
	if step, ok := matchTOTP(f.Secret, code, now, f.LastStep); ok {
		u.Step = step
		u.Audit = []AuditEntry{a.signInEntry(&s, "sign_in", "with password and authenticator code", client)}
	} else if id := matchRecoveryCode(f.RecoveryCodes, code); id != 0 {
		u.RecoveryCodeID = id
		left := len(f.RecoveryCodes) - 1
		u.Audit = []AuditEntry{
			a.signInEntry(&s, "recovery_code_used", fmt.Sprintf("%d recovery codes left", left), client),
			a.signInEntry(&s, "sign_in", "with password and a recovery code", client),
		}
	} else {
		reason, refused := "wrong second-factor code", ErrCodeRefused
		if codeReused(f.Secret, code, now, f.LastStep) {
			reason, refused = "second-factor code used already", ErrCodeReused
		}
		if err := a.signInFailed(ctx, &s, reason, client); !errors.Is(err, ErrUnauthenticated) {
			return Actor{}, err
		}
		return Actor{}, refused
	}
	err = a.staff.UseSecondFactor(ctx, u)
	if errors.Is(err, ErrCodeRefused) {
		// Another request used the same code first.
		if err := a.signInFailed(ctx, &s, "second-factor code used already", client); !errors.Is(err, ErrUnauthenticated) {
			return Actor{}, err
		}
		return Actor{}, ErrCodeReused
	}
	if err != nil {
		return Actor{}, fmt.Errorf("use second factor of staff %d: %w", staffID, err)
	}
	return actorOf(s), nil
}

// ClearFailedSignIns sets the failed sign-in count of the account with that email back to 0, so an account
// refused after MaxFailedSignIns may sign in again (admins and Frontdesk itself only; setting a new password
// does it too). An InputError names "email" when no account has it.
func (a *Accounts) ClearFailedSignIns(ctx context.Context, actor Actor, email string) error {
	if actor.Role != RoleAdmin {
		return ErrForbidden
	}
	s, err := a.accountByEmail(ctx, email)
	if err != nil {
		return err
	}
	return a.staff.ClearFailedSignIns(ctx, s.ID, a.entry(actor, "staff_update", fmt.Sprintf("%s: failed sign-ins cleared", s.Email)))
}

// signInFailed records a failed sign-in (on the account s, if known) and returns ErrUnauthenticated, or the
// error that kept it from being recorded.
func (a *Accounts) signInFailed(ctx context.Context, s *Staff, reason, client string) error {
	var id int64
	if s != nil {
		id = s.ID
	}
	if err := a.staff.RecordSignIn(ctx, id, false, a.signInEntry(s, "sign_in_failed", reason, client)); err != nil {
		return fmt.Errorf("record failed sign-in: %w", err)
	}
	return ErrUnauthenticated
}

// signInEntry is a sign-in audit entry for the account s (nil: unknown; what was typed as the email is never
// kept, since people type passwords into it), with the client's address.
func (a *Accounts) signInEntry(s *Staff, action, detail, client string) AuditEntry {
	e := AuditEntry{At: a.now().UTC(), Action: action, Detail: detail}
	if s != nil {
		e.Actor = &StaffRef{ID: s.ID, Email: s.Email, Name: s.Name}
	}
	if client != "" {
		e.Detail += " from " + client
	}
	return e
}
