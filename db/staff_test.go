package db

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

func TestStaffAccounts(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	if n, err := d.CountStaff(ctx); err != nil || n != 0 {
		t.Fatalf("CountStaff on an empty database: %d, %v", n, err)
	}
	zed := addStaff(t, d, "zed@clinic.example", crm.RoleClinician, "ptsd", "adhd")
	amy := addStaff(t, d, "amy@clinic.example", crm.RoleAdmin)
	if !slices.Equal(zed.Treatments, []string{"adhd", "ptsd"}) || zed.Role != crm.RoleClinician || zed.Disabled ||
		!zed.CreatedAt.Equal(t0) || zed.LastAssignedAt != nil || zed.ID == 0 {
		t.Errorf("created %+v", zed)
	}
	_, err := d.CreateStaff(ctx, crm.NewStaff{Email: "zed@clinic.example", Name: "Other", Role: crm.RoleAdmin}, "h", crm.StaffChange{At: t0})
	if !errors.Is(err, crm.ErrConflict) {
		t.Errorf("taken email: %v, want ErrConflict", err)
	}
	if n, _ := d.CountStaff(ctx); n != 2 {
		t.Errorf("CountStaff = %d", n)
	}

	got, err := d.GetStaff(ctx, zed.ID)
	if err != nil || got.Email != zed.Email || !slices.Equal(got.Treatments, zed.Treatments) {
		t.Errorf("GetStaff: %+v, %v", got, err)
	}
	if _, err := d.GetStaff(ctx, 999); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("GetStaff of nobody: %v", err)
	}
	s, hash, err := d.StaffByEmail(ctx, "amy@clinic.example")
	if err != nil || s.ID != amy.ID || hash != "hash-of-amy@clinic.example" || len(s.Treatments) != 0 {
		t.Errorf("StaffByEmail: %+v %q %v", s, hash, err)
	}
	if _, _, err := d.StaffByEmail(ctx, "nobody@clinic.example"); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("StaffByEmail of nobody: %v", err)
	}

	// Open enquiries count the active ones assigned.
	insertRows(t, d, []*row{
		{CreatedAt: t0, Assignee: zed.ID}, {CreatedAt: t0, Assignee: zed.ID, Status: crm.StatusInTreatment},
		{CreatedAt: t0, Assignee: zed.ID, Status: crm.StatusLost}, {CreatedAt: t0},
	})
	list, err := d.ListStaff(ctx)
	if err != nil || len(list) != 2 || list[0].ID != amy.ID || list[1].ID != zed.ID {
		t.Fatalf("ListStaff: %+v, %v", list, err)
	}
	if list[1].OpenEnquiries != 2 || list[0].OpenEnquiries != 0 || !slices.Equal(list[1].Treatments, []string{"adhd", "ptsd"}) {
		t.Errorf("ListStaff: %+v", list)
	}

	// UpdateStaff writes role, treatments and disabled state only.
	up, err := d.UpdateStaff(ctx, zed.ID, func(s *crm.Staff) (crm.StaffChange, error) {
		s.Role, s.Treatments, s.Disabled = crm.RoleCoordinator, []string{"other"}, true
		s.Email, s.Name = "changed@clinic.example", "Changed"
		return crm.StaffChange{}, nil
	})
	if err != nil || up.Role != crm.RoleCoordinator || !slices.Equal(up.Treatments, []string{"other"}) || !up.Disabled ||
		up.Email != zed.Email || up.Name != zed.Name {
		t.Errorf("UpdateStaff: %+v, %v", up, err)
	}
	if up, err = d.UpdateStaff(ctx, zed.ID, func(s *crm.Staff) (crm.StaffChange, error) {
		s.Disabled = false
		s.Treatments = nil
		return crm.StaffChange{}, nil
	}); err != nil ||
		up.Disabled || len(up.Treatments) != 0 {
		t.Errorf("enable: %+v, %v", up, err)
	}
	refuse := errors.New("refused")
	if _, err := d.UpdateStaff(ctx, zed.ID, func(s *crm.Staff) (crm.StaffChange, error) {
		s.Role = crm.RoleAdmin
		return crm.StaffChange{}, refuse
	}); err != refuse {
		t.Errorf("update's error came back as %v", err)
	}
	if s, _ := d.GetStaff(ctx, zed.ID); s.Role != crm.RoleCoordinator {
		t.Errorf("a refused update changed the role to %s", s.Role)
	}
	if _, err := d.UpdateStaff(ctx, 999, func(*crm.Staff) (crm.StaffChange, error) { return crm.StaffChange{}, nil }); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("UpdateStaff of nobody: %v", err)
	}
	if _, err := d.UpdateStaff(ctx, zed.ID, func(s *crm.Staff) (crm.StaffChange, error) { s.Role = "owner"; return crm.StaffChange{}, nil }); err == nil {
		t.Error("an unknown role was stored")
	}

	if err := d.SetPassword(ctx, amy.ID, "new-hash", crm.StaffChange{At: t0}); err != nil {
		t.Fatal(err)
	}
	if _, hash, _ := d.StaffByEmail(ctx, amy.Email); hash != "new-hash" {
		t.Errorf("password hash %q", hash)
	}
	if err := d.SetPassword(ctx, 999, "x", crm.StaffChange{At: t0}); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("SetPassword of nobody: %v", err)
	}
}

