package db

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/frontdesk/frontdesk/intake/screening"
	"github.com/jmoiron/sqlx"
)

// Page sizes of ListEnquiries.
const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// Tuning of the full-text search (see "How lists are read"); variables so that tests can force each strategy.
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

// How lists are read
//
// Every list is ordered by (created_at, id), newest or oldest first, and continued by a keyset cursor, so a page
// costs the same at the millionth row as at the first. A ListQuery is resolved into a set of statuses and a set
// of assignees (VisibleTo is "me or nobody"), and the query is split into one arm per (status, assignee) pair.
// Each arm is an equality match on the leading columns of an index that ends in created_at (and the rowid), so
// it reads its first rows in order and stops at the page size; the arms are merged and cut to the page.
// Without that split, an IN or OR over statuses or assignees cannot be read in created_at order from any
// index, and SQLite would sort every matching row.
//
// A text search cannot be read in created_at order from the full-text index, whose order is the rowid. Sorting
// every match costs a lookup per match (a common name matches tens of thousands). Instead the search walks the
// matches newest rowid first, with the filters evaluated per row, and stops as soon as no unread row can still
// rank in the page: enquiry_order.lateness bounds how much older-id rows can be newer (see the migration), which
// at intake is a few milliseconds. When the filters are too narrow for the walk to fill a page quickly, the
// filter's index drives instead and each row is checked against the materialised set of matches.

// listPlan is a ListQuery resolved into what the SQL needs.
type listPlan struct {
	statuses []crm.Status
	// assignees, when not nil, keeps those assignees; 0 stands for unassigned.
	assignees []int64
	treatment string
	// from and to bound created_at: from <= created_at < to.
	from, to int64
	match    string // the FTS5 query; "" when there is no text
	// risk and review keep the enquiries carrying that flag.
	risk, review bool
	// overdue, when not nil, keeps the enquiries created before overdue[0] or flagged risk before overdue[1].
	overdue *[2]int64
	oldest  bool
	after   *position // the cursor: rows strictly after it in the listing's order
	limit   int
	empty   bool // the query selects nothing
}

// position is a row's place in a listing.
type position struct {
	CreatedAt int64 `db:"created_at"`
	ID        int64 `db:"id"`
}

// before reports whether p comes before o in the listing's order.
func (p position) before(o position, oldest bool) bool {
	if p.CreatedAt != o.CreatedAt {
		return (p.CreatedAt < o.CreatedAt) == oldest
	}
	return p.ID != o.ID && (p.ID < o.ID) == oldest
}

func encodeCursor(p position) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d:%d", p.CreatedAt, p.ID)))
}

func decodeCursor(s string) (position, error) {
	bad := crm.InputError{"cursor": "That page link is not valid; start the listing again."}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return position{}, bad
	}
	at, id, ok := strings.Cut(string(b), ":")
	if !ok {
		return position{}, bad
	}
	var p position
	if p.CreatedAt, err = strconv.ParseInt(at, 10, 64); err != nil {
		return position{}, bad
	}
	if p.ID, err = strconv.ParseInt(id, 10, 64); err != nil || p.ID <= 0 {
		return position{}, bad
	}
	return p, nil
}

// plan resolves q. A malformed cursor is an InputError.
func plan(q crm.ListQuery) (listPlan, error) {
	p := listPlan{treatment: q.Treatment, oldest: q.Oldest, from: math.MinInt64, to: math.MaxInt64}

	if len(q.Statuses) > 0 {
		for _, s := range q.Statuses {
			if !slices.Contains(p.statuses, s) {
				p.statuses = append(p.statuses, s)
			}
		}
	} else {
		for _, s := range crm.AllStatuses {
			if s != crm.StatusSpam || q.IncludeSpam {
				p.statuses = append(p.statuses, s)
			}
		}
	}
	if q.VisibleTo != 0 { // spam is never shown to clinicians
		p.statuses = slices.DeleteFunc(p.statuses, func(s crm.Status) bool { return s == crm.StatusSpam })
	}
	if !q.OverdueBefore.IsZero() {
		if slices.Contains(p.statuses, crm.StatusNew) {
			p.statuses = []crm.Status{crm.StatusNew}
		} else {
			p.statuses = nil
		}
		if q.UrgentBefore.IsZero() {
			p.to = ms(q.OverdueBefore)
		} else {
			p.overdue = &[2]int64{ms(q.OverdueBefore), ms(q.UrgentBefore)}
		}
	}
	for _, f := range q.Flags {
		switch f {
		case screening.FlagRisk:
			p.risk = true
		case screening.FlagReview:
			p.review = true
		default:
			return p, crm.InputError{"flag": fmt.Sprintf("Unknown flag %q: use risk or review.", f)}
		}
	}

	keep := func(set []int64) {
		if p.assignees == nil {
			p.assignees = set
			return
		}
		p.assignees = slices.DeleteFunc(p.assignees, func(id int64) bool { return !slices.Contains(set, id) })
	}
	if q.AssigneeID != 0 {
		keep([]int64{q.AssigneeID})
	}
	if q.Unassigned {
		keep([]int64{0})
	}
	if q.VisibleTo != 0 {
		keep([]int64{q.VisibleTo, 0})
	}

	if !q.From.IsZero() {
		p.from = ms(q.From)
	}
	if !q.To.IsZero() {
		p.to = min(p.to, ms(q.To))
	}
	if q.Text != "" {
		p.match = ftsQuery(q.Text)
	}
	p.empty = len(p.statuses) == 0 || (p.assignees != nil && len(p.assignees) == 0) || p.from >= p.to ||
		(q.Text != "" && p.match == "")

	p.limit = q.Limit
	if p.limit <= 0 {
		p.limit = defaultPageSize
	}
	p.limit = min(p.limit, maxPageSize)
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			return p, err
		}
		p.after = &c
	}
	return p, nil
}

