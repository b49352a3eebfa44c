package db

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
)

// The intake store: one enquiry, its events, mail and idempotency key in one transaction, spam, the daily cap
// of confirmations, related enquiries, assignment, and concurrent submissions.

func TestCreateEnquiryStoresEverythingInOneTransaction(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	e := newEnquiry("ann@example.org")
	e.IntakeInbox = "intake@clinic.example"
	rec, err := d.CreateEnquiry(ctx, e, crm.PlanIntake)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := intake.ParseReference(rec.Reference); !ok || rec.Status != crm.StatusNew || rec.Replayed {
		t.Fatalf("receipt = %+v", rec)
	}
	var row struct {
		Status  string `db:"status"`
		Email   string `db:"email"`
		Version string `db:"consent_version"`
		Consent int64  `db:"consent_at"`
	}
	if err := d.read.Get(&row, `SELECT status, email, consent_version, consent_at FROM enquiries WHERE reference = ?`, rec.Reference); err != nil {
		t.Fatal(err)
	}
	if row.Status != "new" || row.Email != "ann@example.org" || row.Version != intake.PrivacyNoticeVersion || row.Consent == 0 {
		t.Errorf("stored %+v", row)
	}
	var events, mails int
	d.read.Get(&events, `SELECT count(*) FROM events e JOIN enquiries q ON q.id = e.enquiry_id WHERE q.reference = ? AND e.kind = 'created'`, rec.Reference)
	d.read.Get(&mails, `SELECT count(*) FROM outbox o JOIN enquiries q ON q.id = o.enquiry_id WHERE q.reference = ?`, rec.Reference)
	if events != 1 || mails != 2 {
		t.Errorf("created events = %d (want 1), outbox rows = %d (want confirmation + inbox notice)", events, mails)
	}
	// SQLite's full-text index follows by its own transactions (search_indexer.go); PostgreSQL's is written in
	// the enquiry's.
	indexSearch(t, d)
	var hits int
	search := `SELECT count(*) FROM enquiry_search
		WHERE enquiry_search MATCH 'ann' AND rowid = (SELECT id FROM enquiries WHERE reference = ?)`
	if onPostgres() {
		search = `SELECT count(*) FROM enquiry_search s JOIN enquiries q ON q.id = s.enquiry_id
			WHERE q.reference = ? AND s.document @@ to_tsquery('frontdesk_search', 'ann')`
	}
	if err := d.read.Get(&hits, search, rec.Reference); err != nil {
		t.Fatal(err)
	}
	if hits != 1 {
		t.Errorf("search index has %d rows for the new enquiry", hits)
	}
}

func TestSpamIsStoredButSendsNothing(t *testing.T) {
	d := openTest(t)
	e := newEnquiry("bot@example.org")
	e.Spam = true
	e.IntakeInbox = "intake@clinic.example"
	rec, err := d.CreateEnquiry(context.Background(), e, crm.PlanIntake)
	if err != nil {
		t.Fatal(err)
	}
	var status string
	var mails int
	d.read.Get(&status, `SELECT status FROM enquiries WHERE reference = ?`, rec.Reference)
	d.read.Get(&mails, `SELECT count(*) FROM outbox`)
	if status != "spam" || mails != 0 {
		t.Errorf("status %q, %d emails queued", status, mails)
	}
}

func TestIdempotencyKey(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	e := newEnquiry("ann@example.org")
	e.IdempotencyKey = "api:k1"
	first, err := d.CreateEnquiry(ctx, e, crm.PlanIntake)
	if err != nil {
		t.Fatal(err)
	}
	again, err := d.CreateEnquiry(ctx, e, crm.PlanIntake)
	if err != nil {
		t.Fatal(err)
	}
	if again.Reference != first.Reference || !again.Replayed {
		t.Errorf("repeat gave %+v, want %s replayed", again, first.Reference)
	}
	other := newEnquiry("bob@example.org")
	other.IdempotencyKey = "api:k1"
	if _, err := d.CreateEnquiry(ctx, other, crm.PlanIntake); !errors.Is(err, crm.ErrIdempotencyConflict) {
		t.Errorf("reused key with other content: %v, want ErrIdempotencyConflict", err)
	}
	var n, mails int
	d.read.Get(&n, `SELECT count(*) FROM enquiries`)
	d.read.Get(&mails, `SELECT count(*) FROM outbox`)
	if n != 1 || mails != 1 {
		t.Errorf("%d enquiries and %d emails stored, want 1 and 1", n, mails)
	}
}

