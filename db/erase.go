package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/jmoiron/sqlx"
)

// erasedName is what an erased enquiry's name becomes.
const erasedName = "(erased)"

var _ crm.PrivacyStore = (*DB)(nil)

// Erasure leaves no byte behind because of three things together:
//   - the writer connection runs with secure_delete, so SQLite overwrites deleted rows, index entries and
//     freed pages with zeros (in the page images it writes, and so in the file once checkpointed);
//   - the full-text index is contentless with contentless_delete: deleting a row only marks it deleted, and its
//     tokens stay in the index's segments until they are merged. optimizeSearch merges them all, dropping the
//     marked rows (and secure_delete zeroes the old segments);
//   - the WAL keeps every earlier version of every page it holds until it is overwritten: Scrub checkpoints it
//     and truncates it to nothing.
// A backup (VACUUM INTO) copies only live content, so one taken afterwards holds nothing erased either.

// eraseSteps empty every personal field of one enquiry (?1 its id; ?2 the time, where withTime); see
// EraseEnquiries.
var eraseSteps = []struct {
	what, query string
	withTime    bool
}{
	// Notes may name the patient or quote them; the events that pointed at them stay, without text.
	{"notes", `DELETE FROM notes WHERE enquiry_id = ?1`, false},
	// Reasons are words (why a status changed, what raised a flag); a priority event keeps its priority.
	{"reasons", `UPDATE events SET reason = '' WHERE enquiry_id = ?1`, false},
	{"unsent mail", `DELETE FROM outbox WHERE enquiry_id = ?1 AND status = 'queued'`, false},
	{"mail addresses", `UPDATE outbox SET recipient = '', last_error = '' WHERE enquiry_id = ?1`, false},
	{"idempotency keys", `DELETE FROM idempotency_keys WHERE enquiry_id = ?1`, false},
	// The questionnaire answers and the link to give them; the flags stay (they count in the reports).
	{"screening answers", `DELETE FROM screenings WHERE enquiry_id = ?1`, false},
	{"screening link", `DELETE FROM screening_links WHERE enquiry_id = ?1`, false},
	// The update trigger re-indexes the row with the emptied fields, so search forgets it too.
	{"enquiry", `UPDATE enquiries SET name = '` + erasedName + `', email = '', phone = '', message = '',
		date_of_birth = '', utm_source = '', utm_medium = '', utm_campaign = '', close_reason = '',
		related_id = NULL, erased_at = coalesce(erased_at, ?2), updated_at = ?2, version = version + 1
		WHERE id = ?1`, true},
	// Later enquiries linked to this one keep their own data but lose the link.
	{"links", `UPDATE enquiries SET related_id = NULL WHERE related_id = ?1`, false},
	{"search entry", `DELETE FROM enquiry_search WHERE rowid = ?1`, false},
}

// eraseEnquiry erases the personal data of the enquiry id inside tx and records an 'erased' event by actor
// (NULL: Frontdesk itself) at now.
func eraseEnquiry(tx *Tx, id int64, actor sql.NullInt64, now int64) error {
	for _, s := range eraseSteps {
		args := []any{id}
		if s.withTime {
			args = append(args, now)
		}
		if _, err := tx.Exec(s.query, args...); err != nil {
			return fmt.Errorf("erase %s: %w", s.what, err)
		}
	}
	_, err := tx.Exec(`INSERT INTO events (enquiry_id, at, actor_id, kind) VALUES (?, ?, ?, 'erased')`, id, now, actor)
	return err
}

// EraseEnquiries implements crm.PrivacyStore: every enquiry of refs is erased with its audit entry and the
// search index merged, in one transaction.
func (d *DB) EraseEnquiries(ctx context.Context, refs []string, actor crm.Actor, at time.Time, entry func(string) crm.AuditEntry) error {
	err := d.writer.do(ctx, func(tx *Tx) error {
		for _, ref := range refs {
			var id int64
			if err := tx.Get(&id, `SELECT id FROM enquiries WHERE reference = ?`, ref); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("enquiry %s: %w", ref, crm.ErrNotFound)
				}
				return err
			}
			if err := eraseEnquiry(tx, id, actorID(actor), ms(at)); err != nil {
				return fmt.Errorf("%s: %w", ref, err)
			}
			if err := d.appendAudit(tx, entry(ref)); err != nil {
				return fmt.Errorf("audit the erasure of %s: %w", ref, err)
			}
		}
		// In the same transaction, so the erased tokens never outlive the erasure committed.
		return optimizeSearch(tx)
	})
	if err != nil {
		return fmt.Errorf("erase enquiries: %w", err)
	}
	return nil
}

// optimizeSearch merges every segment of the full-text index into one, leaving out the rows marked deleted.
// It does nothing when the index is one segment with nothing marked deleted; otherwise it rewrites the whole
// index (about half a second per 200,000 enquiries).
func optimizeSearch(tx *Tx) error {
	if _, err := tx.Exec(`INSERT INTO enquiry_search (enquiry_search) VALUES ('optimize')`); err != nil {
		return fmt.Errorf("merge the search index: %w", err)
	}
	return nil
}

// scrubAttempts and scrubPause bound how long Scrub waits for readers to leave the WAL.
var (
	scrubAttempts = 40
	scrubPause    = 50 * time.Millisecond
)

// Scrub implements crm.PrivacyStore: the search index is merged, then the WAL checkpointed and truncated on
// the writer connection, after every write queued before and before any queued after.
func (d *DB) Scrub(ctx context.Context) error {
	if err := d.writer.do(ctx, optimizeSearch); err != nil {
		return fmt.Errorf("scrub: %w", err)
	}
	err := d.writer.doAlone(ctx, func(ctx context.Context, w *sqlx.DB) error {
		// TRUNCATE waits (up to the busy timeout) for readers of older snapshots to finish; a reader that
		// keeps starting new ones may still leave it busy, so it is tried a few times.
		var last error
		for i := 0; i < scrubAttempts; i++ {
			var busy, frames, copied int
			err := w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &copied)
			if err == nil && busy == 0 {
				return nil
			}
			last = err
			if last == nil {
				last = errors.New("readers kept the write-ahead log in use")
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(scrubPause):
			}
		}
		return fmt.Errorf("checkpoint and truncate the write-ahead log: %w", last)
	})
	if err != nil {
		return fmt.Errorf("scrub: %w", err)
	}
	return nil
}

// Backup writes a consistent copy of the live database to path (which must not exist) with VACUUM INTO: a
// snapshot taken while Frontdesk serves, compacted, without holding up writers for long. The copy is
// readable by its owner only (0600) from the moment it exists. Being a copy of the live rows only, it holds
// nothing erased before it was taken.
func (d *DB) Backup(ctx context.Context, path string) error {
	// VACUUM INTO writes into an empty file that already exists, keeping its permissions.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	// The readers are query_only, which refuses VACUUM INTO; the writer connection is free outside a batch, and
	// VACUUM INTO only reads the database.
	if _, err := d.write.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return os.Chmod(path, 0o600)
}
