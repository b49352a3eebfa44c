package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/jmoiron/sqlx"
)

// This file is the text search of a listing (see "How lists are read" in enquiry_list.go): the FTS5 query made
// from what was typed, and the three ways of reading matches in order — the walk, the filter's index, the sort.

// Tuning of the full-text search; variables so that tests can force each strategy.
var (
	// walkLatenessLimit is the largest enquiry_order.lateness (ms) for which a search walks matches in rowid
	// order; beyond it, matches are sorted whole.
	walkLatenessLimit int64 = 24 * 60 * 60 * 1000
	// walkScanLimit is how many matches a walk reads before deciding the filters are too narrow for it and
	// letting the filter's index drive instead.
	walkScanLimit = 3000
	// narrowRows is the number of enquiries passing the filters below which a search reads them through their
	// index rather than walking the matches.
	narrowRows = 5000
)

// boundLimit keeps the arithmetic on created_at bounds (a cursor's may be forged) far from overflow.
const boundLimit = 1 << 60

// ftsQuery turns what a person typed into an FTS5 query that cannot be a syntax error: every whitespace-separated
// term becomes a quoted phrase (so AND, NEAR(, -, : and * are only text), each a prefix when it is 2 characters
// or longer, all terms required. A term, or the whole text, that reads as a phone number also matches its
// E.164 digits, which is how phone numbers are indexed. It returns "" when nothing in the text is searchable.
// textMatch is the same query as a test of one enquiry's text.
func ftsQuery(text string) string {
	return buildQuery(ftsText(text), querySyntax{term: ftsTerm, and: " AND ", or: " OR ",
		digits: func(d string) string { return ftsPhrase(d, true) }})
}

// ftsText is text with its control characters made spaces: a NUL ends the query for FTS5's parser mid-phrase,
// and control characters are never in a token anyway. strings.Map also replaces invalid UTF-8.
func ftsText(text string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, text)
}

// querySyntax is how one engine's full-text query language spells the parts buildQuery puts together.
type querySyntax struct {
	// term is one typed term as a query, "" when nothing in it is searchable; digits is a phone number's
	// E.164 digits as a prefix.
	term, digits func(string) string
	// and and or join two queries, spaces included.
	and, or string
}

// buildQuery is the search rule (composeQuery) in one engine's query language. It returns "" when nothing in
// text is searchable.
func buildQuery(text string, s querySyntax) string {
	q, _ := composeQuery(text, queryRule[string]{
		term:   func(f string) (string, bool) { t := s.term(f); return t, t != "" },
		digits: s.digits,
		all: func(qs []string) string {
			if len(qs) == 1 {
				return qs[0]
			}
			return "(" + strings.Join(qs, s.and) + ")"
		},
		either: func(a, b string) string { return "(" + a + s.or + b + ")" },
	})
	return q
}

// queryRule is how composeQuery builds a search of type Q: an engine's query text, or a test of a document.
type queryRule[Q any] struct {
	// term is one typed term, ok false when nothing in it is searchable; digits is a phone number's E.164
	// digits as a prefix.
	term   func(string) (q Q, ok bool)
	digits func(string) Q
	// all requires every one of one or more searches; either requires one of two.
	all    func([]Q) Q
	either func(a, b Q) Q
}

// composeQuery is the search rule every search shares, whatever the engine or the rows searched: every
// whitespace-separated term of text is required, and a term, or the whole text, that reads as a phone number
// also matches its E.164 digits, which is how phone numbers are indexed. ok is false when nothing in text is
// searchable.
func composeQuery[Q any](text string, r queryRule[Q]) (q Q, ok bool) {
	var terms []Q
	for _, f := range strings.Fields(text) {
		t, ok := r.term(f)
		if !ok {
			continue
		}
		if digits, ok := phoneDigits(f); ok {
			t = r.either(r.digits(digits), t)
		}
		terms = append(terms, t)
	}
	if len(terms) == 0 {
		return q, false
	}
	q = r.all(terms)
	if digits, ok := phoneDigits(text); ok && len(terms) > 1 {
		q = r.either(r.digits(digits), q)
	}
	return q, true
}

