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
)

// AuditStore keeps the audit log as a hash chain (crm.AuditStore). Every other store appends to it inside its
// own transactions (engine.appendAudit).
type AuditStore struct{ *engine }

var _ crm.AuditStore = (*DB)(nil)

// RecordAudit implements crm.AuditStore: the entry is appended to the chain in a write of its own (on PostgreSQL
// after taking the chain's advisory lock, see appendAudit). Errors wrap crm.ErrUnavailable when the database cannot
// take writes.
func (d *AuditStore) RecordAudit(ctx context.Context, e crm.AuditEntry) error {
	err := d.writer.do(ctx, func(tx *Tx) error { return d.appendAudit(tx, e) })
	if err != nil {
		return fmt.Errorf("record audit %s: %w", e.Action, err)
	}
	return nil
}

// appendAudit appends e to the audit log inside tx, the transaction of the change it records, sealed into the
// hash chain after the last entry (crm.ChainHash), with the last entry's id + 1. "The last entry" must not
// change between the read and the insert. On SQLite the single writer sees to that: no other transaction can
// append meanwhile. On PostgreSQL other processes (and this one's other connections) write at once, so the
// transaction first takes the audit chain's advisory lock, held until it commits or rolls back: appends wait
// for each other, and each reads the last entry only once the one before it has committed (every statement
// of a READ COMMITTED transaction sees what committed before it began). Without the lock two of them would
// read the same last entry, and the second insert would fail on the primary key.
func (d *engine) appendAudit(tx *Tx, e crm.AuditEntry) error {
	if err := d.lockAuditChain(tx); err != nil {
		return err
	}
	var last struct {
		ID   int64  `db:"id"`
		Hash string `db:"hash"`
	}
	err := d.writer.cached(tx).Get(&last, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var enquiry sql.NullInt64
	if e.Reference != "" {
		err := d.writer.cached(tx).Get(&enquiry, `SELECT id FROM enquiries WHERE reference = ?`, e.Reference)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	var actor sql.NullInt64
	if e.Actor != nil && e.Actor.ID != 0 {
		actor = sql.NullInt64{Int64: e.Actor.ID, Valid: true}
	} else {
		e.Actor = nil
	}
	e.ID, e.At = last.ID+1, fromMS(ms(e.At))
	e.Hash = crm.ChainHash(last.Hash, e)
	_, err = d.writer.cached(tx).Exec(`INSERT INTO audit_log (id, at, actor_id, action, enquiry_id, refs, detail, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, ms(e.At), actor, e.Action, enquiry, strings.Join(e.Refs(), " "), e.Detail, e.Hash)
	return err
}

// lockAuditChain takes, on PostgreSQL, the audit chain's advisory lock until tx ends (see appendAudit). On
// SQLite it does nothing: the writer is alone.
func (d *engine) lockAuditChain(tx *Tx) error {
	if !d.pg {
		return nil
	}
	if _, err := tx.Exec(`SELECT pg_advisory_xact_lock(?)`, lockAuditChain); err != nil {
		return fmt.Errorf("lock the audit chain: %w", err)
	}
	return nil
}

// sealAudit chains the entries written before the log had a hash chain (migration 00003), oldest first. It is
// idempotent: entries already sealed are left as they are. On PostgreSQL it holds the chain's lock, like an
// append, as other processes may be appending meanwhile. When every entry is sealed (always, after the first
// start of a version with the chain) it only reads: a command run beside a busy serve then needs no write
// lock to start.
func (d *AuditStore) sealAudit(ctx context.Context) error {
	var unsealed bool
	if err := d.read.GetContext(ctx, &unsealed, `SELECT EXISTS (SELECT 1 FROM audit_log WHERE hash = '')`); err != nil {
		return err
	}
	if !unsealed {
		return nil
	}
	return d.writer.do(ctx, func(tx *Tx) error {
		if err := d.lockAuditChain(tx); err != nil {
			return err
		}
		var rows []auditRow
		if err := tx.Select(&rows, `SELECT `+auditColumns+` FROM audit_log l WHERE l.hash = '' ORDER BY l.id`); err != nil {
			return err
		}
		for _, r := range rows {
			var prev string
			err := tx.Get(&prev, `SELECT hash FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT 1`, r.ID)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if _, err := tx.Exec(`UPDATE audit_log SET hash = ? WHERE id = ?`, crm.ChainHash(prev, r.entry()), r.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// auditColumns are the columns auditRow reads from audit_log l (joined to staff s where names are needed).
const auditColumns = `l.id, l.at, l.action, l.detail, l.actor_id, l.refs, l.hash`

type auditRow struct {
	ID         int64         `db:"id"`
	At         int64         `db:"at"`
	Action     string        `db:"action"`
	Detail     string        `db:"detail"`
	ActorID    sql.NullInt64 `db:"actor_id"`
	ActorEmail string        `db:"actor_email"`
	ActorName  string        `db:"actor_name"`
	Refs       string        `db:"refs"`
	Hash       string        `db:"hash"`
}

func (r auditRow) entry() crm.AuditEntry {
	e := crm.AuditEntry{ID: r.ID, At: fromMS(r.At), Action: r.Action, Detail: r.Detail, Hash: r.Hash,
		Actor: staffRef(r.ActorID, r.ActorEmail, r.ActorName)}
	if refs := strings.Fields(r.Refs); len(refs) > 0 {
		e.Reference, e.References = refs[0], refs[1:]
	}
	return e
}

// WalkAudit implements crm.AuditStore, reading the log in id order from one snapshot (one statement). fn's error
// is returned unwrapped; the others are the database's (wrapped).
func (d *AuditStore) WalkAudit(ctx context.Context, fn func(crm.AuditEntry) error) error {
	rows, err := d.read.QueryxContext(ctx, `SELECT `+auditColumns+` FROM audit_log l ORDER BY l.id`)
	if err != nil {
		return fmt.Errorf("walk audit: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r auditRow
		if err := rows.StructScan(&r); err != nil {
			return fmt.Errorf("walk audit: %w", err)
		}
		if err := fn(r.entry()); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("walk audit: %w", err)
	}
	return nil
}

// ListAudit implements crm.AuditStore: newest first by ID, continued by an opaque cursor; a malformed cursor is
// a crm.InputError naming "cursor".
func (d *AuditStore) ListAudit(ctx context.Context, q crm.AuditQuery) ([]crm.AuditEntry, string, error) {
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
		// The one enquiry of a view (indexed), or any of the references a list or search showed.
		// SQLite's instr(text, part) is PostgreSQL's strpos.
		find := "instr"
		if d.pg {
			find = "strpos"
		}
		b.add("(l.enquiry_id = (SELECT id FROM enquiries WHERE reference = ?) OR "+find+"(' ' || l.refs || ' ', ?) > 0)",
			q.Reference, " "+q.Reference+" ")
	}
	if q.Action != "" {
		b.add("l.action = ?", q.Action)
	}
	// With no condition, TRUE: sqlBuilder's "1" is no boolean to PostgreSQL.
	where := "TRUE"
	if len(b.conds) > 0 {
		where = b.where()
	}
	var rows []auditRow
	err := d.read.SelectContext(ctx, &rows, `SELECT `+auditColumns+`,
			coalesce(s.email, '') AS actor_email, coalesce(s.name, '') AS actor_name
		FROM audit_log l
		LEFT JOIN staff s ON s.id = l.actor_id
		WHERE `+where+`
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
		out[i] = r.entry()
	}
	return out, next, nil
}
