package crm_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/pquerna/otp/totp"
)

// clock is a settable time for the accounts service.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// code is the TOTP code of secret for the time step step.
func code(t *testing.T, secret string, step int64) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, time.Unix(step*crm.TOTPPeriod, 0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolled enrols w.coord at the clock's time and returns its secret and recovery codes.
func enrolled(t *testing.T, w *world, clk *clock) (string, []string) {
	t.Helper()
	e, err := w.accounts.NewEnrolment(w.coord, "Harbour Clinic")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.accounts.Enrol(context.Background(), w.coord, e.Secret, "000000x"); !isField(err, "code") {
		t.Fatalf("a malformed code: %v", err)
	}
	codes, err := w.accounts.Enrol(context.Background(), w.coord, e.Secret, code(t, e.Secret, clk.t.Unix()/crm.TOTPPeriod))
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != crm.RecoveryCodeCount {
		t.Fatalf("%d recovery codes", len(codes))
	}
	return e.Secret, codes
}

func isField(err error, field string) bool {
	var ie crm.InputError
	return errors.As(err, &ie) && ie[field] != ""
}

// TestTOTPSkewAndReplay: a code is accepted for its own time step and one step either side, never two; and
// never twice, nor any code of a step at or before the last one accepted.
func TestTOTPSkewAndReplay(t *testing.T) {
	w := newWorld(t)
	clk := &clock{t: w.now}
	w.accounts.SetClock(clk.now)
	secret, _ := enrolled(t, w, clk)
	clk.t = clk.t.Add(10 * crm.TOTPPeriod * time.Second)
	now := clk.t.Unix() / crm.TOTPPeriod
	ctx := context.Background()
	steps := []struct {
		step int64
		want error // nil: accepted
	}{
		{now - 2, crm.ErrCodeRefused},
		{now + 2, crm.ErrCodeRefused},
		{now - 1, nil},
		{now - 1, crm.ErrCodeReused}, // the same code again
		{now, nil},
		{now, crm.ErrCodeReused},
		{now - 1, crm.ErrCodeReused}, // an earlier step than the last accepted
		{now + 1, nil},
		{now + 1, crm.ErrCodeReused},
	}
	for i, s := range steps {
		_, err := w.accounts.VerifySecondFactor(ctx, w.coord.ID, code(t, secret, s.step), "192.0.2.1")
		switch {
		case s.want == nil && err != nil:
			t.Errorf("%d: step %+d refused: %v", i, s.step-now, err)
		case s.want != nil && !errors.Is(err, s.want):
			t.Errorf("%d: step %+d: %v, want %v", i, s.step-now, err, s.want)
		}
		if errors.Is(s.want, crm.ErrCodeRefused) && !errors.Is(s.want, crm.ErrCodeReused) && errors.Is(err, crm.ErrCodeReused) {
			t.Errorf("%d: step %+d called a replay although it never matched", i, s.step-now)
		}
	}
	s, err := w.db.GetStaff(ctx, w.coord.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.FailedSignIns != 1 {
		t.Errorf("failed count %d, want 1: the reuse after the last sign-in", s.FailedSignIns)
	}
}

// TestRecoveryCodeWorksOnce: each recovery code signs in once, in any case and spacing; failures count.
func TestRecoveryCodeWorksOnce(t *testing.T) {
	w := newWorld(t)
	clk := &clock{t: w.now}
	w.accounts.SetClock(clk.now)
	_, codes := enrolled(t, w, clk)
	ctx := context.Background()
	if _, err := w.accounts.VerifySecondFactor(ctx, w.coord.ID, "abcd-efgh-jkmn", ""); !errors.Is(err, crm.ErrCodeRefused) {
		t.Errorf("an invented recovery code: %v", err)
	}
	a, err := w.accounts.VerifySecondFactor(ctx, w.coord.ID, " "+codes[2]+" ", "")
	if err != nil || a.ID != w.coord.ID {
		t.Fatalf("a recovery code: %v %+v", err, a)
	}
	if _, err := w.accounts.VerifySecondFactor(ctx, w.coord.ID, codes[2], ""); !errors.Is(err, crm.ErrCodeRefused) {
		t.Errorf("the same recovery code again: %v", err)
	}
	st, err := w.accounts.TwoFactorStatus(ctx, w.coord)
	if err != nil || !st.Enrolled || st.RecoveryCodesLeft != crm.RecoveryCodeCount-1 {
		t.Errorf("status %+v %v", st, err)
	}
	s, _ := w.db.GetStaff(ctx, w.coord.ID)
	if s.FailedSignIns != 1 {
		t.Errorf("failed count %d, want 1 (the reuse after the sign-in)", s.FailedSignIns)
	}
	if _, err := crm.VerifyAudit(ctx, w.db); err != nil {
		t.Errorf("audit chain: %v", err)
	}
}

func TestEnrolTwiceAndResetSecondFactor(t *testing.T) {
	w := newWorld(t)
	clk := &clock{t: w.now}
	w.accounts.SetClock(clk.now)
	ctx := context.Background()
	enrolled(t, w, clk)
	e, _ := w.accounts.NewEnrolment(w.coord, "Harbour Clinic")
	clk.t = clk.t.Add(time.Minute)
	if _, err := w.accounts.Enrol(ctx, w.coord, e.Secret, code(t, e.Secret, clk.t.Unix()/crm.TOTPPeriod)); !errors.Is(err, crm.ErrConflict) {
		t.Errorf("a second enrolment: %v, want ErrConflict", err)
	}
	if _, err := w.accounts.ResetSecondFactor(ctx, w.coord, w.coord.Email); !errors.Is(err, crm.ErrForbidden) {
		t.Errorf("a coordinator resetting: %v", err)
	}
	if _, err := w.accounts.ResetSecondFactor(ctx, crm.System, "nobody@clinic.example"); !isField(err, "email") {
		t.Errorf("an unknown email: %v", err)
	}
	had, err := w.accounts.ResetSecondFactor(ctx, crm.System, "Coord@Clinic.example")
	if err != nil || !had {
		t.Fatalf("reset: %v %v", had, err)
	}
	s, _ := w.db.GetStaff(ctx, w.coord.ID)
	if s.SecondFactor {
		t.Error("still enrolled after the reset")
	}
	if _, err := w.db.SecondFactor(ctx, w.coord.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("second factor after reset: %v", err)
	}
	if had, err := w.accounts.ResetSecondFactor(ctx, crm.System, w.coord.Email); err != nil || had {
		t.Errorf("a second reset: %v %v", had, err)
	}
	// Each reset ends the account's access, so each is recorded, even one that found no factor.
	entries, _, err := w.db.ListAudit(ctx, crm.AuditQuery{Action: "2fa_reset"})
	if err != nil || len(entries) != 2 {
		t.Errorf("%d 2fa_reset entries: %v", len(entries), err)
	}
	// Enrolling again works: at the next sign-in, with a new secret.
	enrolled(t, w, clk)
}

// TestHundredFailedSignInsNeedANewPassword: failures are counted across clients in the database; at 100 even
// the right password is refused until a new password is set (or an admin clears the count).
func TestHundredFailedSignInsNeedANewPassword(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for i := range crm.MaxFailedSignIns {
		_, err := w.accounts.CheckSignIn(ctx, w.clin.Email, fmt.Sprintf("wrong %d", i), fmt.Sprintf("192.0.2.%d", i%250))
		if !errors.Is(err, crm.ErrUnauthenticated) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if _, err := w.accounts.CheckSignIn(ctx, w.clin.Email, "correct horse battery staple", "198.51.100.1"); !errors.Is(err, crm.ErrSignInLocked) {
		t.Fatalf("the right password after 100 failures: %v", err)
	}
	hash, err := crm.HashPassword("a brand new passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.db.SetPassword(ctx, w.clin.ID, hash, crm.StaffChange{At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.accounts.CheckSignIn(ctx, w.clin.Email, "a brand new passphrase", ""); err != nil {
		t.Errorf("after a new password: %v", err)
	}
	// An admin may clear the count too.
	for range 3 {
		w.accounts.CheckSignIn(ctx, w.clin.Email, "wrong", "")
	}
	if err := w.accounts.ClearFailedSignIns(ctx, w.coord, w.clin.Email); !errors.Is(err, crm.ErrForbidden) {
		t.Errorf("a coordinator clearing: %v", err)
	}
	if err := w.accounts.ClearFailedSignIns(ctx, w.admin, w.clin.Email); err != nil {
		t.Fatal(err)
	}
	if s, _ := w.db.GetStaff(ctx, w.clin.ID); s.FailedSignIns != 0 {
		t.Errorf("failed count %d after it was cleared", s.FailedSignIns)
	}
}

func TestTwoFactorPolicy(t *testing.T) {
	for in, want := range map[string]map[crm.Role]bool{
		"all":     {crm.RoleAdmin: true, crm.RoleCoordinator: true, crm.RoleClinician: true},
		" Admins": {crm.RoleAdmin: true, crm.RoleCoordinator: false, crm.RoleClinician: false},
		"off":     {crm.RoleAdmin: false, crm.RoleCoordinator: false, crm.RoleClinician: false},
	} {
		p, err := crm.ParseTwoFactorPolicy(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		for role, must := range want {
			if p.Requires(role) != must {
				t.Errorf("%q requires of %s: %v", in, role, !must)
			}
		}
	}
	if _, err := crm.ParseTwoFactorPolicy("some"); err == nil {
		t.Error("an unknown policy accepted")
	}
	var zero crm.TwoFactorPolicy
	if !zero.Requires(crm.RoleClinician) {
		t.Error("the zero policy does not require a second factor")
	}
}
