package db

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"
)

// The stores write their SQL once, with `?` placeholders. Tx and pool are sqlx's transaction and pool with
// every query rebound to the engine's placeholders on the way in: unchanged on SQLite, `$1, $2, …` on
// PostgreSQL (pgx). SQL that differs between the engines otherwise is chosen by DB.pg where it is used.

// Tx is a write transaction, as the writer hands it to a store's write function. On PostgreSQL (and from
// pool.BeginTxx) it is a database/sql transaction; on SQLite the writer's own connection, on which the writer
// has begun the transaction (BEGIN IMMEDIATE). The second spares every query of a write the goroutine that
// database/sql starts for each result set read in one of its transactions (to close it if the transaction's
// context ends), which on a small machine cost more than a short query itself.
type Tx struct {
	q  txRunner
	tx *sqlx.Tx   // set for a database/sql transaction
	c  *sqlx.Conn // set for the SQLite writer's connection
}

// txRunner is what both kinds of Tx run statements on: *sqlx.Tx and *sqlx.Conn.
type txRunner interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryxContext(ctx context.Context, q string, args ...any) (*sqlx.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	QueryRowxContext(ctx context.Context, q string, args ...any) *sqlx.Row
	Rebind(q string) string
}

// sqlTx wraps a database/sql transaction.
func sqlTx(tx *sqlx.Tx) *Tx { return &Tx{q: tx, tx: tx} }

// connTx wraps the SQLite writer's connection, inside the transaction begun on it.
func connTx(c *sqlx.Conn) *Tx { return &Tx{q: c, c: c} }

// Rebind rewrites q's placeholders for the engine.
func (t *Tx) Rebind(q string) string { return t.q.Rebind(q) }

// Commit commits the transaction.
func (t *Tx) Commit() error {
	if t.tx != nil {
		return t.tx.Commit()
	}
	_, err := t.c.ExecContext(context.Background(), "COMMIT")
	return err
}

// Rollback rolls the transaction back. On the SQLite writer's connection it is harmless when SQLite has already
// rolled it back itself (after some storage faults).
func (t *Tx) Rollback() error {
	if t.tx != nil {
		return t.tx.Rollback()
	}
	_, err := t.c.ExecContext(context.Background(), "ROLLBACK")
	return err
}

// Stmtx returns st for use in this transaction: st as it is on the writer's connection, where it was
// prepared; bound to the transaction otherwise.
func (t *Tx) Stmtx(st *sqlx.Stmt) *sqlx.Stmt {
	if t.tx != nil {
		return t.tx.Stmtx(st)
	}
	return st
}

// PrepareContext prepares q, rebound, for use in this transaction.
func (t *Tx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	if t.tx != nil {
		return t.tx.PrepareContext(ctx, t.Rebind(q))
	}
	return t.c.PrepareContext(ctx, t.Rebind(q))
}

// Exec runs q, rebound.
func (t *Tx) Exec(q string, args ...any) (sql.Result, error) {
	return t.q.ExecContext(context.Background(), t.q.Rebind(q), args...)
}

// ExecContext runs q, rebound.
func (t *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.q.ExecContext(ctx, t.q.Rebind(q), args...)
}

// Get is sqlx.Get with the query rebound.
func (t *Tx) Get(dest any, q string, args ...any) error {
	return sqlx.GetContext(context.Background(), t.q, dest, t.q.Rebind(q), args...)
}

// GetContext is sqlx.GetContext with the query rebound.
func (t *Tx) GetContext(ctx context.Context, dest any, q string, args ...any) error {
	return sqlx.GetContext(ctx, t.q, dest, t.q.Rebind(q), args...)
}

// Select is sqlx.Select with the query rebound.
func (t *Tx) Select(dest any, q string, args ...any) error {
	return sqlx.SelectContext(context.Background(), t.q, dest, t.q.Rebind(q), args...)
}

// SelectContext is sqlx.SelectContext with the query rebound.
func (t *Tx) SelectContext(ctx context.Context, dest any, q string, args ...any) error {
	return sqlx.SelectContext(ctx, t.q, dest, t.q.Rebind(q), args...)
}

// QueryContext runs q, rebound.
func (t *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.q.QueryContext(ctx, t.q.Rebind(q), args...)
}

// QueryxContext runs q, rebound.
func (t *Tx) QueryxContext(ctx context.Context, q string, args ...any) (*sqlx.Rows, error) {
	return t.q.QueryxContext(ctx, t.q.Rebind(q), args...)
}

// QueryRowContext runs q, rebound.
func (t *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.q.QueryRowContext(ctx, t.q.Rebind(q), args...)
}

