package crm_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
)

// at sets every clock of the world to t, so what happens next is dated t.
func (w *world) at(t time.Time) {
	w.intake.SetClock(func() time.Time { return t })
	w.ws.SetClock(func() time.Time { return t })
}

// submitAt stores an enquiry that arrived at t (spam when spam is true) and returns its reference.
func (w *world) submitAt(t time.Time, name, message string, spam bool) string {
	w.t.Helper()
	w.at(t)
	s := intake.Submission{Name: name, Email: "p" + name + "@example.org", Treatment: "anxiety", Message: message, Consent: true}
	if spam {
		s.Website = "https://spam.example"
	}
	rec, err := w.intake.Submit(context.Background(), s, "")
	if err != nil {
		w.t.Fatal(err)
	}
	return rec.Reference
}

// move changes an enquiry's status at t.
func (w *world) move(t time.Time, ref string, to crm.Status) {
	w.t.Helper()
	w.at(t)
	if _, err := w.ws.Transition(context.Background(), w.admin, ref, to, "reason for "+string(to), 0); err != nil {
		w.t.Fatalf("move %s to %s: %v", ref, to, err)
	}
}

func (w *world) note(t time.Time, ref, body string) {
	w.t.Helper()
	w.at(t)
	if _, err := w.ws.AddNote(context.Background(), w.admin, ref, body); err != nil {
		w.t.Fatal(err)
	}
}

// quiet is a logger for services whose log a test does not read.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 0, 0, 0, time.UTC) }

// rawDB opens the world's database file for the test's own checks.
func (w *world) rawDB() *sql.DB {
	w.t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+w.db.Path()+"?mode=ro")
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { raw.Close() })
	return raw
}

