package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/frontdesk/frontdesk/crm"
)

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
//
// On PostgreSQL the listing without text is the same SQL: its indexes end in (created_at, id) too. A text
// search joins the enquiries to the rows of enquiry_search whose document matches the tsquery, which the GIN
// index finds in no order, and sorts them with the filters and the cursor in the query, leaving the choice
// between the GIN index and the filter's index to the planner. The walk is SQLite's: it needs the full-text
// index's rowid order, and enquiry_order's bound does not hold while several processes insert (see
// docs/postgres.md).

// ListEnquiries implements crm.EnquiryStore. A malformed cursor is a crm.InputError naming "cursor", an unknown
// flag one naming "flag"; other errors are the database's (wrapped). A page holds q.Limit enquiries (50 when 0,
// at most 200), read from one snapshot (on PostgreSQL a read-only REPEATABLE READ transaction).
func (d *EnquiryStore) ListEnquiries(ctx context.Context, q crm.ListQuery) (crm.Page, error) {
	p, err := plan(q, d.pg)
	if err != nil {
		return crm.Page{}, err
	}
	if p.empty {
		return crm.Page{Items: []crm.Enquiry{}}, nil
	}
	tx, err := d.snapshot(ctx) // one snapshot for the keys and the rows
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

// snapshot begins a read transaction that sees one state of the database throughout. A SQLite read
// transaction does (WAL keeps its snapshot from its first read); PostgreSQL's default, READ COMMITTED, takes a
// new snapshot for every statement, so a list would read keys and rows from two different states: REPEATABLE
// READ keeps the first statement's. Read-only, it never fails to serialize.
func (d *engine) snapshot(ctx context.Context) (*Tx, error) {
	if d.pg {
		return d.read.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	}
	return d.read.BeginTxx(ctx, nil)
}

// listKeys returns the positions of the first limit+1 rows of a listing without text: the arms, each read in
// index order and cut to the page size, merged.
func listKeys(ctx context.Context, tx *Tx, p listPlan) ([]position, error) {
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
		// PostgreSQL before 16 wants a name for every subquery in FROM: "arm".
		parts = append(parts, `SELECT * FROM (SELECT e.id, e.created_at FROM `+p.source()+` WHERE `+a.where()+
			` ORDER BY `+p.order("e.")+` LIMIT ?) AS arm`)
		args = append(args, a.args...)
		args = append(args, n)
	}
	if len(parts) == 1 {
		return parts[0], args
	}
	return strings.Join(parts, " UNION ALL ") + ` ORDER BY ` + p.order("") + ` LIMIT ?`, append(args, n)
}

// enquiriesByID reads the rows at keys, in that order.
func enquiriesByID(ctx context.Context, tx *Tx, keys []position) ([]crm.Enquiry, error) {
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
