package db

import (
	"context"
	"database/sql/driver"
	"time"

	"github.com/jmoiron/sqlx"
)

// The SQLite writer's connection: held while writes keep coming, so that the statements prepared on it stay
// prepared, and given back to the pool when writes pause or something else needs it (see writer.go).

// keepConnFor is how long the writer keeps its connection, and the statements prepared on it, once no write is
// waiting. Then it gives it back to the pool, for what uses the writer's pool directly (migrations, tests).
var keepConnFor = 100 * time.Millisecond

// begin begins a write transaction on the writer's connection, taking one from the pool first if it has none.
func (w *writer) begin() (*Tx, error) {
	c, err := w.connection()
	if err != nil {
		return nil, err
	}
	if _, err := c.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		return nil, err
	}
	return connTx(c), nil
}

// connection returns the writer's connection, taking the pool's one connection when it has none.
func (w *writer) connection() (*sqlx.Conn, error) {
	if w.conn == nil {
		c, err := w.db.Connx(context.Background())
		if err != nil {
			return nil, err
		}
		w.conn = c
	}
	return w.conn, nil
}

// release closes the statements prepared on the writer's connection and gives the connection back to the pool
// — to be closed there, when bad is set (after a storage fault, so the next write opens a new one).
func (w *writer) release(bad bool) {
	for q, st := range w.stmts {
		st.Close()
		delete(w.stmts, q)
	}
	clear(w.toPrepare)
	if w.conn == nil {
		return
	}
	if bad {
		_ = w.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = w.conn.Close()
	w.conn = nil
	w.load.forget() // another connection may write meanwhile
}

// WriterStats is what the SQLite writer has done since the database was opened: batches committed or rolled
// back, writes in them, and the time spent running them (Busy, commits included) and committing (Commit). On
// PostgreSQL it is zero.
type WriterStats struct {
	Batches, Writes int64
	Busy, Commit    time.Duration
}

// OnWriteBatch registers fn to be told of each batch the SQLite writer runs, after its callers are answered: how
// many writes it held and how long its commit took (zero when it was rolled back, or committed nothing). fn
// runs on the writer's goroutine, so it must be quick and never block: the metrics' histograms. On PostgreSQL,
// where each write commits on its own, fn is never called.
func (d *DB) OnWriteBatch(fn func(writes int, commit time.Duration)) { d.writer.onBatch.Store(&fn) }

// WriterStats returns what the writer has done since the database was opened (see WriterStats).
func (d *DB) WriterStats() WriterStats {
	st := &d.writer.stats
	return WriterStats{Batches: st.batches.Load(), Writes: st.writes.Load(), Busy: time.Duration(st.busyNs.Load()),
		Commit: time.Duration(st.commitNs.Load())}
}
