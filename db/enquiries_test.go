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
)

// created stores one enquiry through intake and returns it as the store reads it.
func created(t *testing.T, d *DB, email string, inbox string) crm.Enquiry {
	t.Helper()
	ctx := context.Background()
	e := newEnquiry(email)
	e.ReceivedAt = t0
	e.IntakeInbox = inbox
	rec, err := d.CreateEnquiry(ctx, e, crm.PlanIntake)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.GetEnquiry(ctx, rec.Reference)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestGetEnquiry(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	a := addStaff(t, d, "a@clinic.example", crm.RoleClinician, "adhd")
	first := created(t, d, "ann@example.org", "")
	second := created(t, d, "ann@example.org", "")
	if second.Related != first.Reference {
		t.Errorf("related %q, want %q", second.Related, first.Reference)
	}
	if second.Assignee == nil || *second.Assignee != (crm.StaffRef{ID: a.ID, Email: a.Email, Name: a.Name}) {
		t.Errorf("assignee %+v, want %+v", second.Assignee, a.Ref())
	}
	if second.Status != crm.StatusNew || second.Name != "Ann Example" || second.Email != "ann@example.org" ||
		second.Treatment != "adhd" || second.Priority != "normal" || !second.CreatedAt.Equal(t0.Truncate(time.Millisecond)) ||
		second.FirstContactedAt != nil || second.RemindedAt != nil || second.Erased || second.ConsentVersion == "" {
		t.Errorf("read %+v", second)
	}
	_, err := d.GetEnquiry(ctx, "ZZZZ-ZZZZ")
	if !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("unknown reference: %v, want ErrNotFound", err)
	}
}

// stored counts what an update may have written.
type stored struct{ events, notes, outbox int }

func storedFor(t *testing.T, d *DB, id int64) stored {
	return stored{
		events: count(t, d, `SELECT count(*) FROM events WHERE enquiry_id = ?`, id),
		notes:  count(t, d, `SELECT count(*) FROM notes WHERE enquiry_id = ?`, id),
		outbox: count(t, d, `SELECT count(*) FROM outbox WHERE enquiry_id = ?`, id),
	}
}