func TestAPITokens(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	a := addStaff(t, d, "a@clinic.example", crm.RoleAdmin)
	b := addStaff(t, d, "b@clinic.example", crm.RoleClinician)
	now := time.Now()
	far := now.Add(24 * time.Hour)
	first, err := d.CreateToken(ctx, a.ID, "laptop", "hash-1", far, crm.StaffChange{At: t0})
	if err != nil {
		t.Fatal(err)
	}
	second, err := d.CreateToken(ctx, a.ID, "script", "hash-2", far, crm.StaffChange{At: t0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateToken(ctx, 999, "x", "hash-3", far, crm.StaffChange{At: t0}); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("token for nobody: %v", err)
	}
	s, err := d.StaffByToken(ctx, "hash-1", now)
	if err != nil || s.ID != a.ID || s.Email != a.Email {
		t.Errorf("StaffByToken: %+v, %v", s, err)
	}
	if _, err := d.StaffByToken(ctx, "hash-unknown", now); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("unknown token: %v", err)
	}
	// The use is recorded in the background.
	deadline := time.Now().Add(5 * time.Second)
	for count(t, d, `SELECT count(*) FROM api_tokens WHERE id = ? AND last_used_at IS NOT NULL`, first) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("last use of the token never recorded")
		}
		time.Sleep(5 * time.Millisecond)
	}

	if err := d.RevokeToken(ctx, b.ID, first, crm.StaffChange{At: t0}); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("revoking another account's token: %v", err)
	}
	if err := d.RevokeToken(ctx, a.ID, 999, crm.StaffChange{At: t0}); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("revoking no token: %v", err)
	}
	if err := d.RevokeToken(ctx, a.ID, first, crm.StaffChange{At: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := d.RevokeToken(ctx, a.ID, first, crm.StaffChange{At: t0.Add(2 * time.Hour)}); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	if _, err := d.StaffByToken(ctx, "hash-1", now); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("revoked token: %v", err)
	}
	if _, err := d.StaffByToken(ctx, "hash-2", now); err != nil {
		t.Errorf("the other token: %v", err)
	}
	tokens, err := d.ListTokens(ctx, a.ID)
	if err != nil || len(tokens) != 2 || tokens[0].ID != second || tokens[1].ID != first {
		t.Fatalf("ListTokens: %+v, %v", tokens, err)
	}
	if tokens[1].Label != "laptop" || tokens[1].RevokedAt == nil || !tokens[1].RevokedAt.Equal(t0.Add(time.Hour)) ||
		tokens[1].LastUsedAt == nil || tokens[0].RevokedAt != nil || !tokens[0].CreatedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("ListTokens: %+v", tokens)
	}
	if tokens, _ := d.ListTokens(ctx, b.ID); len(tokens) != 0 {
		t.Errorf("another account's tokens: %+v", tokens)
	}
	if all, _ := d.ListTokens(ctx, 0); len(all) != 2 || all[0].StaffEmail != a.Email || !all[0].ExpiresAt.Equal(fromMS(ms(far))) {
		t.Errorf("every account's tokens: %+v", all)
	}
	if got, err := d.GetToken(ctx, second); err != nil || got.StaffID != a.ID || got.Label != "script" {
		t.Errorf("GetToken: %+v, %v", got, err)
	}
	if _, err := d.GetToken(ctx, 999); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("GetToken of none: %v", err)
	}
	// An expired token opens nothing.
	if _, err := d.StaffByToken(ctx, "hash-2", far.Add(time.Millisecond)); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("expired token: %v", err)
	}
}

// TestOpenEnquiriesCounter: the triggers keep staff.open_enquiries equal to the count through intake, moves,
// reassignment, erasure and deletion.
func TestOpenEnquiriesCounter(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	a := addStaff(t, d, "a@clinic.example", crm.RoleClinician, "adhd")
	b := addStaff(t, d, "b@clinic.example", crm.RoleClinician, "adhd")
	check := func(when string) {
		t.Helper()
		list, err := d.ListStaff(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list {
			want := count(t, d, `SELECT count(*) FROM enquiries WHERE assignee_id = ? AND status IN
				('new', 'contacted', 'screening', 'assessment_booked', 'treatment_offered', 'in_treatment')`, s.ID)
			if s.OpenEnquiries != want {
				t.Errorf("%s: %s has %d open enquiries counted, %d stored", when, s.Email, s.OpenEnquiries, want)
			}
		}
	}
	var refs []string
	for i := 0; i < 6; i++ {
		refs = append(refs, created(t, d, "p"+string(rune('a'+i))+"@example.org", "").Reference)
	}
	check("after intake")
	move := func(ref string, c crm.Change) {
		t.Helper()
		if _, err := d.UpdateEnquiry(ctx, ref, crm.System, t0, func(crm.Enquiry) (crm.Change, error) { return c, nil }); err != nil {
			t.Fatal(err)
		}
	}
	none, toB, toA := int64(0), b.ID, a.ID
	move(refs[0], crm.Change{Status: crm.StatusLost, Reason: "gone"})
	move(refs[1], crm.Change{Assign: &none})
	move(refs[2], crm.Change{Assign: &toB, Status: crm.StatusContacted})
	move(refs[3], crm.Change{Status: crm.StatusSpam})
	move(refs[0], crm.Change{Status: crm.StatusContacted, Assign: &toA})
	move(refs[1], crm.Change{Assign: &toA})
	move(refs[4], crm.Change{Priority: "high"})
	check("after changes")
	if err := d.EraseEnquiries(ctx, refs[5:6], crm.System, t0, func(ref string) crm.AuditEntry {
		return crm.AuditEntry{At: t0, Action: "erase", Reference: ref}
	}); err != nil {
		t.Fatal(err)
	}
	check("after erasure")
	d.write.MustExec(`DELETE FROM enquiries WHERE reference = ?`, refs[2])
	check("after deletion")
	if s, _ := d.GetStaff(ctx, a.ID); s.OpenEnquiries == 0 {
		t.Errorf("GetStaff: %+v", s)
	}
}
