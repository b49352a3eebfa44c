package db

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/db/pgtest"
	"github.com/pressly/goose/v3"
)

// The PostgreSQL schema (db/migrations/postgres) is SQLite's, translated (docs/postgres.md). These tests migrate
// a fresh database on each engine and compare what a store can see: tables, columns (order, name, nullability,
// type family, default), primary keys, foreign keys with their ON DELETE rule, UNIQUE constraints, CHECKs and
// indexes (columns, uniqueness, partial predicate). A change to one engine's migrations without the other's fails
// here. What differs on purpose is spelled out below and in docs/postgres.md.

// schemaTable is what the comparison sees of one table.
type schemaTable struct {
	Columns []string            // "name family null|not null default=…", in order
	PK      []string            // primary key columns, in order
	FKs     []string            // "col -> table.col on delete RULE", sorted
	Uniques []string            // UNIQUE constraints' columns, "a,b", sorted
	Checks  []string            // normalised CHECK expressions, sorted
	Indexes map[string][]string // named (CREATE INDEX) indexes: columns, then "unique" and "where …" if so
}

// migratePostgres migrates a new test database with the embedded PostgreSQL migrations.
func migratePostgres(t *testing.T) (*sql.DB, *goose.Provider) {
	t.Helper()
	conn := pgtest.Open(t)
	p, err := postgresProvider(conn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(context.Background()); err != nil {
		t.Fatalf("PostgreSQL migrations: %v", err)
	}
	return conn, p
}

func TestPostgresSchemaMatchesSQLite(t *testing.T) {
	opensPostgresItself(t)
	pg, _ := migratePostgres(t)
	lite := openTest(t)
	ctx := context.Background()

	// The versions line up: PostgreSQL's newest migration has SQLite's newest number.
	var liteVersion, pgVersion int64
	if err := lite.write.GetContext(ctx, &liteVersion, `SELECT max(version_id) FROM goose_db_version`); err != nil {
		t.Fatal(err)
	}
	if err := pg.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version`).Scan(&pgVersion); err != nil {
		t.Fatal(err)
	}
	if liteVersion != pgVersion {
		t.Errorf("SQLite's migrations reach version %d, PostgreSQL's %d: each schema change needs a migration "+
			"of the same number in db/migrations and db/migrations/postgres", liteVersion, pgVersion)
	}

	want := sqliteSchema(t, lite.write.DB.DB)
	got := postgresSchema(t, pg)
	names := func(m map[string]schemaTable) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	if !slices.Equal(names(want), names(got)) {
		t.Fatalf("tables differ:\nSQLite:     %v\nPostgreSQL: %v", names(want), names(got))
	}
	for _, name := range names(want) {
		w, g := want[name], got[name]
		// SQLite's indexes end in the rowid; PostgreSQL's enquiry indexes that the list pages walk in
		// (created_at, id) order carry id explicitly (docs/postgres.md).
		for idx, cols := range g.Indexes {
			if wc, ok := w.Indexes[idx]; ok && !slices.Equal(wc, cols) {
				if trimmed := withoutTrailingID(cols); slices.Equal(wc, trimmed) {
					g.Indexes[idx] = trimmed
				}
			}
		}
		for _, part := range []struct {
			what string
			w, g any
		}{
			{"columns", w.Columns, g.Columns}, {"primary key", w.PK, g.PK}, {"foreign keys", w.FKs, g.FKs},
			{"unique constraints", w.Uniques, g.Uniques}, {"checks", w.Checks, g.Checks},
			{"indexes", fmt.Sprint(w.Indexes), fmt.Sprint(g.Indexes)},
		} {
			if fmt.Sprint(part.w) != fmt.Sprint(part.g) {
				t.Errorf("%s: %s differ:\nSQLite:     %v\nPostgreSQL: %v", name, part.what, part.w, part.g)
			}
		}
	}

	// Search is FTS5 in SQLite and a tsvector with a GIN index in PostgreSQL: one entry per enquiry either way.
	var liteSearch string
	if err := lite.write.GetContext(ctx, &liteSearch, `SELECT sql FROM sqlite_master WHERE name = 'enquiry_search'`); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(liteSearch, "fts5(\n    name, email, phone, message, notes,") {
		t.Errorf("SQLite's enquiry_search changed; change PostgreSQL's to match:\n%s", liteSearch)
	}
	var indexdef string
	if err := pg.QueryRowContext(ctx, `SELECT indexdef FROM pg_indexes WHERE indexname = 'enquiry_search_document'`).Scan(&indexdef); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(indexdef, "USING gin (document)") {
		t.Errorf("enquiry_search_document: %s", indexdef)
	}
}

// withoutTrailingID is cols without a last "id" column (before any "unique"/"where" marks).
func withoutTrailingID(cols []string) []string {
	for i, c := range cols {
		if c == "id" && (i == len(cols)-1 || strings.HasPrefix(cols[i+1], "unique") || strings.HasPrefix(cols[i+1], "where")) {
			return slices.Delete(slices.Clone(cols), i, i+1)
		}
	}
	return cols
}

func TestPostgresMigrationsRunOnceAndDown(t *testing.T) {
	opensPostgresItself(t)
	pg, p := migratePostgres(t)
	ctx := context.Background()
	res, err := p.Up(ctx)
	if err != nil || len(res) != 0 {
		t.Fatalf("second Up: applied %d, err %v; want nothing to do", len(res), err)
	}
	tables := func() int {
		var n int
		err := pg.QueryRowContext(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()
			AND tablename <> 'goose_db_version'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := tables(); n < 18 {
		t.Fatalf("after Up: %d tables", n)
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatalf("Down: %v", err)
	}
	if n := tables(); n != 0 {
		t.Errorf("after Down: %d tables left", n)
	}
	var leftovers []string
	rows, err := pg.QueryContext(ctx, `SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
		UNION ALL SELECT cfgname FROM pg_ts_config WHERE cfgname = 'frontdesk_search'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		leftovers = append(leftovers, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(leftovers) > 0 {
		t.Errorf("after Down: %v left", leftovers)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("Up after Down: %v", err)
	}
	if n := tables(); n < 18 {
		t.Errorf("after Up again: %d tables", n)
	}
}

var (
	spaces   = regexp.MustCompile(`\s+`)
	pgInList = regexp.MustCompile(`(\w+) = ANY \(ARRAY\[([^\]]*)\]\)`)
	casts    = regexp.MustCompile(`::(text|bigint|integer|bytea)`)
)

// normExpr makes a CHECK or index predicate comparable across engines: PostgreSQL's "x = ANY (ARRAY[…])" is
// "x IN (…)", casts, parentheses and spaces go, and an IN list is sorted.
func normExpr(s string) string {
	s = pgInList.ReplaceAllString(s, "$1 IN ($2)")
	s = casts.ReplaceAllString(s, "")
	s = strings.NewReplacer("(", " ", ")", " ").Replace(s)
	s = strings.ToLower(strings.TrimSpace(spaces.ReplaceAllString(s, " ")))
	if col, list, ok := strings.Cut(s, " in "); ok && !strings.Contains(col, " ") {
		vals := strings.Split(list, ",")
		for i := range vals {
			vals[i] = strings.TrimSpace(vals[i])
		}
		sort.Strings(vals)
		return col + " in " + strings.Join(vals, ",")
	}
	return strings.ReplaceAll(s, " ", "")
}

func normDefault(d sql.NullString) string {
	if !d.Valid {
		return ""
	}
	return " default=" + casts.ReplaceAllString(d.String, "")
}
