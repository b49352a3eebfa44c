package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/jackc/pgx/v5"
	"github.com/jmoiron/sqlx"
)

// erasedName is what an erased enquiry's name becomes.
const erasedName = "(erased)"

var _ crm.PrivacyStore = (*DB)(nil)

// Erasure leaves no byte behind in SQLite's files because of three things together:
//   - the writer connection runs with secure_delete, so SQLite overwrites deleted rows, index entries and
//     freed pages with zeros (in the page images it writes, and so in the file once checkpointed);
//   - the full-text index is contentless with contentless_delete: deleting a row only marks it deleted, and its
//     tokens stay in the index's segments until they are merged. optimizeSearch merges them all, dropping the
//     marked rows (and secure_delete zeroes the old segments);
//   - the WAL keeps every earlier version of every page it holds until it is overwritten: Scrub checkpoints it
//     and truncates it to nothing.
// A backup (VACUUM INTO) copies only live content, so one taken afterwards holds nothing erased either.
//
// PostgreSQL has no secure_delete: an updated or deleted row stays in its table's file as a dead tuple until
// VACUUM frees its space (Scrub runs it on the tables that hold patient data), and in the server's WAL, its
// archives and the backups taken meanwhile until the clinic's retention of those expires. docs/security.md
// says so.

// eraseSteps empty every personal field of one enquiry; see EraseEnquiries. Each query takes the enquiry's id
// as its one value, except where withTime: then the time twice, then the id. pg, where set, is the query on
// PostgreSQL.
var eraseSteps = []struct {
	what, query, pg string
	withTime        bool
}{
	// Notes may name the patient or quote them; the events that pointed at them stay, without text.
	{what: "notes", query: `DELETE FROM notes WHERE enquiry_id = ?`},
	// Reasons are words (why a status changed, what raised a flag); a priority event keeps its priority.
	{what: "reasons", query: `UPDATE events SET reason = '' WHERE enquiry_id = ?`},
	{what: "unsent mail", query: `DELETE FROM outbox WHERE enquiry_id = ? AND status = 'queued'`},
	{what: "mail addresses", query: `UPDATE outbox SET recipient = '', last_error = '' WHERE enquiry_id = ?`},
	{what: "idempotency keys", query: `DELETE FROM idempotency_keys WHERE enquiry_id = ?`},
	// The questionnaire answers and the link to give them; the flags stay (they count in the reports).
	{what: "screening answers", query: `DELETE FROM screenings WHERE enquiry_id = ?`},
	{what: "screening link", query: `DELETE FROM screening_links WHERE enquiry_id = ?`},
	// The update trigger re-indexes the row with the emptied fields, so search forgets it too.
	{what: "enquiry", query: `UPDATE enquiries SET name = '` + erasedName + `', email = '', phone = '', message = '',
		date_of_birth = '', utm_source = '', utm_medium = '', utm_campaign = '', close_reason = '',
		ok_to_leave_message = 0,
		related_id = NULL, erased_at = coalesce(erased_at, ?), updated_at = ?, version = version + 1
		WHERE id = ?`, withTime: true},
	// Later enquiries linked to this one keep their own data but lose the link.
	{what: "links", query: `UPDATE enquiries SET related_id = NULL WHERE related_id = ?`},
	// SQLite's search table is keyed by the enquiry's id as its rowid; PostgreSQL's has a column for it.
	{what: "search entry", query: `DELETE FROM enquiry_search WHERE rowid = ?`,
		pg: `DELETE FROM enquiry_search WHERE enquiry_id = ?`},
}

// eraseEnquiry erases the personal data of the enquiry id inside tx and records an 'erased' event by actor
// (NULL: Frontdesk itself) at now.
func (d *PrivacyStore) eraseEnquiry(tx *Tx, id int64, actor sql.NullInt64, now int64) error {
	for _, s := range eraseSteps {
		q := s.query
		if d.pg && s.pg != "" {
			q = s.pg
		}
		args := []any{id}
		if s.withTime {
			args = []any{now, now, id}
		}
		if _, err := tx.Exec(q, args...); err != nil {
			return fmt.Errorf("erase %s: %w", s.what, err)
		}
	}
	_, err := tx.Exec(`INSERT INTO events (enquiry_id, at, actor_id, kind) VALUES (?, ?, ?, 'erased')`, id, now, actor)
	return err
}