func TestUpdateEnquiryAppliesEachPartWithItsEvent(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	coord := addStaff(t, d, "coord@clinic.example", crm.RoleCoordinator)
	clin := addStaff(t, d, "clin@clinic.example", crm.RoleClinician)
	actor := crm.Actor{ID: coord.ID, Email: coord.Email, Name: coord.Name, Role: coord.Role}
	e := created(t, d, "ann@example.org", "")
	at := t0.Add(time.Hour)
	update := func(c crm.Change) crm.Enquiry {
		t.Helper()
		var seen crm.Enquiry
		got, err := d.UpdateEnquiry(ctx, e.Reference, actor, at, func(cur crm.Enquiry) (crm.Change, error) {
			seen = cur
			return c, nil
		})
		if err != nil {
			t.Fatalf("update %+v: %v", c, err)
		}
		if seen.ID != e.ID {
			t.Fatalf("decide saw %+v", seen)
		}
		return got
	}
	before := storedFor(t, d, e.ID)

	// Everything at once: one event per part, in one transaction.
	assign := clin.ID
	got := update(crm.Change{Status: crm.StatusContacted, Reason: "called back", FirstContact: true, Assign: &assign,
		Priority: "high", Note: "Spoke to her mother", Mail: []crm.Mail{{Kind: crm.MailAssigned, Recipient: clin.Email}}})
	if got.Status != crm.StatusContacted || got.Priority != "high" || got.AssigneeID() != clin.ID ||
		got.Assignee.Email != clin.Email || got.FirstContactedAt == nil || !got.FirstContactedAt.Equal(at) ||
		!got.UpdatedAt.Equal(at) || got.CloseReason != "" {
		t.Errorf("after update: %+v", got)
	}
	if after := storedFor(t, d, e.ID); after != (stored{before.events + 4, 1, before.outbox + 1}) {
		t.Errorf("stored %+v, before %+v", after, before)
	}
	s, _ := d.GetStaff(ctx, clin.ID)
	if s.LastAssignedAt == nil || !s.LastAssignedAt.Equal(at) {
		t.Errorf("last assigned %v", s.LastAssignedAt)
	}
	tl, err := d.Timeline(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ev := range tl {
		kinds = append(kinds, ev.Kind)
		if ev.Kind != "created" && (ev.Actor == nil || ev.Actor.ID != coord.ID || ev.Actor.Name != coord.Name || !ev.At.Equal(at)) {
			t.Errorf("event %+v: want actor %d at %v", ev, coord.ID, at)
		}
	}
	if strings.Join(kinds, ",") != "created,status,assigned,priority,note" {
		t.Errorf("timeline kinds %v", kinds)
	}
	if ev := tl[1]; ev.From != crm.StatusNew || ev.To != crm.StatusContacted || ev.Reason != "called back" {
		t.Errorf("status event %+v", ev)
	}
	if ev := tl[2]; ev.Assignee == nil || ev.Assignee.ID != clin.ID || ev.Assignee.Email != clin.Email {
		t.Errorf("assigned event %+v", ev)
	}
	if ev := tl[3]; ev.Priority != "high" || ev.Reason != "" {
		t.Errorf("priority event %+v", ev)
	}
	if ev := tl[4]; ev.Note != "Spoke to her mother" {
		t.Errorf("note event %+v", ev)
	}
	notes, err := d.Notes(ctx, e.ID)
	if err != nil || len(notes) != 1 || notes[0].Body != "Spoke to her mother" || notes[0].Author == nil ||
		notes[0].Author.ID != coord.ID || !notes[0].CreatedAt.Equal(at) {
		t.Errorf("notes %+v, %v", notes, err)
	}

	// Closing keeps the reason, reopening clears it, first contact is kept.
	at = at.Add(time.Hour)
	if got = update(crm.Change{Status: crm.StatusLost, Reason: "no answer"}); got.CloseReason != "no answer" {
		t.Errorf("closed: reason %q", got.CloseReason)
	}
	at = at.Add(time.Hour)
	got = update(crm.Change{Status: crm.StatusContacted, Reason: "rang again", FirstContact: true})
	if got.CloseReason != "" || !got.FirstContactedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("reopened: reason %q, first contact %v", got.CloseReason, got.FirstContactedAt)
	}

	// Unassigning, by Frontdesk itself.
	unassign := int64(0)
	actor = crm.System
	got = update(crm.Change{Assign: &unassign, Note: "by the system"})
	if got.Assignee != nil {
		t.Errorf("unassigned: %+v", got.Assignee)
	}
	tl, _ = d.Timeline(ctx, e.ID)
	if n := len(tl); tl[n-2].Kind != "assigned" || tl[n-2].Assignee != nil || tl[n-2].Actor != nil || tl[n-1].Actor != nil {
		t.Errorf("system events %+v %+v", tl[n-2], tl[n-1])
	}
	notes, _ = d.Notes(ctx, e.ID)
	if notes[len(notes)-1].Author != nil {
		t.Errorf("system note has author %+v", notes[len(notes)-1].Author)
	}

	// An empty change records nothing.
	before = storedFor(t, d, e.ID)
	prev := got
	if got = update(crm.Change{}); got.UpdatedAt != prev.UpdatedAt || storedFor(t, d, e.ID) != before {
		t.Errorf("an empty change wrote something")
	}
}

