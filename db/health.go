package db

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/mattn/go-sqlite3"
)

// probeAfter is how recent a commit must be to answer WriteHealth by itself; older than that (or never), a
// write probe asks the storage again.
const probeAfter = 5 * time.Second

// isStorageFault reports whether err is SQLite saying the storage cannot take a write: the disk or file
// system is full (SQLITE_FULL), a read or write or fsync failed (SQLITE_IOERR and its kinds), the file or its
// folder is read-only (SQLITE_READONLY and its kinds), or the file cannot be opened (SQLITE_CANTOPEN). These
// are the failures that clear by themselves or by an operator's hand, with no change to the request.
func isStorageFault(err error) bool {
	if isPostgresFault(err) {
		return true
	}
	var se sqlite3.Error
	if err == nil || !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case sqlite3.ErrFull, sqlite3.ErrIoErr, sqlite3.ErrReadonly, sqlite3.ErrCantOpen:
		return true
	}
	return false
}

// isLockedOut reports whether err is SQLite giving up on a lock another process held past the busy timeout
// (a backup tool, an operator's sqlite3 shell): nothing is wrong with the storage, but the write was not
// taken, and trying again later will work.
func isLockedOut(err error) bool {
	var se sqlite3.Error
	return err != nil && errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// unavailable wraps a storage fault, or a lock held elsewhere too long, in crm.ErrUnavailable, which web
// answers 503 with Retry-After; any other error is returned as it is.
func unavailable(err error) error {
	if !(isStorageFault(err) || isLockedOut(err)) || errors.Is(err, crm.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", crm.ErrUnavailable, err)
}

// writeHealth is the outcome of the writer's last commit, and the write probe in flight if any.
type writeHealth struct {
	mu sync.Mutex
	// at is when the last outcome was known; zero before the first.
	at time.Time
	// fault is the storage failure of the last write, nil when it committed.
	fault error
	// probe is the probe in flight, nil when none is.
	probe *probeRun
}

// probeRun is one write probe: done is closed when it has finished, and err is then its outcome.
type probeRun struct {
	done chan struct{}
	err  error
}

// record notes the outcome of a write that committed (nil) or met a storage fault.
func (h *writeHealth) record(fault error) {
	h.mu.Lock()
	h.at, h.fault = time.Now(), fault
	h.mu.Unlock()
}

// last returns the last outcome and when it was known.
func (h *writeHealth) last() (time.Time, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.at, h.fault
}

// startProbe starts run unless a probe is already in flight, and returns the one in flight.
func (h *writeHealth) startProbe(run func() error) *probeRun {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.probe == nil {
		p := &probeRun{done: make(chan struct{})}
		h.probe = p
		go func() {
			p.err = run()
			h.mu.Lock()
			h.probe = nil
			h.mu.Unlock()
			close(p.done)
		}()
	}
	return h.probe
}

// outcome records how a batch ended: err is nil when it committed a change. Errors other than storage faults
// (a constraint a write broke, say) say nothing of the storage and are not recorded. Only the writer goroutine
// calls it.
//
// After a storage fault the writer's connection is closed before the next batch, which opens a new one (see
// reconnectIfFaulted). A read-only fault needs more: SQLite opens the file read-only when the file system is
// read-only (a restart after the kernel remounted it so, say), and every connection of the process shares
// that file's lock and shared-memory state, so a new writer connection only writes again once every
// connection has closed. The read pool then keeps no idle connection — each read opens its own and closes
// it — until a write commits again.
func (w *writer) outcome(err error) {
	if err != nil && !isStorageFault(err) {
		return
	}
	w.health.record(err)
	if err == nil {
		w.reconnect = false
		if w.readersDropped.Load() {
			w.readersDropped.Store(false)
			w.readers.SetMaxIdleConns(w.readerIdle)
		}
		return
	}
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrReadonly || se.Code == sqlite3.ErrCantOpen) && w.readers != nil {
		w.readersDropped.Store(true)
		w.readers.SetMaxIdleConns(0)
	}
	if w.conn != nil {
		_, _ = w.conn.ExecContext(context.Background(), "ROLLBACK") // in case SQLite left the transaction open
	}
	w.reconnect = true
}

// reconnectIfFaulted closes the writer connection before a batch when the last one met a storage fault, so
// the batch opens a new one. It is done then, not right after the fault: the statements prepared after a
// batch would open a connection at once, on the storage as it was. The pool has one connection, idle between
// batches, and a pool allowed no idle connection closes it. Only the writer goroutine calls it.
//
// It goes on reconnecting before every batch until one commits a change (outcome(nil)). A batch that changes
// nothing commits even on a read-only file, so it proves nothing, and the connection it opened may be the
// read-only one: the next write must not inherit it. A read still running when the file system came back
// (one opened while it was read-only) keeps the file read-only for the process until it ends; the write after
// it then opens a connection that writes.
func (w *writer) reconnectIfFaulted() {
	if w.reconnect {
		w.release(true)
	}
}

// WriteHealth reports whether the database takes writes, for /readyz. It returns nil when the last write
// committed less than 5 seconds ago: under load that answers at once, without a probe queued behind the
// writes. Otherwise — no recent write, or the last one met a storage fault — it runs a write probe: on SQLite
// a transaction that rewrites the file's user_version, one page of WAL committed with its fsync, like any
// write; on PostgreSQL a transaction given a transaction id, which must not be read-only (see
// postgresWriteProbe). It returns an error wrapping crm.ErrUnavailable when the probe fails, or when ctx ends before the
// probe finishes (a write hung in fsync is not a database that takes writes). Concurrent calls share one
// probe. A probe that succeeds is a committed write: the next call answers from it, and so recovery shows
// as soon as the storage takes writes again.
//
// On SQLite it also fails, whatever the last write did, while the file system holding the database has less
// than minFreeBytes free. A probe alone can pass on a full disk: its one page can fit in space the WAL file
// already has (a write that failed there claimed some), where an enquiry does not.
func (d *DB) WriteHealth(ctx context.Context) error {
	if !d.pg {
		if free, ok := freeBytes(filepath.Dir(d.path)); ok && free < minFreeBytes {
			return fmt.Errorf("database write health: %w: the disk holding the database has %d KiB free, "+
				"under %d KiB", crm.ErrUnavailable, free>>10, minFreeBytes>>10)
		}
	}
	w := d.writer
	at, fault := w.health.last()
	if !at.IsZero() && fault == nil && time.Since(at) < probeAfter {
		return nil
	}
	probe := writeProbe
	if d.pg {
		probe = postgresWriteProbe
	}
	p := w.health.startProbe(func() error {
		return w.send(&writeReq{ctx: context.Background(), fn: probe, probe: true, errc: make(chan error, 1)})
	})
	select {
	case <-p.done:
	case <-ctx.Done():
		return fmt.Errorf("database write health: %w: the write probe did not finish in time", crm.ErrUnavailable)
	}
	if p.err != nil {
		if !errors.Is(p.err, crm.ErrUnavailable) {
			return fmt.Errorf("database write health: %w: %w", crm.ErrUnavailable, p.err)
		}
		return fmt.Errorf("database write health: %w", p.err)
	}
	return nil
}

// minFreeBytes is the free space under which WriteHealth reports that SQLite cannot take writes: room for a
// few hundred more enquiries.
const minFreeBytes = 1 << 20

// writeProbe writes the file's user_version back unchanged: SQLite still writes its page (the first) into the
// WAL and the commit fsyncs it, which is the path every write takes, and it adds one page to the WAL. Frontdesk
// does not use user_version otherwise (goose keeps its own table).
func writeProbe(tx *Tx) error {
	var v int64
	if err := tx.Get(&v, "PRAGMA user_version"); err != nil {
		return fmt.Errorf("write probe: %w", err)
	}
	if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
		return fmt.Errorf("write probe: %w", err)
	}
	return nil
}
