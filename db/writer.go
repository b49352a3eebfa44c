package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// ErrClosed is returned for a write asked of a database that is closing.
var ErrClosed = errors.New("database is closed")

// maxBatch bounds how many writes share one transaction.
const maxBatch = 256

// writer owns the single writer connection. Writes are queued to one goroutine, which takes every write waiting
// at that moment into one transaction — run again with a savepoint each if one of them fails, so that one is
// rolled back alone — and answers each caller only after the commit. With synchronous=FULL a commit costs an fsync; sharing it across
// a batch (group commit) is what lets durable intake keep up with a flood.
type writer struct {
	// pg is set on PostgreSQL, where there is no queue: each write is its own transaction on the pool db
	// (see doPostgres), and nothing below it is used.
	pg    bool
	db    *sqlx.DB
	reqs  chan *writeReq
	quit  chan struct{}
	done  chan struct{}
	once  sync.Once
	batch []*writeReq

	// stmts are statements prepared on the writer connection, by query text; toPrepare are those asked for
	// during the current batch, prepared once it is committed (the one connection is busy until then); skip
	// are those that failed to prepare. Only the writer goroutine touches them.
	stmts     map[string]*sqlx.Stmt
	toPrepare map[string]struct{}
	skip      map[string]struct{}

	// walPath is the WAL file, whose size boundWAL keeps under walLimit; walRetryAt is when to try again after
	// a restart that readers held up; busyTimeout is the connection's own busy timeout, put back after the
	// checkpoint's shorter one. Only the writer goroutine touches them.
	walPath     string
	walRetryAt  time.Time
	busyTimeout time.Duration
	// checkpointing is held by whoever runs a checkpoint in this process: the checkpointer or checkpointWithin.
	checkpointing sync.Mutex

	// health is the outcome of the last write, for WriteHealth; reconnect is set after a storage fault, for a
	// new connection before the next batch (see reconnectIfFaulted).
	health    writeHealth
	reconnect bool
	// readers is the read pool, with readerIdle idle connections; readersDropped is set while it keeps none,
	// after a read-only fault (see outcome). The checkpointer rests meanwhile.
	readers        *sqlx.DB
	readerIdle     int
	readersDropped atomic.Bool

	// load is the assignment load table (see load.go). Only the writer goroutine touches it.
	load staffLoad
	// stats counts the writer's work, for WriterStats.
	stats struct{ batches, writes, busyNs, commitNs atomic.Int64 }
	// onBatch, when set, is told of each batch (see OnWriteBatch).
	onBatch atomic.Pointer[func(writes int, commit time.Duration)]
	// conn is the writer's connection, held while writes keep coming (see keepConnFor) so that the statements
	// prepared on it stay prepared. Only the writer goroutine touches it.
	conn *sqlx.Conn
}

// maxStmts bounds the statements kept prepared on the writer connection. The hot writes (intake, audit,
// sessions, the outbox) are a few dozen query texts; the bound only matters if some caller builds many.
const maxStmts = 128

type writeReq struct {
	ctx context.Context
	fn  func(*Tx) error
	// alone, when set instead of fn, runs on the writer connection outside any transaction, once every write
	// queued before it has committed (see doAlone).
	alone func(ctx context.Context, db *sqlx.DB) error
	// probe marks the write probe of WriteHealth, whose change SQLite does not count among rows changed.
	probe bool
	// loadFree marks a write that leaves the assignment load table as it is (see doLoadFree).
	loadFree bool
	errc     chan error
}

// newWriter starts the writer on db, the one writer connection. readers (with readerIdle idle connections) is
// the read pool, walPath the WAL file, busyTimeout the connection's busy timeout.
func newWriter(db, readers *sqlx.DB, readerIdle int, walPath string, busyTimeout time.Duration) *writer {
	w := &writer{db: db, reqs: make(chan *writeReq), quit: make(chan struct{}), done: make(chan struct{}),
		stmts: map[string]*sqlx.Stmt{}, toPrepare: map[string]struct{}{}, skip: map[string]struct{}{},
		walPath: walPath, busyTimeout: busyTimeout, readers: readers, readerIdle: readerIdle}
	go w.loop()
	return w
}

// do runs fn in a write transaction and returns once that transaction is committed (nil) or fn's change is
// rolled back (fn's error, or the commit's; wrapping crm.ErrUnavailable when the storage could not take the
// write — see isStorageFault). fn must do nothing but database work on tx: it may share the
// transaction with other callers' writes, and it may be retried by nobody but its caller.
func (w *writer) do(ctx context.Context, fn func(*Tx) error) error {
	return w.send(&writeReq{ctx: ctx, fn: fn, errc: make(chan error, 1)})
}

