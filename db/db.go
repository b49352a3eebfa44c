// Package db is Frontdesk's storage, on SQLite (the embedded default) or PostgreSQL, with one store per
// aggregate (enquiries, privacy, staff, outbox, audit, reports) implementing the interfaces crm declares, written
// once in SQL both engines take (see docs/postgres.md).
//
// SQLite is opened with the pragmas that make an acknowledged write durable and concurrent requests safe (WAL,
// synchronous=FULL, foreign keys, busy timeout, immediate transactions), one writer connection fed by a
// group-commit queue, a separate pool of readers, and checkpoints in the background. PostgreSQL (pgx's
// database/sql driver) is one pool, each write its own transaction with synchronous_commit on, and advisory
// locks where several processes must take turns. Migrations are embedded goose files, one set per engine. It is
// the only package that imports sqlx, go-sqlite3 and pgx.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"
)

// driverName is go-sqlite3 with a connect hook that sets the pragmas the DSN cannot carry; writerDriverName
// is the same for the writer connection, which also leaves checkpoints to the checkpointer and to itself (see
// checkpoint and writer.boundWAL) and overwrites deleted content with zeros (secure_delete), so an erased
// patient's bytes do not linger in free pages of the file (see Scrub).
const (
	driverName       = "sqlite3_frontdesk"
	writerDriverName = "sqlite3_frontdesk_writer"
)

// walLimit bounds the WAL file. The writer checkpoints and restarts the WAL between two batches once the file
// passes it (writer.boundWAL), and journal_size_limit truncates the file back to it when the WAL restarts,
// so a long read (a streaming export) that held checkpoints back does not leave a huge file behind either.
// 64 MiB is about 2,000 enquiries of WAL at the small batches of a busy clinic; the cost of restarting that
// often is measured in docs/performance.md. A variable only so that tests can make it small; it is read when
// a connection opens.
var walLimit int64 = 64 << 20

// checkpointEvery is how often the checkpointer copies the WAL back into the database file.
const checkpointEvery = 200 * time.Millisecond

func init() {
	pragmas := func() string {
		return fmt.Sprintf("PRAGMA journal_size_limit = %d; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -8000;",
			walLimit)
	}
	sql.Register(driverName, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec(pragmas(), nil)
			return err
		},
	})
	sql.Register(writerDriverName, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec(pragmas()+" PRAGMA wal_autocheckpoint = 0; PRAGMA secure_delete = ON;", nil)
			return err
		},
	})
}

// DB is an open Frontdesk database: on SQLite one writer connection behind a group-commit queue and a pool of
// readers, on PostgreSQL one pool. It is made of one store per aggregate, each implementing the interfaces crm
// declares for it (EnquiryStore, PrivacyStore, StaffStore, OutboxStore, AuditStore, ReportStore), embedded so
// that a DB is also each of them; its own methods open, migrate, check and close the database. Everything is
// safe for concurrent use.
type DB struct {
	*engine
	*EnquiryStore
	*PrivacyStore
	*StaffStore
	*OutboxStore
	*AuditStore
	*ReportStore
}

// engine is what every store shares: the connections, the writer, and which engine it is.
type engine struct {
	// pg is set when the database is PostgreSQL (see openPostgres); the fields about SQLite's files and
	// checkpoints are then unused.
	pg   bool
	path string
	// source is what Open was given (a PostgreSQL URL with its password); path is fit to show.
	source string
	write  *pool
	read   *pool
	writer *writer
	// mailQueued is called after a commit that queued mail (see OnMailQueued).
	mailQueued atomic.Pointer[func()]
	// webhookBase is FRONTDESK_BASE_URL when webhooks are on (see EnableWebhooks): changes then queue their events.
	webhookBase atomic.Pointer[string]
	// stopCheckpoints ends the checkpointer; checkpointsDone is closed when it has.
	stopCheckpoints chan struct{}
	checkpointsDone chan struct{}
	stopOnce        sync.Once
	// indexer follows the enquiries into the full-text index (SQLite; nil on PostgreSQL).
	indexer *searchIndexer
	// litestream is paused around Scrub's truncation of the WAL (nil without Options.LitestreamSocket).
	litestream *litestream
}

// Options tune Open; the zero value is right for serving.
type Options struct {
	// Readers is the size of the read pool (default: 4, or 2 per CPU when more).
	Readers int
	// BusyTimeout is how long a connection waits for a lock held by another process (default 5 s).
	BusyTimeout time.Duration
	// LitestreamSocket is the control socket of a Litestream replicating the SQLite database, which Scrub
	// pauses while it empties the WAL (see litestream); "" when there is none.
	LitestreamSocket string
}

