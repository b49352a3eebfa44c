package db

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
)

// The same writes on both engines leave the same trigger-kept state: staff.open_enquiries and a search index that finds the same enquiries for what a person types (ftsQuery in SQLite,
// tsQuery in PostgreSQL), except where docs/postgres.md says the engines differ.

// parityEngine is one migrated database under test and how it spells what differs.
type parityEngine struct {
	name string
	db   *sqlx.DB
	// search returns the ids of the enquiries matching what a person typed, in id order.
	search func(t *testing.T, text string) []int64
	// unindex deletes an enquiry's search entry, as erasure does.
	unindex string
	// settle, when set, brings the search index up to date (SQLite's indexer follows the writes).
	settle func(t *testing.T)
}

func (e parityEngine) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := e.db.Exec(e.db.Rebind(q), args...); err != nil {
		t.Fatalf("%s: %s: %v", e.name, q, err)
	}
}

func (e parityEngine) ints(t *testing.T, q string) []int64 {
	t.Helper()
	var out []int64
	if err := e.db.Select(&out, q); err != nil {
		t.Fatalf("%s: %s: %v", e.name, q, err)
	}
	return out
}

func bothEngines(t *testing.T) []parityEngine {
	pg, _ := migratePostgres(t) // first: it skips the test when there is no PostgreSQL
	lite := openTest(t)
	pgx := sqlx.NewDb(pg, "pgx")
	return []parityEngine{
		{name: "SQLite", db: lite.write.DB, unindex: `DELETE FROM enquiry_search WHERE rowid = ?`,
			settle: func(t *testing.T) { indexSearch(t, lite) },
			search: func(t *testing.T, text string) []int64 {
				indexSearch(t, lite)
				q := ftsQuery(text)
				if q == "" {
					return nil
				}
				var ids []int64
				if err := lite.write.Select(&ids, `SELECT rowid FROM enquiry_search WHERE enquiry_search MATCH ? ORDER BY rowid`, q); err != nil {
					t.Fatalf("SQLite: search %q as %s: %v", text, q, err)
				}
				return ids
			}},
		{name: "PostgreSQL", db: pgx, unindex: `DELETE FROM enquiry_search WHERE enquiry_id = ?`,
			search: func(t *testing.T, text string) []int64 {
				q := tsQuery(text)
				if q == "" {
					return nil
				}
				var ids []int64
				err := pgx.Select(&ids, `SELECT enquiry_id FROM enquiry_search
					WHERE document @@ to_tsquery('frontdesk_search', $1) ORDER BY enquiry_id`, q)
				if err != nil {
					t.Fatalf("PostgreSQL: search %q as %s: %v", text, q, err)
				}
				return ids
			}},
	}
}

const insertParityEnquiry = `INSERT INTO enquiries (reference, status, name, email, phone, treatment, message, consent_at,
	consent_version, assignee_id, created_at, updated_at) VALUES `

func insertParity(t *testing.T, e parityEngine, rows ...func() (string, []any)) {
	t.Helper()
	var values []string
	var args []any
	for _, r := range rows {
		v, a := r()
		values = append(values, v)
		args = append(args, a...)
	}
	e.exec(t, insertParityEnquiry+strings.Join(values, ", "), args...)
}

// parityRow is one VALUES row for insertEnquiry.
func parityRow(ref, status, name, email, phone, message string, assignee any, created int64) func() (string, []any) {
	return func() (string, []any) {
		return `(?, ?, ?, ?, ?, 'adhd', ?, 1, 'v1', ?, ?, ?)`,
			[]any{ref, status, name, email, phone, message, assignee, created, created}
	}
}

// orderState is enquiry_order's one row.
func orderState(t *testing.T, e parityEngine) string {
	t.Helper()
	var latest, lateness int64
	if err := e.db.QueryRowx(`SELECT latest_created_at, lateness FROM enquiry_order`).Scan(&latest, &lateness); err != nil {
		t.Fatalf("%s: %v", e.name, err)
	}
	return fmt.Sprintf("latest %d lateness %d", latest, lateness)
}

