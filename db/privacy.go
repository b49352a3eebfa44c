package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// EnquiriesByEmail implements crm.PrivacyStore with the email index.
func (d *DB) EnquiriesByEmail(ctx context.Context, email string) ([]crm.Enquiry, error) {
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

// EnquiryMail implements crm.PrivacyStore.
func (d *DB) EnquiryMail(ctx context.Context, enquiryID int64) ([]crm.SentMail, error) {
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
// not indexed): a subject access request is rare, and one pass serves every reference of the address.
func (d *DB) AuditOfReferences(ctx context.Context, refs []string) ([]crm.AuditEntry, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	var b sqlBuilder
	conds := make([]string, len(refs))
	for i, ref := range refs {
		conds[i] = "instr(' ' || l.refs || ' ', ?) > 0"
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

// closedSQL is the condition, on enquiries e, of a closed enquiry not yet anonymised whose close came before
// ?1: the close is the latest status event into its current status (updated_at when it has none). The
// statuses are written into the query (they are checked values) so SQLite can use the partial index
// enquiries_closed_unerased (see closedScan); created_at < ?1 holds whenever the close does, and bounds the
// scan.
func closedSQL(statuses []crm.Status) (string, error) {
	quoted := make([]string, len(statuses))
	for i, s := range statuses {
		if !s.Valid() || !s.Closed() {
			return "", fmt.Errorf("retention: %q is not a closing status", s)
		}
		quoted[i] = "'" + string(s) + "'"
	}
	return `e.erased_at IS NULL AND e.status IN (` + strings.Join(quoted, ", ") + `) AND e.created_at < ?1
		AND coalesce((SELECT max(v.at) FROM events v
			WHERE v.enquiry_id = e.id AND v.kind = 'status' AND v.to_status = e.status), e.updated_at) < ?1`, nil
}

// closedScan starts the search for closed enquiries due: through the partial index of those not yet
// anonymised, which the planner would otherwise pass over for enquiries_status_created and then step over
// every enquiry anonymised in earlier years.
const closedScan = `SELECT e.id FROM enquiries e INDEXED BY enquiries_closed_unerased WHERE `

// spamSQL is the condition, on enquiries e, of spam that arrived before ?1.
const spamSQL = `e.status = 'spam' AND e.created_at < ?1`

// ApplyRetention implements crm.PrivacyStore. The due enquiries are found on a reader, outside the writer
// (the scan may take a moment on a large database), and each is checked again inside the transaction, so one
// reopened or moved meanwhile is left alone.
func (d *DB) ApplyRetention(ctx context.Context, b crm.RetentionBatch, at time.Time,
	entry func(crm.RetentionResult) crm.AuditEntry) (crm.RetentionResult, error) {
	if b.Limit <= 0 {
		b.Limit = 500
	}
	var closedCond string
	var closedIDs, spamIDs []int64
	if !b.ClosedBefore.IsZero() && len(b.Closed) > 0 {
		var err error
		if closedCond, err = closedSQL(b.Closed); err != nil {
			return crm.RetentionResult{}, err
		}
		err = d.read.SelectContext(ctx, &closedIDs, closedScan+closedCond+` LIMIT ?2`,
			ms(b.ClosedBefore), b.Limit)
		if err != nil {
			return crm.RetentionResult{}, fmt.Errorf("find closed enquiries due: %w", err)
		}
	}
	if !b.SpamBefore.IsZero() {
		err := d.read.SelectContext(ctx, &spamIDs, `SELECT e.id FROM enquiries e WHERE `+spamSQL+` LIMIT ?2`,
			ms(b.SpamBefore), b.Limit)
		if err != nil {
			return crm.RetentionResult{}, fmt.Errorf("find spam due: %w", err)
		}
	}
	var res crm.RetentionResult
	err := d.writer.do(ctx, func(tx *Tx) error {
		res = crm.RetentionResult{Anonymised: []string{}, DeletedSpam: []string{}}
		for _, id := range closedIDs {
			ref, err := stillDue(tx, id, closedCond, b.ClosedBefore)
			if err != nil {
				return err
			}
			if ref == "" {
				continue
			}
			if err := eraseEnquiry(tx, id, sql.NullInt64{}, ms(at)); err != nil {
				return fmt.Errorf("anonymise %s: %w", ref, err)
			}
			res.Anonymised = append(res.Anonymised, ref)
		}
		for _, id := range spamIDs {
			ref, err := stillDue(tx, id, spamSQL, b.SpamBefore)
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

// stillDue returns the reference of enquiry id when it still meets cond (with ?1 = before), or "".
func stillDue(tx *Tx, id int64, cond string, before time.Time) (string, error) {
	var ref string
	err := tx.Get(&ref, `SELECT e.reference FROM enquiries e WHERE `+cond+` AND e.id = ?2`, ms(before), id)
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
