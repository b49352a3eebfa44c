package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/jmoiron/sqlx"
)

// This file counts what a listing selects, up to a bound, with the same plan and strategies as the listing.

// CountEnquiries implements crm.EnquiryStore; the cursor and limit of q are ignored. It returns at most upTo (0
// when upTo <= 0), counted from one snapshot; an unknown flag is a crm.InputError naming "flag", other errors
// are the database's (wrapped).
func (d *EnquiryStore) CountEnquiries(ctx context.Context, q crm.ListQuery, upTo int) (int, error) {
	q.Cursor = ""
	p, err := plan(q, d.pg)
	if err != nil {
		return 0, err
	}
	if p.empty || upTo <= 0 {
		return 0, nil
	}
	tx, err := d.snapshot(ctx) // one snapshot for the bounds and the count
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

// countEnquiries counts up to upTo of what p selects (see countSQL); q is a read transaction. On SQLite a
// text's count adds the enquiries above the search mark that match (recentMatches) to the index's.
func countEnquiries(ctx context.Context, q sqlx.QueryerContext, p listPlan, upTo int) (int, error) {
	var narrow bool
	var lo, hi sql.NullInt64
	var recent []position
	if p.match != "" && !p.pg { // PostgreSQL's count of matches is one query (see countSQL)
		var err error
		if recent, err = recentMatches(ctx, q, p); err != nil {
			return 0, err
		}
		if len(recent) >= upTo {
			return upTo, nil
		}
		upTo -= len(recent)
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
	return n + len(recent), err
}

// countSQL counts up to upTo: without text, arm by arm so that each is an index range; with text and a narrow
// filter, reading the filtered rows and checking each against the matches; otherwise reading the matches with
// IDs in (lo, hi) until upTo of them pass the filters. On PostgreSQL, text is counted by joining the matches to
// the filters, and narrow, lo and hi are ignored.
func (p listPlan) countSQL(narrow bool, lo, hi sql.NullInt64, upTo int) (string, []any) {
	if p.match == "" {
		var parts []string
		var args []any
		for _, a := range p.arms(false) {
			parts = append(parts, `SELECT 1 FROM `+p.source()+` WHERE `+a.where())
			args = append(args, a.args...)
		}
		// PostgreSQL before 16 wants a name for every subquery in FROM: "counted".
		return `SELECT count(*) FROM (` + strings.Join(parts, " UNION ALL ") + ` LIMIT ?) AS counted`, append(args, upTo)
	}
	var b sqlBuilder
	p.filter(&b)
	if p.pg {
		// The GIN index or the filter's index, whichever the planner finds cheaper; no order is needed.
		return `SELECT count(*) FROM (SELECT 1 FROM ` + tsMatchFrom + ` WHERE ` + tsMatchSQL + ` AND ` + b.where() +
				` LIMIT ?) AS counted`,
			append(append([]any{p.match}, b.args...), upTo)
	}
	if narrow {
		b.add("+e.id IN (SELECT rowid FROM enquiry_search WHERE enquiry_search MATCH ?)", p.match)
		return `SELECT count(*) FROM (SELECT 1 FROM enquiries e WHERE ` + b.where() + ` LIMIT ?)`, append(b.args, upTo)
	}
	return `SELECT count(*) FROM (SELECT 1 FROM enquiry_search s CROSS JOIN enquiries e ON e.id = s.rowid
			WHERE ` + matchSQL + ` AND ` + b.where() + ` LIMIT ?)`,
		append(append([]any{p.match, lo, hi}, b.args...), upTo)
}
