package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// derivedTables are kept from the rows of other tables, on each engine in its own way (SQLite's FTS5 index, its
// shadow tables and its indexer's mark, the enquiry_order bound): a copy does not carry them, the target's
// triggers rebuild them as the rows arrive. goose_db_version is each engine's own migration record.
var derivedTables = []string{"enquiry_search", "enquiry_search_config", "enquiry_search_data",
	"enquiry_search_docsize", "enquiry_search_idx", "enquiry_search_mark", "enquiry_order", "goose_db_version"}

// ErrTargetNotEmpty is returned by CopyTo when the PostgreSQL database already holds rows.
var ErrTargetNotEmpty = errors.New("the target database is not empty")

// CopiedTable is how many rows of one table a copy carried.
type CopiedTable struct {
	Table string
	Rows  int64
}

// CopyTo copies every row of src, a SQLite database, into dst, an empty PostgreSQL database, in one
// PostgreSQL transaction: the target has all of it or none of it. Both must be migrated to the same version.
// Ids are kept (so references between rows, and the audit chain, which hashes each entry's id, stay as they
// were), the target's triggers rebuild the search index and the staff's counts of open enquiries, and every
// identity sequence is moved past the highest id copied. src is read in one snapshot, so it should not be
// served meanwhile (anything written after the snapshot would not be copied).
//
// It returns the tables copied with their row counts, in the order copied. Errors: ErrTargetNotEmpty (wrapped,
// naming a table) when dst holds any row; an error when the engines are the wrong way round or at different
// migration versions, or when a table's row count differs after the copy (nothing is then committed).
func CopyTo(ctx context.Context, src, dst *DB) ([]CopiedTable, error) {
	if src.pg || !dst.pg {
		return nil, errors.New("copy: the source must be SQLite and the target PostgreSQL")
	}
	var srcVersion, dstVersion int64
	if err := src.read.GetContext(ctx, &srcVersion, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`); err != nil {
		return nil, fmt.Errorf("copy: read the source's version: %w", err)
	}
	if err := dst.read.GetContext(ctx, &dstVersion, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`); err != nil {
		return nil, fmt.Errorf("copy: read the target's version: %w", err)
	}
	if srcVersion != dstVersion {
		return nil, fmt.Errorf("copy: the source is at migration %d and the target at %d: migrate both first", srcVersion, dstVersion)
	}
	tables, err := copyOrder(ctx, dst)
	if err != nil {
		return nil, err
	}
	var srcTables []string
	if err := src.read.SelectContext(ctx, &srcTables, `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`); err != nil {
		return nil, fmt.Errorf("copy: list the source's tables: %w", err)
	}
	for _, t := range srcTables {
		if !slices.Contains(derivedTables, t) && !slices.Contains(tables, t) {
			return nil, fmt.Errorf("copy: the source has a table %s that the target does not", t)
		}
	}

	// One snapshot of the source for every table.
	stx, err := src.read.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("copy: read the source: %w", err)
	}
	defer stx.Rollback()

	conn, err := dst.write.DB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy: connect to the target: %w", err)
	}
	defer conn.Close()
	var done []CopiedTable
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		ptx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer ptx.Rollback(ctx)
		for _, t := range tables {
			var n int64
			if err := ptx.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{t}.Sanitize()).Scan(&n); err != nil {
				return fmt.Errorf("count %s: %w", t, err)
			}
			if n > 0 {
				return fmt.Errorf("%w: %s has %d rows; copy only into a new, empty database", ErrTargetNotEmpty, t, n)
			}
		}
		for _, t := range tables {
			n, err := copyTable(ctx, stx, ptx, t)
			if err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
			done = append(done, CopiedTable{Table: t, Rows: n})
		}
		// The triggers counted each copied open enquiry once more onto its assignee's count.
		if _, err := ptx.Exec(ctx, `UPDATE staff s SET open_enquiries = (SELECT count(*) FROM enquiries e
			WHERE e.assignee_id = s.id AND enquiry_status_open(e.status))`); err != nil {
			return fmt.Errorf("recount open enquiries: %w", err)
		}
		if err := moveSequences(ctx, ptx); err != nil {
			return err
		}
		return ptx.Commit(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	return done, nil
}