func rawCount(t *testing.T, raw *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := raw.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestRetentionAnonymisesClosedAndDeletesSpamWhenDue(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	now := day(2026, 6, 1)
	long := day(2023, 1, 10)
	// Closed 29 months ago: due. Closed 17 months ago: not yet. Active since 2023: never.
	overdue := w.submitAt(long, "Overdue", "closed long ago", false)
	w.move(day(2024, 1, 5), overdue, crm.StatusLost)
	recent := w.submitAt(long, "Recent", "closed recently", false)
	w.move(day(2025, 1, 5), recent, crm.StatusNotSuitable)
	active := w.submitAt(long, "Active", "still being worked", false)
	w.move(day(2023, 2, 1), active, crm.StatusInTreatment)
	// Closed long ago, but a note added last month: the close counts, not the last change.
	noted := w.submitAt(long, "Noted", "closed long ago with a late note", false)
	w.move(day(2023, 6, 1), noted, crm.StatusReferred)
	w.note(day(2026, 5, 1), noted, "a late note")
	// Closed long ago, reopened, closed again recently: the latest close counts.
	reopened := w.submitAt(long, "Reopened", "closed twice", false)
	w.move(day(2023, 6, 1), reopened, crm.StatusLost)
	w.move(day(2023, 7, 1), reopened, crm.StatusContacted)
	w.move(day(2025, 3, 1), reopened, crm.StatusLost)
	// Spam that arrived 61 days ago (with a note, and a later enquiry linked to it) and spam 12 days old.
	oldSpam := w.submitAt(day(2026, 4, 1), "Spammer", "buy cheap pills quickly", true)
	w.note(day(2026, 4, 2), oldSpam, "obvious spam")
	newSpam := w.submitAt(day(2026, 5, 20), "Spammer2", "more pills", true)
	// Spam that arrived 45 days ago, with nothing else.
	plainSpam := w.submitAt(day(2026, 4, 17), "Plain", "pills in disguise", true)
	rec, err := w.intake.Submit(ctx, intake.Submission{Name: "Linked", Email: "pSpammer@example.org", Treatment: "other", Consent: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	linked := rec.Reference

	p := crm.NewPrivacy(w.db, w.db, nil, crm.PrivacyConfig{RetentionMonths: 24, SpamRetentionDays: 30}, quiet)
	p.SetClock(func() time.Time { return now })
	res, err := p.RunRetention(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(res.Anonymised)
	slices.Sort(res.DeletedSpam)
	want, wantSpam := []string{overdue, noted}, []string{oldSpam, plainSpam}
	slices.Sort(want)
	slices.Sort(wantSpam)
	if !slices.Equal(res.Anonymised, want) || !slices.Equal(res.DeletedSpam, wantSpam) {
		t.Fatalf("anonymised %v (want %v), deleted spam %v (want %v)", res.Anonymised, want, res.DeletedSpam, wantSpam)
	}
	for _, ref := range want {
		e, err := w.db.GetEnquiry(ctx, ref)
		if err != nil || !e.Erased || e.Name != "(erased)" || e.Email != "" || e.Message != "" || e.Status == "" {
			t.Errorf("%s not anonymised: %+v %v", ref, e, err)
		}
		if notes, _ := w.db.Notes(ctx, e.ID); len(notes) != 0 {
			t.Errorf("%s keeps its notes", ref)
		}
	}
	for _, ref := range []string{recent, active, reopened, newSpam, linked} {
		if e, err := w.db.GetEnquiry(ctx, ref); err != nil || e.Erased || e.Email == "" {
			t.Errorf("%s was touched: %+v %v", ref, e, err)
		}
	}
	for _, ref := range wantSpam {
		if _, err := w.db.GetEnquiry(ctx, ref); err == nil {
			t.Errorf("old spam %s still exists", ref)
		}
	}
	// The full-text index is read directly below: bring it up to every enquiry stored (the indexer follows
	// intake a moment later).
	if _, err := w.db.CatchUpSearch(ctx); err != nil {
		t.Fatal(err)
	}
	raw := w.rawDB()
	for _, q := range []string{
		`SELECT count(*) FROM notes WHERE enquiry_id NOT IN (SELECT id FROM enquiries)`,
		`SELECT count(*) FROM events WHERE enquiry_id NOT IN (SELECT id FROM enquiries)`,
		`SELECT count(*) FROM outbox WHERE enquiry_id IS NULL`,
		`SELECT count(*) FROM enquiry_search WHERE enquiry_search MATCH 'pills' AND rowid NOT IN (SELECT id FROM enquiries)`,
		`SELECT count(*) FROM enquiries WHERE related_id IS NOT NULL AND related_id NOT IN (SELECT id FROM enquiries)`,
	} {
		if n := rawCount(t, raw, q); n != 0 {
			t.Errorf("%s: %d rows of the deleted spam left", q, n)
		}
	}
	if n := rawCount(t, raw, `SELECT count(*) FROM enquiry_search WHERE enquiry_search MATCH 'pills'`); n != 1 {
		t.Errorf("search finds %d spam enquiries with 'pills', want the newer one only", n)
	}
	// One audit entry for the run, by Frontdesk, with its counts and references.
	entries, _, err := w.db.ListAudit(ctx, crm.AuditQuery{Action: "retention"})
	if err != nil || len(entries) != 1 {
		t.Fatalf("retention entries: %+v %v", entries, err)
	}
	e := entries[0]
	if e.Detail != "anonymised 2, deleted spam 2" || e.Actor != nil || !e.At.Equal(now) ||
		!slices.Contains(e.Refs(), overdue) || !slices.Contains(e.Refs(), noted) || !slices.Contains(e.Refs(), oldSpam) || !slices.Contains(e.Refs(), plainSpam) {
		t.Errorf("retention entry %+v", e)
	}

	// A second run finds nothing due and says so; nothing is anonymised twice.
	if res, err := p.RunRetention(ctx); err != nil || len(res.Anonymised)+len(res.DeletedSpam) != 0 {
		t.Errorf("second run: %+v %v", res, err)
	}
	entries, _, _ = w.db.ListAudit(ctx, crm.AuditQuery{Action: "retention"})
	if len(entries) != 2 || entries[0].Detail != "anonymised 0, deleted spam 0" {
		t.Errorf("second run's entry: %+v", entries)
	}
	if n := rawCount(t, raw, `SELECT count(*) FROM events v JOIN enquiries e ON e.id = v.enquiry_id WHERE e.reference = ? AND v.kind = 'erased'`, overdue); n != 1 {
		t.Errorf("%d erased events", n)
	}
	if n, err := crm.VerifyAudit(ctx, w.db); err != nil || n == 0 {
		t.Errorf("audit chain: %d %v", n, err)
	}
}

func TestRetentionZeroIsNever(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	closed := w.submitAt(day(2010, 1, 1), "Ancient", "closed in 2010", false)
	w.move(day(2010, 2, 1), closed, crm.StatusLost)
	spam := w.submitAt(day(2010, 1, 1), "AncientSpam", "old spam", true)
	p := crm.NewPrivacy(w.db, w.db, nil, crm.PrivacyConfig{}, quiet)
	p.SetClock(func() time.Time { return day(2026, 6, 1) })
	if res, err := p.RunRetention(ctx); err != nil || len(res.Anonymised)+len(res.DeletedSpam) != 0 {
		t.Fatalf("with both periods 0: %+v %v", res, err)
	}
	for _, ref := range []string{closed, spam} {
		if e, err := w.db.GetEnquiry(ctx, ref); err != nil || e.Erased {
			t.Errorf("%s: %+v %v", ref, e, err)
		}
	}
	entries, _, _ := w.db.ListAudit(ctx, crm.AuditQuery{Action: "retention"})
	if len(entries) != 1 || entries[0].Detail != "anonymised 0, deleted spam 0" {
		t.Errorf("the run is still audited with its counts: %+v", entries)
	}
}

func TestRetentionWorksInBatches(t *testing.T) {
	defer crm.SetRetentionBatchSize(2)()
	w := newWorld(t)
	ctx := context.Background()
	var refs []string
	for _, n := range []string{"One", "Two", "Three", "Four", "Five"} {
		ref := w.submitAt(day(2020, 1, 1), n, "closed", false)
		w.move(day(2020, 2, 1), ref, crm.StatusReferred)
		refs = append(refs, ref)
	}
	p := crm.NewPrivacy(w.db, w.db, nil, crm.PrivacyConfig{RetentionMonths: 24, SpamRetentionDays: 30}, quiet)
	p.SetClock(func() time.Time { return day(2026, 6, 1) })
	res, err := p.RunRetention(ctx)
	if err != nil || len(res.Anonymised) != 5 {
		t.Fatalf("anonymised %v, %v; want all 5", res.Anonymised, err)
	}
	entries, _, _ := w.db.ListAudit(ctx, crm.AuditQuery{Action: "retention"})
	var details []string
	for _, e := range entries {
		details = append(details, e.Detail)
	}
	if !slices.Equal(details, []string{"anonymised 1, deleted spam 0", "anonymised 2, deleted spam 0", "anonymised 2, deleted spam 0"}) {
		t.Errorf("batches recorded as %q", details)
	}
}
