package db

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/jmoiron/sqlx"
)

// testWALLimit is the WAL bound the tests set: small, so a few seconds of intake pass it many times over.
const testWALLimit = 1 << 20

// walSlack is how far past the bound the WAL may be seen: the writer checks between batches, so the batch that
// passes the bound is written whole. With the tests' 8 writers an intake batch is at most 8 enquiries, about
// 300 KB of WAL; the largest batch is the search indexer's, up to 500 enquiries into the full-text index with a
// merge of its segments: up to 500 KB measured on an idle machine, about 1 MB on a loaded one, where the indexer
// falls further behind (a loaded run saw the WAL at 2 MiB + 4 KB with a slack of 1 MiB). 2 MiB leaves room; without
// the writer's restart the WAL passes 60 MB in these 3 s.
const walSlack = 2 << 20

// setWALLimit sets walLimit for a database opened after it, and puts it back when the test ends.
func setWALLimit(t *testing.T, n int64) {
	t.Helper()
	old := walLimit
	walLimit = n
	t.Cleanup(func() { walLimit = old })
}

// storeBackToBack is writers goroutines storing enquiries back to back, with no pause, until stop is closed; wait
// returns how many were stored. Any failed write fails the test.
func storeBackToBack(t *testing.T, d *DB, writers int, stop <-chan struct{}) (wait func() int64) {
	t.Helper()
	var n atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := d.CreateEnquiry(context.Background(), benchEnquiry(n.Add(1)), crm.PlanIntake); err != nil {
					t.Errorf("store an enquiry: %v", err)
					return
				}
			}
		}()
	}
	return func() int64 { wg.Wait(); return n.Load() }
}

// walSampler samples the size of the WAL file every millisecond until stop is closed; wait returns the
// largest size seen and the number of samples.
func walSampler(d *DB, stop <-chan struct{}) (wait func() (largest int64, samples int)) {
	done := make(chan struct{})
	var largest int64
	var samples int
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if fi, err := os.Stat(d.Path() + "-wal"); err == nil {
				largest = max(largest, fi.Size())
				samples++
			}
		}
	}()
	return func() (int64, int) { <-done; return largest, samples }
}

// TestTheWALStaysBoundedUnderContinuousIntake: writes back to back never leave the checkpointer a moment in
// which the WAL is fully copied, so without the writer's own restart the WAL grows by every commit (60 MB in
// 3 s here; 1.7 GB in 30 s over HTTP). Eight writers store enquiries with no pause while the WAL file's size
// is sampled throughout: it must never pass the bound by more than one batch.
func TestTheWALStaysBoundedUnderContinuousIntake(t *testing.T) {
	sqliteOnly(t)
	setWALLimit(t, testWALLimit)
	d := openTest(t)
	var auto int
	if err := d.write.Get(&auto, "PRAGMA wal_autocheckpoint"); err != nil || auto != 0 {
		t.Fatalf("writer wal_autocheckpoint = %d (%v), want 0: checkpoints must not run inside commits", auto, err)
	}
	stop := make(chan struct{})
	stored := storeBackToBack(t, d, 8, stop)
	sampled := walSampler(d, stop)
	time.Sleep(3 * time.Second)
	close(stop)
	n := stored()
	largest, samples := sampled()
	t.Logf("%d enquiries stored; largest WAL %d bytes over %d samples", n, largest, samples)
	if samples == 0 {
		t.Fatal("the WAL was never sampled")
	}
	if largest > testWALLimit+walSlack {
		t.Errorf("the WAL reached %d bytes under continuous intake, past its bound of %d (+%d for one batch)",
			largest, testWALLimit, walSlack)
	}
}

// TestALongReadDoesNotStopWrites: a reader holding an old snapshot (a streaming export) keeps the WAL from
// restarting. The writer's checkpoint gives up after a bounded wait and writes go on — none fails, none
// waits for the reader — and once the reader ends, the WAL is brought back under its bound.
func TestALongReadDoesNotStopWrites(t *testing.T) {
	sqliteOnly(t)
	setWALLimit(t, testWALLimit)
	d := openTest(t)
	ctx := context.Background()
	if _, err := d.CreateEnquiry(ctx, benchEnquiry(0), crm.PlanIntake); err != nil {
		t.Fatal(err)
	}
	tx, err := d.read.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var before int
	if err := tx.Get(&before, `SELECT count(*) FROM enquiries`); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	stored := storeBackToBack(t, d, 8, stop)
	// Write well past the bound while the snapshot is held.
	waitForWAL(t, d, 4*testWALLimit)
	close(stop)
	if n := stored(); n == 0 {
		t.Fatal("nothing was stored while the reader held its snapshot")
	}
	// The reader still sees its snapshot: the checkpoint did not copy pages under it.
	var during int
	if err := tx.Get(&during, `SELECT count(*) FROM enquiries`); err != nil || during != before {
		t.Fatalf("the reader's snapshot changed under it: %d enquiries, then %d (%v)", before, during, err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	// With the reader gone, the next batches restart the WAL and journal_size_limit truncates it.
	for i := int64(1); ; i++ {
		if _, err := d.CreateEnquiry(ctx, benchEnquiry(1_000_000+i), crm.PlanIntake); err != nil {
			t.Fatal(err)
		}
		if walSize(t, d) <= testWALLimit+walSlack {
			break
		}
		if i == 2000 {
			t.Fatalf("the WAL is still %d bytes after 2,000 writes since the reader ended", walSize(t, d))
		}
	}
}

// waitForWAL stores nothing itself: it waits, while other goroutines write, until the WAL file passes size.
func waitForWAL(t *testing.T, d *DB, size int64) {
	t.Helper()
	for walSize(t, d) <= size {
		if t.Failed() {
			t.FailNow()
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func walSize(t *testing.T, d *DB) int64 {
	t.Helper()
	fi, err := os.Stat(d.Path() + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestTheWriterRestartsTheWALOnItsOwnConnection: the restart runs on the writer's connection and gives it back
// with the busy timeout it had, so later writes still wait as long as configured for another process's lock.
func TestTheWriterRestartsTheWALOnItsOwnConnection(t *testing.T) {
	sqliteOnly(t)
	d := openTest(t)
	if _, err := d.CreateEnquiry(context.Background(), benchEnquiry(1), crm.PlanIntake); err != nil {
		t.Fatal(err)
	}
	err := d.writer.doAlone(context.Background(), func(ctx context.Context, _ *sqlx.DB) error {
		return d.writer.restartWAL()
	})
	if err != nil {
		t.Fatalf("restart an idle WAL: %v", err)
	}
	var busy int
	if err := d.write.Get(&busy, "PRAGMA busy_timeout"); err != nil || busy != 5000 {
		t.Errorf("writer busy_timeout after the restart = %d (%v), want 5000", busy, err)
	}
}
