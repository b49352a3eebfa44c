package db

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
)

// intakeFor stores n enquiries for treatment from n goroutines at once (so they share batches on SQLite), and
// returns each one's assignee, by reference.
func intakeFor(t *testing.T, d *DB, prefix, treatment string, n int) map[string]int64 {
	t.Helper()
	refs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := newEnquiry(fmt.Sprintf("%s-%d@example.org", prefix, i))
			e.Treatment = treatment
			rec, err := d.CreateEnquiry(context.Background(), e, crm.PlanIntake)
			if err != nil {
				t.Errorf("CreateEnquiry: %v", err)
				return
			}
			refs[i] = rec.Reference
		}()
	}
	wg.Wait()
	out := map[string]int64{}
	for _, ref := range refs {
		var assignee int64
		if err := d.read.Get(&assignee, `SELECT coalesce(assignee_id, 0) FROM enquiries WHERE reference = ?`, ref); err != nil {
			t.Fatalf("read %s: %v", ref, err)
		}
		out[ref] = assignee
	}
	return out
}

// countBy counts the enquiries given to each account.
func countBy(assignees map[string]int64) map[int64]int {
	out := map[int64]int{}
	for _, id := range assignees {
		out[id]++
	}
	return out
}

// TestIntakeSharesEnquiriesOutAndKeepsTheAccountsRight: enquiries stored together are given out by the rule
// (fewest open first), so three clinicians get ten each of thirty; and what the writer kept in memory is what
// the database says: each account's open count, and its last assignment is its newest enquiry's time. On
// PostgreSQL concurrent intakes read the accounts without locking them, so two may choose the same clinician:
// there every enquiry still goes to a clinician and the counts still match.
func TestIntakeSharesEnquiriesOutAndKeepsTheAccountsRight(t *testing.T) {
	d := openTest(t)
	var ids []int64
	for _, email := range []string{"a@clinic.example", "b@clinic.example", "c@clinic.example"} {
		ids = append(ids, addStaff(t, d, email, crm.RoleClinician, "adhd", "ptsd").ID)
	}
	addStaff(t, d, "coord@clinic.example", crm.RoleCoordinator, "adhd") // treats adhd, but is never given enquiries
	for round := range 3 {
		got := countBy(intakeFor(t, d, fmt.Sprint("round", round), "adhd", 30))
		if onPostgres() {
			if n := got[ids[0]] + got[ids[1]] + got[ids[2]]; n != 30 {
				t.Fatalf("round %d: %d of 30 given to the clinicians: %v", round, n, got)
			}
			continue
		}
		for _, id := range ids {
			if got[id] != 10 {
				t.Fatalf("round %d: clinician %d was given %d of 30, want 10 each: %v", round, id, got[id], got)
			}
		}
	}
	for _, id := range ids {
		var s struct {
			Open   int   `db:"open_enquiries"`
			Last   int64 `db:"last_assigned_at"`
			Newest int64 `db:"newest"`
		}
		if err := d.read.Get(&s, `SELECT open_enquiries, last_assigned_at,
				(SELECT max(created_at) FROM enquiries WHERE assignee_id = staff.id) AS newest
			FROM staff WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
		if want := countOpen(t, d, id); s.Open != want || (!onPostgres() && want != 30) || s.Last != s.Newest {
			t.Errorf("account %d: open %d (its enquiries: %d, 30 on SQLite), last assigned %d (want its newest "+
				"enquiry's time %d)", id, s.Open, countOpen(t, d, id), s.Last, s.Newest)
		}
	}
}

// TestIntakeSeesAccountChangesMadeMeanwhile: after a clinician is disabled, and after another's enquiries are
// closed, the next enquiries follow the accounts as they are now, not as intake last saw them.
func TestIntakeSeesAccountChangesMadeMeanwhile(t *testing.T) {
	d := openTest(t)
	a := addStaff(t, d, "a@clinic.example", crm.RoleClinician, "adhd")
	b := addStaff(t, d, "b@clinic.example", crm.RoleClinician, "adhd")
	// Two each, and the writer knows the accounts now. One at a time: on PostgreSQL concurrent intakes may
	// choose the same clinician (see above), and a split other than two each would change what follows.
	for i := range 4 {
		intakeFor(t, d, fmt.Sprint("warm", i), "adhd", 1)
	}
	if got := countOpen(t, d, a.ID); got != 2 {
		t.Fatalf("warming up: %d has %d open, want 2", a.ID, got)
	}
	disable(t, d, a.ID)
	if got := countBy(intakeFor(t, d, "after", "adhd", 6)); got[b.ID] != 6 {
		t.Fatalf("after disabling %d: given %v, want all 6 to %d", a.ID, got, b.ID)
	}
	// b now has 8 open, a (enabled again) 2: the next 6 all go to a.
	enable(t, d, a.ID)
	if got := countBy(intakeFor(t, d, "again", "adhd", 6)); got[a.ID] != 6 {
		t.Fatalf("after enabling %d: given %v, want all 6 to %d (fewest open)", a.ID, got, a.ID)
	}
}

// TestIntakeSeesAccountChangesOfAnotherProcess: a `frontdesk` command writing to the same SQLite file while
// serve runs (a second handle here) disables a clinician; serve's next enquiries do not go to them.
func TestIntakeSeesAccountChangesOfAnotherProcess(t *testing.T) {
	d := openTest(t)
	a := addStaff(t, d, "a@clinic.example", crm.RoleClinician, "adhd")
	b := addStaff(t, d, "b@clinic.example", crm.RoleClinician, "adhd")
	intakeFor(t, d, "warm", "adhd", 4)
	disable(t, otherProcess(t, d), a.ID)
	if got := countBy(intakeFor(t, d, "after", "adhd", 6)); got[b.ID] != 6 {
		t.Fatalf("after another process disabled %d: given %v, want all 6 to %d", a.ID, got, b.ID)
	}
}

// countOpen counts the enquiries given to account id.
func countOpen(t *testing.T, d *DB, id int64) int {
	t.Helper()
	var n int
	if err := d.read.Get(&n, `SELECT count(*) FROM enquiries WHERE assignee_id = ?`, id); err != nil {
		t.Fatal(err)
	}
	return n
}

func disable(t *testing.T, d *DB, id int64) { t.Helper(); setDisabled(t, d, id, true) }
func enable(t *testing.T, d *DB, id int64)  { t.Helper(); setDisabled(t, d, id, false) }

func setDisabled(t *testing.T, d *DB, id int64, disabled bool) {
	t.Helper()
	_, err := d.UpdateStaff(context.Background(), id, func(s *crm.Staff) (crm.StaffChange, error) {
		s.Disabled = disabled
		return crm.StaffChange{}, nil
	})
	if err != nil {
		t.Fatalf("UpdateStaff %d: %v", id, err)
	}
}
