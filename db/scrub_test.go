package db

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// A reader that holds the WAL for a while only delays the scrub: it tries again, letting writes through in
// between, and empties the WAL once the reader has gone.
func TestScrubWaitsForAReaderAndLetsWritesThrough(t *testing.T) {
	sqliteOnly(t)
	d := openTest(t)
	ctx := context.Background()
	rtx := holdSnapshot(t, d)

	scrubbed := make(chan error, 1)
	start := time.Now()
	go func() { scrubbed <- d.Scrub(ctx) }()
	time.Sleep(3 * walBusyWait)
	// Meanwhile a write goes through: the scrub does not hold the writer while it waits.
	wrote := make(chan error, 1)
	go func() {
		wrote <- d.writer.do(ctx, func(tx *Tx) error {
			_, err := tx.Exec(`INSERT INTO staff (email, name, role, password_hash, created_at) VALUES ('w@b', 'W', 'admin', '', 0)`)
			return err
		})
	}()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a write waited behind the scrub that a reader held up")
	}
	select {
	case err := <-scrubbed:
		t.Fatalf("the scrub finished while the reader still held the WAL: %v", err)
	default:
	}
	rtx.Rollback()
	if err := <-scrubbed; err != nil {
		t.Fatalf("scrub after the reader left: %v", err)
	}
	if time.Since(start) < 3*walBusyWait {
		t.Error("the scrub did not wait for the reader")
	}
	if s := walSize(t, d); s != 0 {
		t.Errorf("the WAL holds %d bytes after the scrub", s)
	}
}

// A reader that outlasts scrubPatience makes the scrub say so, and changes nothing else.
func TestScrubGivesUpOnAReaderThatStays(t *testing.T) {
	sqliteOnly(t)
	defer func(p time.Duration) { scrubPatience = p }(scrubPatience)
	scrubPatience = 500 * time.Millisecond
	d := openTest(t)
	ctx := context.Background()
	defer holdSnapshot(t, d).Rollback()
	if err := d.Scrub(ctx); !errors.Is(err, errWALInUse) {
		t.Fatalf("scrub with a reader holding the WAL throughout: %v, want %v", err, errWALInUse)
	}
	if s := walSize(t, d); s == 0 {
		t.Error("the WAL was emptied under a reader")
	}
}

// FRONTDESK_LITESTREAM_SOCKET names a socket nobody listens on (Litestream stopped, or not yet started): the
// scrub goes on without it, since a Litestream that does not run holds nothing. With Litestream running, it is
// paused and resumed: cmd/frontdesk TestLitestreamRecipe.
func TestScrubGoesOnWhenLitestreamIsNotRunning(t *testing.T) {
	sqliteOnly(t)
	d, err := Open(filepath.Join(t.TempDir(), "frontdesk.db"), Options{LitestreamSocket: filepath.Join(t.TempDir(), "litestream.sock")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	insertRows(t, d, []*row{{CreatedAt: t0}})
	if err := d.Scrub(context.Background()); err != nil {
		t.Fatalf("scrub without a running Litestream: %v", err)
	}
	if s := walSize(t, d); s != 0 {
		t.Errorf("the WAL holds %d bytes after the scrub", s)
	}
}

// holdSnapshot writes an enquiry, opens a read transaction that takes its snapshot, and writes another: frames
// the reader keeps from being copied into the database file, and the WAL from being emptied, until it ends.
func holdSnapshot(t *testing.T, d *DB) *Tx {
	t.Helper()
	insertRows(t, d, []*row{{CreatedAt: t0}})
	rtx, err := d.read.BeginTxx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := rtx.Get(&n, `SELECT count(*) FROM enquiries`); err != nil {
		t.Fatal(err)
	}
	insertRows(t, d, []*row{{Ref: "SCRB-0002", CreatedAt: t0}})
	return rtx
}
