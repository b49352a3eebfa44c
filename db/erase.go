package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/jmoiron/sqlx"
)

// erasedName is what an erased enquiry's name becomes.
const erasedName = "(erased)"

// EraseEnquiry implements crm.EnquiryStore: every trace of the patient's personal data goes in one
// transaction; the enquiry's reference, treatment, source, statuses and times stay for the counts.
func (d *DB) EraseEnquiry(ctx context.Context, ref string, actor crm.Actor, at time.Time) error {
	err := d.writer.do(ctx, func(tx *sqlx.Tx) error {
		var id int64
		if err := tx.Get(&id, `SELECT id FROM enquiries WHERE reference = ?`, ref); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("enquiry %s: %w", ref, crm.ErrNotFound)
			}
			return err
		}
		now := ms(at)
		steps := []struct {
			what, query string
		}{
			// Notes may name the patient or quote them; the events that pointed at them stay, without text.
			{"notes", `DELETE FROM notes WHERE enquiry_id = ?`},
			{"reasons", `UPDATE events SET reason = '' WHERE enquiry_id = ? AND kind <> 'priority'`},
			{"unsent mail", `DELETE FROM outbox WHERE enquiry_id = ? AND status = 'queued'`},
			{"mail addresses", `UPDATE outbox SET recipient = '', last_error = '' WHERE enquiry_id = ?`},
			{"idempotency keys", `DELETE FROM idempotency_keys WHERE enquiry_id = ?`},
			// The update trigger re-indexes the row with the emptied fields, so search forgets it too.
			{"enquiry", `UPDATE enquiries SET name = '` + erasedName + `', email = '', phone = '', message = '',
				date_of_birth = '', utm_source = '', utm_medium = '', utm_campaign = '', close_reason = '',
				related_id = NULL, erased_at = coalesce(erased_at, ?2), updated_at = ?2 WHERE id = ?1`},
		}
		for _, s := range steps {
			args := []any{id}
			if s.what == "enquiry" {
				args = append(args, now)
			}
			if _, err := tx.Exec(s.query, args...); err != nil {
				return fmt.Errorf("erase %s of %s: %w", s.what, ref, err)
			}
		}
		// Later enquiries linked to this one keep their own data but lose the link.
		if _, err := tx.Exec(`UPDATE enquiries SET related_id = NULL WHERE related_id = ?`, id); err != nil {
			return fmt.Errorf("unlink %s: %w", ref, err)
		}
		if _, err := tx.Exec(`DELETE FROM enquiry_search WHERE rowid = ?`, id); err != nil {
			return fmt.Errorf("erase search entry of %s: %w", ref, err)
		}
		var actorID sql.NullInt64
		if actor.ID != 0 {
			actorID = sql.NullInt64{Int64: actor.ID, Valid: true}
		}
		_, err := tx.Exec(`INSERT INTO events (enquiry_id, at, actor_id, kind) VALUES (?, ?, ?, 'erased')`, id, now, actorID)
		return err
	})
	if err != nil {
		return fmt.Errorf("erase enquiry %s: %w", ref, err)
	}
	return nil
}

// Backup writes a consistent copy of the live database to path (which must not exist) with VACUUM INTO: a
// snapshot taken while Frontdesk serves, compacted, without holding up writers for long.
func (d *DB) Backup(ctx context.Context, path string) error {
	// The readers are query_only, which refuses VACUUM INTO; the writer connection is free outside a batch, and
	// VACUUM INTO only reads the database.
	if _, err := d.write.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}
