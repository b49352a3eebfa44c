package db

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
)

// TestSecondFactorIsClaimedOnce: of many requests racing with one code (one time step, or one recovery code),
// exactly one is accepted, and a refused one changes nothing, its audit entry included.
func TestSecondFactorIsClaimedOnce(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	s := addStaff(t, d, "coord@clinic.example", crm.RoleCoordinator)
	f := crm.SecondFactor{StaffID: s.ID, Secret: "JBSWY3DPEHPK3PXP", EnrolledAt: t0, LastStep: 100}
	enrol := crm.AuditEntry{At: t0, Action: "2fa_enrol"}
	if err := d.EnrolSecondFactor(ctx, f, []string{"h1", "h2"}, enrol); err != nil {
		t.Fatal(err)
	}
	if err := d.EnrolSecondFactor(ctx, f, nil, enrol); !errors.Is(err, crm.ErrConflict) {
		t.Errorf("enrolling twice: %v", err)
	}
	got, err := d.SecondFactor(ctx, s.ID)
	if err != nil || got.LastStep != 100 || len(got.RecoveryCodes) != 2 || got.RecoveryCodes[0].Hash != "h1" {
		t.Fatalf("stored %+v, %v", got, err)
	}
	race := func(u crm.FactorUse) int {
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := d.UseSecondFactor(ctx, u)
				if err != nil && !errors.Is(err, crm.ErrCodeReused) {
					t.Error(err)
				}
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					ok++
				}
			}()
		}
		wg.Wait()
		return ok
	}
	entry := []crm.AuditEntry{{At: t0, Action: "sign_in"}}
	if n := race(crm.FactorUse{StaffID: s.ID, Step: 101, At: t0, SignIn: true, Audit: entry}); n != 1 {
		t.Errorf("step 101 accepted %d times", n)
	}
	if n := race(crm.FactorUse{StaffID: s.ID, Step: 100, At: t0, SignIn: true, Audit: entry}); n != 0 {
		t.Errorf("an older step accepted %d times", n)
	}
	if n := race(crm.FactorUse{StaffID: s.ID, RecoveryCodeID: got.RecoveryCodes[1].ID, At: t0, SignIn: true, Audit: entry}); n != 1 {
		t.Errorf("a recovery code accepted %d times", n)
	}
	var entries int
	if err := d.read.Get(&entries, `SELECT count(*) FROM audit_log WHERE action = 'sign_in'`); err != nil || entries != 2 {
		t.Errorf("%d sign_in entries, want 2 (refused uses write none): %v", entries, err)
	}
	if got, _ := d.SecondFactor(ctx, s.ID); got.LastStep != 101 || len(got.RecoveryCodes) != 1 {
		t.Errorf("after use: %+v", got)
	}
	if had, err := d.ResetSecondFactor(ctx, s.ID, crm.StaffChange{At: t0, Audit: crm.AuditEntry{At: t0, Action: "2fa_reset"}}); !had || err != nil {
		t.Errorf("reset: %v %v", had, err)
	}
	var codes int
	if err := d.read.Get(&codes, `SELECT count(*) FROM staff_recovery_codes`); err != nil || codes != 0 {
		t.Errorf("%d recovery codes left after the reset", codes)
	}
	if err := d.UseSecondFactor(ctx, crm.FactorUse{StaffID: s.ID, Step: 200, At: t0}); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("use after reset: %v", err)
	}
}

// TestEnrolmentsAtOnceEnrolOnce: of several enrolments of one account at once (two browser tabs, two
// processes), exactly one is stored with its recovery codes and its audit entry; the others are told
// crm.ErrConflict and change nothing.
func TestEnrolmentsAtOnceEnrolOnce(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	s := addStaff(t, d, "coord@clinic.example", crm.RoleCoordinator)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	start := make(chan struct{})
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f := crm.SecondFactor{StaffID: s.ID, Secret: fmt.Sprintf("SECRET%d", i), EnrolledAt: t0}
			errs[i] = d.EnrolSecondFactor(ctx, f, []string{fmt.Sprintf("h%d", i)}, crm.AuditEntry{At: t0, Action: "2fa_enrol"})
		}()
	}
	close(start)
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Errorf("enrolments %d and %d both succeeded", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, crm.ErrConflict):
			t.Errorf("enrolment %d: %v, want crm.ErrConflict", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no enrolment succeeded")
	}
	got, err := d.SecondFactor(ctx, s.ID)
	if err != nil || got.Secret != fmt.Sprintf("SECRET%d", won) || len(got.RecoveryCodes) != 1 ||
		got.RecoveryCodes[0].Hash != fmt.Sprintf("h%d", won) {
		t.Errorf("stored %+v (%v), want enrolment %d's", got, err, won)
	}
	if n := count(t, d, `SELECT count(*) FROM audit_log WHERE action = '2fa_enrol'`); n != 1 {
		t.Errorf("%d enrolment entries in the audit log, want 1", n)
	}
}
