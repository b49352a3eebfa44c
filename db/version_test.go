package db

import (
	"context"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// TestVersionGrowsWithEveryChange: an enquiry arrives at version 1; each change staff can see (status,
// assignee, priority, note, erasure) adds one, in the statement that makes it, whatever it is made of; an empty
// change, a reminder and a refused change leave it as it is.
func TestVersionGrowsWithEveryChange(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	coord := addStaff(t, d, "coord@clinic.example", crm.RoleCoordinator)
	actor := crm.Actor{ID: coord.ID, Email: coord.Email, Name: coord.Name, Role: coord.Role}
	e := created(t, d, "ann@example.org", "")
	if e.Version != 1 {
		t.Fatalf("a new enquiry is at version %d, want 1", e.Version)
	}
	version := func() int64 {
		t.Helper()
		got, err := d.GetEnquiry(ctx, e.Reference)
		if err != nil {
			t.Fatal(err)
		}
		return got.Version
	}
	assign := coord.ID
	steps := []struct {
		name   string
		change crm.Change
		grows  int64
	}{
		{"nothing", crm.Change{}, 0},
		{"status", crm.Change{Status: crm.StatusContacted, FirstContact: true}, 1},
		{"assignee", crm.Change{Assign: &assign}, 1},
		{"priority", crm.Change{Priority: "high"}, 1},
		{"note", crm.Change{Note: "Rang, no answer."}, 1},
		{"everything at once", crm.Change{Status: crm.StatusScreening, Priority: "low", Note: "Booked a call."}, 1},
	}
	for _, s := range steps {
		before := version()
		got, err := d.UpdateEnquiry(ctx, e.Reference, actor, t0.Add(time.Hour), func(cur crm.Enquiry) (crm.Change, error) {
			if cur.Version != before {
				t.Errorf("%s: decide saw version %d, the store has %d", s.name, cur.Version, before)
			}
			return s.change, nil
		})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got.Version != before+s.grows || version() != before+s.grows {
			t.Errorf("%s: version %d (stored %d), want %d", s.name, got.Version, version(), before+s.grows)
		}
	}

	// A refused change leaves it as it is.
	before := version()
	if _, err := d.UpdateEnquiry(ctx, e.Reference, actor, t0, func(crm.Enquiry) (crm.Change, error) {
		return crm.Change{Note: "x"}, crm.ErrTransitionNotAllowed
	}); err == nil {
		t.Fatal("the refused change was applied")
	}
	if v := version(); v != before {
		t.Errorf("a refused change moved the version from %d to %d", before, v)
	}

	// A reminder is not a change of state: a page opened before the sweep still decides on what is current.
	late := created(t, d, "bea@example.org", "intake@clinic.example")
	if n, err := d.QueueOverdueReminders(ctx, t0.Add(time.Hour), time.Time{}, "intake@clinic.example", t0.Add(48*time.Hour)); err != nil || n != 1 {
		t.Fatalf("reminded %d, %v", n, err)
	}
	if got, _ := d.GetEnquiry(ctx, late.Reference); got.RemindedAt == nil || got.Version != 1 {
		t.Errorf("after a reminder: reminded at %v, version %d; want version 1", got.RemindedAt, got.Version)
	}

	// An erasure is.
	before = version()
	if err := d.EraseEnquiries(ctx, []string{e.Reference}, actor, t0, func(ref string) crm.AuditEntry {
		return crm.AuditEntry{At: t0, Action: "erase", Reference: ref}
	}); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != before+1 {
		t.Errorf("after an erasure: version %d, want %d", v, before+1)
	}
	// Listings carry it too.
	page, err := d.ListEnquiries(ctx, crm.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range page.Items {
		want := map[string]int64{e.Reference: before + 1, late.Reference: 1}[it.Reference]
		if it.Version != want {
			t.Errorf("listed %s at version %d, want %d", it.Reference, it.Version, want)
		}
	}
}