func TestPostgresTriggersMatchSQLite(t *testing.T) {
	opensPostgresItself(t)
	engines := bothEngines(t)
	state := map[string][]string{}
	record := func(e parityEngine, what string) {
		state[e.name] = append(state[e.name], what)
	}
	for _, e := range engines {
		e.exec(t, `INSERT INTO staff (email, name, role, password_hash, created_at) VALUES
			('a@clinic.example', 'A', 'clinician', 'x', 1), ('b@clinic.example', 'B', 'clinician', 'x', 1)`)
		insertParity(t, e, parityRow("R1", "new", "José Müller", "j.smith@example.com", "+447700900123",
			"Ærø straße, O'Brien & Mary-Jane", 1, 100))
		// Arrives 10 ms "late": the bound grows to 10.
		insertParity(t, e, parityRow("R2", "new", "Anna Łukasz", "anna@clinic.org", "", "ćwiczenia", 1, 90))
		insertParity(t, e, parityRow("R3", "contacted", "Zoë Ng", "zoe.ng@example.org", "+447911123456", "Crème brûlée; Ольга Иванова, ΣΟΦΙΑ, Łódź", 2, 200))
		insertParity(t, e, parityRow("R4", "spam", "Spammer", "spam@example.net", "", "buy now", nil, 300))
		// Two in one statement, the second 5 ms late: the bound stays 10 (and is not voided by the first
		// seeing the second's id).
		insertParity(t, e,
			parityRow("R5", "new", "Nadia", "nadia@example.ru", "", "", 2, 400),
			parityRow("R6", "screening", "Ng Wei", "wei@example.com", "", "x_y 1,000.50 v1.2 <b>bold</b>", nil, 395))
		e.exec(t, `INSERT INTO notes (enquiry_id, body, created_at) VALUES (1, 'Called back: wants evening slot', 5)`)
		e.exec(t, `INSERT INTO notes (enquiry_id, body, created_at) VALUES (1, 'Zoë booked', 6)`)
		record(e, fmt.Sprint("open after inserts ", e.ints(t, `SELECT open_enquiries FROM staff ORDER BY id`)))
		e.exec(t, `UPDATE enquiries SET status = 'lost' WHERE id = 1`)
		e.exec(t, `UPDATE enquiries SET assignee_id = 1 WHERE id = 3`)
		e.exec(t, `UPDATE enquiries SET status = 'contacted' WHERE id = 2`)
		e.exec(t, `UPDATE enquiries SET assignee_id = 1, status = 'in_treatment' WHERE id = 6`)
		record(e, fmt.Sprint("open after updates ", e.ints(t, `SELECT open_enquiries FROM staff ORDER BY id`)))
		// Erasure empties the fields and marks the enquiry erased (the update trigger re-indexes one the index
		// holds; the SQLite indexer never indexes an erased one), then deletes the entry.
		e.exec(t, `UPDATE enquiries SET name = '(erased)', email = '', phone = '', message = '', erased_at = 7 WHERE id = 2`)
		e.exec(t, e.unindex, 2)
		// Spam is deleted.
		e.exec(t, `DELETE FROM enquiries WHERE id = 4`)
		e.exec(t, `DELETE FROM enquiries WHERE id = 5`)
		record(e, fmt.Sprint("open after deletes ", e.ints(t, `SELECT open_enquiries FROM staff ORDER BY id`)))
		if e.settle != nil {
			e.settle(t)
		}
		record(e, fmt.Sprint("indexed ", e.ints(t, `SELECT count(*) FROM enquiry_search`)))
	}
	if !slices.Equal(state["SQLite"], state["PostgreSQL"]) {
		t.Errorf("trigger-kept state differs:\nSQLite:     %q\nPostgreSQL: %q", state["SQLite"], state["PostgreSQL"])
	}
	want := []string{"open after inserts [2 2]", "open after updates [3 1]", "open after deletes [3 0]", "indexed [3]"}
	if !slices.Equal(state["PostgreSQL"], want) {
		t.Errorf("PostgreSQL:\n got %q\nwant %q", state["PostgreSQL"], want)
	}

	searches := []string{"jose", "JOSÉ", "mul", "müller", "j.smith@exa", "smith", "example.com", "exam",
		"+44 7700 900123", "07700 900123", "447700", "evening", "evening slot", "called wants", "zoe", "zoë", "ng",
		"o'brien", "brien", "mary-jane", "jane", "creme brulee", "crème", "ольга", "ОЛЬГА", "σοφια", "anna",
		"ćwiczenia", "nadia", "spammer", "иван", "łódź", "+44 7911 123456", "x_y", "1,000", "v1.2", "bold", "b", "a", "&", "*", `"`, "a'b", "NEAR(", "-jose",
		"ng wei", "wei ng", "nope"}
	for _, text := range searches {
		lite, pg := engines[0].search(t, text), engines[1].search(t, text)
		if !slices.Equal(lite, pg) {
			t.Errorf("search %q: SQLite finds %v, PostgreSQL %v", text, lite, pg)
		}
	}
	// So that agreeing on nothing cannot pass: what both must find.
	for text, want := range map[string][]int64{"jose": {1}, "JOSÉ": {1}, "j.smith@exa": {1}, "zoe": {1, 3},
		"ОЛЬГА": {3}, "+44 7700 900123": {1}, "07700 900123": {1}, "x_y": {6}, "evening slot": {1}, "ng": {3, 6},
		"crème": {3}, "anna": nil, "spammer": nil} {
		if got := engines[1].search(t, text); !slices.Equal(got, want) {
			t.Errorf("search %q finds %v, want %v", text, got, want)
		}
	}
	// Where the engines differ on purpose (docs/postgres.md): unaccent also folds letters that are not a base
	// letter and a diacritic (ß, æ, ø, ł), which FTS5 keeps; typed as written, they find the same.
	for text, want := range map[string][2][]int64{
		"strasse": {nil, {1}},
		"aero":    {nil, {1}},
		"lodz":    {nil, {3}},
		"straße":  {{1}, {1}},
		// A phrase may run from one field into the next on PostgreSQL (FTS5 keeps columns apart).
		"müller.j": {nil, {1}},
	} {
		lite, pg := engines[0].search(t, text), engines[1].search(t, text)
		if !slices.Equal(lite, want[0]) || !slices.Equal(pg, want[1]) {
			t.Errorf("search %q: SQLite finds %v, PostgreSQL %v; docs/postgres.md says %v and %v", text, lite, pg, want[0], want[1])
		}
	}
}