// EraseEnquiries implements crm.PrivacyStore: every enquiry of refs is erased with its audit entry and the search
// index merged (on SQLite; PostgreSQL's is rebuilt by Scrub), in one transaction. Errors wrap crm.ErrNotFound when
// one of refs does not exist (nothing changes), or crm.ErrUnavailable when the database cannot take writes.
func (d *PrivacyStore) EraseEnquiries(ctx context.Context, refs []string, actor crm.Actor, at time.Time, entry func(string) crm.AuditEntry) error {
	err := d.writer.do(ctx, func(tx *Tx) error {
		for _, ref := range refs {
			var id int64
			if err := tx.Get(&id, `SELECT id FROM enquiries WHERE reference = ?`, ref); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("enquiry %s: %w", ref, crm.ErrNotFound)
				}
				return err
			}
			if err := d.eraseEnquiry(tx, id, actorID(actor), ms(at)); err != nil {
				return fmt.Errorf("%s: %w", ref, err)
			}
			if err := d.appendAudit(tx, entry(ref)); err != nil {
				return fmt.Errorf("audit the erasure of %s: %w", ref, err)
			}
		}
		// In the same transaction, so the erased tokens never outlive the erasure committed.
		return d.optimizeSearch(tx)
	})
	if err != nil {
		return fmt.Errorf("erase enquiries: %w", err)
	}
	return nil
}

// optimizeSearch merges every segment of SQLite's full-text index into one, leaving out the rows marked
// deleted. It does nothing when the index is one segment with nothing marked deleted; otherwise it rewrites the
// whole index (about half a second per 200,000 enquiries). PostgreSQL's search table has no segments to merge:
// an erased enquiry's search row is deleted like any row (see Scrub), so there it does nothing.
func (d *engine) optimizeSearch(tx *Tx) error {
	if d.pg {
		return nil
	}
	if _, err := tx.Exec(`INSERT INTO enquiry_search (enquiry_search) VALUES ('optimize')`); err != nil {
		return fmt.Errorf("merge the search index: %w", err)
	}
	return nil
}

// ErrServerBackup is Backup's answer on PostgreSQL: the database lives on a server, whose backups (pg_dump,
// or the provider's point-in-time recovery) are the clinic's and the provider's to run, not Frontdesk's.
var ErrServerBackup = errors.New("a PostgreSQL database is backed up by its server, not by Frontdesk: " +
	"use pg_dump, or the point-in-time recovery of the server or its provider")

// scrubPatience bounds how long Scrub waits for readers to leave the WAL; scrubPause is how long it leaves the
// WAL to them between two attempts, each of which waits at most walBusyWait with the writer to itself. Short
// attempts let intake go on in between, and do not hold SQLite's checkpoint lock (which makes anyone else's
// checkpoint fail at once) for long. scrubPatience stays under the web server's write timeout, so that an
// erasure from a page answers in time.
var (
	scrubPatience = 45 * time.Second
	scrubPause    = 150 * time.Millisecond
)

// patientTables are the tables that hold (or held, before an erasure) a patient's data, which Scrub vacuums on
// PostgreSQL. A table's TOAST table (long messages, notes and answers) and its indexes are vacuumed with it.
const patientTables = `enquiries, notes, events, outbox, idempotency_keys, screenings, screening_links, enquiry_search`