// ftsQuery turns what a person typed into an FTS5 query that cannot be a syntax error: every whitespace-separated
// term becomes a quoted phrase (so AND, NEAR(, -, : and * are only text), each a prefix when it is 2 characters
// or longer, all terms required. A term, or the whole text, that reads as a phone number also matches its
// E.164 digits, which is how phone numbers are indexed. It returns "" when nothing in the text is searchable.
func ftsQuery(text string) string {
	// A NUL ends the query for FTS5's parser mid-phrase; control characters are never in a token anyway.
	// strings.Map also replaces invalid UTF-8.
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, text)
	var terms []string
	for _, f := range strings.Fields(text) {
		t := ftsTerm(f)
		if t == "" {
			continue
		}
		if digits, ok := phoneDigits(f); ok {
			t = "(" + ftsPhrase(digits, true) + " OR " + t + ")"
		}
		terms = append(terms, t)
	}
	q := strings.Join(terms, " AND ")
	if digits, ok := phoneDigits(text); ok && len(terms) > 1 {
		q = ftsPhrase(digits, true) + " OR (" + q + ")"
	}
	return q
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

// sqlBuilder collects a WHERE clause and its arguments.
type sqlBuilder struct {
	conds []string
	args  []any
}

func (b *sqlBuilder) add(cond string, args ...any) {
	b.conds = append(b.conds, cond)
	b.args = append(b.args, args...)
}

func (b *sqlBuilder) where() string {
	if len(b.conds) == 0 {
		return "1"
	}
	return strings.Join(b.conds, " AND ")
}

// common adds the conditions every form of the query shares: treatment, flags, overdue and the created_at range.
func (p listPlan) common(b *sqlBuilder) {
	if p.treatment != "" {
		b.add("e.treatment = ?", p.treatment)
	}
	if p.risk {
		b.add("e.flag_risk_at IS NOT NULL")
	}
	if p.review {
		b.add("e.flag_review_at IS NOT NULL")
	}
	if p.overdue != nil {
		b.add("(e.created_at < ? OR e.flag_risk_at < ?)", p.overdue[0], p.overdue[1])
	}
	if p.from != math.MinInt64 {
		b.add("e.created_at >= ?", p.from)
	}
	if p.to != math.MaxInt64 {
		b.add("e.created_at < ?", p.to)
	}
}

// keyset adds the cursor condition, written so that the created_at part is an index range.
func (p listPlan) keyset(b *sqlBuilder) {
	if p.after == nil {
		return
	}
	c := p.after
	if p.oldest {
		b.add("e.created_at >= ? AND (e.created_at > ? OR e.id > ?)", c.CreatedAt, c.CreatedAt, c.ID)
	} else {
		b.add("e.created_at <= ? AND (e.created_at < ? OR e.id < ?)", c.CreatedAt, c.CreatedAt, c.ID)
	}
}

// filter is the whole selection (without the cursor) as one condition, for the query forms that do not split
// into arms.
func (p listPlan) filter(b *sqlBuilder) {
	if len(p.statuses) < len(crm.AllStatuses) {
		b.add("e.status IN (?"+strings.Repeat(", ?", len(p.statuses)-1)+")", anys(p.statuses)...)
	}
	if p.assignees != nil {
		var or []string
		var args []any
		for _, id := range p.assignees {
			if id == 0 {
				or = append(or, "e.assignee_id IS NULL")
			} else {
				or = append(or, "e.assignee_id = ?")
				args = append(args, id)
			}
		}
		b.add("("+strings.Join(or, " OR ")+")", args...)
	}
	p.common(b)
}

