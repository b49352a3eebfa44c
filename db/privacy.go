package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// PrivacyStore carries out the patient-data rules (crm.PrivacyStore): erasure, subject access, retention, and
// the scrub that leaves nothing erased in the database's files.
//
// The subject access document also reads the enquiries' timelines, notes and screenings, through the
// EnquiryStore it embeds.
type PrivacyStore struct {
	*engine
	*EnquiryStore
}

// EnquiriesByEmail implements crm.PrivacyStore with the email index: the enquiries whose email is email
// lower-cased, oldest first (created_at, then id), spam included; none is an empty list. Its only errors are the
// database's (wrapped).
func (d *PrivacyStore) EnquiriesByEmail(ctx context.Context, email string) ([]crm.Enquiry, error) {
	if email == "" {
		return []crm.Enquiry{}, nil // erased enquiries have an empty email: never theirs to find
	}
	var rows []enquiryRow
	err := d.read.SelectContext(ctx, &rows, enquirySelect+` WHERE e.email = ? ORDER BY e.created_at, e.id`,
		strings.ToLower(email))
	if err != nil {
		return nil, fmt.Errorf("enquiries by email: %w", err)
	}
	out := make([]crm.Enquiry, len(rows))
	for i, r := range rows {
		out[i] = r.enquiry()
	}
	return out, nil
}

// EnquiryMail implements crm.PrivacyStore: every outbox message of the enquiry, whatever its status, in the order
// queued (id); an unknown enquiry has none, not crm.ErrNotFound. Its only errors are the database's (wrapped).
func (d *PrivacyStore) EnquiryMail(ctx context.Context, enquiryID int64) ([]crm.SentMail, error) {
	var rows []struct {
		Kind      string        `db:"kind"`
		Status    string        `db:"status"`
		Recipient string        `db:"recipient"`
		Attempts  int           `db:"attempts"`
		CreatedAt int64         `db:"created_at"`
		SentAt    sql.NullInt64 `db:"sent_at"`
	}
	err := d.read.SelectContext(ctx, &rows, `SELECT kind, status, recipient, attempts, created_at, sent_at
		FROM outbox WHERE enquiry_id = ? ORDER BY id`, enquiryID)
	if err != nil {
		return nil, fmt.Errorf("mail of enquiry %d: %w", enquiryID, err)
	}
	out := make([]crm.SentMail, len(rows))
	for i, r := range rows {
		out[i] = crm.SentMail{Kind: crm.MailKind(r.Kind), Status: r.Status, Recipient: r.Recipient,
			Attempts: r.Attempts, CreatedAt: fromMS(r.CreatedAt), SentAt: nullMS(r.SentAt)}
	}
	return out, nil
}

// AuditOfReferences implements crm.PrivacyStore. It reads the whole log once (refs is a space-separated list,
// not indexed): a subject access request is rare, and one pass serves every reference of the address. It
// returns the entries oldest first (nil for no refs); its only errors are the database's (wrapped).
func (d *PrivacyStore) AuditOfReferences(ctx context.Context, refs []string) ([]crm.AuditEntry, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	// Where ' REF ' occurs in ' refs ': instr on SQLite, strpos on PostgreSQL (each lacks the other's name).
	position := "instr"
	if d.pg {
		position = "strpos"
	}
	var b sqlBuilder
	conds := make([]string, len(refs))
	for i, ref := range refs {
		conds[i] = position + "(' ' || l.refs || ' ', ?) > 0"
		b.args = append(b.args, " "+ref+" ")
	}
	b.conds = []string{"(" + strings.Join(conds, " OR ") + ")"}
	var rows []auditRow
	err := d.read.SelectContext(ctx, &rows, `SELECT `+auditColumns+`,
			coalesce(s.email, '') AS actor_email, coalesce(s.name, '') AS actor_name
		FROM audit_log l
		LEFT JOIN staff s ON s.id = l.actor_id
		WHERE `+b.where()+`
		ORDER BY l.id`, b.args...)
	if err != nil {
		return nil, fmt.Errorf("audit of references: %w", err)
	}
	out := make([]crm.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = r.entry()
	}
	return out, nil
}

// dueCond is a condition, on enquiries e, of an enquiry due for retention, with the values of its
// placeholders.
type dueCond struct {
	sql  string
	args []any
}

// with returns the condition's values followed by more, for a query that adds placeholders after it.
func (c dueCond) with(more ...any) []any { return append(slices.Clip(c.args), more...) }

// closedSQL is the condition, on enquiries e, of a closed enquiry not yet anonymised whose close came before
// before: the close is the latest status event into its current status (updated_at when it has none). The
// statuses are written into the query (they are checked values) so SQLite can use the partial index
// enquiries_closed_unerased (see closedScan); created_at < before holds whenever the close does, and bounds
// the scan.
func closedSQL(statuses []crm.Status, before time.Time) (dueCond, error) {
	quoted := make([]string, len(statuses))
	for i, s := range statuses {
		if !s.Valid() || !s.Closed() {
			return dueCond{}, fmt.Errorf("retention: %q is not a closing status", s)
		}
		quoted[i] = "'" + string(s) + "'"
	}
	return dueCond{sql: `e.erased_at IS NULL AND e.status IN (` + strings.Join(quoted, ", ") + `) AND e.created_at < ?
		AND coalesce((SELECT max(v.at) FROM events v
			WHERE v.enquiry_id = e.id AND v.kind = 'status' AND v.to_status = e.status), e.updated_at) < ?`,
		args: []any{ms(before), ms(before)}}, nil
}