// dsn builds the connection string: every pragma that must hold on every connection is in it, because a
// PRAGMA run with Exec reaches only one pooled connection.
func dsn(path string, busy time.Duration, readOnly bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
	q.Set("_foreign_keys", "on")
	// database/sql hands a connection to one goroutine at a time, so SQLite's own per-connection mutex
	// (taken on every sqlite3_column_* call) guards nothing: without it an export reads a row ≈ 10 % faster
	// (docs/performance.md, "Exports at a million").
	q.Set("_mutex", "no")
	if readOnly {
		q.Set("_query_only", "on")
	} else {
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", "FULL")
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Open opens (creating it and its folder if needed) the SQLite database at path. It does not migrate: call
// Migrate before serving. The database holds health data: a new folder is readable by its owner only (0700),
// and the file, its WAL and its shared-memory file are made readable and writable by their owner only
// (0600) — also when an earlier version left them readable by others.
//
// A PostgreSQL URL (postgres:// or postgresql://) opens that database instead: see docs/postgres.md.
func Open(path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("open database: no path given")
	}
	if IsPostgresURL(path) {
		return openPostgres(path, opts)
	}
	if opts.Readers <= 0 {
		opts.Readers = max(4, 2*runtime.NumCPU())
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open database: create folder %s: %w", dir, err)
		}
	}
	// SQLite creates the WAL and shared-memory files with the database file's permissions, so the file is
	// created here, before SQLite opens it, with the permissions they should all have.
	if err := ownerOnly(path, true); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w, err := sqlx.Open(writerDriverName, dsn(path, opts.BusyTimeout, false))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// One writer: SQLite allows one at a time anyway, and a single connection never meets SQLITE_BUSY from
	// inside this process.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	var mode string
	if err := w.Get(&mode, "PRAGMA journal_mode"); err != nil || mode != "wal" {
		w.Close()
		return nil, fmt.Errorf("open database %s: journal mode is %q, want wal (%v)", path, mode, err)
	}
	// A WAL or shared-memory file left by an earlier version may be readable by others.
	for _, side := range []string{path + "-wal", path + "-shm"} {
		if err := ownerOnly(side, false); err != nil {
			w.Close()
			return nil, fmt.Errorf("open database %s: %w", path, err)
		}
	}
	r, err := sqlx.Open(driverName, dsn(path, opts.BusyTimeout, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(opts.Readers)
	r.SetMaxIdleConns(opts.Readers)
	r.SetConnMaxIdleTime(5 * time.Minute)
	d := newDB(&engine{path: path, source: path, write: &pool{w}, read: &pool{r}, stopCheckpoints: make(chan struct{}),
		checkpointsDone: make(chan struct{}), litestream: newLitestream(opts.LitestreamSocket, path)})
	d.writer = newWriter(w, r, opts.Readers, path+"-wal", opts.BusyTimeout)
	go d.checkpoint()
	d.startSearchIndexer()
	return d, nil
}

// newDB makes the stores over e.
func newDB(e *engine) *DB {
	return &DB{engine: e, EnquiryStore: &EnquiryStore{e}, PrivacyStore: &PrivacyStore{e, &EnquiryStore{e}}, StaffStore: &StaffStore{e},
		OutboxStore: &OutboxStore{e}, AuditStore: &AuditStore{e}, ReportStore: &ReportStore{e}}
}

// checkpoint copies the WAL back into the database file every checkpointEvery, until Close. SQLite would
// otherwise do it inside the commit that takes the WAL past 1,000 pages, on the writer connection: that commit,
// and every write waiting in the group-commit queue behind it, would wait for pages to be copied and the
// database file fsynced (tens of milliseconds with a large file). A PASSIVE checkpoint from another connection
// runs beside the writer instead, never blocking it, and copies only frames no reader still needs. When the
// writer pauses, the next write finds the WAL fully copied and starts it again from the beginning. Under
// writes back to back it never pauses and the copy never catches up, so the WAL would only grow: the writer
// restarts it itself past walLimit (writer.boundWAL), and finds most of its frames already copied by this
// goroutine. It runs on a connection of the read pool: a checkpoint is not a write transaction, and query_only
// allows it. A failure (another process holding the checkpoint lock, say) is simply tried again at the next
// tick.
func (d *engine) checkpoint() {
	defer close(d.checkpointsDone)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-d.stopCheckpoints:
			return
		case <-tick.C:
		}
		if d.writer.readersDropped.Load() {
			continue // the file is read-only: nothing to copy, and a connection held open would keep it so
		}
		var busy, frames, copied int
		d.writer.checkpointing.Lock()
		_ = d.read.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
		d.writer.checkpointing.Unlock()
	}
}

// ownerOnly makes the file at path readable and writable by its owner only (0600), creating it empty when
// create is true and it does not exist. A missing file that is not to be created is left alone, and so is an
// existing file this process may not change the mode of (it belongs to another user): that is not a reason
// to refuse to open the database.
func ownerOnly(path string, create bool) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && create:
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return ownerOnly(path, false) // created meanwhile by another process
		}
		if err != nil {
			return err
		}
		return f.Close()
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode().Perm()&0o077 != 0:
		_ = os.Chmod(path, fi.Mode().Perm()&0o700)
	}
	return nil
}

// Path is the database file.
func (d *DB) Path() string { return d.path }

// Ping reports whether the database answers a query; /readyz uses it, with WriteHealth.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.read.GetContext(ctx, &one, "SELECT 1"); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Close stops the writer after the batch in progress and closes every connection.
func (d *DB) Close() error {
	d.stopSearchIndexer()
	d.writer.close()
	d.stopOnce.Do(func() { close(d.stopCheckpoints) })
	<-d.checkpointsDone
	if d.pg {
		return d.read.Close() // the one pool
	}
	return errors.Join(d.read.Close(), d.write.Close())
}

// IntegrityCheck runs PRAGMA integrity_check and returns its first line ("ok" when the file is sound).
func (d *DB) IntegrityCheck(ctx context.Context) (string, error) {
	var res string
	err := d.read.GetContext(ctx, &res, "PRAGMA integrity_check")
	return res, err
}

// ms converts a time to the stored form: milliseconds since the Unix epoch.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts a stored time back; the result is in UTC.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// nullMS converts a nullable stored time; a NULL becomes nil.
func nullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// isUniqueViolation reports whether err is SQLite refusing a duplicate in a UNIQUE column.
func isUniqueViolation(err error) bool {
	if isPostgresUnique(err) {
		return true
	}
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique
}

// IsPostgres reports whether the database is PostgreSQL (opened from a postgres:// URL) rather than SQLite.
func (d *DB) IsPostgres() bool { return d.pg }