// arms returns one WHERE clause per (status, assignee) pair, each an equality on an index's leading columns.
func (p listPlan) arms(withKeyset bool) []sqlBuilder {
	assignees := p.assignees
	if assignees == nil {
		assignees = []int64{-1} // any
	}
	var out []sqlBuilder
	for _, s := range p.statuses {
		for _, a := range assignees {
			var b sqlBuilder
			b.add("e.status = ?", s)
			switch {
			case a == 0:
				b.add("e.assignee_id IS NULL")
			case a > 0:
				b.add("e.assignee_id = ?", a)
			}
			p.common(&b)
			if withKeyset {
				p.keyset(&b)
			}
			out = append(out, b)
		}
	}
	return out
}

// source is the table an arm reads. A listing of the enquiries flagged risk reads the partial index of flagged
// enquiries and sorts what it finds: its cost is bounded by how many are flagged, where walking the status index
// in order would step over every enquiry of that status that is not (the board asks for each column's).
func (p listPlan) source() string {
	if p.risk {
		return "enquiries e INDEXED BY enquiries_risk"
	}
	return "enquiries e"
}

func (p listPlan) order(prefix string) string {
	if p.oldest {
		return prefix + "created_at, " + prefix + "id"
	}
	return prefix + "created_at DESC, " + prefix + "id DESC"
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// ListEnquiries implements crm.EnquiryStore. A malformed cursor is a crm.InputError naming "cursor".
func (d *DB) ListEnquiries(ctx context.Context, q crm.ListQuery) (crm.Page, error) {
	p, err := plan(q)
	if err != nil {
		return crm.Page{}, err
	}
	if p.empty {
		return crm.Page{Items: []crm.Enquiry{}}, nil
	}
	tx, err := d.read.BeginTxx(ctx, nil) // one snapshot for the keys and the rows
	if err != nil {
		return crm.Page{}, fmt.Errorf("list enquiries: %w", err)
	}
	defer tx.Rollback()
	var keys []position
	if p.match == "" {
		keys, err = listKeys(ctx, tx, p)
	} else {
		keys, err = searchKeys(ctx, tx, p)
	}
	if err != nil {
		return crm.Page{}, fmt.Errorf("list enquiries: %w", err)
	}
	var page crm.Page
	if len(keys) > p.limit {
		keys = keys[:p.limit]
		page.NextCursor = encodeCursor(keys[len(keys)-1])
	}
	if page.Items, err = enquiriesByID(ctx, tx, keys); err != nil {
		return crm.Page{}, fmt.Errorf("list enquiries: %w", err)
	}
	return page, nil
}

// listKeys returns the positions of the first limit+1 rows of a listing without text: the arms, each read in
// index order and cut to the page size, merged.
func listKeys(ctx context.Context, tx *sqlx.Tx, p listPlan) ([]position, error) {
	q, args := p.listSQL()
	var keys []position
	err := tx.SelectContext(ctx, &keys, q, args...)
	return keys, err
}

// listSQL is the query of listKeys: each arm in index order, cut to the page, merged and cut again.
func (p listPlan) listSQL() (string, []any) {
	n := p.limit + 1
	var parts []string
	var args []any
	for _, a := range p.arms(true) {
		parts = append(parts, `SELECT * FROM (SELECT e.id, e.created_at FROM `+p.source()+` WHERE `+a.where()+
			` ORDER BY `+p.order("e.")+` LIMIT ?)`)
		args = append(args, a.args...)
		args = append(args, n)
	}
	if len(parts) == 1 {
		return parts[0], args
	}
	return strings.Join(parts, " UNION ALL ") + ` ORDER BY ` + p.order("") + ` LIMIT ?`, append(args, n)
}

// enquiriesByID reads the rows at keys, in that order.
func enquiriesByID(ctx context.Context, tx *sqlx.Tx, keys []position) ([]crm.Enquiry, error) {
	out := make([]crm.Enquiry, 0, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	ids := make([]any, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	var rows []enquiryRow
	err := tx.SelectContext(ctx, &rows, enquirySelect+` WHERE e.id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, ids...)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]enquiryRow, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	for _, k := range keys {
		if r, ok := byID[k.ID]; ok {
			out = append(out, r.enquiry())
		}
	}
	return out, nil
}

// searchKeys returns the positions of the first limit+1 rows of a listing with text (see "How lists are read").
func searchKeys(ctx context.Context, tx *sqlx.Tx, p listPlan) ([]position, error) {
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
func walkMatches(ctx context.Context, tx *sqlx.Tx, p listPlan, lateness int64) (keys []position, done bool, err error) {
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
func filteredMatches(ctx context.Context, tx *sqlx.Tx, p listPlan) ([]position, error) {
	q, args := p.filteredSQL()
	var keys []position
	if err := tx.SelectContext(ctx, &keys, q, args...); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return keys, nil
}

// sortedMatches reads every match and sorts them: the fallback when enquiry ids are not in created_at order.
func sortedMatches(ctx context.Context, tx *sqlx.Tx, p listPlan) ([]position, error) {
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

// sortedSQL is the query of sortedMatches.
func (p listPlan) sortedSQL() (string, []any) {
	var b sqlBuilder
	p.filter(&b)
	p.keyset(&b)
	return `SELECT e.id, e.created_at FROM enquiry_search s CROSS JOIN enquiries e ON e.id = s.rowid
		WHERE s.enquiry_search MATCH ? AND ` + b.where() + ` ORDER BY ` + p.order("e.") + ` LIMIT ?`,
		append(append([]any{p.match}, b.args...), p.limit+1)
}

// CountEnquiries implements crm.EnquiryStore; the cursor and limit of q are ignored.
func (d *DB) CountEnquiries(ctx context.Context, q crm.ListQuery, upTo int) (int, error) {
	q.Cursor = ""
	p, err := plan(q)
	if err != nil {
		return 0, err
	}
	if p.empty || upTo <= 0 {
		return 0, nil
	}
	tx, err := d.read.BeginTxx(ctx, nil) // one snapshot for the bounds and the count
	if err != nil {
		return 0, fmt.Errorf("count enquiries: %w", err)
	}
	defer tx.Rollback()
	n, err := countEnquiries(ctx, tx, p, upTo)
	if err != nil {
		return 0, fmt.Errorf("count enquiries: %w", err)
	}
	return n, nil
}

// countEnquiries counts up to upTo of what p selects (see countSQL); q is a read transaction.
func countEnquiries(ctx context.Context, q sqlx.QueryerContext, p listPlan, upTo int) (int, error) {
	var narrow bool
	var lo, hi sql.NullInt64
	if p.match != "" {
		var err error
		if narrow, err = narrowFilter(ctx, q, p); err != nil {
			return 0, err
		}
		var lateness int64
		if err := sqlx.GetContext(ctx, q, &lateness, `SELECT lateness FROM enquiry_order`); err != nil {
			return 0, fmt.Errorf("read enquiry order: %w", err)
		}
		if !narrow && lateness <= walkLatenessLimit {
			if lo, hi, err = idRange(ctx, q, p.from, p.to-1, lateness); err != nil {
				return 0, err
			}
		}
	}
	query, args := p.countSQL(narrow, lo, hi, upTo)
	var n int
	err := sqlx.GetContext(ctx, q, &n, query, args...)
	return n, err
}

// countSQL counts up to upTo: without text, arm by arm so that each is an index range; with text and a narrow
// filter, reading the filtered rows and checking each against the matches; otherwise reading the matches with
// IDs in (lo, hi) until upTo of them pass the filters.
func (p listPlan) countSQL(narrow bool, lo, hi sql.NullInt64, upTo int) (string, []any) {
	if p.match == "" {
		var parts []string
		var args []any
		for _, a := range p.arms(false) {
			parts = append(parts, `SELECT 1 FROM `+p.source()+` WHERE `+a.where())
			args = append(args, a.args...)
		}
		return `SELECT count(*) FROM (` + strings.Join(parts, " UNION ALL ") + ` LIMIT ?)`, append(args, upTo)
	}
	var b sqlBuilder
	p.filter(&b)
	if narrow {
		b.add("+e.id IN (SELECT rowid FROM enquiry_search WHERE enquiry_search MATCH ?)", p.match)
		return `SELECT count(*) FROM (SELECT 1 FROM enquiries e WHERE ` + b.where() + ` LIMIT ?)`, append(b.args, upTo)
	}
	return `SELECT count(*) FROM (SELECT 1 FROM enquiry_search s CROSS JOIN enquiries e ON e.id = s.rowid
			WHERE ` + matchSQL + ` AND ` + b.where() + ` LIMIT ?)`,
		append(append([]any{p.match, lo, hi}, b.args...), upTo)
}
