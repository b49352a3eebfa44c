package crm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Token lifetimes, in days: the default for a new token (FRONTDESK_TOKEN_DAYS) and the bounds of any asked for.
const (
	DefaultTokenDays = 90
	MinTokenDays     = 1
	MaxTokenDays     = 3650
)

// SetTokenDays sets the lifetime of a new API token when none is asked for (FRONTDESK_TOKEN_DAYS); an
// InputError naming "days" when it is outside MinTokenDays..MaxTokenDays. Call it before serving.
func (a *Accounts) SetTokenDays(days int) error {
	if days < MinTokenDays || days > MaxTokenDays {
		return InputError{"days": tokenDaysMessage}
	}
	a.tokenDays = days
	return nil
}

// TokenDays is the lifetime, in days, of a new API token when none is asked for.
func (a *Accounts) TokenDays() int { return a.tokenDays }

var tokenDaysMessage = fmt.Sprintf("Give a lifetime of %d to %d days.", MinTokenDays, MaxTokenDays)

// ActorByToken returns the actor an API token belongs to; ErrUnauthenticated for an unknown, revoked or
// expired token or a disabled account.
func (a *Accounts) ActorByToken(ctx context.Context, token string) (Actor, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 200 {
		return Actor{}, ErrUnauthenticated
	}
	s, err := a.staff.StaffByToken(ctx, TokenHash(token), a.now().UTC())
	if errors.Is(err, ErrNotFound) || (err == nil && s.Disabled) {
		return Actor{}, ErrUnauthenticated
	}
	if err != nil {
		return Actor{}, err
	}
	return actorOf(s), nil
}

// CreateToken makes a new API token, with the default lifetime, for the account with that email and returns
// it; see IssueToken.
func (a *Accounts) CreateToken(ctx context.Context, actor Actor, email, label string) (string, error) {
	token, _, err := a.IssueToken(ctx, actor, email, label, 0)
	return token, err
}

// IssueToken makes a new API token for the account with that email, expiring after days (0: the default of
// SetTokenDays), and returns the token and its record. The token is shown once: only its hash is kept. Admins
// may make tokens for anyone, others only for themselves (ErrForbidden). An InputError names "label", "days"
// or "email" (no such account, or a disabled one). The token_create audit entry is written with the token.
func (a *Accounts) IssueToken(ctx context.Context, actor Actor, email, label string, days int) (string, Token, error) {
	label = strings.TrimSpace(label)
	errs := InputError{}
	if label == "" || len(label) > 100 {
		errs["label"] = "Give the token a label of 1 to 100 characters, saying where it is used."
	}
	if days == 0 {
		days = a.tokenDays
	}
	if days < MinTokenDays || days > MaxTokenDays {
		errs["days"] = tokenDaysMessage
	}
	if len(errs) > 0 {
		return "", Token{}, errs
	}
	s, err := a.accountByEmail(ctx, email)
	if err != nil {
		return "", Token{}, err
	}
	if actor.Role != RoleAdmin && actor.ID != s.ID {
		return "", Token{}, ErrForbidden
	}
	if s.Disabled {
		return "", Token{}, InputError{"email": fmt.Sprintf("The account %s is disabled.", s.Email)}
	}
	token, hash, err := NewToken()
	if err != nil {
		return "", Token{}, err
	}
	ch := a.change(actor, "token_create", fmt.Sprintf("for %s: %s, %d days", s.Email, label, days))
	expires := ch.At.Add(time.Duration(days) * 24 * time.Hour)
	id, err := a.staff.CreateToken(ctx, s.ID, label, hash, expires, ch)
	if err != nil {
		return "", Token{}, err
	}
	return token, Token{ID: id, StaffID: s.ID, StaffEmail: s.Email, Label: label, CreatedAt: ch.At, ExpiresAt: expires}, nil
}

// RevokeToken revokes one of the account staffID's tokens (admins: anyone's; others: their own, else
// ErrForbidden); ErrNotFound when that account has no such token.
func (a *Accounts) RevokeToken(ctx context.Context, actor Actor, staffID, tokenID int64) error {
	if actor.Role != RoleAdmin && actor.ID != staffID {
		return ErrForbidden
	}
	return a.revoke(ctx, actor, staffID, tokenID)
}

// RevokeTokenByID revokes token id at once: administrators may revoke any token, others only their own. A
// token of someone else's is ErrNotFound to a non-administrator, as if it did not exist.
func (a *Accounts) RevokeTokenByID(ctx context.Context, actor Actor, id int64) (Token, error) {
	t, err := a.staff.GetToken(ctx, id)
	if err != nil {
		return Token{}, err
	}
	if actor.Role != RoleAdmin && actor.ID != t.StaffID {
		return Token{}, fmt.Errorf("token %d: %w", id, ErrNotFound)
	}
	if err := a.revoke(ctx, actor, t.StaffID, id); err != nil {
		return Token{}, err
	}
	return t, nil
}

func (a *Accounts) revoke(ctx context.Context, actor Actor, staffID, tokenID int64) error {
	return a.staff.RevokeToken(ctx, staffID, tokenID, a.change(actor, "token_revoke",
		fmt.Sprintf("token %d of staff %d", tokenID, staffID)))
}

// Tokens lists the account staffID's tokens, newest first (admins: anyone's; others: their own, else
// ErrForbidden). staffID 0 lists every account's tokens, for administrators only.
func (a *Accounts) Tokens(ctx context.Context, actor Actor, staffID int64) ([]Token, error) {
	if actor.Role != RoleAdmin && (staffID == 0 || actor.ID != staffID) {
		return nil, ErrForbidden
	}
	return a.staff.ListTokens(ctx, staffID)
}
