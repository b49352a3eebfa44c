package crm_test

import (
	"context"
	"errors"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
)

func TestEndAllAccess(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	token, err := w.accounts.CreateToken(ctx, crm.System, "clin@clinic.example", "script")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.accounts.StartSession(ctx, w.clin, "session-key-1", "192.0.2.7", "Firefox"); err != nil {
		t.Fatal(err)
	}
	if a, err := w.accounts.SessionActor(ctx, "session-key-1", w.clin.ID); err != nil || a.ID != w.clin.ID {
		t.Fatalf("session before: %+v, %v", a, err)
	}
	// A session is the account's it was started for, and no other's.
	if _, err := w.accounts.SessionActor(ctx, "session-key-1", w.other.ID); !errors.Is(err, crm.ErrUnauthenticated) {
		t.Errorf("a session opened another account: %v", err)
	}
	if err := w.accounts.EndAllAccess(ctx, w.coord, w.clin.ID, "2fa_reset", "x"); !errors.Is(err, crm.ErrForbidden) {
		t.Errorf("a coordinator ended someone's access: %v", err)
	}
	if err := w.accounts.EndAllAccess(ctx, crm.System, 999, "2fa_reset", "x"); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("no such account: %v", err)
	}
	if err := w.accounts.EndAllAccess(ctx, w.admin, w.clin.ID, "2fa_reset", "second factor reset"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.accounts.SessionActor(ctx, "session-key-1", w.clin.ID); !errors.Is(err, crm.ErrUnauthenticated) {
		t.Errorf("session after EndAllAccess: %v", err)
	}
	if _, err := w.accounts.ActorByToken(ctx, token); !errors.Is(err, crm.ErrUnauthenticated) {
		t.Errorf("token after EndAllAccess: %v", err)
	}
	entries, _, err := w.db.ListAudit(ctx, crm.AuditQuery{Action: "2fa_reset"})
	if err != nil || len(entries) != 1 || entries[0].Actor == nil || entries[0].Actor.ID != w.admin.ID {
		t.Errorf("audit: %+v, %v", entries, err)
	}
	// The account itself still signs in: only its access so far was ended.
	if _, err := w.accounts.Authenticate(ctx, "clin@clinic.example", "correct horse battery staple"); err != nil {
		t.Errorf("sign in after EndAllAccess: %v", err)
	}
}

func TestTokenLifetimes(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if err := w.accounts.SetTokenDays(0); err == nil {
		t.Error("a lifetime of 0 days was accepted")
	}
	if err := w.accounts.SetTokenDays(30); err != nil {
		t.Fatal(err)
	}
	_, tok, err := w.accounts.IssueToken(ctx, w.coord, "coord@clinic.example", "script", 0)
	if err != nil || tok.ExpiresAt.Sub(tok.CreatedAt).Hours() != 30*24 {
		t.Errorf("default lifetime: %+v, %v", tok, err)
	}
	for _, days := range []int{-1, crm.MaxTokenDays + 1} {
		var ie crm.InputError
		if _, _, err := w.accounts.IssueToken(ctx, w.coord, "coord@clinic.example", "script", days); !errors.As(err, &ie) || ie["days"] == "" {
			t.Errorf("%d days: %v", days, err)
		}
	}
	// Only administrators make tokens for others, or list everyone's.
	if _, _, err := w.accounts.IssueToken(ctx, w.coord, "clin@clinic.example", "script", 1); !errors.Is(err, crm.ErrForbidden) {
		t.Errorf("a coordinator made a token for a clinician: %v", err)
	}
	if _, err := w.accounts.Tokens(ctx, w.coord, 0); !errors.Is(err, crm.ErrForbidden) {
		t.Errorf("a coordinator listed every token: %v", err)
	}
}
