package db

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/jmoiron/sqlx"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return fi.Mode().Perm()
}

func TestDatabaseFilesAreReadableByTheirOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "frontdesk.db")
	d, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	insertRows(t, d, []*row{{CreatedAt: t0}})
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("data folder: %v, want 0700", m)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if m := mode(t, f); m != 0o600 {
			t.Errorf("%s: %v, want 0600", filepath.Base(f), m)
		}
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := d.Backup(context.Background(), backup); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, backup); m != 0o600 {
		t.Errorf("backup: %v, want 0600", m)
	}
	if err := d.Backup(context.Background(), backup); err == nil {
		t.Error("a backup overwrote an existing file")
	}
	d.Close()

	// Files an earlier version left readable by everyone are made the owner's only when opened again.
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(f, 0o644); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	d, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if m := mode(t, f); m != 0o600 {
			t.Errorf("reopened %s: %v, want 0600", filepath.Base(f), m)
		}
	}
}

func TestWriterDeletesSecurely(t *testing.T) {
	d := openTest(t)
	var on int
	if err := d.write.Get(&on, `PRAGMA secure_delete`); err != nil || on != 1 {
		t.Errorf("secure_delete = %d (%v), want 1 on the writer", on, err)
	}
}

func TestScrubEmptiesTheWAL(t *testing.T) {
	d := openTest(t)
	insertRows(t, d, []*row{{Message: "scrubbable words", CreatedAt: t0}, {CreatedAt: t0}})
	// A reader between the writes keeps using the pool, as requests do.
	if n := count(t, d, `SELECT count(*) FROM enquiries`); n != 2 {
		t.Fatal(n)
	}
	if fi, err := os.Stat(d.Path() + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("the WAL should hold the writes before the scrub: %v %v", fi, err)
	}
	if err := d.Scrub(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(d.Path() + "-wal"); err != nil || fi.Size() != 0 {
		t.Errorf("WAL after Scrub: %v bytes, %v", fi.Size(), err)
	}
	if n := count(t, d, `SELECT count(*) FROM enquiries`); n != 2 {
		t.Errorf("%d enquiries after the scrub", n)
	}
}

func TestDoAloneRunsAfterTheWritesQueuedBeforeIt(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	// Writes queued before it are committed when it runs; it runs outside a transaction (a TRUNCATE
	// checkpoint would fail inside one).
	started, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- d.writer.do(ctx, func(tx *Tx) error {
			close(started)
			<-release
			_, err := tx.Exec(`INSERT INTO staff (email, name, role, password_hash, created_at) VALUES ('a@b', 'A', 'admin', '', 0)`)
			return err
		})
	}()
	<-started
	second := make(chan int, 1)
	alone := make(chan error, 1)
	go func() {
		// Asked for while the first write is inside its transaction.
		alone <- d.writer.doAlone(ctx, func(ctx context.Context, w *sqlx.DB) error {
			var n int
			if err := w.Get(&n, `SELECT count(*) FROM staff`); err != nil {
				return err
			}
			var busy, frames, copied int
			if err := w.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &copied); err != nil || busy != 0 {
				return fmt.Errorf("checkpoint: busy %d, %v", busy, err)
			}
			second <- n
			return nil
		})
	}()
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-alone; err != nil {
		t.Fatal(err)
	}
	if n := <-second; n != 1 {
		t.Errorf("doAlone saw %d accounts: it ran before the write queued ahead of it committed", n)
	}
}

func TestRetentionFindsClosedEnquiriesByItsIndex(t *testing.T) {
	d := openTest(t)
	cond, err := closedSQL(crm.ClosedStatuses)
	if err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(planOf(t, d, closedScan+cond+` LIMIT ?2`, 0, 10), "\n")
	if !strings.Contains(plan, "enquiries_closed_unerased") {
		t.Errorf("the retention scan does not use its index:\n%s", plan)
	}
	if _, err := closedSQL([]crm.Status{"new"}); err == nil {
		t.Error("an active status was accepted as closing")
	}
}