func TestIdempotencyReplayAnswersTheFirstAnswerForADay(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	e := newEnquiry("ann@example.org")
	e.IdempotencyKey = "api:k2"
	first, err := d.CreateEnquiry(ctx, e, crm.PlanIntake)
	if err != nil {
		t.Fatal(err)
	}
	// Staff move the enquiry on; a replay is still told what the first request was told.
	if _, err := d.write.Exec(`UPDATE enquiries SET status = 'contacted' WHERE reference = ?`, first.Reference); err != nil {
		t.Fatal(err)
	}
	again, err := d.CreateEnquiry(ctx, e, crm.PlanIntake)
	if err != nil || again.Reference != first.Reference || again.Status != first.Status || !again.Replayed {
		t.Fatalf("replay after a change: %+v, %v; first was %+v", again, err, first)
	}
	// A day later the key is forgotten: the same request is a new enquiry.
	e.ReceivedAt = e.ReceivedAt.Add(crm.IdempotencyWindow + time.Second)
	later, err := d.CreateEnquiry(ctx, e, crm.PlanIntake)
	if err != nil || later.Reference == first.Reference || later.Replayed {
		t.Fatalf("after the window: %+v, %v", later, err)
	}
	var keys int
	d.read.Get(&keys, `SELECT count(*) FROM idempotency_keys`)
	if keys != 1 {
		t.Errorf("%d idempotency keys, want the renewed one", keys)
	}
	if n, err := d.PurgeIdempotencyKeys(ctx, e.ReceivedAt.Add(crm.IdempotencyWindow+time.Second)); err != nil || n != 1 {
		t.Errorf("purge: %d, %v", n, err)
	}
}

func TestConfirmationsToOneAddressAreCappedADay(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	start := time.Now()
	kinds := func(ref string) string {
		var ks []string
		d.read.Select(&ks, `SELECT o.kind FROM outbox o JOIN enquiries q ON q.id = o.enquiry_id WHERE q.reference = ? ORDER BY o.kind`, ref)
		return strings.Join(ks, ",")
	}
	for i := range crm.MaxConfirmationsPerDay + 2 {
		e := newEnquiry("Victim@Example.org")
		e.Email = "victim@example.org"
		e.IntakeInbox = "intake@clinic.example"
		e.ReceivedAt = start.Add(time.Duration(i) * time.Hour)
		rec, err := d.CreateEnquiry(ctx, e, crm.PlanIntake)
		if err != nil {
			t.Fatal(err)
		}
		want := "confirmation,staff_new"
		if i >= crm.MaxConfirmationsPerDay {
			want = "staff_new" // stored, and staff are told, but the address is not mailed again
		}
		if got := kinds(rec.Reference); got != want {
			t.Errorf("enquiry %d of the day queued %q, want %q", i+1, got, want)
		}
	}
	// Another address is not affected, and the next day the address is confirmed again.
	other := newEnquiry("someone@example.org")
	other.ReceivedAt = start.Add(5 * time.Hour)
	rec, _ := d.CreateEnquiry(ctx, other, crm.PlanIntake)
	if got := kinds(rec.Reference); got != "confirmation" {
		t.Errorf("another address: %q", got)
	}
	next := newEnquiry("victim@example.org")
	next.ReceivedAt = start.Add(crm.ConfirmationWindow + 3*time.Hour)
	rec, _ = d.CreateEnquiry(ctx, next, crm.PlanIntake)
	if got := kinds(rec.Reference); got != "confirmation" {
		t.Errorf("the next day: %q", got)
	}
}