// closedScan starts the search for closed enquiries due: through the partial index of those not yet
// anonymised, which SQLite's planner would otherwise pass over for enquiries_status_created and then step
// over every enquiry anonymised in earlier years.
func (d *PrivacyStore) closedScan() string {
	return `SELECT e.id FROM enquiries e` + d.indexedBy("enquiries_closed_unerased") + ` WHERE `
}

// spamSQL is the condition, on enquiries e, of spam that arrived before before.
func spamSQL(before time.Time) dueCond {
	return dueCond{sql: `e.status = 'spam' AND e.created_at < ?`, args: []any{ms(before)}}
}

// ApplyRetention implements crm.PrivacyStore. The due enquiries are found on a reader, outside the writer (the scan
// may take a moment on a large database), and each is checked again inside the transaction, so one reopened or
// moved meanwhile is left alone.
//
// On PostgreSQL several processes may run retention at once: the transaction first tries the advisory lock
// lockRetention, and when another process holds it (it is applying a batch now) returns an empty result having
// changed nothing, not even the audit log: that process records its own batch.
//
// It returns what it did (empty lists, never nil, when nothing was due). A status of b.Closed that does not close
// an enquiry is a plain error, before anything is read; others wrap crm.ErrUnavailable when the database cannot
// take writes.
func (d *PrivacyStore) ApplyRetention(ctx context.Context, b crm.RetentionBatch, at time.Time,
	entry func(crm.RetentionResult) crm.AuditEntry) (crm.RetentionResult, error) {
	if b.Limit <= 0 {
		b.Limit = 500
	}
	var closed, spam dueCond
	var closedIDs, spamIDs []int64
	if !b.ClosedBefore.IsZero() && len(b.Closed) > 0 {
		var err error
		if closed, err = closedSQL(b.Closed, b.ClosedBefore); err != nil {
			return crm.RetentionResult{}, err
		}
		err = d.read.SelectContext(ctx, &closedIDs, d.closedScan()+closed.sql+` LIMIT ?`, closed.with(b.Limit)...)
		if err != nil {
			return crm.RetentionResult{}, fmt.Errorf("find closed enquiries due: %w", err)
		}
	}
	if !b.SpamBefore.IsZero() {
		spam = spamSQL(b.SpamBefore)
		err := d.read.SelectContext(ctx, &spamIDs, `SELECT e.id FROM enquiries e WHERE `+spam.sql+` LIMIT ?`,
			spam.with(b.Limit)...)
		if err != nil {
			return crm.RetentionResult{}, fmt.Errorf("find spam due: %w", err)
		}
	}
	var res crm.RetentionResult
	err := d.writer.do(ctx, func(tx *Tx) error {
		res = crm.RetentionResult{Anonymised: []string{}, DeletedSpam: []string{}}
		if ok, err := d.tryJobLock(tx, lockRetention); err != nil || !ok {
			return err
		}
		for _, id := range closedIDs {
			ref, err := stillDue(tx, id, closed, d.forUpdate("e"))
			if err != nil {
				return err
			}
			if ref == "" {
				continue
			}
			if err := d.eraseEnquiry(tx, id, sql.NullInt64{}, ms(at)); err != nil {
				return fmt.Errorf("anonymise %s: %w", ref, err)
			}
			res.Anonymised = append(res.Anonymised, ref)
		}
		for _, id := range spamIDs {
			ref, err := stillDue(tx, id, spam, d.forUpdate("e"))
			if err != nil {
				return err
			}
			if ref == "" {
				continue
			}
			if err := deleteEnquiry(tx, id); err != nil {
				return fmt.Errorf("delete spam %s: %w", ref, err)
			}
			res.DeletedSpam = append(res.DeletedSpam, ref)
		}
		return d.appendAudit(tx, entry(res))
	})
	if err != nil {
		return crm.RetentionResult{}, fmt.Errorf("apply retention: %w", err)
	}
	return res, nil
}

// stillDue returns the reference of enquiry id when it still meets cond, or ""; lock (engine.forUpdate) is
// added to the read.
func stillDue(tx *Tx, id int64, cond dueCond, lock string) (string, error) {
	var ref string
	err := tx.Get(&ref, `SELECT e.reference FROM enquiries e WHERE `+cond.sql+` AND e.id = ?`+lock, cond.with(id)...)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return ref, err
}

// deleteEnquiry deletes enquiry id and every row that belongs to it: its notes, events and idempotency keys
// (by cascade), its outbox messages, its search entry (by trigger) and links to it from later enquiries. Audit
// entries keep its reference as text.
func deleteEnquiry(tx *Tx, id int64) error {
	for _, q := range []string{
		`UPDATE enquiries SET related_id = NULL WHERE related_id = ?`,
		`DELETE FROM outbox WHERE enquiry_id = ?`,
		`DELETE FROM enquiries WHERE id = ?`,
	} {
		if _, err := tx.Exec(q, id); err != nil {
			return err
		}
	}
	return nil
}