// copyOrder returns the target's tables that a copy carries, each after every table it refers to.
func copyOrder(ctx context.Context, dst *DB) ([]string, error) {
	var names []string
	if err := dst.read.SelectContext(ctx, &names, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()
		ORDER BY tablename`); err != nil {
		return nil, fmt.Errorf("copy: list the target's tables: %w", err)
	}
	var refs []struct {
		From string `db:"from_table"`
		To   string `db:"to_table"`
	}
	if err := dst.read.SelectContext(ctx, &refs, `SELECT c.conrelid::regclass::text AS from_table,
			c.confrelid::regclass::text AS to_table
		FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid <> c.confrelid`); err != nil {
		return nil, fmt.Errorf("copy: read the target's foreign keys: %w", err)
	}
	var order []string
	placed := map[string]bool{}
	for len(order) < len(names) {
		progress := false
		for _, t := range names {
			if placed[t] {
				continue
			}
			ready := true
			for _, r := range refs {
				if r.From == t && !placed[r.To] {
					ready = false
				}
			}
			if ready {
				placed[t] = true
				order = append(order, t)
				progress = true
			}
		}
		if !progress {
			return nil, errors.New("copy: the target's foreign keys form a cycle")
		}
	}
	return slices.DeleteFunc(order, func(t string) bool { return slices.Contains(derivedTables, t) }), nil
}

// copyTable copies every row of table from the source transaction into the target one with COPY, oldest id
// first (an enquiry may refer to an earlier one), and returns how many. The column list is the target's; the
// schema tests keep the two engines' columns the same.
func copyTable(ctx context.Context, src *Tx, dst pgx.Tx, table string) (int64, error) {
	var cols []pgColumn
	rows, err := dst.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var c pgColumn
		if err := rows.Scan(&c.Name, &c.Type); err != nil {
			rows.Close()
			return 0, err
		}
		cols = append(cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	names, types := make([]string, len(cols)), make([]string, len(cols))
	for i, c := range cols {
		names[i], types[i] = c.Name, c.Type
	}
	order := ""
	if slices.Contains(names, "id") {
		order = " ORDER BY id"
	}
	srows, err := src.QueryContext(ctx, `SELECT `+strings.Join(names, ", ")+` FROM `+table+order)
	if err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	defer srows.Close()
	var read int64
	source := &sqliteRows{rows: srows, types: types, vals: make([]any, len(cols)), read: &read}
	n, err := dst.CopyFrom(ctx, pgx.Identifier{table}, names, source)
	if err != nil {
		return 0, fmt.Errorf("write: %w", err)
	}
	if n != read {
		return 0, fmt.Errorf("read %d rows and wrote %d", read, n)
	}
	return n, nil
}

// pgColumn is a target column's name and type (as information_schema names it: bigint, text, bytea).
type pgColumn struct{ Name, Type string }

// sqliteRows feeds the rows of a SQLite query to pgx's CopyFrom, each value converted to what the target
// column takes: SQLite may hand text back as bytes, and bytes as text.
type sqliteRows struct {
	rows  *sql.Rows
	types []string
	vals  []any
	err   error
	read  *int64
}

func (r *sqliteRows) Next() bool {
	if !r.rows.Next() {
		r.err = r.rows.Err()
		return false
	}
	ptrs := make([]any, len(r.vals))
	for i := range r.vals {
		ptrs[i] = &r.vals[i]
	}
	if r.err = r.rows.Scan(ptrs...); r.err != nil {
		return false
	}
	for i, v := range r.vals {
		switch x := v.(type) {
		case []byte:
			if r.types[i] == "text" {
				r.vals[i] = string(x)
			} else {
				r.vals[i] = slices.Clone(x)
			}
		case string:
			if r.types[i] == "bytea" {
				r.vals[i] = []byte(x)
			}
		}
	}
	*r.read++
	return true
}

func (r *sqliteRows) Values() ([]any, error) { return r.vals, r.err }
func (r *sqliteRows) Err() error             { return r.err }

// moveSequences moves every identity column's sequence past the highest id in its table, so the next row
// inserted gets a new id.
func moveSequences(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES'`)
	if err != nil {
		return fmt.Errorf("list sequences: %w", err)
	}
	var idents [][2]string
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			rows.Close()
			return err
		}
		idents = append(idents, [2]string{t, c})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, tc := range idents {
		t, c := pgx.Identifier{tc[0]}.Sanitize(), pgx.Identifier{tc[1]}.Sanitize()
		// setval(seq, max, true): the next value is max + 1; an empty table leaves the sequence at its start.
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), m) FROM (SELECT max(`+c+`) AS m FROM `+t+`) x
			WHERE m IS NOT NULL`, tc[0], tc[1]); err != nil {
			return fmt.Errorf("move the sequence of %s.%s: %w", tc[0], tc[1], err)
		}
	}
	return nil
}