func TestUpdateEnquiryChangesNothingOnError(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	e := created(t, d, "ann@example.org", "")
	before := storedFor(t, d, e.ID)
	actor := crm.Actor{ID: 0, Role: crm.RoleAdmin}
	for _, c := range []struct{ err, is error }{
		{crm.ErrNotFound, crm.ErrNotFound},
		{crm.ErrForbidden, crm.ErrForbidden},
		{fmt.Errorf("%w: from new to new", crm.ErrTransitionNotAllowed), crm.ErrTransitionNotAllowed},
		{crm.InputError{"to": "x"}, nil},
	} {
		_, err := d.UpdateEnquiry(ctx, e.Reference, actor, t0, func(crm.Enquiry) (crm.Change, error) {
			return crm.Change{Note: "x"}, c.err
		})
		var ie crm.InputError
		switch {
		case err == nil || err.Error() != c.err.Error():
			t.Errorf("decide's %v came back as %v", c.err, err)
		case c.is != nil && !errors.Is(err, c.is):
			t.Errorf("decide's %v is not %v", err, c.is)
		case c.is == nil && (!errors.As(err, &ie) || ie["to"] != "x"):
			t.Errorf("decide's InputError came back as %#v", err)
		}
	}
	_, err := d.UpdateEnquiry(ctx, e.Reference, actor, t0, func(crm.Enquiry) (crm.Change, error) {
		return crm.Change{Note: "x"}, crm.ErrTransitionNotAllowed
	})
	if err != crm.ErrTransitionNotAllowed {
		t.Errorf("decide's error wrapped: %v", err)
	}
	// A part that fails undoes the parts before it.
	missing := int64(9999)
	for _, c := range []crm.Change{
		{Status: crm.StatusContacted, Note: "x", Priority: "whenever"},
		{Status: crm.StatusContacted, Note: "x", Assign: &missing},
	} {
		if _, err := d.UpdateEnquiry(ctx, e.Reference, actor, t0, func(crm.Enquiry) (crm.Change, error) { return c, nil }); err == nil {
			t.Errorf("%+v: stored", c)
		}
	}
	if _, err := d.UpdateEnquiry(ctx, "ZZZZ-ZZZZ", actor, t0, func(crm.Enquiry) (crm.Change, error) {
		t.Error("decide called for a missing enquiry")
		return crm.Change{}, nil
	}); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("missing enquiry: %v", err)
	}
	after, _ := d.GetEnquiry(ctx, e.Reference)
	if storedFor(t, d, e.ID) != before || after.Status != crm.StatusNew || after.Priority != "normal" || after.UpdatedAt != e.UpdatedAt {
		t.Errorf("a failed update left %+v / %+v", storedFor(t, d, e.ID), after)
	}
}

func TestQueueOverdueReminders(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	a := addStaff(t, d, "a@clinic.example", crm.RoleClinician)
	due := t0.Add(-time.Hour)
	rows := []*row{
		{Ref: "OLD1-ASSN", CreatedAt: due.Add(-3 * time.Hour), Assignee: a.ID},
		{Ref: "OLD2-UNAS", CreatedAt: due.Add(-2 * time.Hour)},
		{Ref: "OLD3-SPAM", CreatedAt: due.Add(-2 * time.Hour), Status: crm.StatusSpam},
		{Ref: "OLD4-CONT", CreatedAt: due.Add(-2 * time.Hour), Status: crm.StatusContacted},
		{Ref: "OLD5-ERAS", CreatedAt: due.Add(-2 * time.Hour), Erased: true},
		{Ref: "NEW1-RECT", CreatedAt: due.Add(time.Minute)},
	}
	insertRows(t, d, rows)
	n, err := d.QueueOverdueReminders(ctx, due, time.Time{}, "intake@clinic.example", t0)
	if err != nil || n != 2 {
		t.Fatalf("reminded %d, %v; want 2", n, err)
	}
	var mails []struct {
		Ref       string `db:"reference"`
		Kind      string `db:"kind"`
		Recipient string `db:"recipient"`
	}
	d.read.Select(&mails, `SELECT e.reference, o.kind, o.recipient FROM outbox o JOIN enquiries e ON e.id = o.enquiry_id ORDER BY o.id`)
	if fmt.Sprint(mails) != "[{OLD1-ASSN staff_overdue a@clinic.example} {OLD2-UNAS staff_overdue intake@clinic.example}]" {
		t.Errorf("queued %v", mails)
	}
	for _, r := range rows[:2] {
		e, _ := d.GetEnquiry(ctx, r.Ref)
		tl, _ := d.Timeline(ctx, r.ID)
		if e.RemindedAt == nil || !e.RemindedAt.Equal(t0) || tl[len(tl)-1].Kind != "reminder" || tl[len(tl)-1].Actor != nil {
			t.Errorf("%s: reminded at %v, timeline %+v", r.Ref, e.RemindedAt, tl)
		}
	}
	if n, err := d.QueueOverdueReminders(ctx, due.Add(time.Hour), time.Time{}, "intake@clinic.example", t0); err != nil || n != 1 {
		t.Errorf("second run reminded %d, %v; want only the one that became due", n, err)
	}
	if n, _ := d.QueueOverdueReminders(ctx, due.Add(time.Hour), time.Time{}, "intake@clinic.example", t0); n != 0 {
		t.Errorf("third run reminded %d", n)
	}

	// Without an intake inbox an unassigned enquiry is still marked, but nobody is emailed.
	d2 := openTest(t)
	insertRows(t, d2, []*row{{Ref: "OLD2-UNAS", CreatedAt: due.Add(-time.Hour)}})
	if n, err := d2.QueueOverdueReminders(ctx, due, time.Time{}, "", t0); err != nil || n != 1 {
		t.Errorf("no inbox: reminded %d, %v", n, err)
	}
	if c := count(t, d2, `SELECT count(*) FROM outbox`); c != 0 {
		t.Errorf("no inbox: %d emails", c)
	}
	if n, _ := d2.QueueOverdueReminders(ctx, due, time.Time{}, "", t0); n != 0 {
		t.Errorf("no inbox: reminded again")
	}

	if onPostgres() {
		return // the plan below is SQLite's (INDEXED BY); PostgreSQL's planner chooses by its statistics
	}
	plan := strings.Join(planOf(t, d, d.overdueSQL(), 0, reminderBatch), "; ")
	if !strings.Contains(plan, "enquiries_unreminded") || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("the reminder sweep does not use its partial index: %s", plan)
	}
}

