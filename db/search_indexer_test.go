package db

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/mattn/go-sqlite3"
)

// The search indexer (SQLite): enquiries are found before and after it indexes them, once; erased ones never;
// its mark survives a restart and it catches up; the triggers keep the index's rule (migration 00012).

// indexSearch indexes every enquiry above the mark now, as the indexer does (nothing on PostgreSQL).
func indexSearch(t testing.TB, d *DB) {
	t.Helper()
	if d.pg {
		return
	}
	if _, err := d.catchUpSearch(context.Background()); err != nil {
		t.Fatalf("index search: %v", err)
	}
}

// pauseIndexer stops d's indexer (SQLite) until the test ends, once any look in progress is over, so that what
// the test stores stays above the mark until it calls indexSearch.
func pauseIndexer(t testing.TB, d *DB) {
	t.Helper()
	if d.indexer != nil {
		d.indexer.pause()
		t.Cleanup(d.indexer.resume)
	}
}

// searchMark reads the indexer's mark.
func searchMark(t testing.TB, d *DB) int64 {
	t.Helper()
	return int64(count(t, d, `SELECT enquiry_id FROM enquiry_search_mark`))
}

// searchRefs lists every page of a search and returns the references found, failing on a repeat.
func searchRefs(t *testing.T, d *DB, q crm.ListQuery) []string {
	t.Helper()
	var refs []string
	for _, id := range walk(t, d, q) {
		var ref string
		if err := d.read.Get(&ref, `SELECT reference FROM enquiries WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	return refs
}

// TestSearchFindsAnEnquiryStoredAMomentAgo: an enquiry stored through intake is found by its name, a fragment
// of its email, its phone number's digits as typed and a word of its message while the indexer has not run
// (it is above the mark), then once, and counted once, after the indexer has run. On PostgreSQL the same
// searches hold (its index is written with the enquiry).
func TestSearchFindsAnEnquiryStoredAMomentAgo(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	pauseIndexer(t, d)
	// Enquiries indexed already, some matching the same words.
	for i := 0; i < 5; i++ {
		e := newEnquiry(fmt.Sprintf("older%d@example.org", i))
		e.Name, e.Message = "Ann Older", "insomnia since spring"
		e.ReceivedAt = t0.Add(time.Duration(i) * time.Minute)
		if _, err := d.CreateEnquiry(ctx, e, crm.PlanIntake); err != nil {
			t.Fatal(err)
		}
	}
	indexSearch(t, d)
	e := newEnquiry("margaret.o-brien@example.net")
	e.Name, e.Phone, e.Message = "Margaret O'Brien-Núñez", "+447700900123", "Insomnia and panic attacks since the winter."
	e.ReceivedAt = t0.Add(time.Hour)
	rec, err := d.CreateEnquiry(ctx, e, crm.PlanIntake)
	if err != nil {
		t.Fatal(err)
	}
	if !d.pg {
		if mark, id := searchMark(t, d), int64(count(t, d, `SELECT max(id) FROM enquiries`)); mark >= id {
			t.Fatalf("the new enquiry %d is at or below the mark %d: the indexer ran", id, mark)
		}
	}
	finds := map[string]bool{
		"margaret": true, "MARG": true, "nunez": true, "núñez": true, "o'brien": true, "brien": true,
		"margaret.o-brien@exam": true, "example.net": true, "o-brien@": true,
		"07700 900123": true, "+44 7700 900123": true, "447700900123": true, "4477009": true,
		"panic": true, "attacks winter": true, "insomnia panic": true, "PANIC ATT": true,
		"margaret older": false, "panicky": false, "900123": false, "brienne": false,
	}
	check := func(when string) {
		t.Helper()
		for text, want := range finds {
			got := searchRefs(t, d, crm.ListQuery{Text: text, Limit: 2})
			if want && !slices.Equal(got, []string{rec.Reference}) {
				t.Errorf("%s: search %q found %v, want only %s", when, text, got, rec.Reference)
			}
			if !want && slices.Contains(got, rec.Reference) {
				t.Errorf("%s: search %q found %s", when, text, rec.Reference)
			}
			if n, err := d.CountEnquiries(ctx, crm.ListQuery{Text: text}, 10); err != nil || (want && n != 1) {
				t.Errorf("%s: count of %q = %d, %v", when, text, n, err)
			}
		}
		// With the older matches: newest first, each once, and the filters apply to it too.
		if got := searchRefs(t, d, crm.ListQuery{Text: "insomnia", Limit: 2}); len(got) != 6 || got[0] != rec.Reference {
			t.Errorf("%s: search insomnia found %v, want the new enquiry first of 6", when, got)
		}
		if got := searchRefs(t, d, crm.ListQuery{Text: "insomnia", Oldest: true, Limit: 4}); len(got) != 6 || got[5] != rec.Reference {
			t.Errorf("%s: oldest first, search insomnia found %v, want the new enquiry last of 6", when, got)
		}
		if got := searchRefs(t, d, crm.ListQuery{Text: "panic", Statuses: []crm.Status{crm.StatusContacted}}); len(got) != 0 {
			t.Errorf("%s: a search by another status found %v", when, got)
		}
		if got := searchRefs(t, d, crm.ListQuery{Text: "panic", From: t0.Add(2 * time.Hour)}); len(got) != 0 {
			t.Errorf("%s: a search from a later day found %v", when, got)
		}
	}
	check("before the indexer")
	indexSearch(t, d)
	if !d.pg && searchMark(t, d) != int64(count(t, d, `SELECT max(id) FROM enquiries`)) {
		t.Fatalf("the indexer left the mark at %d", searchMark(t, d))
	}
	check("after the indexer")
}

// TestErasedEnquiriesAreNeverFound: an enquiry erased before the indexer reached it, and one erased after, are
// found by no search, before or after the indexer runs, and the index holds no row for either.
func TestErasedEnquiriesAreNeverFound(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	pauseIndexer(t, d)
	store := func(email, name string) crm.Receipt {
		e := newEnquiry(email)
		e.Name, e.Phone, e.Message = name, "+447700900555", "Zyzzyva worries"
		e.ReceivedAt = t0
		rec, err := d.CreateEnquiry(ctx, e, crm.PlanIntake)
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	erase := func(ref string) {
		if err := d.EraseEnquiries(ctx, []string{ref}, crm.Actor{}, t0.Add(time.Hour),
			func(ref string) crm.AuditEntry { return crm.AuditEntry{Action: "erase", Reference: ref} }); err != nil {
			t.Fatal(err)
		}
	}
	indexed := store("indexed@example.org", "Quentin Indexed")
	indexSearch(t, d)
	unindexed := store("unindexed@example.org", "Quentin Unindexed")
	kept := store("kept@example.org", "Quentin Kept")
	erase(indexed.Reference)
	erase(unindexed.Reference)
	check := func(when string) {
		t.Helper()
		for _, text := range []string{"quentin", "zyzzyva", "447700900555", "example.org", "erased", "(erased)", "indexed", "unindexed"} {
			for _, ref := range searchRefs(t, d, crm.ListQuery{Text: text, IncludeSpam: true}) {
				if ref != kept.Reference {
					t.Errorf("%s: search %q found the erased enquiry %s", when, text, ref)
				}
			}
		}
		if got := searchRefs(t, d, crm.ListQuery{Text: "quentin"}); !slices.Equal(got, []string{kept.Reference}) {
			t.Errorf("%s: search quentin found %v, want %s", when, got, kept.Reference)
		}
	}
	check("before the indexer")
	indexSearch(t, d)
	check("after the indexer")
	if d.pg {
		return
	}
	for _, ref := range []string{indexed.Reference, unindexed.Reference} {
		if n := count(t, d, `SELECT count(*) FROM enquiry_search WHERE rowid = (SELECT id FROM enquiries WHERE reference = ?)`, ref); n != 0 {
			t.Errorf("the index holds a row for the erased enquiry %s", ref)
		}
	}
	if n := count(t, d, `SELECT count(*) FROM enquiry_search`); n != 1 {
		t.Errorf("the index holds %d rows, want the one kept", n)
	}
}

// TestSearchIndexerUpdatesAboveTheMark: a note added, and a name changed, while an enquiry is above the mark are
// indexed once the indexer reaches it (the triggers leave it alone), without the old name; below the mark the
// triggers re-index as before.
func TestSearchIndexerUpdatesAboveTheMark(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	pauseIndexer(t, d)
	coord := addStaff(t, d, "coord@clinic.example", crm.RoleCoordinator)
	actor := crm.Actor{ID: coord.ID, Role: crm.RoleCoordinator}
	below := created(t, d, "below@example.org", "")
	indexSearch(t, d)
	above := created(t, d, "above@example.org", "")
	for _, e := range []crm.Enquiry{below, above} {
		if _, err := d.UpdateEnquiry(ctx, e.Reference, actor, t0.Add(time.Minute), func(crm.Enquiry) (crm.Change, error) {
			return crm.Change{Note: "Prefers Tuesday evenings " + e.Email}, nil
		}); err != nil {
			t.Fatal(err)
		}
		d.write.MustExec(`UPDATE enquiries SET name = ? WHERE id = ?`, "Renamed "+strings.TrimSuffix(e.Email, "@example.org"), e.ID)
	}
	for _, when := range []string{"before the indexer", "after the indexer"} {
		for text, want := range map[string][]string{
			"tuesday": {above.Reference, below.Reference}, "renamed": {above.Reference, below.Reference},
			"renamed above": {above.Reference}, "evenings below": {below.Reference}, "ann": nil,
		} {
			if got := searchRefs(t, d, crm.ListQuery{Text: text}); !slices.Equal(got, want) {
				t.Errorf("%s: search %q found %v, want %v", when, text, got, want)
			}
		}
		indexSearch(t, d)
	}
	if !d.pg {
		if n := count(t, d, `SELECT count(*) FROM enquiry_search WHERE enquiry_search MATCH 'renamed'`); n != 2 {
			t.Errorf("the index has %d rows for two renamed enquiries", n)
		}
	}
}

// TestSearchDeleteOfUnindexedRow: deleting a rowid that a contentless_delete FTS5 index does not hold (as
// erasure and deletion do for an enquiry above the mark) changes nothing: the other rows are still found, the
// row count is unchanged, the index passes its integrity check, and that rowid can be indexed afterwards.
func TestSearchDeleteOfUnindexedRow(t *testing.T) {
	sqliteOnly(t)
	d := openTest(t)
	pauseIndexer(t, d)
	rows := []*row{{Name: "Alpha One", CreatedAt: t0}, {Name: "Alpha Two", CreatedAt: t0.Add(time.Minute)}}
	insertRows(t, d, rows)
	indexSearch(t, d)
	d.write.MustExec(`DELETE FROM enquiry_search WHERE rowid = ?`, rows[1].ID+1000)
	d.write.MustExec(`DELETE FROM enquiry_search WHERE rowid = ?`, rows[1].ID+1)
	d.write.MustExec(`INSERT INTO enquiry_search (enquiry_search, rank) VALUES ('integrity-check', 0)`)
	if n := count(t, d, `SELECT count(*) FROM enquiry_search`); n != 2 {
		t.Errorf("%d rows after deleting rows not indexed, want 2", n)
	}
	if n := count(t, d, `SELECT count(*) FROM enquiry_search WHERE enquiry_search MATCH 'alpha'`); n != 2 {
		t.Errorf("%d rows match after deleting rows not indexed, want 2", n)
	}
	more := []*row{{Ref: "LATER-0001", Name: "Alpha Three", CreatedAt: t0.Add(2 * time.Minute)}}
	insertRows(t, d, more)
	if more[0].ID != rows[1].ID+1 {
		t.Fatalf("the next enquiry has id %d, want %d", more[0].ID, rows[1].ID+1)
	}
	indexSearch(t, d)
	d.write.MustExec(`INSERT INTO enquiry_search (enquiry_search, rank) VALUES ('integrity-check', 0)`)
	if n := count(t, d, `SELECT count(*) FROM enquiry_search WHERE enquiry_search MATCH 'alpha'`); n != 3 {
		t.Errorf("%d rows match after indexing the deleted rowid, want 3", n)
	}
}

// TestSearchMarkSurvivesARestart: the mark is in the database. Enquiries stored while the indexer did not run
// (it was stopped with the database) are above it after reopening, found all the same, and the indexer catches
// up with them at start.
func TestSearchMarkSurvivesARestart(t *testing.T) {
	sqliteOnly(t)
	dir := t.TempDir()
	ctx := context.Background()
	open := func() *DB {
		d, err := Open(dir+"/frontdesk.db", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := open()
	pauseIndexer(t, d)
	insertRows(t, d, []*row{{Name: "Early Bird", CreatedAt: t0}})
	indexSearch(t, d)
	early := searchMark(t, d)
	var late []*row
	for i := 0; i < 3*indexBatch/2; i++ { // more than one batch
		late = append(late, &row{Ref: fmt.Sprintf("LATE-%04d", i), Name: "Late Comer", CreatedAt: t0.Add(time.Minute)})
	}
	insertRows(t, d, late)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened with its indexer paused first, to see what the last process left.
	setVar(t, &indexerPausedAtStart, true)
	d, err := Open(dir+"/frontdesk.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if m := searchMark(t, d); m != early {
		t.Fatalf("mark %d after reopening, want %d", m, early)
	}
	if n, err := d.CountEnquiries(ctx, crm.ListQuery{Text: "comer"}, 10000); err != nil || n != len(late) {
		t.Errorf("before catching up, %d found (%v), want %d", n, err, len(late))
	}
	d.indexer.resume()
	last := late[len(late)-1].ID
	deadline := time.After(time.Minute) // against a hang only; the indexer catches up at its first look
	for searchMark(t, d) < last {
		select {
		case <-d.indexer.nextPass():
		case <-deadline:
			t.Fatalf("the indexer left the mark at %d, want %d", searchMark(t, d), last)
		}
	}
	if n := count(t, d, `SELECT count(*) FROM enquiry_search WHERE enquiry_search MATCH 'comer'`); n != len(late) {
		t.Errorf("%d indexed after catching up, want %d", n, len(late))
	}
	if n, err := d.CountEnquiries(ctx, crm.ListQuery{Text: "comer"}, 10000); err != nil || n != len(late) {
		t.Errorf("after catching up, %d found (%v), want %d", n, err, len(late))
	}
}

// TestSearchMarkFollowsDeletionsAndOldIDs: deleting the newest enquiries brings the mark down to the newest
// left, so the enquiry that takes a deleted one's id is indexed; an enquiry given an id below the mark is
// indexed by its trigger.
func TestSearchMarkFollowsDeletionsAndOldIDs(t *testing.T) {
	sqliteOnly(t)
	d := openTest(t)
	pauseIndexer(t, d)
	rows := []*row{{Name: "First", CreatedAt: t0}, {Name: "Second", CreatedAt: t0}, {Name: "Third", CreatedAt: t0}}
	insertRows(t, d, rows)
	indexSearch(t, d)
	d.write.MustExec(`DELETE FROM enquiries WHERE id = ?`, rows[2].ID)
	if m := searchMark(t, d); m != rows[1].ID {
		t.Fatalf("mark %d after deleting the newest, want %d", m, rows[1].ID)
	}
	d.write.MustExec(`DELETE FROM enquiries WHERE id = ?`, rows[0].ID)
	if m := searchMark(t, d); m != rows[1].ID {
		t.Fatalf("mark %d after deleting an older one, want %d", m, rows[1].ID)
	}
	again := []*row{{Ref: "AGAIN-0001", Name: "Reborn", CreatedAt: t0.Add(time.Minute)}}
	insertRows(t, d, again)
	if again[0].ID != rows[2].ID {
		t.Fatalf("the new enquiry has id %d, want the deleted %d", again[0].ID, rows[2].ID)
	}
	d.write.MustExec(`INSERT INTO enquiries (id, reference, name, email, treatment, consent_at, consent_version,
		created_at, updated_at) VALUES (?, 'OLD-0001', 'Restored Elder', 'elder@example.org', 'adhd', 1, 'v1', ?, ?)`,
		rows[0].ID, ms(t0), ms(t0))
	for _, when := range []string{"before the indexer", "after the indexer"} {
		for text, want := range map[string]int{"reborn": 1, "elder": 1, "third": 0, "first": 0, "second": 1} {
			if n, err := d.CountEnquiries(context.Background(), crm.ListQuery{Text: text}, 10); err != nil || n != want {
				t.Errorf("%s: %q found %d (%v), want %d", when, text, n, err, want)
			}
		}
		indexSearch(t, d)
	}
}

// TestMigrationMovesSearchBehindAMark: migration 00012 indexes every enquiry not erased (with its notes) and sets
// the mark to the highest id; its down migration indexes what lies above the mark and gives intake its trigger
// back.
func TestMigrationMovesSearchBehindAMark(t *testing.T) {
	sqliteOnly(t) // SQLite's migration history
	ctx := context.Background()
	d := openAtVersion(t, 11)
	p, err := d.provider()
	if err != nil {
		t.Fatal(err)
	}
	rows := []*row{{Name: "Kept Before", CreatedAt: t0}, {Name: "Erased Before", CreatedAt: t0, Erased: true},
		{Name: "Noted Before", CreatedAt: t0}}
	insertRows(t, d, rows)
	d.write.MustExec(`DELETE FROM enquiry_search WHERE rowid = ?`, rows[1].ID) // as erasure left it
	d.write.MustExec(`INSERT INTO notes (enquiry_id, body, created_at) VALUES (?, 'wants mornings', 1)`, rows[2].ID)
	if _, err := p.UpTo(ctx, 12); err != nil {
		t.Fatal(err)
	}
	if m := searchMark(t, d); m != rows[2].ID {
		t.Errorf("mark %d after the migration, want %d", m, rows[2].ID)
	}
	matches := func(q string) int {
		return count(t, d, `SELECT count(*) FROM enquiry_search WHERE enquiry_search MATCH ?`, q)
	}
	if matches("before") != 2 || matches("erased") != 0 || matches("mornings") != 1 {
		t.Errorf("after the migration: before %d, erased %d, mornings %d; want 2, 0, 1",
			matches("before"), matches("erased"), matches("mornings"))
	}
	d.indexer.pause()
	insertRows(t, d, []*row{{Ref: "AFTER-0001", Name: "Stored After", CreatedAt: t0}})
	if _, err := p.DownTo(ctx, 11); err != nil {
		t.Fatal(err)
	}
	insertRows(t, d, []*row{{Ref: "AFTER-0002", Name: "Stored Later", CreatedAt: t0}})
	if matches("stored") != 2 || matches("before") != 2 {
		t.Errorf("after the down migration: stored %d, before %d; want 2 and 2", matches("stored"), matches("before"))
	}
}

// TestTextMatchAgreesWithFTS: textMatch, which searches the enquiries above the mark, finds exactly the
// documents FTS5 finds with ftsQuery, for typed text of every kind (words, fragments, phone numbers, emails,
// diacritics, other scripts, query syntax) over documents of the same kinds.
func TestTextMatchAgreesWithFTS(t *testing.T) {
	sqliteOnly(t)
	d := openTest(t)
	pauseIndexer(t, d)
	words := []string{"José", "Müller", "j.smith@example.com", "+447700900123", "07700 900123", "Ærø", "straße",
		"O'Brien", "Mary-Jane", "Zoë", "zoe", "Ольга", "ΣΟΦΙΑ", "Łódź", "crème", "brûlée", "x_y", "1,000.50", "v1.2",
		"<b>bold</b>", "Ng", "Wei", "AND", "NEAR(", "\"", "*", "a", "é", "e\u0301", "ﬁle", "İstanbul", "ǅemal", "😀",
		"𞤀𞤁", "\uE000x", "ß", "evening", "evenings", "even", "447700", "anna", "Ann-Marie", "née", "cafe", "café"}
	r := rand.New(rand.NewSource(5))
	pick := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString([]string{" ", " ", "-", ".", "", "@"}[r.Intn(6)])
			}
			b.WriteString(words[r.Intn(len(words))])
		}
		return b.String()
	}
	var rows []*row
	docs := map[int64]*searchDoc{}
	for i := 0; i < 150; i++ {
		rows = append(rows, &row{Name: pick(1 + r.Intn(3)), Email: pick(1), Phone: []string{"", "+447700900123", "+447911123456"}[r.Intn(3)],
			Message: pick(r.Intn(6)), CreatedAt: t0})
	}
	insertRows(t, d, rows)
	for _, rw := range rows {
		docs[rw.ID] = newSearchDoc(rw.Name, rw.Email, rw.Phone, rw.Message, "")
	}
	indexSearch(t, d)
	texts := append([]string{}, words...)
	for i := 0; i < 300; i++ {
		texts = append(texts, pick(1+r.Intn(2)))
		w := words[r.Intn(len(words))]
		texts = append(texts, string([]rune(w)[:1+r.Intn(len([]rune(w)))]))
	}
	for _, text := range texts {
		q := ftsQuery(text)
		m, ok := textMatch(text)
		if ok != (q != "") {
			t.Fatalf("%q: textMatch searchable %v, ftsQuery %q", text, ok, q)
		}
		if !ok {
			continue
		}
		var want []int64
		if err := d.read.Select(&want, `SELECT rowid FROM enquiry_search WHERE enquiry_search MATCH ? ORDER BY rowid`, q); err != nil {
			t.Fatalf("%q as %s: %v", text, q, err)
		}
		var got []int64
		for _, rw := range rows {
			if m(docs[rw.ID]) {
				got = append(got, rw.ID)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q (%s): textMatch finds %v, FTS5 %v", text, q, got, want)
		}
	}
}

// TestSearchIndexerWaitsOutAStorageFault: while the last write met a storage fault the indexer writes nothing
// (a small write of its own could fit where intake's did not, and tell /readyz the storage is well); once a
// write commits again it catches up. Searches find the enquiries above the mark meanwhile.
func TestSearchIndexerWaitsOutAStorageFault(t *testing.T) {
	sqliteOnly(t)
	d := openTest(t)
	pauseIndexer(t, d)
	insertRows(t, d, []*row{{Name: "Patient Waiting", CreatedAt: t0}})
	mark := searchMark(t, d)
	d.writer.health.record(sqlite3.Error{Code: sqlite3.ErrFull})
	indexSearch(t, d)
	if m := searchMark(t, d); m != mark {
		t.Errorf("the indexer moved the mark from %d to %d after a storage fault", mark, m)
	}
	if at, fault := d.writer.health.last(); fault == nil {
		t.Errorf("the indexer's look cleared the storage fault (at %v)", at)
	}
	if n, err := d.CountEnquiries(context.Background(), crm.ListQuery{Text: "waiting"}, 10); err != nil || n != 1 {
		t.Errorf("meanwhile the search finds %d (%v), want 1", n, err)
	}
	d.writer.health.record(nil)
	indexSearch(t, d)
	if m := searchMark(t, d); m <= mark {
		t.Errorf("the mark stayed at %d once writes committed again", m)
	}
}

// BenchmarkSearchAboveTheMark is one search (the first page of a common name, newest first) over 20,000
// enquiries with the newest 0, 200 or 2,000 above the mark: what the rows the indexer has not reached yet add
// to each search, read and matched directly. 200 is what a 200 ms look leaves at 1,000 enquiries/s.
func BenchmarkSearchAboveTheMark(b *testing.B) {
	for _, above := range []int{0, 200, 2000} {
		b.Run(fmt.Sprintf("above=%d", above), func(b *testing.B) {
			d := openTest(b)
			pauseIndexer(b, d)
			r := rand.New(rand.NewSource(1))
			first := []string{"Olivia", "Amelia", "Isla", "Jack", "Noah", "Aisha", "Mohammed", "Zoë", "Ewan", "Priya"}
			last := []string{"Smith", "Jones", "Patel", "Khan", "O'Brien", "Nowak", "Williams", "Taylor", "Brown", "Evans"}
			words := strings.Fields("I have struggled with anxiety and low mood since my GP letter last spring; sleep " +
				"is poor, I would prefer evenings and a call back on my mobile, or voicemail is fine")
			var rows []*row
			for i := 0; i < 20000; i++ {
				var msg []string
				for j := 0; j < 12+r.Intn(20); j++ {
					msg = append(msg, words[r.Intn(len(words))])
				}
				rows = append(rows, &row{Ref: fmt.Sprintf("B%05d", i), Name: first[r.Intn(10)] + " " + last[r.Intn(10)],
					Email: fmt.Sprintf("p%d@example.org", i), Phone: fmt.Sprintf("+4477009%05d", i),
					Message: strings.Join(msg, " "), CreatedAt: t0.Add(time.Duration(i) * time.Minute)})
			}
			insertRows(b, d, rows)
			if _, err := d.indexSearchBatch(context.Background(), len(rows)-above); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := d.ListEnquiries(ctx, crm.ListQuery{Text: "olivia"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestBulkLoadIndexesWhatItStores: enquiries stored by BulkLoad (bench/gen's path) are in the full-text index
// when it returns, with the notes its changes added; the indexer, queued behind loads, would fall behind.
func TestBulkLoadIndexesWhatItStores(t *testing.T) {
	d := openTest(t)
	pauseIndexer(t, d)
	coord := addStaff(t, d, "coord@clinic.example", crm.RoleCoordinator)
	var batch []BulkEnquiry
	for i := 0; i < 3; i++ {
		e := newEnquiry(fmt.Sprintf("bulk%d@example.org", i))
		e.Name, e.ReceivedAt = "Bulky Loaded", t0.Add(time.Duration(i)*time.Minute)
		batch = append(batch, BulkEnquiry{NewEnquiry: e, Changes: []BulkChange{{At: t0.Add(time.Hour),
			Actor: crm.Actor{ID: coord.ID, Role: crm.RoleCoordinator}, Change: crm.Change{Note: "Wants Fridays"}}}})
	}
	if _, err := d.BulkLoad(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if d.pg {
		return
	}
	if mark, top := searchMark(t, d), int64(count(t, d, `SELECT max(id) FROM enquiries`)); mark != top {
		t.Errorf("mark %d after BulkLoad, want %d", mark, top)
	}
	if n := count(t, d, `SELECT count(*) FROM enquiry_search WHERE enquiry_search MATCH 'bulky AND fridays'`); n != 3 {
		t.Errorf("%d bulk-loaded enquiries indexed with their notes, want 3", n)
	}
}
