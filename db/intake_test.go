package db

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// TestMessageIDsAreUniqueAndInTimeOrder: 32 hex digits, never the same twice, and later ones sort after earlier
// ones, so new outbox rows go to the end of the message_id index.
func TestMessageIDsAreUniqueAndInTimeOrder(t *testing.T) {
	seen := map[string]bool{}
	var last string
	for i := range 1000 {
		id, err := newMessageID(int64(1_700_000_000_000 + i/10))
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 32 || seen[id] {
			t.Fatalf("id %q: length %d, seen before %v", id, len(id), seen[id])
		}
		seen[id] = true
		if id[:12] < last {
			t.Fatalf("id %q sorts before the earlier %q", id, last)
		}
		last = id[:12]
	}
}

// The store reads the facts the lookup names — every earlier enquiry of the address within the window, spam and
// erased ones too, newest first; every account that treats the treatment (and no other), whatever its role or
// state; the confirmations sent; the administrators only when asked — and applies no rule to them.
func TestIntakeFactsAreReadAsTheLookupAsks(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	clin := addStaff(t, d, "clin@clinic.example", crm.RoleClinician, "adhd", "ptsd")
	coord := addStaff(t, d, "coord@clinic.example", crm.RoleCoordinator, "adhd")
	gone := addStaff(t, d, "gone@clinic.example", crm.RoleClinician, "adhd")
	d.write.MustExec(`UPDATE staff SET disabled_at = 1 WHERE id = ?`, gone.ID)
	addStaff(t, d, "ptsd@clinic.example", crm.RoleClinician, "ptsd")
	admin := addStaff(t, d, "admin@clinic.example", crm.RoleAdmin)
	off := addStaff(t, d, "off@clinic.example", crm.RoleAdmin)
	d.write.MustExec(`UPDATE staff SET disabled_at = 1 WHERE id = ?`, off.ID)

	// Earlier enquiries of the address: one past the window, one spam, one erased, two ordinary.
	rows := []*row{
		{Email: "ann@example.org", CreatedAt: t0.Add(-crm.RelatedWindow - time.Millisecond)},
		{Email: "ann@example.org", CreatedAt: t0.Add(-crm.RelatedWindow)},
		{Email: "ann@example.org", CreatedAt: t0.Add(-3 * time.Hour), Status: crm.StatusSpam},
		{Email: "ann@example.org", CreatedAt: t0.Add(-2 * time.Hour), Erased: true},
		{Email: "ann@example.org", CreatedAt: t0.Add(-time.Hour)},
		{Email: "bob@example.org", CreatedAt: t0.Add(-time.Hour)},
	}
	insertRows(t, d, rows)
	d.write.MustExec(`INSERT INTO outbox (enquiry_id, kind, recipient, message_id, next_attempt_at, queued_at, created_at)
		VALUES (?, 'confirmation', 'ann@example.org', 'm1', 0, 0, 0), (?, 'staff_new', 'x', 'm2', 0, 0, 0),
		(?, 'confirmation', 'ann@example.org', 'm3', 0, 0, 0)`, rows[4].ID, rows[4].ID, rows[1].ID)

	var got crm.IntakeFacts
	e := newEnquiry("ann@example.org")
	e.ReceivedAt = t0
	e.Assessment.Flags = []string{"risk"} // with no intake inbox: the administrators are asked for
	if _, err := d.CreateEnquiry(ctx, e, func(e crm.NewEnquiry, f crm.IntakeFacts) (crm.IntakePlan, error) {
		got = f
		return crm.PlanIntake(e, f)
	}); err != nil {
		t.Fatal(err)
	}
	var earlier []int64
	for _, x := range got.Earlier {
		earlier = append(earlier, x.ID)
		if want := rows[slices.IndexFunc(rows, func(r *row) bool { return r.ID == x.ID })]; !x.CreatedAt.Equal(want.CreatedAt) ||
			x.Status != want.Status || x.Erased != want.Erased {
			t.Errorf("earlier enquiry read as %+v, stored as %+v", x, *want)
		}
	}
	if want := []int64{rows[4].ID, rows[3].ID, rows[2].ID, rows[1].ID}; !slices.Equal(earlier, want) {
		t.Errorf("earlier enquiries %v, want %v (within the window, newest first, spam and erased included)", earlier, want)
	}
	// Only the confirmation of the enquiry created after the confirmation window's start counts.
	if got.ConfirmationsSent != 1 {
		t.Errorf("confirmations sent %d, want 1", got.ConfirmationsSent)
	}
	staff := map[int64]crm.IntakeStaff{}
	for _, s := range got.Staff {
		staff[s.ID] = s
	}
	if len(staff) != 3 || staff[clin.ID].Role != crm.RoleClinician || staff[coord.ID].Role != crm.RoleCoordinator || !staff[gone.ID].Disabled || staff[clin.ID].Disabled ||
		staff[clin.ID].Email != clin.Email {
		t.Errorf("staff read %+v, want the clinician, the coordinator and the disabled clinician of adhd", got.Staff)
	}
	if !slices.Equal(got.Admins, []string{admin.Email}) {
		t.Errorf("administrators %v, want the active one", got.Admins)
	}

	// Without a risk flag the administrators are not read; spam reads nothing at all.
	got = crm.IntakeFacts{}
	plain := newEnquiry("ann@example.org")
	if _, err := d.CreateEnquiry(ctx, plain, func(e crm.NewEnquiry, f crm.IntakeFacts) (crm.IntakePlan, error) {
		got = f
		return crm.PlanIntake(e, f)
	}); err != nil || got.Admins != nil {
		t.Errorf("administrators read for an ordinary enquiry: %v (%v)", got.Admins, err)
	}
	spam := newEnquiry("ann@example.org")
	spam.Spam = true
	if _, err := d.CreateEnquiry(ctx, spam, func(e crm.NewEnquiry, f crm.IntakeFacts) (crm.IntakePlan, error) {
		got = f
		return crm.PlanIntake(e, f)
	}); err != nil || got.Earlier != nil || got.Staff != nil || got.ConfirmationsSent != 0 || got.Admins != nil {
		t.Errorf("spam read %+v (%v), want nothing", got, err)
	}
}

