package db

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// The search indexer (SQLite only; PostgreSQL's search rows are kept by triggers in each write's transaction).
//
// Intake does not touch the full-text index: storing an enquiry is one insert less, and above all its commit no
// longer carries the flush of a full-text segment. The indexer follows the enquiries into the index in id order
// instead, in batches of up to indexBatch rows, each with the move of the high-water mark enquiry_search_mark in
// one write transaction of the single writer (so a crash loses neither: an enquiry is indexed exactly when the
// committed mark is at or above its id). Every enquiry up to the mark is in the index unless erased, none above
// it; a search reads the index for those and the rows above the mark directly (recentMatches), from one
// snapshot, so it finds an enquiry stored a moment ago and finds it once. Migration 00012 holds the triggers
// to the same rule.
//
// It looks for rows above the mark every indexEvery, with a read that costs a few microseconds, and writes only
// when there are some. Polling rather than a wake-up from intake keeps the batches large under load (a batch per
// intake commit would flush a segment per commit again: FTS5 costs ≈ 80-110 µs of CPU per enquiry indexed in
// commits of 8, ≈ 15 µs in batches of 200; see docs/performance.md) and needs nothing from intake. At start it
// catches up with whatever a crash or another process left above the mark. A failed batch (the schema not
// migrated yet, the disk full) is tried again at the next look. BulkLoad indexes what it stores in its own
// transaction instead: the indexer's batches, queued behind such loads, would fall behind.

// Tuning of the indexer; variables so that tests can change them.
var (
	// indexEvery is how often the indexer looks for enquiries above the mark. It bounds how many rows a search
	// reads directly: about indexEvery times the intake rate (at 1,000 enquiries/s, 200).
	indexEvery = 200 * time.Millisecond
	// indexBatch is the most enquiries indexed in one transaction; a longer backlog (after a crash, under a burst)
	// is taken in several, so the writes queued meanwhile wait for one batch at most (≈ 7 ms of CPU at 500).
	indexBatch = 500
	// indexerPausedAtStart starts indexers paused (tests, to see what an earlier process left above the mark).
	indexerPausedAtStart = false
)

// searchIndexer is the indexer's goroutine and what controls it.
type searchIndexer struct {
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	cancel   context.CancelFunc
	// paused stops the indexer from writing (tests, to see enquiries above the mark); running is held during a
	// look, so that pausing can wait for the one in progress.
	paused  atomic.Bool
	running sync.Mutex
	// pass is closed, and replaced, when the indexer has finished a look (tests wait on it).
	mu   sync.Mutex
	pass chan struct{}
}

// startSearchIndexer starts the indexer of d (SQLite), stopped by stopSearchIndexer.
func (d *engine) startSearchIndexer() {
	ctx, cancel := context.WithCancel(context.Background())
	ix := &searchIndexer{stop: make(chan struct{}), done: make(chan struct{}),
		cancel: cancel, pass: make(chan struct{})}
	ix.paused.Store(indexerPausedAtStart)
	d.indexer = ix
	go d.followEnquiries(ctx, ix)
}

// stopSearchIndexer stops the indexer after the batch in progress, if any, has committed or failed. It does
// nothing on PostgreSQL, which has none.
func (d *engine) stopSearchIndexer() {
	ix := d.indexer
	if ix == nil {
		return
	}
	ix.stopOnce.Do(func() {
		close(ix.stop)
		ix.cancel()
	})
	<-ix.done
}

// followEnquiries is the indexer's loop.
func (d *engine) followEnquiries(ctx context.Context, ix *searchIndexer) {
	defer close(ix.done)
	tick := time.NewTicker(indexEvery)
	defer tick.Stop()
	for {
		ix.running.Lock()
		if !ix.paused.Load() && !d.writer.readersDropped.Load() {
			_, _ = d.catchUpSearch(ctx)
		}
		ix.running.Unlock()
		ix.mu.Lock()
		close(ix.pass)
		ix.pass = make(chan struct{})
		ix.mu.Unlock()
		select {
		case <-ix.stop:
			return
		case <-tick.C:
		}
	}
}

