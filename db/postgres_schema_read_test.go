package db

import (
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// Reading each engine's schema into schemaTable, for TestPostgresSchemaMatchesSQLite.

// query runs q on conn and calls scan for each row.
func query(t *testing.T, conn *sql.DB, q string, scan func(*sql.Rows) error, args ...any) {
	t.Helper()
	rows, err := conn.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// sqliteFamily is the type family of a declared SQLite column type.
func sqliteFamily(decl string) string {
	switch strings.ToUpper(decl) {
	case "INTEGER":
		return "integer"
	case "TEXT":
		return "text"
	case "BLOB":
		return "bytes"
	}
	return "other:" + decl
}

// postgresFamily is the type family of a PostgreSQL column type. Only BIGINT is an integer: SQLite's integers
// are 64-bit, and so are PostgreSQL's translations of them.
func postgresFamily(typ string) string {
	switch typ {
	case "bigint":
		return "integer"
	case "text":
		return "text"
	case "bytea":
		return "bytes"
	}
	return "other:" + typ
}

// sqliteSchema reads the tables of a migrated SQLite database, less goose's and the FTS5 search table (with
// its shadow tables), which the test compares on its own.
func sqliteSchema(t *testing.T, conn *sql.DB) map[string]schemaTable {
	out := map[string]schemaTable{}
	var tables []string
	sqls := map[string]string{}
	query(t, conn, `SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
		AND name <> 'goose_db_version' AND name NOT LIKE 'enquiry\_search%' ESCAPE '\' ORDER BY name`,
		func(r *sql.Rows) error {
			var name, s string
			if err := r.Scan(&name, &s); err != nil {
				return err
			}
			tables = append(tables, name)
			sqls[name] = s
			return nil
		})
	for _, name := range tables {
		tb := schemaTable{Indexes: map[string][]string{}}
		pk := map[int]string{}
		query(t, conn, `SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid`,
			func(r *sql.Rows) error {
				var col, typ string
				var notNull bool
				var def sql.NullString
				var pkPos int
				if err := r.Scan(&col, &typ, &notNull, &def, &pkPos); err != nil {
					return err
				}
				if pkPos > 0 {
					pk[pkPos] = col
					notNull = true // every primary key here is an INTEGER PRIMARY KEY or in a WITHOUT ROWID table
				}
				tb.Columns = append(tb.Columns, column(col, sqliteFamily(typ), notNull, normDefault(def)))
				return nil
			}, name)
		for i := 1; i <= len(pk); i++ {
			tb.PK = append(tb.PK, pk[i])
		}
		query(t, conn, `SELECT "from", "table", "to", on_delete FROM pragma_foreign_key_list(?)`, func(r *sql.Rows) error {
			var from, table, to, onDelete string
			if err := r.Scan(&from, &table, &to, &onDelete); err != nil {
				return err
			}
			tb.FKs = append(tb.FKs, fmt.Sprintf("%s -> %s.%s on delete %s", from, table, to, strings.ToLower(onDelete)))
			return nil
		}, name)
		type index struct {
			name, origin    string
			unique, partial bool
		}
		var indexes []index
		query(t, conn, `SELECT name, "unique", origin, partial FROM pragma_index_list(?)`, func(r *sql.Rows) error {
			var ix index
			if err := r.Scan(&ix.name, &ix.unique, &ix.origin, &ix.partial); err != nil {
				return err
			}
			indexes = append(indexes, ix)
			return nil
		}, name)
		for _, ix := range indexes {
			var cols []string
			query(t, conn, `SELECT coalesce(name, '(expression)') FROM pragma_index_info(?) ORDER BY seqno`, func(r *sql.Rows) error {
				var c string
				if err := r.Scan(&c); err != nil {
					return err
				}
				cols = append(cols, c)
				return nil
			}, ix.name)
			switch ix.origin {
			case "u":
				tb.Uniques = append(tb.Uniques, strings.Join(cols, ","))
			case "c":
				if ix.unique {
					cols = append(cols, "unique")
				}
				if ix.partial {
					var s string
					if err := conn.QueryRow(`SELECT sql FROM sqlite_master WHERE name = ?`, ix.name).Scan(&s); err != nil {
						t.Fatal(err)
					}
					_, where, _ := strings.Cut(s, " WHERE ")
					cols = append(cols, "where "+normExpr(where))
				}
				tb.Indexes[ix.name] = cols
			}
		}
		tb.Checks = sqliteChecks(sqls[name])
		sort.Strings(tb.FKs)
		sort.Strings(tb.Uniques)
		out[name] = tb
	}
	return out
}

func column(name, family string, notNull bool, def string) string {
	null := "null"
	if notNull {
		null = "not null"
	}
	return name + " " + family + " " + null + def
}

// sqliteChecks finds every CHECK (…) in a CREATE TABLE statement, normalised and sorted.
func sqliteChecks(create string) []string {
	var out []string
	for rest := create; ; {
		i := strings.Index(rest, "CHECK (")
		if i < 0 {
			break
		}
		rest = rest[i+len("CHECK ("):]
		depth, end := 1, 0
		for j, r := range rest {
			if r == '(' {
				depth++
			} else if r == ')' {
				depth--
			}
			if depth == 0 {
				end = j
				break
			}
		}
		out = append(out, normExpr(rest[:end]))
		rest = rest[end:]
	}
	sort.Strings(out)
	return out
}

// postgresSchema reads the tables of a migrated PostgreSQL database in its current schema, less goose's and the
// search table.
func postgresSchema(t *testing.T, conn *sql.DB) map[string]schemaTable {
	out := map[string]schemaTable{}
	var tables []string
	query(t, conn, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()
		AND tablename NOT IN ('goose_db_version', 'enquiry_search') ORDER BY tablename`, func(r *sql.Rows) error {
		var name string
		err := r.Scan(&name)
		tables = append(tables, name)
		return err
	})
	for _, name := range tables {
		tb := schemaTable{Indexes: map[string][]string{}}
		rel := fmt.Sprintf("%q", name)
		query(t, conn, `SELECT column_name, data_type, is_nullable = 'NO', column_default FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, func(r *sql.Rows) error {
			var col, typ string
			var notNull bool
			var def sql.NullString
			if err := r.Scan(&col, &typ, &notNull, &def); err != nil {
				return err
			}
			tb.Columns = append(tb.Columns, column(col, postgresFamily(typ), notNull, normDefault(def)))
			return nil
		}, name)
		// Constraints: their columns in key order, the referenced table and column, the ON DELETE rule.
		query(t, conn, `SELECT c.contype::text, c.conname, pg_get_constraintdef(c.oid),
				(SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
					JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum),
				coalesce(c.confrelid::regclass::text, ''),
				coalesce((SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n)
					JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum), ''),
				c.confdeltype::text
			FROM pg_constraint c WHERE c.conrelid = $1::regclass ORDER BY c.conname`, func(r *sql.Rows) error {
			var typ, cname, def, cols, refTable, refCols, onDelete string
			if err := r.Scan(&typ, &cname, &def, &cols, &refTable, &refCols, &onDelete); err != nil {
				return err
			}
			switch typ {
			case "p":
				tb.PK = strings.Split(cols, ",")
			case "u":
				tb.Uniques = append(tb.Uniques, cols)
			case "f":
				rule := map[string]string{"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}[onDelete]
				tb.FKs = append(tb.FKs, fmt.Sprintf("%s -> %s.%s on delete %s", cols, strings.Trim(refTable, `"`), refCols, rule))
			case "c":
				tb.Checks = append(tb.Checks, normExpr(strings.TrimPrefix(def, "CHECK ")))
			default:
				return fmt.Errorf("constraint %s of type %s: not compared", cname, typ)
			}
			return nil
		}, rel)
		// Indexes made with CREATE INDEX (not those behind a constraint).
		query(t, conn, `SELECT i.relname, x.indisunique, coalesce(pg_get_expr(x.indpred, x.indrelid), ''),
				(SELECT string_agg(coalesce(a.attname, '(expression)'), ',' ORDER BY k.n)
					FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, n)
					LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum AND k.attnum > 0)
			FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
			WHERE x.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)`,
			func(r *sql.Rows) error {
				var iname, pred, cols string
				var unique bool
				if err := r.Scan(&iname, &unique, &pred, &cols); err != nil {
					return err
				}
				list := strings.Split(cols, ",")
				if unique {
					list = append(list, "unique")
				}
				if pred != "" {
					list = append(list, "where "+normExpr(pred))
				}
				tb.Indexes[iname] = list
				return nil
			}, rel)
		sort.Strings(tb.FKs)
		sort.Strings(tb.Uniques)
		sort.Strings(tb.Checks)
		out[name] = tb
	}
	return out
}
