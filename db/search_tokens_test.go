package db

import (
	"database/sql"
	"slices"
	"testing"
	"unicode/utf8"
)

// TestTokensAsSQLite: ftsTokens splits and folds every code point as FTS5's unicode61 tokenizer with
// remove_diacritics 2 does, at the start of a token and inside one (where diacritic marks are kept and
// removed). SQLite itself tokenizes each code point in a scratch full-text table, read back through fts5vocab.
func TestTokensAsSQLite(t *testing.T) {
	sqliteOnly(t)
	conn, err := sql.Open("sqlite3", "file:"+t.TempDir()+"/tokens.db")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	for _, q := range []string{
		`CREATE VIRTUAL TABLE t USING fts5(x, content = '', tokenize = 'unicode61 remove_diacritics 2')`,
		`CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)`,
	} {
		if _, err := conn.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	// Each code point r in "x" r "x" r "x", in a document of its own whose rowid is r.
	text := func(r rune) string { return "x" + string(r) + "x " + string(r) + "x" }
	// Every code point of the Basic Multilingual Plane, the first and last of each run of token characters and
	// their neighbours, the first code points of every block of 64 and every 61st code point beyond (the
	// whole range takes a minute; it passed when the tables were made).
	seen := map[rune]bool{}
	var points []rune
	add := func(r rune) {
		if r > 0 && utf8.ValidRune(r) && !seen[r] {
			seen[r] = true
			points = append(points, r)
		}
	}
	for r := rune(1); r <= utf8.MaxRune; r++ {
		if r < 0x10000 || r%61 == 0 || r%64 < 2 || everyCodePoint {
			add(r)
		}
	}
	for _, g := range ftsTokenRanges {
		for _, r := range []rune{g.lo - 1, g.lo, g.lo + 1, g.hi - 1, g.hi, g.hi + 1} {
			add(r)
		}
	}
	tx, err := conn.Begin()
	if err != nil {
		t.Fatal(err)
	}
	ins, err := tx.Prepare(`INSERT INTO t (rowid, x) VALUES (?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range points {
		if _, err := ins.Exec(r, text(r)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	got := map[rune][]string{}
	rows, err := conn.Query(`SELECT doc, term FROM v ORDER BY doc, offset`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var doc int64
		var term string
		if err := rows.Scan(&doc, &term); err != nil {
			t.Fatal(err)
		}
		got[rune(doc)] = append(got[rune(doc)], term)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, r := range points {
		if want := ftsTokens(text(r)); !slices.Equal(got[r], want) {
			if bad++; bad <= 20 {
				t.Errorf("U+%04X: SQLite %q, ftsTokens %q", r, got[r], want)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d code points tokenized differently", bad)
	}
}

// everyCodePoint makes TestTokensAsSQLite check every code point, not a sample: for a new SQLite.
const everyCodePoint = false
