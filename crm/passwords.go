package crm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Password resets: a link is valid for ResetLinkValid, and at most MaxResetsPerHour are sent to one account in
// an hour, whoever asks, so the feature cannot be used to flood someone's inbox.
const (
	ResetLinkValid   = time.Hour
	MaxResetsPerHour = 3
)

// ChangePassword sets the actor's own password, given the current one. An InputError names
// "current_password" (wrong) or "new_password" (PasswordProblem). The change ends every session of the account
// and revokes every token it has, audited as password_change, in one transaction: the caller signs the
// current browser in again with a new session.
func (a *Accounts) ChangePassword(ctx context.Context, actor Actor, current, next string) error {
	s, hash, err := a.staff.StaffByEmail(ctx, actor.Email)
	if err != nil {
		return err
	}
	ok, err := CheckPassword(hash, current)
	if err != nil {
		return fmt.Errorf("check password of staff %d: %w", s.ID, err)
	}
	errs := InputError{}
	if !ok {
		errs["current_password"] = "That is not your current password."
	}
	if msg := a.passwordProblem(next, s.Email, s.Name); msg != "" {
		errs["new_password"] = msg
	}
	if len(errs) > 0 {
		return errs
	}
	newHash, err := HashPassword(next)
	if err != nil {
		return err
	}
	ch := a.change(actor, "password_change", s.Email+": every session ended and every token revoked")
	ch.EndAccess = true
	return a.staff.SetPassword(ctx, s.ID, newHash, ch)
}

// SendPasswordReset emails the account with that email a single-use link to choose a new password, valid for
// ResetLinkValid; administrators only (ErrForbidden). An InputError names "email" when there is no such
// account, it is disabled, or MaxResetsPerHour links were sent to it in the last hour.
func (a *Accounts) SendPasswordReset(ctx context.Context, actor Actor, email string) (Staff, error) {
	if actor.Role != RoleAdmin {
		return Staff{}, ErrForbidden
	}
	s, err := a.accountByEmail(ctx, email)
	if err != nil {
		return Staff{}, err
	}
	if s.Disabled {
		return Staff{}, InputError{"email": fmt.Sprintf("The account %s is disabled: enable it first.", s.Email)}
	}
	sent, err := a.queueReset(ctx, actor, s)
	if err != nil {
		return Staff{}, err
	}
	if !sent {
		return Staff{}, InputError{"email": fmt.Sprintf("%d reset links were sent to %s in the last hour; ask them to use the latest.", MaxResetsPerHour, s.Email)}
	}
	return s, nil
}

// ForgotPassword is a request from the sign-in page: when an active account has that email, and fewer than
// MaxResetsPerHour links were sent to it in the last hour, it is emailed a reset link. It says nothing of
// whether any of that was so — the page answers the same either way — and returns only failures to store.
func (a *Accounts) ForgotPassword(ctx context.Context, email string) error {
	s, _, err := a.staff.StaffByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, ErrNotFound) || (err == nil && s.Disabled) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = a.queueReset(ctx, System, s)
	return err
}

// queueReset stores a new reset for s and queues its email, audited as password_reset_request by actor; false
// when the hourly limit was reached (nothing is stored then).
func (a *Accounts) queueReset(ctx context.Context, actor Actor, s Staff) (bool, error) {
	now := a.now().UTC()
	n, err := a.staff.CountPasswordResets(ctx, s.ID, now.Add(-time.Hour))
	if err != nil {
		return false, err
	}
	if n >= MaxResetsPerHour {
		a.log.Warn("password reset limit reached", "staff", s.ID)
		return false, nil
	}
	token, hash, err := NewToken()
	if err != nil {
		return false, err
	}
	detail := "for " + s.Email + ", asked from the sign-in page"
	if !actor.IsSystem() {
		detail = "for " + s.Email + ", asked by an administrator"
	}
	ch := a.change(actor, "password_reset_request", detail)
	r := PasswordReset{StaffID: s.ID, RequestedBy: actor.ID, CreatedAt: ch.At, ExpiresAt: ch.At.Add(ResetLinkValid)}
	if err := a.staff.CreatePasswordReset(ctx, r, hash, token, s.Email, ch); err != nil {
		return false, err
	}
	return true, nil
}

// PasswordResetFor checks a reset link's token: ErrNotFound when no link has it, ErrLinkExpired when it was
// used, has expired, or its account is disabled.
func (a *Accounts) PasswordResetFor(ctx context.Context, token string) (PasswordReset, error) {
	if token == "" || len(token) > 200 {
		return PasswordReset{}, ErrNotFound
	}
	r, err := a.staff.PasswordResetByHash(ctx, TokenHash(token))
	if err != nil {
		return PasswordReset{}, err
	}
	if !r.Usable(a.now()) {
		return PasswordReset{}, ErrLinkExpired
	}
	s, err := a.staff.GetStaff(ctx, r.StaffID)
	if err != nil {
		return PasswordReset{}, err
	}
	if s.Disabled {
		return PasswordReset{}, ErrLinkExpired
	}
	return r, nil
}

// ResetPassword sets a new password through a reset link's token. An InputError names "password"
// (PasswordProblem); ErrNotFound or ErrLinkExpired as PasswordResetFor. In one transaction the link (and every
// other unused link of the account) is marked used, the password set, every session of the account ended and
// every token revoked, audited as password_reset.
func (a *Accounts) ResetPassword(ctx context.Context, token, password string) error {
	r, err := a.PasswordResetFor(ctx, token)
	if err != nil {
		return err
	}
	s, err := a.staff.GetStaff(ctx, r.StaffID)
	if err != nil {
		return err
	}
	if msg := a.passwordProblem(password, s.Email, s.Name); msg != "" {
		return InputError{"password": msg}
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	ch := a.change(actorOf(s), "password_reset", s.Email+": every session ended and every token revoked")
	ch.EndAccess = true
	return a.staff.UsePasswordReset(ctx, r.ID, hash, ch)
}
