package db

import (
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake/screening"
)

// This file resolves a ListQuery into a listPlan (see "How lists are read" in enquiry_list.go), its cursors,
// and the WHERE clauses every form of the query is built from.

// Page sizes of ListEnquiries.
const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// listPlan is a ListQuery resolved into what the SQL needs.
type listPlan struct {
	statuses []crm.Status
	// assignees, when not nil, keeps those assignees; 0 stands for unassigned.
	assignees []int64
	treatment string
	// from and to bound created_at: from <= created_at < to.
	from, to int64
	match    string // the FTS5 query (SQLite) or tsquery text (PostgreSQL); "" when there is no text
	text     string // the text as typed, which SQLite matches itself above the search mark (recentMatches)
	// risk and review keep the enquiries carrying that flag.
	risk, review bool
	// overdue, when not nil, keeps the enquiries created before overdue[0] or flagged risk before overdue[1].
	overdue *[2]int64
	oldest  bool
	after   *position // the cursor: rows strictly after it in the listing's order
	limit   int
	empty   bool // the query selects nothing
	// pg makes the SQL PostgreSQL's where it differs (the search, the risk listing's index hint).
	pg bool
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

// plan resolves q for SQLite, or for PostgreSQL when pg is set. A malformed cursor is an InputError.
func plan(q crm.ListQuery, pg bool) (listPlan, error) {
	p := listPlan{treatment: q.Treatment, oldest: q.Oldest, from: math.MinInt64, to: math.MaxInt64, pg: pg}

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
	p.text = q.Text
	if q.Text != "" && pg {
		p.match = tsQuery(q.Text)
	} else if q.Text != "" {
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
		return "TRUE" // PostgreSQL wants a boolean where SQLite takes 1; SQLite reads TRUE as 1
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
// PostgreSQL has no index hints: its planner weighs the partial index against the status index from the
// table's statistics, which know how few are flagged.
func (p listPlan) source() string {
	if p.risk && !p.pg {
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