// SQLite keeps enquiry_order's lateness bound (its searches walk by it) and voids it on an insert below the
// highest id or a change of created_at; PostgreSQL's 00011 dropped those triggers (nothing reads the bound
// there, and every insert updating its one row made concurrent intake queue on the row lock), so its row stays
// as the migration left it whatever is written.
func TestPostgresEnquiryOrderOnlyOnSQLite(t *testing.T) {
	opensPostgresItself(t)
	engines := bothEngines(t)
	want := map[string][3]string{
		"SQLite":     {"latest 200 lateness 0", "latest 200 lateness 1000000000000000", "latest 300 lateness 1000000000000000"},
		"PostgreSQL": {"latest 0 lateness 0", "latest 0 lateness 0", "latest 0 lateness 0"},
	}
	for _, e := range engines {
		insertParity(t, e, parityRow("R1", "new", "A", "a@example.com", "", "", nil, 100),
			parityRow("R2", "new", "B", "b@example.com", "", "", nil, 200))
		if got := orderState(t, e); got != want[e.name][0] {
			t.Fatalf("%s: after two inserts in order: %s, want %s", e.name, got, want[e.name][0])
		}
		e.exec(t, `UPDATE enquiries SET created_at = 150 WHERE id = 2`)
		if got := orderState(t, e); got != want[e.name][1] {
			t.Errorf("%s: after a change of created_at: %s, want %s", e.name, got, want[e.name][1])
		}
		if e.name == "SQLite" {
			e.exec(t, `UPDATE enquiry_order SET lateness = 0`)
		}
		e.exec(t, `DELETE FROM enquiries WHERE id = 1`)
		e.exec(t, `INSERT INTO enquiries (id, reference, name, email, treatment, consent_at, consent_version,
			created_at, updated_at) VALUES (1, 'R3', 'C', 'c@example.com', 'adhd', 1, 'v1', 300, 300)`)
		if got := orderState(t, e); got != want[e.name][2] {
			t.Errorf("%s: after an insert below the highest id: %s, want %s", e.name, got, want[e.name][2])
		}
	}
}