// doAlone runs fn on the writer connection outside any transaction — for what SQLite refuses inside one, such
// as a checkpoint that truncates the WAL — after every write queued before it has committed and before any
// queued after it begins. fn has the connection to itself while it runs; every other write waits.
func (w *writer) doAlone(ctx context.Context, fn func(ctx context.Context, db *sqlx.DB) error) error {
	return w.send(&writeReq{ctx: ctx, alone: fn, errc: make(chan error, 1)})
}

// send hands r to the writer goroutine and waits for its answer.
func (w *writer) send(r *writeReq) error {
	ctx := r.ctx
	if w.pg {
		if r.alone != nil {
			if err := ctx.Err(); err != nil {
				return err
			}
			return unavailable(r.alone(ctx, w.db))
		}
		return w.doPostgres(ctx, r.fn)
	}
	select {
	case w.reqs <- r:
	case <-w.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once taken, the write is waited for even if ctx ends: the caller must not report failure for a change
	// that may still commit.
	return <-r.errc
}

func (w *writer) loop() {
	defer close(w.done)
	defer w.release(false)
	idle := time.NewTimer(keepConnFor)
	for {
		if w.conn != nil {
			idle.Reset(keepConnFor)
		} else {
			idle.Stop()
		}
		select {
		case <-w.quit:
			return
		case <-idle.C:
			w.release(false)
		case r := <-w.reqs:
			for r != nil {
				if r.alone != nil {
					w.runAlone(r)
					r = nil
					continue
				}
				w.batch = append(w.batch[:0], r)
				r = nil
			gather:
				for len(w.batch) < maxBatch {
					select {
					case next := <-w.reqs:
						if next.alone != nil {
							// It runs after this batch has committed.
							r = next
							break gather
						}
						w.batch = append(w.batch, next)
					default:
						break gather
					}
				}
				began, committing := time.Now(), w.stats.commitNs.Load()
				w.run(w.batch)
				w.stats.busyNs.Add(int64(time.Since(began)))
				w.stats.batches.Add(1)
				w.stats.writes.Add(int64(len(w.batch)))
				if fn := w.onBatch.Load(); fn != nil {
					(*fn)(len(w.batch), time.Duration(w.stats.commitNs.Load()-committing))
				}
				clear(w.batch)
				w.prepare()
				w.boundWAL()
			}
		}
	}
}

// run executes a batch in one transaction and answers every request. The writes run one after another with
// nothing between them; only when one of them fails is the transaction rolled back and the batch run again with
// a savepoint around each write, so that the failing write is undone alone and the others commit (writes are
// written to be run again: see do). A write that fails because the storage cannot take it (disk full,
// read-only, I/O error) fails the whole batch: SQLite may already have rolled the transaction back, taking the
// other writes of the batch with it. The batch's outcome is recorded for WriteHealth (see outcome).
func (w *writer) run(batch []*writeReq) {
	errs := make([]error, len(batch))
	answer := func() {
		for i, r := range batch {
			r.errc <- unavailable(errs[i])
		}
	}
	savepoints := false
	for {
		again := w.attempt(batch, errs, savepoints)
		if !again {
			break
		}
		savepoints = true
		clear(errs)
	}
	answer()
}

// attempt runs batch in one transaction, each write in a savepoint when savepoints is set, and fills errs. It
// returns true, having rolled the transaction back, when a write failed without savepoints and the batch must
// run again with them.
func (w *writer) attempt(batch []*writeReq, errs []error, savepoints bool) (again bool) {
	w.reconnectIfFaulted()
	tx, err := w.begin()
	if err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("begin write: %w", err)
		}
		w.outcome(err)
		return false
	}
	before := w.totalChanges(tx)
	w.checkLoad(w.cached(tx))
	ok, probed := 0, false
	var fault error
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if !r.loadFree {
			w.load.valid = false // it may change accounts, or who has which enquiry
		}
		if savepoints {
			errs[i] = w.inSavepoint(tx, r.fn)
		} else {
			errs[i] = call(r.fn, tx)
		}
		w.settleLoad(errs[i] == nil)
		if isStorageFault(errs[i]) {
			fault = errs[i]
			break
		}
		if errs[i] != nil && !savepoints && len(batch) > 1 {
			// Its changes may be half made: undo the whole batch and run it again, each write on its own.
			_ = tx.Rollback()
			w.load.forget()
			return true
		}
		if errs[i] == nil {
			ok++
			probed = probed || r.probe
		}
	}
	if fault == nil && ok > 0 {
		fault = w.flushLoad(tx)
	}
	if fault != nil {
		_ = tx.Rollback()
		w.load.forget()
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("rolled back with its batch: %w", fault)
			}
		}
		w.outcome(fault)
		return false
	}
	if ok == 0 {
		_ = tx.Rollback()
		w.load.forget()
		return false
	}
	// A transaction that changed nothing commits even on a read-only file (SQLite quietly makes it a read), so
	// only one that changed rows, or the write probe, tells that the storage takes writes.
	wrote := probed || before < 0 || w.totalChanges(tx) != before
	began := time.Now()
	err = tx.Commit()
	w.stats.commitNs.Add(int64(time.Since(began)))
	if err != nil {
		w.load.forget()
		err = fmt.Errorf("commit: %w", err)
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	if err != nil || wrote {
		w.outcome(err)
	}
	return false
}

