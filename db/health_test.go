package db

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/db/disktest"
	"github.com/frontdesk/frontdesk/db/pgtest"
	"github.com/jackc/pgx/v5"
)

// openOn opens and migrates a database at path, closed when the test ends.
func openOn(t *testing.T, path string) *DB {
	t.Helper()
	d, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return d
}

// openOnSmallDisk opens and migrates a SQLite database on a tmpfs of size bytes of its own (see disktest.Small).
func openOnSmallDisk(t *testing.T, size int64) (*disktest.Disk, *DB) {
	t.Helper()
	sqliteOnly(t)
	disk := disktest.Small(t, size)
	return disk, openOn(t, filepath.Join(disk.Dir, "frontdesk.db"))
}

// enquiriesOnDisk counts the enquiries on disk, through a connection of its own.
func enquiriesOnDisk(t *testing.T, path string) int {
	t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow("SELECT count(*) FROM enquiries").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAFullDiskFailsWritesWholeAndRecovers: with no space left, every write of a batch fails with
// crm.ErrUnavailable and none is stored, WriteHealth says so, and once space is freed the next write (on a
// connection with no transaction left over) commits — without reopening the database.
func TestAFullDiskFailsWritesWholeAndRecovers(t *testing.T) {
	disk, d := openOnSmallDisk(t, 4<<20)
	path := d.Path()
	ctx := context.Background()
	if _, err := d.CreateEnquiry(ctx, benchEnquiry(1), crm.PlanIntake); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteHealth(ctx); err != nil {
		t.Fatalf("WriteHealth on a healthy disk: %v", err)
	}
	disktest.EmptyWAL(t, path)
	free := disk.Fill()

	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = d.CreateEnquiry(ctx, benchEnquiry(int64(100+i)), crm.PlanIntake)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, crm.ErrUnavailable) {
			t.Errorf("write %d on a full disk: %v, want crm.ErrUnavailable", i, err)
		}
	}
	if got := enquiriesOnDisk(t, path); got != 1 {
		t.Errorf("%d enquiries on disk after the failed writes, want 1", got)
	}
	if err := d.WriteHealth(ctx); !errors.Is(err, crm.ErrUnavailable) {
		t.Errorf("WriteHealth on a full disk: %v, want crm.ErrUnavailable", err)
	}
	// Reads still work: staff can see what is stored.
	if err := d.Ping(ctx); err != nil {
		t.Errorf("Ping on a full disk: %v", err)
	}

	free()
	if err := d.WriteHealth(ctx); err != nil {
		t.Errorf("WriteHealth once space is freed: %v", err)
	}
	if _, err := d.CreateEnquiry(ctx, benchEnquiry(200), crm.PlanIntake); err != nil {
		t.Fatalf("write once space is freed: %v", err)
	}
	if got := enquiriesOnDisk(t, path); got != 2 {
		t.Errorf("%d enquiries on disk after recovery, want 2", got)
	}
}