func TestRemindersAreBatched(t *testing.T) {
	d := openTest(t)
	var rows []*row
	for i := 0; i < reminderBatch+3; i++ {
		rows = append(rows, &row{CreatedAt: t0.Add(-time.Duration(i+10) * time.Hour)})
	}
	insertRows(t, d, rows)
	ctx := context.Background()
	if n, err := d.QueueOverdueReminders(ctx, t0, time.Time{}, "", t0); err != nil || n != reminderBatch {
		t.Errorf("first batch %d, %v", n, err)
	}
	if n, err := d.QueueOverdueReminders(ctx, t0, time.Time{}, "", t0); err != nil || n != 3 {
		t.Errorf("second batch %d, %v", n, err)
	}
}

// holdJobLock takes the advisory lock key in a transaction of its own, as another process running the job
// would, and returns what ends that transaction (releasing the lock). PostgreSQL only.
func holdJobLock(t *testing.T, d *DB, key int64) (release func()) {
	t.Helper()
	tx, err := d.write.BeginTxx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`SELECT pg_advisory_xact_lock(?)`, key); err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { tx.Rollback() }) }
	t.Cleanup(release)
	return release
}

// On PostgreSQL, while another process sweeps reminders (it holds lockReminders), the sweep does nothing and
// says so (0); once that ends, it reminds. On SQLite there is no lock to meet, and the sweep reminds at once.
func TestOverdueRemindersRunInOneProcessAtATime(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	insertRows(t, d, []*row{{Ref: "OLD1-UNAS", CreatedAt: t0.Add(-2 * time.Hour)}})
	if onPostgres() {
		release := holdJobLock(t, d, lockReminders)
		if n, err := d.QueueOverdueReminders(ctx, t0, time.Time{}, "intake@clinic.example", t0); err != nil || n != 0 {
			t.Errorf("while another process sweeps: reminded %d, %v; want 0", n, err)
		}
		if n := count(t, d, `SELECT count(*) FROM enquiries WHERE reminded_at IS NOT NULL`) +
			count(t, d, `SELECT count(*) FROM outbox`) + count(t, d, `SELECT count(*) FROM events`); n != 0 {
			t.Errorf("while another process sweeps: %d rows changed", n)
		}
		release()
	}
	if n, err := d.QueueOverdueReminders(ctx, t0, time.Time{}, "intake@clinic.example", t0); err != nil || n != 1 {
		t.Errorf("reminded %d, %v; want 1", n, err)
	}
	if n := count(t, d, `SELECT count(*) FROM outbox WHERE kind = 'staff_overdue'`); n != 1 {
		t.Errorf("%d reminders queued, want 1", n)
	}
}