// Scrub implements crm.PrivacyStore: the search index is merged, then the WAL checkpointed and truncated on
// the writer connection, once every write queued before has committed. Readers of older snapshots that hold
// the WAL past walBusyWait make it try again after scrubPause (writes queued meanwhile go ahead in between),
// for scrubPatience at most. With a Litestream socket (Options.LitestreamSocket) it stops Litestream's
// replication meanwhile and starts it again after, whatever the outcome (see litestream).
//
// On PostgreSQL it runs VACUUM on patientTables instead, outside any transaction (VACUUM refuses to run in
// one): the space of deleted and updated rows, and their index entries, is freed for reuse in the table files.
// Then it rebuilds the search index, whose keys are the words indexed (a GIN index never drops a key, even once
// no row has it): REINDEX CONCURRENTLY, so searches and intake go on meanwhile; the half-built copy an
// interrupted rebuild leaves behind is dropped first. The server's WAL, its archives and backups are the
// server's business: see docs/security.md. It returns the error of the checkpoint, of VACUUM or of the rebuild.
func (d *PrivacyStore) Scrub(ctx context.Context) (err error) {
	if d.pg {
		err := d.writer.doAlone(ctx, func(ctx context.Context, db *sqlx.DB) error {
			_, err := db.ExecContext(ctx, `VACUUM `+patientTables)
			return err
		})
		if err != nil {
			return fmt.Errorf("scrub: vacuum: %w", err)
		}
		if err := d.reindexSearch(ctx); err != nil {
			return fmt.Errorf("scrub: rebuild the search index: %w", err)
		}
		return nil
	}
	if err := d.writer.do(ctx, d.optimizeSearch); err != nil {
		return fmt.Errorf("scrub: %w", err)
	}
	if d.litestream != nil {
		switch err := d.litestream.pause(ctx); {
		case errors.Is(err, errNoLitestream):
			// Not running, so holding nothing: the WAL is emptied without it (Litestream's own monitoring, not
			// an erasure, is what tells the clinic it has stopped).
		case err != nil:
			return fmt.Errorf("scrub: %w", err)
		default:
			defer func() {
				// Replication must go on whatever happened meanwhile, and even if the caller has given up.
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), litestreamTimeout)
				defer cancel()
				if rerr := d.litestream.resume(rctx); rerr != nil {
					err = errors.Join(err, fmt.Errorf("scrub: litestream did not start replicating again: %w", rerr))
				}
			}()
		}
	}
	deadline := time.Now().Add(scrubPatience)
	for {
		err := d.writer.doAlone(ctx, d.writer.truncateWAL)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("scrub: checkpoint and truncate the write-ahead log: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("scrub: %w", ctx.Err())
		case <-time.After(scrubPause):
		}
	}
}

// Backup writes a consistent copy of the live database to path (which must not exist) with VACUUM INTO: a
// snapshot taken while Frontdesk serves, compacted, without holding up writers for long. The copy is
// readable by its owner only (0600) from the moment it exists. Being a copy of the live rows only, it holds
// nothing erased before it was taken.
//
// On PostgreSQL it returns ErrServerBackup and writes nothing.
func (d *DB) Backup(ctx context.Context, path string) error {
	if d.pg {
		return ErrServerBackup
	}
	// VACUUM INTO writes into an empty file that already exists, keeping its permissions.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	// The readers are query_only, which refuses VACUUM INTO; it runs on the writer connection between
	// batches (VACUUM INTO only reads the database, but writes wait meanwhile, as they did for a pool of one).
	err = d.writer.doAlone(ctx, func(ctx context.Context, db *sqlx.DB) error {
		_, err := db.ExecContext(ctx, `VACUUM INTO ?`, path)
		return err
	})
	if err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return os.Chmod(path, 0o600)
}

// searchIndex is the GIN index of the search documents on PostgreSQL.
const searchIndex = "enquiry_search_document"

// reindexSearch rebuilds the PostgreSQL search index without blocking writes. REINDEX CONCURRENTLY builds a copy
// named searchIndex_ccnew (…_ccnew1, … when one exists) and swaps it in; stopped half-way, it leaves that copy
// invalid, and it is dropped here before the next rebuild.
func (d *engine) reindexSearch(ctx context.Context) error {
	return d.writer.doAlone(ctx, func(ctx context.Context, db *sqlx.DB) error {
		var leftovers []string
		if err := db.SelectContext(ctx, &leftovers, `SELECT c.relname FROM pg_index i
			JOIN pg_class c ON c.oid = i.indexrelid
			WHERE NOT i.indisvalid AND c.relname LIKE $1 AND c.relnamespace = current_schema()::regnamespace`,
			searchIndex+"_ccnew%"); err != nil {
			return err
		}
		for _, name := range leftovers {
			if _, err := db.ExecContext(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+pgx.Identifier{name}.Sanitize()); err != nil {
				return err
			}
		}
		_, err := db.ExecContext(ctx, `REINDEX INDEX CONCURRENTLY `+searchIndex)
		return err
	})
}
