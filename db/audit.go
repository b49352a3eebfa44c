package db

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/jmoiron/sqlx"
)

var _ crm.AuditStore = (*DB)(nil)

// RecordAudit implements crm.AuditStore. The enquiry is looked up by reference in the same write; a reference
// that names no enquiry is kept at the start of the detail.
func (d *DB) RecordAudit(ctx context.Context, e crm.AuditEntry) error {
	var actor sql.NullInt64
	if e.Actor != nil && e.Actor.ID != 0 {
		actor = sql.NullInt64{Int64: e.Actor.ID, Valid: true}
	}
	err := d.writer.do(ctx, func(tx *sqlx.Tx) error {
		var enquiry sql.NullInt64
		detail := e.Detail
		if e.Reference != "" {
			err := d.writer.cached(tx).Get(&enquiry, `SELECT id FROM enquiries WHERE reference = ?`, e.Reference)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				detail = strings.TrimSuffix("reference "+e.Reference+"; "+detail, "; ")
			case err != nil:
				return err
			}
		}
		_, err := d.writer.cached(tx).Exec(`INSERT INTO audit_log (at, actor_id, action, enquiry_id, detail) VALUES (?, ?, ?, ?, ?)`,
			ms(e.At), actor, e.Action, enquiry, detail)
		return err
	})
	if err != nil {
		return fmt.Errorf("record audit %s: %w", e.Action, err)
	}
	return nil
}

// ListAudit implements crm.AuditStore: newest first by ID, continued by an opaque cursor; a malformed cursor is
// a crm.InputError naming "cursor".
func (d *DB) ListAudit(ctx context.Context, q crm.AuditQuery) ([]crm.AuditEntry, string, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultPageSize
	}
	limit = min(limit, maxPageSize)
	var b sqlBuilder
	if q.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		id, perr := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || perr != nil || id <= 0 {
			return nil, "", crm.InputError{"cursor": "That page link is not valid; start the listing again."}
		}
		b.add("l.id < ?", id)
	}
	if q.ActorID != 0 {
		b.add("l.actor_id = ?", q.ActorID)
	}
	if q.Reference != "" {
		b.add("l.enquiry_id = (SELECT id FROM enquiries WHERE reference = ?)", q.Reference)
	}
	if q.Action != "" {
		b.add("l.action = ?", q.Action)
	}
	var rows []struct {
		ID         int64         `db:"id"`
		At         int64         `db:"at"`
		Action     string        `db:"action"`
		Detail     string        `db:"detail"`
		ActorID    sql.NullInt64 `db:"actor_id"`
		ActorEmail string        `db:"actor_email"`
		ActorName  string        `db:"actor_name"`
		Reference  string        `db:"reference"`
	}
	err := d.read.SelectContext(ctx, &rows, `SELECT l.id, l.at, l.action, l.detail, l.actor_id,
			coalesce(s.email, '') AS actor_email, coalesce(s.name, '') AS actor_name,
			coalesce(e.reference, '') AS reference
		FROM audit_log l
		LEFT JOIN staff s ON s.id = l.actor_id
		LEFT JOIN enquiries e ON e.id = l.enquiry_id
		WHERE `+b.where()+`
		ORDER BY l.id DESC
		LIMIT ?`, append(b.args, limit+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(rows[limit-1].ID, 10)))
	}
	out := make([]crm.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = crm.AuditEntry{ID: r.ID, At: fromMS(r.At), Action: r.Action, Detail: r.Detail,
			Reference: r.Reference, Actor: staffRef(r.ActorID, r.ActorEmail, r.ActorName)}
	}
	return out, next, nil
}