// totalChanges is SQLite's count of rows inserted, updated or deleted on the writer connection since it
// opened, or -1 when it cannot be read.
func (w *writer) totalChanges(tx *Tx) int64 {
	var n int64
	if err := w.cached(tx).Get(&n, "SELECT total_changes()"); err != nil {
		return -1
	}
	return n
}

// runAlone runs a request that needs the connection outside a transaction, and answers it.
func (w *writer) runAlone(r *writeReq) {
	if err := r.ctx.Err(); err != nil {
		r.errc <- err
		return
	}
	w.reconnectIfFaulted()
	w.release(false) // fn takes the pool's one connection
	r.errc <- unavailable(func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("write panicked: %v", p)
			}
		}()
		return r.alone(r.ctx, w.db)
	}())
}

// inSavepoint runs fn so that its failure undoes only its own changes.
func (w *writer) inSavepoint(tx *Tx, fn func(*Tx) error) error {
	ct := w.cached(tx)
	if _, err := ct.Exec("SAVEPOINT write"); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if err := call(fn, tx); err != nil {
		if _, rbErr := ct.Exec("ROLLBACK TO write"); rbErr != nil {
			return errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rbErr))
		}
		_, _ = ct.Exec("RELEASE write")
		return err
	}
	if _, err := ct.Exec("RELEASE write"); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

// call runs fn, turning a panic into an error so one bad write cannot stop the writer.
func call(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return fn(tx)
}

// close stops taking writes and waits for the batch in progress to commit.
func (w *writer) close() {
	w.once.Do(func() { close(w.quit) })
	if w.pg {
		return
	}
	<-w.done
}

// prepare prepares the statements asked for during the last batch, now that the connection is free. A
// statement that fails to prepare (it may need a table a later migration makes) is not tried again.
func (w *writer) prepare() {
	if w.conn == nil || w.reconnect {
		clear(w.toPrepare)
		return
	}
	for q := range w.toPrepare {
		if st, err := w.conn.PreparexContext(context.Background(), q); err == nil {
			w.stmts[q] = st
		} else {
			w.skip[q] = struct{}{}
		}
	}
	clear(w.toPrepare)
}

// writeTx is what the write helpers need of a transaction: *Tx has it, and so has cachedTx.
type writeTx interface {
	Exec(query string, args ...any) (sql.Result, error)
	Get(dest any, query string, args ...any) error
	Select(dest any, query string, args ...any) error
}

// cachedTx runs statements of a write transaction through the statements prepared on the writer connection.
// Preparing is a large share of a small write's cost (an INSERT into enquiries compiles every trigger and index
// of the table each time): the hot writes prepare once and then only bind and step. Use it only on the writer
// goroutine, inside a function given to writer.do.
type cachedTx struct {
	tx *Tx
	w  *writer
	// load is set for intake on SQLite: the accounts come from the writer's load table (see load.go).
	load bool
}

// cached wraps tx, a transaction the writer is running, for writes through prepared statements.
func (w *writer) cached(tx *Tx) cachedTx { return cachedTx{tx: tx, w: w} }

// cachedWithLoad is cached for intake: on SQLite it also takes the accounts from the load table.
func (w *writer) cachedWithLoad(tx *Tx) cachedTx { return cachedTx{tx: tx, w: w, load: !w.pg} }

// stmt returns query prepared for this transaction, or nil when it is not prepared yet (it will be after
// this batch) or cannot be.
func (c cachedTx) stmt(query string) *sqlx.Stmt {
	w := c.w
	if w.pg {
		return nil // PostgreSQL: pgx caches prepared statements per connection itself
	}
	if st, ok := w.stmts[query]; ok {
		return c.tx.Stmtx(st)
	}
	if _, bad := w.skip[query]; !bad && len(w.stmts)+len(w.toPrepare) < maxStmts {
		w.toPrepare[query] = struct{}{}
	}
	return nil
}

// Exec is tx.Exec through the prepared statement.
func (c cachedTx) Exec(query string, args ...any) (sql.Result, error) {
	if st := c.stmt(query); st != nil {
		return st.Exec(args...)
	}
	return c.tx.Exec(query, args...)
}

// Get is tx.Get through the prepared statement.
func (c cachedTx) Get(dest any, query string, args ...any) error {
	if st := c.stmt(query); st != nil {
		return st.Get(dest, args...)
	}
	return c.tx.Get(dest, query, args...)
}

// Select is tx.Select through the prepared statement.
func (c cachedTx) Select(dest any, query string, args ...any) error {
	if st := c.stmt(query); st != nil {
		return st.Select(dest, args...)
	}
	return c.tx.Select(dest, query, args...)
}