// ftsTerm quotes one term; "" when it has nothing the tokenizer would index.
func ftsTerm(s string) string {
	if strings.IndexFunc(s, tokenChar) < 0 {
		return ""
	}
	return ftsPhrase(s, utf8.RuneCountInString(s) >= 2)
}

func ftsPhrase(s string, prefix bool) string {
	q := `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	if prefix {
		q += "*"
	}
	return q
}

// tokenChar reports whether the unicode61 tokenizer keeps r in a token (its default categories L*, N* and Co).
func tokenChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// phoneDigits returns s as the digits of its E.164 form when it reads as a phone number.
func phoneDigits(s string) (string, bool) {
	if strings.IndexFunc(s, unicode.IsDigit) < 0 {
		return "", false
	}
	e164, ok := intake.NormalisePhone(s)
	if !ok {
		return "", false
	}
	return strings.TrimPrefix(e164, "+"), true
}

// searchKeys returns the positions of the first limit+1 rows of a listing with text (see "How lists are read"):
// on SQLite, the best of the full-text index's matches (indexedKeys) and of the enquiries above the search mark,
// which it does not hold yet (recentMatches).
func searchKeys(ctx context.Context, tx *Tx, p listPlan) ([]position, error) {
	if p.pg {
		return sortedMatches(ctx, tx, p) // the planner chooses the index (see "How lists are read")
	}
	recent, err := recentMatches(ctx, tx, p)
	if err != nil {
		return nil, err
	}
	keys, err := indexedKeys(ctx, tx, p)
	if err != nil || len(recent) == 0 {
		return keys, err
	}
	// The two never share a row: the index holds no enquiry above the mark, and the mark is read in the same
	// snapshot as the index.
	keys = append(keys, recent...)
	slices.SortFunc(keys, func(a, b position) int {
		if a.before(b, p.oldest) {
			return -1
		}
		return 1
	})
	return keys[:min(len(keys), p.limit+1)], nil
}

// indexedKeys returns the positions of the first limit+1 rows of a listing with text among the enquiries the
// full-text index holds, by the cheapest of the three ways of reading them.
func indexedKeys(ctx context.Context, tx *Tx, p listPlan) ([]position, error) {
	narrow, err := narrowFilter(ctx, tx, p)
	if err != nil {
		return nil, err
	}
	if narrow {
		return filteredMatches(ctx, tx, p)
	}
	var lateness int64
	if err := tx.GetContext(ctx, &lateness, `SELECT lateness FROM enquiry_order`); err != nil {
		return nil, fmt.Errorf("read enquiry order: %w", err)
	}
	if lateness > walkLatenessLimit {
		return sortedMatches(ctx, tx, p)
	}
	keys, done, err := walkMatches(ctx, tx, p, lateness)
	if err != nil || done {
		return keys, err
	}
	return filteredMatches(ctx, tx, p)
}

// recentMatches returns the positions of the enquiries above the search mark that p selects (text, filters
// and cursor), in no particular order: SQLite's full-text index does not hold them yet, so they are read and
// their text matched here, by the same rule and tokens as the index's (textMatch). They are the few stored
// since the indexer's last batch (see search_indexer.go), more only while it catches up.
func recentMatches(ctx context.Context, q sqlx.QueryerContext, p listPlan) ([]position, error) {
	match, ok := textMatch(p.text)
	if !ok {
		return nil, nil
	}
	query, args := p.recentSQL()
	rows, err := q.QueryxContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search recent enquiries: %w", err)
	}
	defer rows.Close()
	var keys []position
	for rows.Next() {
		var r struct {
			position
			Name    string `db:"name"`
			Email   string `db:"email"`
			Phone   string `db:"phone"`
			Message string `db:"message"`
			Notes   string `db:"notes"`
		}
		if err := rows.StructScan(&r); err != nil {
			return nil, fmt.Errorf("search recent enquiries: %w", err)
		}
		if match(newSearchDoc(r.Name, r.Email, r.Phone, r.Message, r.Notes)) {
			keys = append(keys, r.position)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search recent enquiries: %w", err)
	}
	return keys, nil
}

// recentSQL reads the enquiries above the search mark that pass p's filters and cursor, with the text the
// index would hold for them; erased ones are never searched. NOT INDEXED keeps it a range of the rowid, which is
// short, whatever index a filter could use.
func (p listPlan) recentSQL() (string, []any) {
	var b sqlBuilder
	b.add("e.id > (SELECT enquiry_id FROM enquiry_search_mark)")
	b.add("e.erased_at IS NULL")
	p.filter(&b)
	p.keyset(&b)
	return `SELECT e.id, e.created_at, e.name, e.email, e.phone, e.message,
			coalesce((SELECT group_concat(body, ' ') FROM notes WHERE enquiry_id = e.id), '') AS notes
		FROM enquiries e NOT INDEXED WHERE ` + b.where(), b.args
}

// narrowFilter reports whether fewer than narrowRows enquiries pass p's filters (text and cursor aside): then
// reading them through their index and checking each against the matches is cheaper than any walk of the
// matches.
func narrowFilter(ctx context.Context, q sqlx.QueryerContext, p listPlan) (bool, error) {
	if p.assignees == nil && p.treatment == "" && p.from == math.MinInt64 && p.to == math.MaxInt64 &&
		!p.risk && !p.review && p.overdue == nil && len(p.statuses) >= len(crm.AllStatuses)-1 {
		return false, nil // nothing narrows the listing
	}
	p.match = ""
	query, args := p.countSQL(false, sql.NullInt64{}, sql.NullInt64{}, narrowRows)
	var n int
	err := sqlx.GetContext(ctx, q, &n, query, args...)
	return n < narrowRows, err
}

// walkMatches reads the full-text matches in rowid order (newest first, or oldest first for an oldest-first
// listing), each with whether it passes the filters, and stops when no unread match can still rank among the
// first limit+1. It gives up (done false) after walkScanLimit matches.
func walkMatches(ctx context.Context, tx *Tx, p listPlan, lateness int64) (keys []position, done bool, err error) {
	n := p.limit + 1
	lower, upper := p.from, p.to-1 // the created_at range that can qualify, narrowed by the cursor
	if p.after != nil && p.oldest {
		lower = max(lower, p.after.CreatedAt)
	} else if p.after != nil {
		upper = min(upper, p.after.CreatedAt)
	}
	lo, hi, err := idRange(ctx, tx, lower, upper, lateness)
	if err != nil {
		return nil, false, err
	}
	q, args := p.walkSQL(lo, hi)
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	// seen is the oldest created_at read so far (newest for oldest first): every unread row was created
	// no later than seen + lateness (no earlier than seen - lateness).
	seen, scanned := int64(math.MaxInt64), 0
	if p.oldest {
		seen = math.MinInt64
	}
	for rows.Next() {
		var k position
		var ok bool
		if err := rows.Scan(&k.ID, &k.CreatedAt, &ok); err != nil {
			return nil, false, fmt.Errorf("search: %w", err)
		}
		scanned++
		if p.oldest {
			seen = max(seen, k.CreatedAt)
		} else {
			seen = min(seen, k.CreatedAt)
		}
		if ok && (p.after == nil || p.after.before(k, p.oldest)) {
			i, _ := slices.BinarySearchFunc(keys, k, func(a, b position) int {
				if a.before(b, p.oldest) {
					return -1
				}
				return 1
			})
			if i < n {
				keys = slices.Insert(keys, i, k)
				if len(keys) > n {
					keys = keys[:n]
				}
			}
		}
		if p.oldest {
			bound := seen - lateness // no unread row is older than this
			if bound >= p.to || (len(keys) == n && keys[n-1].CreatedAt <= bound) {
				return keys, true, nil
			}
		} else {
			bound := seen + lateness // no unread row is newer than this
			if bound < p.from || (len(keys) == n && keys[n-1].CreatedAt >= bound) {
				return keys, true, nil
			}
		}
		if scanned >= walkScanLimit {
			return nil, false, nil
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("search: %w", err)
	}
	return keys, true, nil
}

// idRange returns the open interval (lo, hi) of enquiry IDs outside which no enquiry can have been created
// within [lower, upper], by enquiry_order's lateness bound; an invalid end is unbounded. The first enquiry
// created more than lateness after upper has every later ID created after upper, and symmetrically for lower.
func idRange(ctx context.Context, q sqlx.QueryerContext, lower, upper, lateness int64) (lo, hi sql.NullInt64, err error) {
	if upper < boundLimit && upper > -boundLimit {
		err = sqlx.GetContext(ctx, q, &hi, `SELECT id FROM enquiries WHERE created_at > ? ORDER BY created_at, id LIMIT 1`,
			upper+lateness)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return lo, hi, fmt.Errorf("bound search: %w", err)
		}
	}
	if lower < boundLimit && lower > -boundLimit {
		err = sqlx.GetContext(ctx, q, &lo, `SELECT id FROM enquiries WHERE created_at < ? ORDER BY created_at DESC, id DESC LIMIT 1`,
			lower-lateness)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return lo, hi, fmt.Errorf("bound search: %w", err)
		}
	}
	return lo, hi, nil
}

// matchSQL is the full-text match, limited to the IDs in (lo, hi).
const matchSQL = `s.enquiry_search MATCH ? AND s.rowid > coalesce(?, 0) AND s.rowid < coalesce(?, 9223372036854775807)`

// walkSQL reads the matches with IDs in (lo, hi) in rowid order, each with whether it passes the filters.
// CROSS JOIN keeps the full-text table the outer loop, so the rowid order holds.
func (p listPlan) walkSQL(lo, hi sql.NullInt64) (string, []any) {
	var b sqlBuilder
	p.filter(&b)
	dir := ""
	if !p.oldest {
		dir = " DESC"
	}
	return `SELECT e.id, e.created_at, coalesce(` + b.where() + `, 0) AS ok
		FROM enquiry_search s CROSS JOIN enquiries e ON e.id = s.rowid
		WHERE ` + matchSQL + ` ORDER BY s.rowid` + dir, append(b.args, p.match, lo, hi)
}

// filteredMatches lets the filters' index drive and checks each row against the set of matches, which SQLite
// materialises once (the unary + keeps it from driving the query from that set instead).
func filteredMatches(ctx context.Context, tx *Tx, p listPlan) ([]position, error) {
	q, args := p.filteredSQL()
	var keys []position
	if err := tx.SelectContext(ctx, &keys, q, args...); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return keys, nil
}

// sortedMatches reads every match and sorts them: the fallback when enquiry ids are not in created_at order,
// and PostgreSQL's search.
func sortedMatches(ctx context.Context, tx *Tx, p listPlan) ([]position, error) {
	q, args := p.sortedSQL()
	var keys []position
	if err := tx.SelectContext(ctx, &keys, q, args...); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return keys, nil
}

// filteredSQL is the query of filteredMatches.
func (p listPlan) filteredSQL() (string, []any) {
	var b sqlBuilder
	p.filter(&b)
	p.keyset(&b)
	b.add("+e.id IN (SELECT rowid FROM enquiry_search WHERE enquiry_search MATCH ?)", p.match)
	return `SELECT e.id, e.created_at FROM enquiries e WHERE ` + b.where() + ` ORDER BY ` + p.order("e.") + ` LIMIT ?`,
		append(b.args, p.limit+1)
}

// sortedSQL is the query of sortedMatches. SQLite's CROSS JOIN keeps the full-text table the outer loop;
// PostgreSQL's planner picks the join order itself.
func (p listPlan) sortedSQL() (string, []any) {
	var b sqlBuilder
	p.filter(&b)
	p.keyset(&b)
	from, match := `enquiry_search s CROSS JOIN enquiries e ON e.id = s.rowid`, `s.enquiry_search MATCH ?`
	if p.pg {
		from, match = tsMatchFrom, tsMatchSQL
	}
	return `SELECT e.id, e.created_at FROM ` + from + `
		WHERE ` + match + ` AND ` + b.where() + ` ORDER BY ` + p.order("e.") + ` LIMIT ?`,
		append(append([]any{p.match}, b.args...), p.limit+1)
}
