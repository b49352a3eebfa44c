package db

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jmoiron/sqlx"
)

// walBusyWait bounds how long the writer's own checkpoint waits for readers to finish with the WAL. Every write
// waits while it does, so it is short: a page or a query takes milliseconds, and only a long read (a streaming
// export, holding its snapshot for seconds) is worth giving up on.
const walBusyWait = 100 * time.Millisecond

// walRetryAfter is how long the writer goes on without trying again when readers held its checkpoint up: at
// most one wait of walBusyWait a second, so a long export costs intake under a tenth of its throughput while it
// runs. The WAL grows meanwhile — no checkpoint may overwrite pages a reader's snapshot still needs — and
// journal_size_limit truncates it once the WAL restarts.
const walRetryAfter = time.Second

// boundWAL keeps the WAL file under walLimit, between two batches. The checkpointer copies the WAL into the
// database file beside the writer, but a WAL starts again from its beginning only when a write finds every
// frame copied and no reader using them, which never happens while commits run back to back. So once the file
// passes walLimit the writer — holding new batches meanwhile — runs a RESTART checkpoint on its own connection:
// it copies the frames left (most are copied already), waits for readers to leave the WAL, and makes the next
// commit write from the start of the file. After the first commit in a restarted WAL, journal_size_limit (set
// to walLimit) truncates the file back to walLimit, so its size says again how much of it is in use.
//
// A checkpoint that fails or that readers hold up past walBusyWait changes nothing a write depends on: the
// writes go on into a longer WAL, and the writer tries again after walRetryAfter. It never fails a write.
func (w *writer) boundWAL() {
	if w.walPath == "" || walLimit <= 0 {
		return
	}
	fi, err := os.Stat(w.walPath)
	if err != nil || fi.Size() <= walLimit || time.Now().Before(w.walRetryAt) {
		return
	}
	if err := w.restartWAL(); err != nil {
		w.walRetryAt = time.Now().Add(walRetryAfter)
	}
}

// restartWAL runs PRAGMA wal_checkpoint(RESTART) on the writer connection, waiting at most walBusyWait for
// readers. It returns an error when the checkpoint failed or could not finish.
func (w *writer) restartWAL() error { return w.checkpointWithin("RESTART") }

// truncateWAL is restartWAL that also truncates the WAL to nothing (Scrub runs it with doAlone, whose
// connection it leaves unused: it takes the writer's own, as restartWAL does).
func (w *writer) truncateWAL(context.Context, *sqlx.DB) error { return w.checkpointWithin("TRUNCATE") }

// errWALInUse is checkpointWithin's answer when readers still used the WAL after its wait.
var errWALInUse = errors.New("readers kept the write-ahead log in use")

// checkpointWithin runs PRAGMA wal_checkpoint(mode) on the writer connection, waiting at most walBusyWait for
// readers to leave the WAL. It returns an error when the checkpoint failed, or errWALInUse when it could not
// finish.
//
// SQLite lets one checkpoint run at a time and does not wait for the lock (busy_timeout does not apply to
// it): a checkpoint that met the checkpointer's PASSIVE checkpoint would fail at once. So both take
// w.checkpointing, and this one waits for the passive checkpoint in progress, which has just copied most
// of what this one would.
func (w *writer) checkpointWithin(mode string) error {
	w.checkpointing.Lock()
	defer w.checkpointing.Unlock()
	ctx := context.Background()
	conn, err := w.connection()
	if err != nil {
		return fmt.Errorf("%s the WAL: %w", mode, err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", walBusyWait.Milliseconds())); err != nil {
		w.release(true)
		return fmt.Errorf("%s the WAL: %w", mode, err)
	}
	var busy, frames, copied int
	ckErr := conn.QueryRowxContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &copied)
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", w.busyTimeout.Milliseconds())); err != nil {
		// A connection left with the short timeout would give up on other processes' locks too soon: drop it,
		// and the pool opens a new one with the DSN's timeout.
		w.release(true)
		return fmt.Errorf("%s the WAL: restore busy timeout: %w", mode, err)
	}
	switch {
	case ckErr != nil:
		return fmt.Errorf("%s the WAL: %w", mode, ckErr)
	case busy != 0:
		return fmt.Errorf("%s the WAL: %w (%d of %d frames copied)", mode, errWALInUse, copied, frames)
	}
	return nil
}
