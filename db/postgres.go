package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
)

// postgresDriver is pgx's database/sql driver; sqlx knows it binds `$1, $2, …`.
const postgresDriver = "pgx"

// IsPostgresURL reports whether s names a PostgreSQL database (postgres:// or postgresql://) rather than a
// SQLite file.
func IsPostgresURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// RedactURL returns a database setting fit for a log or an error: a PostgreSQL URL without its password, a
// SQLite path as it is.
func RedactURL(s string) string {
	if !IsPostgresURL(s) {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "postgres://(unreadable URL)"
	}
	return u.Redacted()
}

// postgresConns is the size of a process's pool on PostgreSQL: reads and writes share it. Several processes
// on one server each have their own; the server's max_connections (100 by default) bounds the sum.
const postgresConns = 16

// openPostgres opens the PostgreSQL database named by rawURL. Every write is its own transaction, committed
// with synchronous_commit on (the server's default, set again here in case the server's is off): an
// acknowledged write is on the server's disk.
func openPostgres(rawURL string, opts Options) (*DB, error) {
	shown := RedactURL(rawURL)
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		// pgx's message may quote the URL, password and all.
		return nil, fmt.Errorf("open database %s: the URL cannot be read", shown)
	}
	cfg.RuntimeParams["synchronous_commit"] = "on"
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	conns := postgresConns
	if opts.Readers > 0 {
		conns = max(2, opts.Readers+1)
	}
	p := sqlx.NewDb(stdlib.OpenDB(*cfg), postgresDriver)
	p.SetMaxOpenConns(conns)
	p.SetMaxIdleConns(conns)
	p.SetConnMaxIdleTime(5 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("open database %s: %w", shown, err)
	}
	d := newDB(&engine{path: shown, source: rawURL, pg: true, write: &pool{p}, read: &pool{p},
		stopCheckpoints: make(chan struct{}), checkpointsDone: make(chan struct{})})
	d.writer = &writer{db: p, pg: true, readers: p, readerIdle: conns, quit: make(chan struct{}), done: make(chan struct{})}
	close(d.checkpointsDone)
	return d, nil
}

// errRetry asks the writer to run a write again from the start, in a new transaction: another process
// changed what the write read (PostgreSQL only; SQLite has one writer).
var errRetry = errors.New("a concurrent write changed what this write read: try again")

// postgresAttempts bounds how often a write is run again after errRetry, a serialization failure or a
// deadlock.
const postgresAttempts = 5

// doPostgres runs fn in a transaction of its own and commits it. A write taken is seen through even if ctx
// ends meanwhile, as on SQLite: the caller must not report failure for a change that may still commit.
func (w *writer) doPostgres(ctx context.Context, fn func(*Tx) error) error {
	select {
	case <-w.quit:
		return ErrClosed
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	var err error
	for attempt := 1; ; attempt++ {
		err = w.postgresOnce(ctx, fn)
		if attempt < postgresAttempts && isRetryable(err) {
			time.Sleep(time.Duration(attempt*attempt) * time.Millisecond)
			continue
		}
		break
	}
	w.outcomePostgres(err)
	return unavailable(err)
}

// postgresOnce is one attempt of doPostgres.
func (w *writer) postgresOnce(ctx context.Context, fn func(*Tx) error) error {
	sqltx, err := w.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	tx := sqlTx(sqltx)
	if err := call(fn, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// outcomePostgres records a write's outcome for WriteHealth: a commit, or a fault of the server or the
// connection. Other errors (a constraint a write broke, say) say nothing of the storage.
//
// A write refused as read-only also closes the pool's idle connections. A session keeps the read-only default
// it started with (default_transaction_read_only, which some managed services set while the disk is full, or
// a server that was a standby when the connection opened): only a new connection sees the server take writes
// again. A connection busy meanwhile is closed by the next refusal it meets.
func (w *writer) outcomePostgres(err error) {
	if err == nil || isStorageFault(err) {
		w.health.record(err)
	}
	if isPostgresReadOnly(err) {
		w.db.SetMaxIdleConns(0)
		w.db.SetMaxIdleConns(w.readerIdle)
	}
}

// isRetryable reports whether a write failed only because another transaction got in its way: running it
// again is safe and will mostly succeed.
func isRetryable(err error) bool {
	if errors.Is(err, errRetry) {
		return true
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01") // serialization failure, deadlock
}

// isPostgresFault reports whether err is PostgreSQL (or the way to it) unable to take a write for now: the
// connection failed or was refused, the server is shutting down or starting, its disk is full, it has no
// connection left, or it is a read-only standby. These clear without any change to the request.
func isPostgresFault(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"),  // insufficient resources: disk full, out of memory, too many connections
			strings.HasPrefix(pe.Code, "57P"), // admin or crash shutdown, cannot connect now
			isPostgresReadOnly(err):           // read-only SQL transaction (a standby, or writes turned off)
			return true
		}
		return false
	}
	if isPostgresReadOnly(err) {
		return true
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

// errPostgresReadOnly is the write probe finding its transaction read-only: the server would refuse any write.
var errPostgresReadOnly = errors.New("the database takes no writes: its transactions are read-only")

// isPostgresReadOnly reports whether err is PostgreSQL refusing a write because the transaction is read-only
// (SQLSTATE 25006): the server is a standby, or default_transaction_read_only is on for the database or the
// role; or the write probe having found so.
func isPostgresReadOnly(err error) bool {
	var pe *pgconn.PgError
	return errors.Is(err, errPostgresReadOnly) || (errors.As(err, &pe) && pe.Code == "25006")
}

// isPostgresUnique reports whether err is PostgreSQL refusing a duplicate in a UNIQUE column.
func isPostgresUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// postgresWriteProbe is WriteHealth's probe on PostgreSQL: a transaction given a transaction id commits a
// record to the server's WAL and waits for it to be flushed, like any write. The server hands out a
// transaction id even to a read-only transaction, though, which then refuses every INSERT, UPDATE and DELETE
// (a standby; default_transaction_read_only, which managed services set when the disk fills up): the probe
// reads whether its transaction is read-only, and fails with errPostgresReadOnly if so.
func postgresWriteProbe(tx *Tx) error {
	var probe struct {
		XID      int64  `db:"xid"`
		ReadOnly string `db:"read_only"`
	}
	if err := tx.Get(&probe, `SELECT txid_current() AS xid, current_setting('transaction_read_only') AS read_only`); err != nil {
		return fmt.Errorf("write probe: %w", err)
	}
	if probe.ReadOnly != "off" {
		return fmt.Errorf("write probe: %w", errPostgresReadOnly)
	}
	return nil
}