// QueryRowxContext runs q, rebound (sqlx.GetContext calls it).
func (t *Tx) QueryRowxContext(ctx context.Context, q string, args ...any) *sqlx.Row {
	return t.q.QueryRowxContext(ctx, t.q.Rebind(q), args...)
}

// QueryRowx runs q, rebound (sqlx.Get calls it).
func (t *Tx) QueryRowx(q string, args ...any) *sqlx.Row {
	return t.q.QueryRowxContext(context.Background(), t.q.Rebind(q), args...)
}

// Queryx runs q, rebound (sqlx.Select calls it).
func (t *Tx) Queryx(q string, args ...any) (*sqlx.Rows, error) {
	return t.q.QueryxContext(context.Background(), t.q.Rebind(q), args...)
}

// Query runs q, rebound.
func (t *Tx) Query(q string, args ...any) (*sql.Rows, error) {
	return t.q.QueryContext(context.Background(), t.q.Rebind(q), args...)
}

// QueryRow runs q, rebound.
func (t *Tx) QueryRow(q string, args ...any) *sql.Row {
	return t.q.QueryRowContext(context.Background(), t.q.Rebind(q), args...)
}

// pool is a pool of connections (SQLite's readers, or PostgreSQL's one pool) with every query rebound.
type pool struct{ *sqlx.DB }

// Exec is sqlx.DB.Exec with the query rebound.
func (p *pool) Exec(q string, args ...any) (sql.Result, error) {
	return p.DB.Exec(p.Rebind(q), args...)
}

// ExecContext is sqlx.DB.ExecContext with the query rebound.
func (p *pool) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return p.DB.ExecContext(ctx, p.Rebind(q), args...)
}

// Get is sqlx.DB.Get with the query rebound.
func (p *pool) Get(dest any, q string, args ...any) error {
	return p.DB.Get(dest, p.Rebind(q), args...)
}

// GetContext is sqlx.DB.GetContext with the query rebound.
func (p *pool) GetContext(ctx context.Context, dest any, q string, args ...any) error {
	return p.DB.GetContext(ctx, dest, p.Rebind(q), args...)
}

// Select is sqlx.DB.Select with the query rebound.
func (p *pool) Select(dest any, q string, args ...any) error {
	return p.DB.Select(dest, p.Rebind(q), args...)
}

// SelectContext is sqlx.DB.SelectContext with the query rebound.
func (p *pool) SelectContext(ctx context.Context, dest any, q string, args ...any) error {
	return p.DB.SelectContext(ctx, dest, p.Rebind(q), args...)
}

// QueryContext is sqlx.DB.QueryContext with the query rebound.
func (p *pool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return p.DB.QueryContext(ctx, p.Rebind(q), args...)
}

// QueryxContext is sqlx.DB.QueryxContext with the query rebound.
func (p *pool) QueryxContext(ctx context.Context, q string, args ...any) (*sqlx.Rows, error) {
	return p.DB.QueryxContext(ctx, p.Rebind(q), args...)
}

// QueryRow is sqlx.DB.QueryRow with the query rebound.
func (p *pool) QueryRow(q string, args ...any) *sql.Row { return p.DB.QueryRow(p.Rebind(q), args...) }

// QueryRowContext is sqlx.DB.QueryRowContext with the query rebound.
func (p *pool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return p.DB.QueryRowContext(ctx, p.Rebind(q), args...)
}

// MustExec is sqlx.DB.MustExec with the query rebound.
func (p *pool) MustExec(q string, args ...any) sql.Result { return p.DB.MustExec(p.Rebind(q), args...) }

// QueryRowxContext is sqlx.DB.QueryRowxContext with the query rebound (sqlx.GetContext calls it).
func (p *pool) QueryRowxContext(ctx context.Context, q string, args ...any) *sqlx.Row {
	return p.DB.QueryRowxContext(ctx, p.Rebind(q), args...)
}

// QueryRowx is sqlx.DB.QueryRowx with the query rebound (sqlx.Get calls it).
func (p *pool) QueryRowx(q string, args ...any) *sqlx.Row {
	return p.DB.QueryRowx(p.Rebind(q), args...)
}

// Queryx is sqlx.DB.Queryx with the query rebound (sqlx.Select calls it).
func (p *pool) Queryx(q string, args ...any) (*sqlx.Rows, error) {
	return p.DB.Queryx(p.Rebind(q), args...)
}

// Query is sqlx.DB.Query with the query rebound.
func (p *pool) Query(q string, args ...any) (*sql.Rows, error) {
	return p.DB.Query(p.Rebind(q), args...)
}

// BeginTxx is sqlx.DB.BeginTxx, the transaction's queries rebound too.
func (p *pool) BeginTxx(ctx context.Context, opts *sql.TxOptions) (*Tx, error) {
	tx, err := p.DB.BeginTxx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return sqlTx(tx), nil
}
