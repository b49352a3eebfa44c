package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/db/pgtest"
	"github.com/frontdesk/frontdesk/intake/screening"
)

// listFixture is a database with enquiries spread over statuses, treatments, assignees and time.
type listFixture struct {
	d      *DB
	a, b   crm.Staff
	rows   []*row
	byID   map[int64]*row
	random *rand.Rand
	// riskAt and review are the flags some enquiries carry (risk since riskAt).
	riskAt map[int64]time.Time
	review map[int64]bool
}

// newListFixture stores n enquiries. jitter, when not 0, makes created_at run backwards by up to that much as
// IDs grow (as concurrent intake does), and the rows are stored in that order.
func newListFixture(t *testing.T, n int, jitter time.Duration) *listFixture {
	return newListFixtureIndexed(t, n, jitter, -1)
}

// newListFixtureIndexed is newListFixture with only the first indexed enquiries in SQLite's full-text index
// (the indexer paused; the rest above its mark), or all of them in time when indexed is negative. Fixtures made
// with the same n and jitter hold the same rows with the same IDs.
func newListFixtureIndexed(t *testing.T, n int, jitter time.Duration, indexed int) *listFixture {
	d := openTest(t)
	if indexed >= 0 {
		pauseIndexer(t, d)
	}
	f := &listFixture{d: d, byID: map[int64]*row{}, random: rand.New(rand.NewSource(7))}
	f.a = addStaff(t, d, "a@clinic.example", crm.RoleClinician, "adhd")
	f.b = addStaff(t, d, "b@clinic.example", crm.RoleClinician, "ptsd")
	names := []string{"Ann Example", "Bob Sample", "Zoë Ñúñez", "Ann-Marie O'Brien", "Chidi Okafor"}
	words := []string{"sleep", "anxiety", "worry", "focus", "NEAR", "AND", "trauma"}
	treatments := []string{"adhd", "ptsd", "anxiety"}
	for i := 0; i < n; i++ {
		r := &row{
			Status:    crm.AllStatuses[f.random.Intn(len(crm.AllStatuses))],
			Name:      names[f.random.Intn(len(names))],
			Treatment: treatments[f.random.Intn(len(treatments))],
			Message:   words[f.random.Intn(len(words))] + " " + words[f.random.Intn(len(words))],
			CreatedAt: t0.Add(time.Duration(i) * time.Minute),
			Phone:     fmt.Sprintf("+4477009%05d", f.random.Intn(5)),
		}
		if i%17 == 0 { // several enquiries at the very same millisecond
			r.CreatedAt = t0.Add(time.Duration(i-1) * time.Minute)
		}
		if jitter > 0 {
			r.CreatedAt = r.CreatedAt.Add(-time.Duration(f.random.Int63n(int64(jitter))))
		}
		switch f.random.Intn(3) {
		case 0:
			r.Assignee = f.a.ID
		case 1:
			r.Assignee = f.b.ID
		}
		f.rows = append(f.rows, r)
	}
	insertRows(t, d, f.rows)
	for _, r := range f.rows {
		f.byID[r.ID] = r
	}
	f.flag(t)
	if indexed > 0 && !d.pg {
		if _, err := d.indexSearchBatch(context.Background(), indexed); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// flag flags about one enquiry in five risk, some minutes after it arrived, and one in four review. It draws
// from a source of its own, so the rows and the queries stay what they were before flags existed.
func (f *listFixture) flag(t *testing.T) {
	f.riskAt, f.review = map[int64]time.Time{}, map[int64]bool{}
	random := rand.New(rand.NewSource(11))
	err := f.d.writer.do(context.Background(), func(tx *Tx) error {
		for _, r := range f.rows {
			var risk, review sql.NullInt64
			if random.Intn(5) == 0 {
				f.riskAt[r.ID] = r.CreatedAt.Add(time.Duration(random.Intn(120)) * time.Minute)
				risk = sql.NullInt64{Int64: ms(f.riskAt[r.ID]), Valid: true}
			}
			if random.Intn(4) == 0 {
				f.review[r.ID] = true
				review = sql.NullInt64{Int64: ms(r.CreatedAt), Valid: true}
			}
			if _, err := tx.Exec(`UPDATE enquiries SET flag_risk_at = ?, flag_review_at = ? WHERE id = ?`,
				risk, review, r.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("flag enquiries: %v", err)
	}
}

// matches is the oracle: what q selects, by the rules of crm.ListQuery, in the listing's order. text is the set
// of IDs the full-text index matches (nil: no text).
func (f *listFixture) matches(q crm.ListQuery, text map[int64]bool) []int64 {
	var out []*row
	for _, r := range f.rows {
		switch {
		case len(q.Statuses) > 0 && !slices.Contains(q.Statuses, r.Status):
		case len(q.Statuses) == 0 && !q.IncludeSpam && r.Status == crm.StatusSpam:
		case q.VisibleTo != 0 && (r.Status == crm.StatusSpam || (r.Assignee != 0 && r.Assignee != q.VisibleTo)):
		case q.Treatment != "" && r.Treatment != q.Treatment:
		case q.AssigneeID != 0 && r.Assignee != q.AssigneeID:
		case q.Unassigned && r.Assignee != 0:
		case !q.From.IsZero() && r.CreatedAt.Before(q.From):
		case !q.To.IsZero() && !r.CreatedAt.Before(q.To):
		case slices.Contains(q.Flags, screening.FlagRisk) && f.riskAt[r.ID].IsZero():
		case slices.Contains(q.Flags, screening.FlagReview) && !f.review[r.ID]:
		case !q.OverdueBefore.IsZero() && (r.Status != crm.StatusNew || !(r.CreatedAt.Before(q.OverdueBefore) ||
			(!q.UrgentBefore.IsZero() && !f.riskAt[r.ID].IsZero() && f.riskAt[r.ID].Before(q.UrgentBefore)))):
		case text != nil && !text[r.ID]:
		default:
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(x, y *row) int {
		c := x.CreatedAt.Compare(y.CreatedAt)
		if c == 0 {
			c = int(x.ID - y.ID)
		}
		if !q.Oldest {
			c = -c
		}
		return c
	})
	ids := make([]int64, len(out))
	for i, r := range out {
		ids[i] = r.ID
	}
	return ids
}

// textMatches asks the full-text index itself which enquiries match text, once it holds every enquiry.
func (f *listFixture) textMatches(t *testing.T, text string) map[int64]bool {
	indexSearch(t, f.d)
	var ids []int64
	m, query := ftsQuery(text), `SELECT rowid FROM enquiry_search WHERE enquiry_search MATCH ?`
	if onPostgres() {
		m, query = tsQuery(text), `SELECT enquiry_id FROM enquiry_search WHERE document @@ to_tsquery('frontdesk_search', ?)`
	}
	if m != "" {
		if err := f.d.read.Select(&ids, query, m); err != nil {
			t.Fatalf("match %q: %v", text, err)
		}
	}
	set := map[int64]bool{}
	for _, id := range ids {
		set[id] = true
	}
	return set
}

// walk lists every page of q and returns the IDs in order, failing on a repeat.
func walk(t *testing.T, d *DB, q crm.ListQuery) []int64 {
	t.Helper()
	var ids []int64
	seen := map[int64]bool{}
	for pages := 0; ; pages++ {
		page, err := d.ListEnquiries(context.Background(), q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		if pages > 1000 {
			t.Fatalf("%+v: no end to the pages", q)
		}
		limit := q.Limit
		if limit == 0 {
			limit = defaultPageSize
		}
		if len(page.Items) > limit || (page.NextCursor != "" && len(page.Items) != limit) {
			t.Fatalf("%+v: page of %d items, next %q", q, len(page.Items), page.NextCursor)
		}
		for _, e := range page.Items {
			if seen[e.ID] {
				t.Fatalf("%+v: enquiry %d listed twice", q, e.ID)
			}
			seen[e.ID] = true
			ids = append(ids, e.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		q.Cursor = page.NextCursor
	}
}

// queries returns list queries covering every filter alone, and random combinations.
func (f *listFixture) queries(n int) []crm.ListQuery {
	mid := t0.Add(time.Duration(len(f.rows)/3) * time.Minute)
	late := t0.Add(time.Duration(2*len(f.rows)/3) * time.Minute)
	out := []crm.ListQuery{
		{},
		{Oldest: true},
		{Statuses: []crm.Status{crm.StatusNew}},
		{Statuses: []crm.Status{crm.StatusLost, crm.StatusContacted, crm.StatusLost}},
		{Statuses: []crm.Status{crm.StatusSpam}},
		{IncludeSpam: true},
		{Treatment: "ptsd"},
		{Treatment: "depression"},
		{AssigneeID: f.a.ID},
		{Unassigned: true},
		{VisibleTo: f.a.ID},
		{VisibleTo: f.b.ID, IncludeSpam: true},
		{From: mid},
		{To: mid},
		{From: mid, To: late},
		{From: late, To: mid},
		{OverdueBefore: mid},
		{OverdueBefore: mid, Statuses: []crm.Status{crm.StatusContacted}},
		{AssigneeID: f.a.ID, Unassigned: true},
		{AssigneeID: f.a.ID, VisibleTo: f.b.ID},
		{AssigneeID: f.a.ID, VisibleTo: f.a.ID, Treatment: "adhd", Statuses: []crm.Status{crm.StatusNew, crm.StatusScreening}},
		{VisibleTo: f.a.ID, Unassigned: true, Oldest: true},
		{Statuses: []crm.Status{crm.StatusNew}, VisibleTo: f.a.ID, Oldest: true, Limit: 3}, // a board column
	}
	statusSets := [][]crm.Status{nil, {crm.StatusNew}, {crm.StatusNew, crm.StatusLost, crm.StatusSpam}, crm.ActiveStatuses}
	for i := 0; i < n; i++ {
		r := f.random
		q := crm.ListQuery{Statuses: statusSets[r.Intn(len(statusSets))], IncludeSpam: r.Intn(4) == 0,
			Oldest: r.Intn(2) == 0, Limit: []int{0, 1, 4, 9}[r.Intn(4)]}
		if r.Intn(3) == 0 {
			q.Treatment = []string{"adhd", "ptsd"}[r.Intn(2)]
		}
		switch r.Intn(5) {
		case 0:
			q.AssigneeID = f.a.ID
		case 1:
			q.Unassigned = true
		}
		if r.Intn(3) == 0 {
			q.VisibleTo = []int64{f.a.ID, f.b.ID}[r.Intn(2)]
		}
		if r.Intn(3) == 0 {
			q.From = mid
		}
		if r.Intn(3) == 0 {
			q.To = late
		}
		if r.Intn(5) == 0 {
			q.OverdueBefore = late
		}
		out = append(out, q)
	}
	return out
}

func TestListEnquiriesFiltersAndPages(t *testing.T) {
	f := newListFixture(t, 150, 0)
	for _, q := range f.queries(150) {
		want := f.matches(q, nil)
		if q.Limit == 0 {
			q.Limit = 7 // small pages, so every listing has several
		}
		got := walk(t, f.d, q)
		if !slices.Equal(got, want) {
			t.Errorf("%+v:\n got %v\nwant %v", q, got, want)
		}
		for _, max := range []int{1, 5, 1000} {
			n, err := f.d.CountEnquiries(context.Background(), q, max)
			if err != nil {
				t.Fatal(err)
			}
			if n != min(len(want), max) {
				t.Errorf("%+v: CountEnquiries(%d) = %d, want %d", q, max, n, min(len(want), max))
			}
		}
	}
}

// TestListFlagsAndUrgency: the flag filters and the urgent rule of the overdue filter, alone, together and with
// text, page by page and counted, against the oracle.
func TestListFlagsAndUrgency(t *testing.T) {
	f := newListFixture(t, 200, 0)
	at := func(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }
	risk, review := []string{screening.FlagRisk}, []string{screening.FlagReview}
	both := []string{screening.FlagReview, screening.FlagRisk}
	queries := []crm.ListQuery{
		{Flags: risk}, {Flags: review}, {Flags: both}, {Flags: both, Oldest: true}, {Flags: risk, IncludeSpam: true},
		{Flags: risk, Statuses: []crm.Status{crm.StatusNew}, Oldest: true}, {Flags: risk, VisibleTo: f.a.ID},
		{Flags: review, Treatment: "ptsd", Unassigned: true}, {Flags: risk, From: at(50), To: at(150)},
		{OverdueBefore: at(60), UrgentBefore: at(100)}, {OverdueBefore: at(60), UrgentBefore: at(100), Oldest: true},
		{OverdueBefore: at(60), UrgentBefore: at(400), Flags: review}, {OverdueBefore: at(0), UrgentBefore: at(400)},
		{OverdueBefore: at(60), UrgentBefore: at(100), AssigneeID: f.b.ID},
	}
	for _, text := range []string{"", "ann", "sleep worry"} {
		for _, q := range queries {
			q.Text = text
			var match map[int64]bool
			if text != "" {
				match = f.textMatches(t, text)
			}
			want := f.matches(q, match)
			if len(want) == 0 && text == "" {
				t.Fatalf("%+v selects nothing: the fixture does not test it", q)
			}
			q.Limit = 4
			if got := walk(t, f.d, q); !slices.Equal(got, want) {
				t.Errorf("%+v:\n got %v\nwant %v", q, got, want)
			}
			n, err := f.d.CountEnquiries(context.Background(), q, 1000)
			if err != nil || n != len(want) {
				t.Errorf("%+v: count %d, %v; want %d", q, n, err, len(want))
			}
		}
	}
}

func TestListPageSizes(t *testing.T) {
	f := newListFixture(t, 260, 0)
	ctx := context.Background()
	for limit, want := range map[int]int{0: defaultPageSize, -3: defaultPageSize, 10: 10, 1000: maxPageSize} {
		page, err := f.d.ListEnquiries(ctx, crm.ListQuery{IncludeSpam: true, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != want || page.NextCursor == "" {
			t.Errorf("limit %d: %d items, next %q; want %d and a cursor", limit, len(page.Items), page.NextCursor, want)
		}
	}
	page, err := f.d.ListEnquiries(ctx, crm.ListQuery{IncludeSpam: true, Limit: 260})
	if err != nil || len(page.Items) != maxPageSize {
		t.Fatalf("%d items, %v", len(page.Items), err)
	}
	// The last page has no cursor even when it is exactly full.
	page, err = f.d.ListEnquiries(ctx, crm.ListQuery{IncludeSpam: true, Limit: 60, Cursor: page.NextCursor})
	if err != nil || len(page.Items) != 60 || page.NextCursor != "" {
		t.Errorf("last page: %d items, next %q, %v", len(page.Items), page.NextCursor, err)
	}
	// Items carry the assignee.
	for _, e := range page.Items {
		r := f.byID[e.ID]
		if e.AssigneeID() != r.Assignee || (e.Assignee != nil && e.Assignee.Email == "") || e.Reference != r.Ref {
			t.Fatalf("item %+v does not match stored %+v", e, r)
		}
	}
}

func TestBadCursorIsAnInputError(t *testing.T) {
	f := newListFixture(t, 3, 0)
	for _, c := range []string{"x", "!!!", encodeCursor(position{1, 0}), "MTIz", "YTpi", "MTI6", "MTI6LTM"} {
		for _, text := range []string{"", "ann"} {
			_, err := f.d.ListEnquiries(context.Background(), crm.ListQuery{Cursor: c, Text: text})
			var ie crm.InputError
			if !errors.As(err, &ie) || ie["cursor"] == "" {
				t.Errorf("cursor %q: %v, want an InputError naming the cursor", c, err)
			}
		}
	}
}

// TestListReadsOneSnapshot: a listing's transaction sees the database as it was at its first read, so the
// keys and the rows it reads afterwards agree even while enquiries are written (on PostgreSQL that takes
// REPEATABLE READ; the default READ COMMITTED would see the new enquiry in the second count).
func TestListReadsOneSnapshot(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	insertRows(t, d, []*row{{CreatedAt: t0}})
	tx, err := d.snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var before, after int
	if err := tx.GetContext(ctx, &before, `SELECT count(*) FROM enquiries`); err != nil {
		t.Fatal(err)
	}
	insertRows(t, d, []*row{{Ref: "LATER-0001", CreatedAt: t0.Add(time.Minute)}})
	if err := tx.GetContext(ctx, &after, `SELECT count(*) FROM enquiries`); err != nil {
		t.Fatal(err)
	}
	if before != 1 || after != 1 {
		t.Errorf("the snapshot saw %d enquiries, then %d; want 1 both times", before, after)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM enquiries`); err == nil {
		t.Error("a listing's transaction could write")
	}
}

func TestSearchFindsEveryIndexedField(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	a := addStaff(t, d, "a@clinic.example", crm.RoleClinician)
	rows := []*row{
		{Name: "Margaret Thatcher-Smith", Email: "maggie@example.org", Phone: "+447700900123", Message: "I cannot sleep", CreatedAt: t0},
		{Name: "Zoë Ñúñez", Email: "zoe@example.net", Phone: "+447700900999", Message: "Trouble focusing at work", CreatedAt: t0.Add(time.Minute)},
		{Name: "Bob Sample", Email: "bob@sample.example", Message: `He said "AND" NEAR(the) end: -x*`, CreatedAt: t0.Add(2 * time.Minute), Assignee: a.ID},
		{Name: "Spam Bot", Email: "bot@spam.example", Status: crm.StatusSpam, Message: "sleep pills cheap", CreatedAt: t0.Add(3 * time.Minute)},
	}
	insertRows(t, d, rows)
	if _, err := d.UpdateEnquiry(ctx, rows[1].Ref, crm.Actor{ID: a.ID, Role: crm.RoleClinician}, t0,
		func(crm.Enquiry) (crm.Change, error) { return crm.Change{Note: "Prefers a callback on Tuesdays"}, nil }); err != nil {
		t.Fatal(err)
	}
	search := func(q crm.ListQuery) []int64 {
		t.Helper()
		page, err := d.ListEnquiries(ctx, q)
		if err != nil {
			t.Fatalf("search %q: %v", q.Text, err)
		}
		var ids []int64
		for _, e := range page.Items {
			ids = append(ids, e.ID)
		}
		return ids
	}
	ids := func(rs ...*row) []int64 {
		var out []int64
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	for text, want := range map[string][]int64{
		"margaret":           ids(rows[0]),
		"MARG":               ids(rows[0]),
		"thatcher smith":     ids(rows[0]),
		"smith thatcher":     ids(rows[0]),
		"maggie@example.org": ids(rows[0]),
		"example":            ids(rows[2], rows[1], rows[0]), // example.org, example.net, sample.example
		"07700 900123":       ids(rows[0]),
		"07700900123":        ids(rows[0]),
		"+44 7700 900123":    ids(rows[0]),
		"447700900123":       ids(rows[0]),
		"4477009001":         ids(rows[0]),
		"sleep":              ids(rows[0]), // spam left out
		"zoe":                ids(rows[1]),
		"Ñúñez":              ids(rows[1]),
		"nunez":              ids(rows[1]),
		"tuesdays":           ids(rows[1]), // a note
		"callback zoe":       ids(rows[1]),
		"focus":              ids(rows[1]), // prefix of focusing
		"and near":           ids(rows[2]),
		"sleep nobody":       nil,
		"margaret bob":       nil,
	} {
		if got := search(crm.ListQuery{Text: text}); !slices.Equal(got, want) {
			t.Errorf("search %q = %v, want %v", text, got, want)
		}
	}
	if got := search(crm.ListQuery{Text: "sleep", IncludeSpam: true}); !slices.Equal(got, ids(rows[3], rows[0])) {
		t.Errorf("search with spam = %v", got)
	}
	if got := search(crm.ListQuery{Text: "sample", VisibleTo: a.ID + 1}); len(got) != 0 {
		t.Errorf("search for another clinician's enquiry found %v", got)
	}
	// Whatever is typed, the search never fails.
	for _, text := range []string{`"`, `""`, `"""`, `*`, `**`, `AND`, `OR`, `NOT`, `NEAR(`, `NEAR(a b)`, `-`, `--`, `:`,
		`name:ann`, `^ann`, `ann*`, `(`, `)`, `)(`, `{name email}: x`, `'`, `\`, `a"b`, `😀`, `𞤀𞤁`, `ß`, `+`, `+44`,
		`0`, `a AND`, `OR b`, `"AND"`, `NEAR/2`, `ann + bob`, "\x00", "a\x00b", "\xff\xfe", "ann\xffbob", "tab\there", "ann\u2028bob", strings.Repeat("ab ", 70),
		// to_tsquery's syntax (PostgreSQL), and a word longer than its 2,047-byte limit
		`&`, `|`, `!`, `!!ann`, `<->`, `a <-> b`, `<2>`, `ann:*`, `ann:A`, `'ann'`, `''`, `a & | b`, `(ann | bob) & !x`,
		strings.Repeat("a", 3000), strings.Repeat("é", 1500) + " ann"} {
		if _, err := d.ListEnquiries(ctx, crm.ListQuery{Text: text}); err != nil {
			t.Errorf("search %q: %v", text, err)
		}
		if _, err := d.CountEnquiries(ctx, crm.ListQuery{Text: text}, 10); err != nil {
			t.Errorf("count %q: %v", text, err)
		}
	}
}

// TestSearchStrategiesAgree runs searches through each way of reading them (the walk in rowid order, the
// filter's index with the matches materialised, the whole sort) and compares every page with the oracle, on
// enquiries whose created_at runs backwards by up to a few minutes as IDs grow; on SQLite with every enquiry in
// the full-text index, half of them, and none (the rest above the indexer's mark, matched directly). PostgreSQL
// has one way (its planner chooses the index), which must give the same pages whatever the tuning says.
func TestSearchStrategiesAgree(t *testing.T) {
	for _, state := range []struct {
		name    string
		indexed int
	}{{"all indexed", -1}, {"half indexed", 100}, {"none indexed", 0}} {
		t.Run(state.name, func(t *testing.T) {
			if state.indexed >= 0 {
				sqliteOnly(t) // PostgreSQL indexes each enquiry as it is written
			}
			searchStrategiesAgree(t, state.indexed)
		})
	}
}

// searchStrategiesAgree is TestSearchStrategiesAgree with the first indexed enquiries in the full-text index
// (all when negative).
func searchStrategiesAgree(t *testing.T, indexed int) {
	oracle := newListFixture(t, 200, 5*time.Minute)
	f := oracle
	if indexed >= 0 {
		f = newListFixtureIndexed(t, 200, 5*time.Minute, indexed)
	}
	var lateness int64
	if err := f.d.read.Get(&lateness, `SELECT lateness FROM enquiry_order`); err != nil {
		t.Fatal(err)
	}
	if !onPostgres() && (lateness <= 0 || lateness > (5*time.Minute).Milliseconds()) {
		t.Fatalf("lateness %d ms, want between 0 and 5 minutes", lateness)
	}
	texts := []string{"ann", "anxiety", "sleep worry", "near", "example", "07700 900001", "zoe", "nobody"}
	queries := oracle.queries(25)
	strategies := []struct {
		name                  string
		narrow, scan          int
		lateness              int64
		wantWalk, wantNarrowF bool
	}{
		{name: "automatic", narrow: narrowRows, scan: walkScanLimit, lateness: walkLatenessLimit},
		{name: "walk", narrow: 0, scan: 1 << 30, lateness: walkLatenessLimit},
		{name: "walk giving up", narrow: 0, scan: 3, lateness: walkLatenessLimit},
		{name: "filter index", narrow: 1 << 30, scan: walkScanLimit, lateness: walkLatenessLimit},
		{name: "sort", narrow: 0, scan: walkScanLimit, lateness: -1},
	}
	for _, s := range strategies {
		t.Run(s.name, func(t *testing.T) {
			setVar(t, &narrowRows, s.narrow)
			setVar(t, &walkScanLimit, s.scan)
			setVar(t, &walkLatenessLimit, s.lateness)
			for i, text := range texts {
				match := oracle.textMatches(t, text)
				plain := []crm.ListQuery{{}, {Oldest: true}, {Limit: 3}, {Oldest: true, Limit: 2}, {Oldest: true, From: t0.Add(time.Hour)}}
				for _, q := range append(plain, queries[i*3:i*3+4]...) {
					q.Text = text
					want := oracle.matches(q, match)
					if q.Limit == 0 {
						q.Limit = 10
					}
					if got := walk(t, f.d, q); !slices.Equal(got, want) {
						t.Errorf("%+v:\n got %v\nwant %v", q, got, want)
					}
					n, err := f.d.CountEnquiries(context.Background(), q, 5)
					if err != nil || n != min(len(want), 5) {
						t.Errorf("%+v: count %d, %v; want %d", q, n, err, min(len(want), 5))
					}
				}
			}
		})
	}
	if indexed >= 0 {
		var above int
		if err := f.d.read.Get(&above, `SELECT count(*) FROM enquiries WHERE id > (SELECT enquiry_id FROM enquiry_search_mark)`); err != nil || above != 200-indexed {
			t.Errorf("%d enquiries above the mark at the end (%v), want %d", above, err, 200-indexed)
		}
	}
}

// TestLatenessBound: the bookkeeping that lets a search walk in rowid order.
func TestLatenessBound(t *testing.T) {
	sqliteOnly(t) // PostgreSQL keeps no bound (its migration 00011)
	d := openTest(t)
	lateness := func() int64 {
		var n int64
		if err := d.read.Get(&n, `SELECT lateness FROM enquiry_order`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	insertRows(t, d, []*row{{CreatedAt: t0}, {CreatedAt: t0.Add(time.Second)}, {CreatedAt: t0.Add(2 * time.Second)}})
	if l := lateness(); l != 0 {
		t.Errorf("in order: lateness %d", l)
	}
	insertRows(t, d, []*row{{Ref: "LATE-0001", CreatedAt: t0.Add(1500 * time.Millisecond)}})
	if l := lateness(); l != 500 {
		t.Errorf("500 ms late: lateness %d", l)
	}
	insertRows(t, d, []*row{{Ref: "LATE-0002", CreatedAt: t0.Add(time.Hour)}})
	if l := lateness(); l != 500 {
		t.Errorf("after a later one: lateness %d", l)
	}
	d.write.MustExec(`UPDATE enquiries SET created_at = created_at + 1 WHERE reference = 'LATE-0001'`)
	if l := lateness(); l <= walkLatenessLimit {
		t.Errorf("after created_at changed: lateness %d, want the walk disabled", l)
	}
}

func TestListQueriesUseIndexes(t *testing.T) {
	sqliteOnly(t) // TestPostgresListQueriesUseIndexes is PostgreSQL's
	f := newListFixture(t, 30, 0)
	check := func(what string, q crm.ListQuery, query string, args []any) {
		t.Helper()
		for _, line := range planOf(t, f.d, query, args...) {
			if line == "SCAN e" || strings.HasPrefix(line, "SCAN e ") || strings.Contains(line, "SCAN enquiries") {
				t.Errorf("%s of %+v reads every enquiry: %s\n%s", what, q, line, query)
			}
			if strings.HasPrefix(line, "SEARCH e ") && !strings.Contains(line, "INDEX") && !strings.Contains(line, "PRIMARY KEY") {
				t.Errorf("%s of %+v: %s", what, q, line)
			}
		}
	}
	qs := append(f.queries(60), crm.ListQuery{Statuses: []crm.Status{crm.StatusNew}, AssigneeID: f.a.ID, Treatment: "adhd"})
	for _, q := range qs {
		p, err := plan(q, false)
		if err != nil || p.empty {
			continue
		}
		query, args := p.listSQL()
		check("list", q, query, args)
		query, args = p.countSQL(false, nullID, nullID, 10)
		check("count", q, query, args)

		p.match = ftsQuery("ann")
		query, args = p.walkSQL(nullID, nullID)
		check("walk", q, query, args)
		walkPlan := strings.Join(planOf(t, f.d, query, args...), "; ")
		if !strings.Contains(walkPlan, "SCAN s VIRTUAL TABLE") || !strings.Contains(walkPlan, "SEARCH e USING INTEGER PRIMARY KEY") ||
			strings.Contains(walkPlan, "TEMP B-TREE") {
			t.Errorf("walk of %+v is not driven by the full-text index in rowid order: %s", q, walkPlan)
		}
		if narrow, _ := narrowFilter(context.Background(), f.d.read, p); narrow {
			query, args = p.filteredSQL()
			check("filtered search", q, query, args)
			query, args = p.countSQL(true, nullID, nullID, 10)
			check("filtered count", q, query, args)
		}
		query, args = p.countSQL(false, nullID, nullID, 10)
		check("search count", q, query, args)
		query, args = p.sortedSQL()
		check("sorted search", q, query, args)
		query, args = p.recentSQL()
		for _, line := range planOf(t, f.d, query, args...) {
			if (line == "SCAN e" || strings.HasPrefix(line, "SEARCH e ")) && line != "SEARCH e USING INTEGER PRIMARY KEY (rowid>?)" {
				t.Errorf("the search above the mark of %+v does not read the range of ids above it: %s", q, line)
			}
		}
	}
}

// TestPostgresListQueriesUseIndexes: on PostgreSQL, with a few thousand enquiries of varied words and fresh
// statistics, the first page of a listing reads each arm through an index, and a search for a rare word finds
// its matches through the GIN index and their enquiries by id, never reading the whole enquiries table.
// (TestListQueriesUseIndexes is SQLite's.) The words must vary as real ones do: with fewer than 100 common
// words in the statistics PostgreSQL guesses that a prefix matches 2% of the rows, and on a small table it
// then rightly reads every row. It runs on PostgreSQL in both runs of the store tests.
func TestPostgresListQueriesUseIndexes(t *testing.T) {
	d, err := Open(pgtest.URL(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ctx := context.Background()
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	a := addStaff(t, d, "a@clinic.example", crm.RoleClinician)
	b := addStaff(t, d, "b@clinic.example", crm.RoleClinician)
	r := rand.New(rand.NewSource(3))
	word := func(first byte) string {
		return string([]byte{first, byte('a' + r.Intn(26)), byte('a' + r.Intn(26)), byte('a' + r.Intn(26))})
	}
	var rows []*row
	for i := 0; i < 3000; i++ {
		rows = append(rows, &row{Status: crm.AllStatuses[r.Intn(len(crm.AllStatuses))], Name: word('n') + " " + word('s'),
			Message: word('w') + " " + word('w') + " " + word('w'), Assignee: []int64{0, a.ID, b.ID}[r.Intn(3)],
			CreatedAt: t0.Add(time.Duration(i) * time.Minute)})
	}
	rows = append(rows, &row{Ref: "RARE-0001", Name: "Quentin Rarename", CreatedAt: t0.Add(time.Hour)},
		&row{Ref: "RARE-0002", Name: "Quentina Rarename", CreatedAt: t0.Add(2 * time.Hour), Assignee: b.ID})
	insertRows(t, d, rows)
	// Statistics, as autovacuum keeps them: ANALYZE for the tables, VACUUM for the GIN index's own.
	d.write.MustExec(`VACUUM ANALYZE`)
	explain := func(what string, q crm.ListQuery, query string, args []any) string {
		t.Helper()
		var lines []string
		if err := d.read.Select(&lines, "EXPLAIN "+query, args...); err != nil {
			t.Fatalf("explain %s: %v\n%s", what, err, query)
		}
		plan := strings.Join(lines, "\n")
		if strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, "Index") {
			t.Errorf("%s of %+v does not read through an index:\n%s", what, q, plan)
		}
		return plan
	}
	for _, q := range []crm.ListQuery{{}, {Oldest: true}, {VisibleTo: a.ID}, {Statuses: []crm.Status{crm.StatusNew}, Treatment: "adhd"}} {
		p, err := plan(q, true)
		if err != nil {
			t.Fatal(err)
		}
		query, args := p.listSQL()
		explain("list", q, query, args)
	}
	for _, q := range []crm.ListQuery{{Text: "rarename"}, {Text: "quentin rare", Oldest: true}, {Text: "rarename", VisibleTo: b.ID}} {
		p, err := plan(q, true)
		if err != nil {
			t.Fatal(err)
		}
		query, args := p.sortedSQL()
		if plan := explain("search", q, query, args); !strings.Contains(plan, "enquiry_search_document") ||
			!strings.Contains(plan, "enquiries_pkey") {
			t.Errorf("search of %+v is not read through the GIN index and then by id:\n%s", q, plan)
		}
		page, err := d.ListEnquiries(ctx, q)
		if err != nil || len(page.Items) == 0 {
			t.Errorf("search of %+v: %d items, %v", q, len(page.Items), err)
		}
	}
}

// TestFTSQueryNeverFails feeds random text made of FTS5's and to_tsquery's syntax characters to the full-text
// index: through ftsQuery and MATCH on SQLite, through tsQuery and to_tsquery on PostgreSQL.
func TestFTSQueryNeverFails(t *testing.T) {
	d := openTest(t)
	insertRows(t, d, []*row{{Name: "Ann Example", Message: `"quoted" NEAR(x) a*b -c:d 'x' & y | !z <-> w:*`, CreatedAt: t0}})
	alphabet := []string{`"`, `'`, `*`, `^`, `:`, `-`, `+`, `(`, `)`, `{`, `}`, `,`, `.`, ` `, "\t", "\x00", "\xff",
		"AND", "OR", "NOT", "NEAR", "NEAR(", "ann", "a", "0", "7700", "é", "😀", "ß", "\u200b", `\`, "/", "%", "_",
		"&", "|", "!", "<", ">", "<->", "<2>", ":*", ":A", "''", "+44 7700 900", "\uE000", "\u0301", "İ"}
	toQuery, query := ftsQuery, `SELECT count(*) FROM enquiry_search WHERE enquiry_search MATCH ?`
	if onPostgres() {
		toQuery, query = tsQuery, `SELECT count(*) FROM enquiry_search WHERE document @@ to_tsquery('frontdesk_search', ?)`
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 3000; i++ {
		var b strings.Builder
		for n := r.Intn(8); n >= 0; n-- {
			b.WriteString(alphabet[r.Intn(len(alphabet))])
		}
		q := toQuery(b.String())
		if q == "" {
			continue
		}
		var n int
		if err := d.read.Get(&n, query, q); err != nil {
			t.Fatalf("text %q became %q: %v", b.String(), q, err)
		}
	}
}
