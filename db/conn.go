package db

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"
)

// The stores write their SQL once, with `?` placeholders. Tx and pool are sqlx's transaction and pool with
// every query rebound to the engine's placeholders on the way in: unchanged on SQLite, `$1, $2, …` on
// PostgreSQL (pgx). SQL that differs between the engines otherwise is chosen by DB.pg where it is used.

// Tx is a write transaction, as the writer hands it to a store's write function.
type Tx struct{ *sqlx.Tx }

// Exec is sqlx.Tx.Exec with the query rebound.
func (t *Tx) Exec(q string, args ...any) (sql.Result, error) { return t.Tx.Exec(t.Rebind(q), args...) }

// ExecContext is sqlx.Tx.ExecContext with the query rebound.
func (t *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, t.Rebind(q), args...)
}

// Get is sqlx.Tx.Get with the query rebound.
func (t *Tx) Get(dest any, q string, args ...any) error { return t.Tx.Get(dest, t.Rebind(q), args...) }

// GetContext is sqlx.Tx.GetContext with the query rebound.
func (t *Tx) GetContext(ctx context.Context, dest any, q string, args ...any) error {
	return t.Tx.GetContext(ctx, dest, t.Rebind(q), args...)
}

// Select is sqlx.Tx.Select with the query rebound.
func (t *Tx) Select(dest any, q string, args ...any) error {
	return t.Tx.Select(dest, t.Rebind(q), args...)
}

// SelectContext is sqlx.Tx.SelectContext with the query rebound.
func (t *Tx) SelectContext(ctx context.Context, dest any, q string, args ...any) error {
	return t.Tx.SelectContext(ctx, dest, t.Rebind(q), args...)
}

// QueryContext is sqlx.Tx.QueryContext with the query rebound.
func (t *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, t.Rebind(q), args...)
}

// QueryxContext is sqlx.Tx.QueryxContext with the query rebound.
func (t *Tx) QueryxContext(ctx context.Context, q string, args ...any) (*sqlx.Rows, error) {
	return t.Tx.QueryxContext(ctx, t.Rebind(q), args...)
}

// QueryRowContext is sqlx.Tx.QueryRowContext with the query rebound.
func (t *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, t.Rebind(q), args...)
}

// QueryRowxContext is sqlx.Tx.QueryRowxContext with the query rebound (sqlx.GetContext calls it).
func (t *Tx) QueryRowxContext(ctx context.Context, q string, args ...any) *sqlx.Row {
	return t.Tx.QueryRowxContext(ctx, t.Rebind(q), args...)
}

// QueryRowx is sqlx.Tx.QueryRowx with the query rebound (sqlx.Get calls it).
func (t *Tx) QueryRowx(q string, args ...any) *sqlx.Row { return t.Tx.QueryRowx(t.Rebind(q), args...) }

// Queryx is sqlx.Tx.Queryx with the query rebound (sqlx.Select calls it).
func (t *Tx) Queryx(q string, args ...any) (*sqlx.Rows, error) {
	return t.Tx.Queryx(t.Rebind(q), args...)
}

// Query is sqlx.Tx.Query with the query rebound.
func (t *Tx) Query(q string, args ...any) (*sql.Rows, error) { return t.Tx.Query(t.Rebind(q), args...) }

// QueryRow is sqlx.Tx.QueryRow with the query rebound.
func (t *Tx) QueryRow(q string, args ...any) *sql.Row { return t.Tx.QueryRow(t.Rebind(q), args...) }

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
	return &Tx{tx}, nil
}