// pause stops the indexer, once the look in progress (if any) is over, until resume.
func (ix *searchIndexer) pause() {
	ix.paused.Store(true)
	ix.running.Lock()
	ix.running.Unlock()
}

// resume lets a paused indexer index again, from its next look.
func (ix *searchIndexer) resume() { ix.paused.Store(false) }

// nextPass returns a channel closed when the indexer has finished its next look.
func (ix *searchIndexer) nextPass() <-chan struct{} {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.pass
}

// catchUpSearch indexes every enquiry above the mark, a batch per transaction, and returns how many enquiries
// it took past the mark (erased ones included).
func (d *engine) catchUpSearch(ctx context.Context) (int, error) {
	total := 0
	for {
		var pending bool
		err := d.read.GetContext(ctx, &pending, `SELECT EXISTS (SELECT 1 FROM enquiries
			WHERE id > (SELECT enquiry_id FROM enquiry_search_mark))`)
		if err != nil || !pending {
			return total, err
		}
		n, err := d.indexSearchBatch(ctx, indexBatch)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// indexSearchBatch indexes up to limit enquiries above the mark, in id order, and moves the mark past them,
// in one write. It returns how many enquiries the mark moved past.
func (d *engine) indexSearchBatch(ctx context.Context, limit int) (int, error) {
	var n int
	err := d.writer.doLoadFree(ctx, func(tx *Tx) error {
		n = 0
		if _, fault := d.writer.health.last(); fault != nil {
			// The storage failed the last write. The indexer's small write might fit where intake's does not,
			// and its commit would tell /readyz that the database takes writes: it waits for a write of intake
			// or the write probe to find the storage mended (searches read the rows above the mark meanwhile).
			return nil
		}
		var err error
		n, err = d.indexAboveMark(tx, limit)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("index search: %w", err)
	}
	return n, nil
}

// indexAboveMark indexes up to limit enquiries above the mark in tx, a write transaction, in id order, and moves
// the mark past them. It returns how many enquiries the mark moved past; the erased ones among them are not
// indexed (their text is gone, and an erased enquiry is never found).
func (d *engine) indexAboveMark(tx *Tx, limit int) (int, error) {
	ct := d.writer.cached(tx)
	var mark int64
	if err := ct.Get(&mark, `SELECT enquiry_id FROM enquiry_search_mark`); err != nil {
		return 0, fmt.Errorf("read the search mark: %w", err)
	}
	var batch struct {
		N    int           `db:"n"`
		Last sql.NullInt64 `db:"last"`
	}
	if err := ct.Get(&batch, `SELECT count(*) AS n, max(id) AS last
		FROM (SELECT id FROM enquiries WHERE id > ? ORDER BY id LIMIT ?)`, mark, limit); err != nil {
		return 0, fmt.Errorf("find enquiries to index: %w", err)
	}
	if batch.N == 0 {
		return 0, nil
	}
	if _, err := ct.Exec(`INSERT INTO enquiry_search (rowid, name, email, phone, message, notes)
		SELECT e.id, e.name, e.email, ltrim(e.phone, '+'), e.message,
		       coalesce((SELECT group_concat(body, ' ') FROM notes WHERE enquiry_id = e.id), '')
		FROM enquiries e WHERE e.id > ? AND e.id <= ? AND e.erased_at IS NULL ORDER BY e.id`,
		mark, batch.Last.Int64); err != nil {
		return 0, fmt.Errorf("index enquiries: %w", err)
	}
	if _, err := ct.Exec(`UPDATE enquiry_search_mark SET enquiry_id = ?`, batch.Last.Int64); err != nil {
		return 0, fmt.Errorf("move the search mark: %w", err)
	}
	return batch.N, nil
}

// CatchUpSearch indexes now every enquiry stored above the search index's mark, instead of at the indexer's next
// pass, and returns how many it took past the mark. Searches find those enquiries either way (they read the rows
// above the mark directly); this is for tests and tools that read the full-text index itself. On PostgreSQL,
// whose index is kept in each enquiry's own transaction, it does nothing. Errors wrap crm.ErrUnavailable when
// the database cannot take writes.
func (d *DB) CatchUpSearch(ctx context.Context) (int, error) {
	if d.pg {
		return 0, nil
	}
	return d.catchUpSearch(ctx)
}