// At most RelatedLookback earlier enquiries are read, the newest.
func TestIntakeReadsAtMostTheLookback(t *testing.T) {
	d := openTest(t)
	var rows []*row
	for i := range crm.RelatedLookback + 5 {
		rows = append(rows, &row{Email: "ann@example.org", CreatedAt: t0.Add(time.Duration(i-100) * time.Minute)})
	}
	insertRows(t, d, rows)
	var got crm.IntakeFacts
	e := newEnquiry("ann@example.org")
	e.ReceivedAt = t0
	if _, err := d.CreateEnquiry(context.Background(), e, func(e crm.NewEnquiry, f crm.IntakeFacts) (crm.IntakePlan, error) {
		got = f
		return crm.PlanIntake(e, f)
	}); err != nil {
		t.Fatal(err)
	}
	if len(got.Earlier) != crm.RelatedLookback || got.Earlier[0].ID != rows[len(rows)-1].ID {
		t.Errorf("read %d earlier enquiries starting at %+v, want the newest %d", len(got.Earlier), got.Earlier[0], crm.RelatedLookback)
	}
}

// The store writes the plan as it is — status, priority, flags, related enquiry, assignee (whoever it is), mail —
// and an error from decide stores nothing and comes back unwrapped.
func TestCreateEnquiryStoresThePlanAsItIs(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	coord := addStaff(t, d, "coord@clinic.example", crm.RoleCoordinator)
	rows := []*row{{Email: "someone@example.org", CreatedAt: t0.Add(-400 * 24 * time.Hour)}}
	insertRows(t, d, rows)
	e := newEnquiry("ann@example.org")
	rec, err := d.CreateEnquiry(ctx, e, func(crm.NewEnquiry, crm.IntakeFacts) (crm.IntakePlan, error) {
		return crm.IntakePlan{Status: crm.StatusNew, RelatedID: rows[0].ID, AssigneeID: coord.ID, Priority: "high",
			Flags: []string{"review"}, FlagReason: "review: asked by the test",
			Mail: []crm.Mail{{Kind: crm.MailNewEnquiry, Recipient: "elsewhere@clinic.example"}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.GetEnquiry(ctx, rec.Reference)
	if err != nil {
		t.Fatal(err)
	}
	if got.Related != rows[0].Ref || got.AssigneeID() != coord.ID || got.Priority != "high" || got.ReviewAt == nil ||
		got.RiskAt != nil || got.Status != crm.StatusNew {
		t.Errorf("stored %+v", got)
	}
	if n := count(t, d, `SELECT count(*) FROM events WHERE enquiry_id = ? AND kind = 'flagged' AND reason = 'review: asked by the test'`, got.ID); n != 1 {
		t.Errorf("%d flagged events with the plan's reason, want 1", n)
	}
	if n := count(t, d, `SELECT count(*) FROM events WHERE enquiry_id = ? AND kind = 'assigned' AND assignee_id = ?`, got.ID, coord.ID); n != 1 {
		t.Errorf("%d assigned events, want 1", n)
	}
	if n := count(t, d, `SELECT count(*) FROM outbox WHERE enquiry_id = ?`, got.ID); n != 1 ||
		count(t, d, `SELECT count(*) FROM outbox WHERE recipient = 'elsewhere@clinic.example'`) != 1 {
		t.Errorf("%d messages queued, want the plan's one", n)
	}

	refused := errors.New("refused by the rules")
	before := count(t, d, `SELECT count(*) FROM enquiries`)
	other := newEnquiry("bob@example.org")
	other.IdempotencyKey = "api:refused"
	_, err = d.CreateEnquiry(ctx, other, func(crm.NewEnquiry, crm.IntakeFacts) (crm.IntakePlan, error) {
		return crm.IntakePlan{}, refused
	})
	if err != refused {
		t.Errorf("decide's error came back as %v", err)
	}
	if after := count(t, d, `SELECT count(*) FROM enquiries`); after != before ||
		count(t, d, `SELECT count(*) FROM idempotency_keys`) != 0 {
		t.Errorf("a refused enquiry stored something: %d enquiries before, %d after", before, after)
	}
	// A replay is answered without asking the rules again.
	first := newEnquiry("carol@example.org")
	first.IdempotencyKey = "api:once"
	if _, err := d.CreateEnquiry(ctx, first, crm.PlanIntake); err != nil {
		t.Fatal(err)
	}
	again, err := d.CreateEnquiry(ctx, first, func(crm.NewEnquiry, crm.IntakeFacts) (crm.IntakePlan, error) {
		t.Error("the rules were asked about a replay")
		return crm.IntakePlan{}, refused
	})
	if err != nil || !again.Replayed {
		t.Errorf("replay: %+v, %v", again, err)
	}
}

// Two requests with the same idempotency key at once get the same reference, and one enquiry is stored. On
// PostgreSQL each is its own transaction: both are held in decide until both have looked the key up and found
// nothing, so both insert; the second waits on the first's key, finds it taken once the first commits, and is
// run again from the start (errRetry), when it finds the key and answers as the first request was answered. On
// SQLite the one writer runs them one after the other, and the second finds the key.
func TestConcurrentRequestsWithOneIdempotencyKeyStoreOneEnquiry(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	var arrived sync.WaitGroup
	arrived.Add(2)
	bothLookedUp := make(chan struct{})
	go func() { arrived.Wait(); close(bothLookedUp) }()
	var once [2]sync.Once
	recs := make([]crm.Receipt, 2)
	errs := make([]error, 2)
	var done sync.WaitGroup
	for i := range 2 {
		done.Add(1)
		go func() {
			defer done.Done()
			e := newEnquiry("ann@example.org")
			e.ReceivedAt = t0
			e.IdempotencyKey = "api:at-once"
			recs[i], errs[i] = d.CreateEnquiry(ctx, e, func(e crm.NewEnquiry, f crm.IntakeFacts) (crm.IntakePlan, error) {
				if onPostgres() { // SQLite's writer would not run the other request until this one returned
					once[i].Do(arrived.Done)
					<-bothLookedUp
				}
				return crm.PlanIntake(e, f)
			})
		}()
	}
	done.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if recs[0].Reference == "" || recs[0].Reference != recs[1].Reference || recs[0].Replayed == recs[1].Replayed {
		t.Errorf("receipts %+v and %+v: want one reference, one of them replayed", recs[0], recs[1])
	}
	for table, want := range map[string]int{"enquiries": 1, "idempotency_keys": 1, "events": 1} {
		if n := count(t, d, `SELECT count(*) FROM `+table); n != want {
			t.Errorf("%d rows in %s, want %d", n, table, want)
		}
	}
}