func TestSecondEnquiryFromSameEmailIsLinked(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	old := newEnquiry("ann@example.org")
	old.ReceivedAt = time.Now().Add(-31 * 24 * time.Hour)
	if _, err := d.CreateEnquiry(ctx, old, crm.PlanIntake); err != nil {
		t.Fatal(err)
	}
	first, err := d.CreateEnquiry(ctx, newEnquiry("ann@example.org"), crm.PlanIntake)
	if err != nil {
		t.Fatal(err)
	}
	second, err := d.CreateEnquiry(ctx, newEnquiry("ann@example.org"), crm.PlanIntake)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := d.CreateEnquiry(ctx, newEnquiry("bob@example.org"), crm.PlanIntake)
	related := func(ref string) string {
		var r string
		d.read.Get(&r, `SELECT coalesce((SELECT p.reference FROM enquiries p WHERE p.id = e.related_id), '') FROM enquiries e WHERE e.reference = ?`, ref)
		return r
	}
	if got := related(first.Reference); got != "" {
		t.Errorf("first within 30 days linked to %q, but the earlier one is 31 days old", got)
	}
	if got := related(second.Reference); got != first.Reference {
		t.Errorf("second linked to %q, want %q", got, first.Reference)
	}
	if got := related(other.Reference); got != "" {
		t.Errorf("another address linked to %q", got)
	}
}

func TestAssignmentAtIntake(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	mk := func(email, role string, disabled bool, treatments ...string) int64 {
		var dis any
		if disabled {
			dis = 1
		}
		var id int64
		err := d.write.Get(&id, `INSERT INTO staff (email, name, role, password_hash, disabled_at, created_at) VALUES (?, ?, ?, '', ?, 0) RETURNING id`, email, email, role, dis)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range treatments {
			d.write.MustExec(`INSERT INTO staff_treatments (staff_id, treatment) VALUES (?, ?)`, id, tr)
		}
		return id
	}
	a := mk("a@clinic.example", "clinician", false, "adhd", "ptsd")
	b := mk("b@clinic.example", "clinician", false, "adhd")
	mk("c@clinic.example", "clinician", true, "adhd")    // disabled
	mk("d@clinic.example", "coordinator", false, "adhd") // not a clinician
	counts := map[int64]int{}
	for i := 0; i < 10; i++ {
		rec, err := d.CreateEnquiry(ctx, newEnquiry(fmt.Sprintf("p%d@example.org", i)), crm.PlanIntake)
		if err != nil {
			t.Fatal(err)
		}
		var who int64
		d.read.Get(&who, `SELECT assignee_id FROM enquiries WHERE reference = ?`, rec.Reference)
		counts[who]++
	}
	if counts[a] != 5 || counts[b] != 5 || len(counts) != 2 {
		t.Errorf("assignment spread %v, want 5 each to %d and %d", counts, a, b)
	}
	e := newEnquiry("chronic@example.org")
	e.Treatment = "chronic_pain"
	e.IntakeInbox = "intake@clinic.example"
	rec, _ := d.CreateEnquiry(ctx, e, crm.PlanIntake)
	var assignee *int64
	d.read.Get(&assignee, `SELECT assignee_id FROM enquiries WHERE reference = ?`, rec.Reference)
	if assignee != nil {
		t.Errorf("nobody treats chronic pain, yet it went to %d", *assignee)
	}
	var assignedMails int
	d.read.Get(&assignedMails, `SELECT count(*) FROM outbox WHERE kind = 'staff_assigned'`)
	if assignedMails != 10 {
		t.Errorf("%d assignment emails queued, want 10", assignedMails)
	}
}

// TestConcurrentIntake is 400 submissions at once: all stored, distinct references, no "database is locked".
func TestConcurrentIntake(t *testing.T) {
	d := openTest(t)
	const n = 400
	var wg sync.WaitGroup
	refs := make([]string, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rec, err := d.CreateEnquiry(context.Background(), newEnquiry(fmt.Sprintf("p%d@example.org", i)), crm.PlanIntake)
			refs[i], errs[i] = rec.Reference, err
		}(i)
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("submission %d: %v", i, err)
		}
		if seen[refs[i]] {
			t.Fatalf("reference %s given twice", refs[i])
		}
		seen[refs[i]] = true
	}
	var stored int
	d.read.Get(&stored, `SELECT count(*) FROM enquiries`)
	if stored != n {
		t.Errorf("%d stored, want %d", stored, n)
	}
}