// TestWriteHealthSeesADiskAlmostFull: with under 1 MiB left on the file system, WriteHealth reports that the
// database cannot take writes — saying how much is left — even though a small write still commits there (as a
// probe would, in WAL space a failed write left); with room again, it is healthy.
func TestWriteHealthSeesADiskAlmostFull(t *testing.T) {
	disk, d := openOnSmallDisk(t, 8<<20)
	ctx := context.Background()
	if err := d.WriteHealth(ctx); err != nil {
		t.Fatalf("WriteHealth with room: %v", err)
	}
	free, ok := freeBytes(disk.Dir)
	if !ok {
		t.Fatal("cannot read the free space of the test's file system")
	}
	filler := filepath.Join(disk.Dir, "filler")
	if err := os.WriteFile(filler, make([]byte, free-minFreeBytes/2), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateEnquiry(ctx, benchEnquiry(1), crm.PlanIntake); err != nil {
		t.Fatalf("a small write with 512 KiB left: %v", err)
	}
	err := d.WriteHealth(ctx)
	if !errors.Is(err, crm.ErrUnavailable) || !strings.Contains(err.Error(), "KiB free, under 1024 KiB") {
		t.Errorf("WriteHealth with under 1 MiB left: %v, want crm.ErrUnavailable saying what is left", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteHealth(ctx); err != nil {
		t.Errorf("WriteHealth with room again: %v", err)
	}
}

// TestStartingOnAReadOnlyFileSystemIsNotHealthy: a process killed while idle leaves the database with its WAL
// and shared-memory files; the file system then comes back read-only (as the kernel remounts one after I/O
// errors). Opening and migrating succeed — SQLite falls back to reading — and the migration's transaction,
// which changes nothing, commits; WriteHealth must still see that nothing can be written, and writes fail with
// crm.ErrUnavailable. A write that changes nothing commits even then, and must not leave the writer on its
// read-only connection. Made writable again, once no read begun meanwhile is still running (such a read keeps
// the file read-only for the process), the same open database takes the very next write.
func TestStartingOnAReadOnlyFileSystemIsNotHealthy(t *testing.T) {
	sqliteOnly(t)
	disk := disktest.Small(t, 8<<20)
	ctx := context.Background()
	first := filepath.Join(disk.Dir, "first.db")
	d, err := Open(first, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateEnquiry(ctx, benchEnquiry(1), crm.PlanIntake); err != nil {
		t.Fatal(err)
	}
	disktest.EmptyWAL(t, first)
	// What a killed process leaves: the three files as they are while it runs (closing would checkpoint and
	// remove the WAL and shared-memory files).
	path := filepath.Join(disk.Dir, "frontdesk.db")
	for _, side := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(first + side)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+side, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	disk.ReadOnly()

	d = openOn(t, path)
	d.indexer.pause() // its reads would race the remount below
	if err := d.Ping(ctx); err != nil {
		t.Fatalf("Ping on a read-only file system: %v", err)
	}
	if err := d.WriteHealth(ctx); !errors.Is(err, crm.ErrUnavailable) {
		t.Errorf("WriteHealth on a read-only file system: %v, want crm.ErrUnavailable", err)
	}
	if _, err := d.CreateEnquiry(ctx, benchEnquiry(2), crm.PlanIntake); !errors.Is(err, crm.ErrUnavailable) {
		t.Errorf("write on a read-only file system: %v, want crm.ErrUnavailable", err)
	}

	if err := d.writer.do(ctx, func(*Tx) error { return nil }); err != nil {
		t.Errorf("a write that changes nothing, on a read-only file system: %v", err)
	}

	for deadline := time.Now().Add(10 * time.Second); d.read.Stats().InUse > 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("a read still runs 10 s after the last write: %+v", d.read.Stats())
		}
	}
	disk.Writable()
	if err := d.WriteHealth(ctx); err != nil {
		t.Errorf("WriteHealth once writable again: %v", err)
	}
	if _, err := d.CreateEnquiry(ctx, benchEnquiry(3), crm.PlanIntake); err != nil {
		t.Fatalf("write once writable again: %v", err)
	}
	if got := enquiriesOnDisk(t, path); got != 2 {
		t.Errorf("%d enquiries on disk, want 2", got)
	}
}

// TestWriteHealthTrustsARecentCommit: under load WriteHealth answers from the last commit, without a probe
// queued behind the writes; the probe, when it runs, leaves the file's user_version as it was. On PostgreSQL
// it changes no row either, but its transaction is given an id, so its commit is a WAL record flushed to disk
// like any write's.
func TestWriteHealthTrustsARecentCommit(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	if err := d.WriteHealth(ctx); err != nil {
		t.Fatalf("WriteHealth with no write yet (a probe): %v", err)
	}
	at, fault := d.writer.health.last()
	if at.IsZero() || fault != nil {
		t.Fatalf("the probe's commit was not recorded: %v %v", at, fault)
	}
	if onPostgres() {
		var xid sql.NullInt64
		err := d.writer.do(ctx, func(tx *Tx) error {
			if err := postgresWriteProbe(tx); err != nil {
				return err
			}
			return tx.Get(&xid, `SELECT txid_current_if_assigned()`)
		})
		if err != nil || !xid.Valid {
			t.Fatalf("the probe's transaction has no transaction id (%v): its commit would write nothing", err)
		}
		var status string
		if err := d.read.Get(&status, `SELECT txid_status(?)`, xid.Int64); err != nil || status != "committed" {
			t.Errorf("the probe's transaction is %q (%v), want committed", status, err)
		}
	} else {
		var v int
		if err := d.read.Get(&v, "PRAGMA user_version"); err != nil || v != 0 {
			t.Errorf("user_version after the probe = %d (%v), want 0", v, err)
		}
	}
	if _, err := d.CreateEnquiry(ctx, benchEnquiry(1), crm.PlanIntake); err != nil {
		t.Fatal(err)
	}
	if later, _ := d.writer.health.last(); !later.After(at) {
		t.Errorf("the enquiry's commit was not recorded")
	}
}

// A lock another process holds past the busy timeout (a backup tool, an operator's shell) is a write not
// taken for now: crm.ErrUnavailable (503 with Retry-After), and the next write after the lock goes works.
func TestALockHeldElsewhereIsUnavailableNotAnError(t *testing.T) {
	sqliteOnly(t)
	path := filepath.Join(t.TempDir(), "f.db")
	d, err := Open(path, Options{BusyTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite3", "file:"+path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin() // BEGIN IMMEDIATE: the write lock, held
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateEnquiry(context.Background(), newEnquiry("ann@example.org"), crm.PlanIntake); !errors.Is(err, crm.ErrUnavailable) {
		t.Errorf("a write while another process holds the lock: %v, want crm.ErrUnavailable", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateEnquiry(context.Background(), newEnquiry("ann@example.org"), crm.PlanIntake); err != nil {
		t.Errorf("a write once the lock is gone: %v", err)
	}
}

// TestAPostgresThatRefusesWritesIsUnavailable: a PostgreSQL database that takes no writes (a standby, or
// default_transaction_read_only on, as some managed services set it when their disk fills up) answers reads,
// but WriteHealth reports crm.ErrUnavailable and writes fail with it (web answers 503) — nothing is stored.
// Once the database takes writes again, the same handle writes: the connections that started read-only are
// replaced.
func TestAPostgresThatRefusesWritesIsUnavailable(t *testing.T) {
	postgresOnly(t)
	d := openTest(t)
	ctx := context.Background()
	var name string
	if err := d.read.Get(&name, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	// From the server's own database: a connection to this one would start read-only once it is set.
	admin, err := sql.Open(pgtest.DriverName, pgtest.ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	readOnly := func(on bool) {
		t.Helper()
		q := `ALTER DATABASE ` + pgx.Identifier{name}.Sanitize() + ` SET default_transaction_read_only = on`
		if !on {
			q = `ALTER DATABASE ` + pgx.Identifier{name}.Sanitize() + ` RESET default_transaction_read_only`
		}
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	readOnly(true)
	// A process started now: every connection it opens is read-only.
	p := otherProcess(t, d)
	if err := p.Ping(ctx); err != nil {
		t.Errorf("Ping of a read-only database: %v", err)
	}
	if err := p.WriteHealth(ctx); !errors.Is(err, crm.ErrUnavailable) {
		t.Errorf("WriteHealth of a read-only database: %v, want crm.ErrUnavailable", err)
	}
	if _, err := p.CreateEnquiry(ctx, benchEnquiry(1), crm.PlanIntake); !errors.Is(err, crm.ErrUnavailable) {
		t.Errorf("a write to a read-only database: %v, want crm.ErrUnavailable", err)
	}
	if err := p.RecordAudit(ctx, crm.AuditEntry{At: t0, Action: "view"}); !errors.Is(err, crm.ErrUnavailable) {
		t.Errorf("an audit entry in a read-only database: %v, want crm.ErrUnavailable", err)
	}
	if n := count(t, d, `SELECT count(*) FROM enquiries`); n != 0 {
		t.Errorf("%d enquiries stored in a read-only database", n)
	}

	readOnly(false)
	if err := p.WriteHealth(ctx); err != nil {
		t.Errorf("WriteHealth once the database takes writes again: %v", err)
	}
	if _, err := p.CreateEnquiry(ctx, benchEnquiry(2), crm.PlanIntake); err != nil {
		t.Errorf("a write once the database takes writes again: %v", err)
	}
}
