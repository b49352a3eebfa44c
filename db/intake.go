package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/frontdesk/frontdesk/intake/screening"
)

var _ crm.IntakeStore = (*DB)(nil)

// CreateEnquiry implements crm.IntakeStore: the facts e.Lookup() names are read, decide asked, and the enquiry
// stored as planned — with its idempotency key, assignment, link to an earlier enquiry, timeline events, screening
// answers and outbox messages — in one transaction. On SQLite it runs on the writer goroutine, so no other write
// can change the facts before the plan lands; on PostgreSQL the facts are read without locks, and the whole write,
// decide included, runs again when another process stored the same idempotency key first or after a deadlock. It is
// committed (fsynced) before it returns. It returns the receipt (Replayed for a repeat); decide's error unwrapped;
// errors wrapping crm.ErrIdempotencyConflict or crm.ErrUnavailable when the database cannot take writes.
func (d *EnquiryStore) CreateEnquiry(ctx context.Context, e crm.NewEnquiry,
	decide func(crm.NewEnquiry, crm.IntakeFacts) (crm.IntakePlan, error)) (crm.Receipt, error) {
	var (
		rec       crm.Receipt
		mailed    bool
		decideErr error
	)
	// decide's error is kept apart, to be returned unwrapped.
	keep := func(e crm.NewEnquiry, f crm.IntakeFacts) (crm.IntakePlan, error) {
		p, err := decide(e, f)
		decideErr = err
		return p, err
	}
	base := d.webhooks()
	// Load-free: intake keeps the load table itself (see load.go).
	err := d.writer.doLoadFree(ctx, func(tx *Tx) error {
		rec, mailed, decideErr = crm.Receipt{}, false, nil
		var err error
		rec, mailed, err = createEnquiry(d.writer.cachedWithLoad(tx), e, keep, base)
		return err
	})
	if decideErr != nil {
		return crm.Receipt{}, decideErr
	}
	if err != nil {
		return crm.Receipt{}, fmt.Errorf("store enquiry: %w", err)
	}
	if mailed {
		d.notifyMailQueued()
	}
	return rec, nil
}

// noWebhooks is the hooks argument of createEnquiry, applyChange and answerScreening when webhooks are off (the
// base URL of their links otherwise, never empty).
const noWebhooks = ""

// createEnquiry stores e as decide plans it, on tx; mailed reports whether it queued mail (or webhook events).
// hooks is the base URL of webhook events' links, or noWebhooks to queue none.
func createEnquiry(tx writeTx, e crm.NewEnquiry,
	decide func(crm.NewEnquiry, crm.IntakeFacts) (crm.IntakePlan, error), hooks string) (crm.Receipt, bool, error) {
	now := ms(e.ReceivedAt)
	if e.IdempotencyKey != "" {
		var prior struct {
			Fingerprint string `db:"fingerprint"`
			Reference   string `db:"reference"`
			CreatedAt   int64  `db:"created_at"`
		}
		err := tx.Get(&prior, `SELECT k.fingerprint, k.created_at, e.reference
			FROM idempotency_keys k JOIN enquiries e ON e.id = k.enquiry_id WHERE k.key = ?`, e.IdempotencyKey)
		switch {
		case err == nil && prior.CreatedAt <= now-crm.IdempotencyWindow.Milliseconds():
			// Past its window the key is forgotten, and this is a new enquiry.
			if _, err := tx.Exec(`DELETE FROM idempotency_keys WHERE key = ?`, e.IdempotencyKey); err != nil {
				return crm.Receipt{}, false, fmt.Errorf("forget idempotency key: %w", err)
			}
		case err == nil:
			if prior.Fingerprint != e.Fingerprint {
				return crm.Receipt{}, false, crm.ErrIdempotencyConflict
			}
			// The replay is told exactly what the first request was told, whatever has happened since.
			return crm.Receipt{Reference: prior.Reference, Status: crm.FirstAnswer, Replayed: true}, false, nil
		case !errors.Is(err, sql.ErrNoRows):
			return crm.Receipt{}, false, fmt.Errorf("look up idempotency key: %w", err)
		}
	}

	facts, err := intakeFacts(tx, e.Lookup())
	if err != nil {
		return crm.Receipt{}, false, err
	}
	p, err := decide(e, facts)
	if err != nil {
		return crm.Receipt{}, false, err
	}
	assignee := sql.NullInt64{Int64: p.AssigneeID, Valid: p.AssigneeID != 0}
	related := sql.NullInt64{Int64: p.RelatedID, Valid: p.RelatedID != 0}

	var id int64
	var ref string
	for attempt := 0; ; attempt++ {
		ref = intake.NewReference()
		err := tx.Get(&id, `INSERT INTO enquiries (reference, status, name, email, phone, preferred_contact,
				treatment, message, date_of_birth, referral_source, utm_source, utm_medium, utm_campaign,
				consent_at, consent_version, assignee_id, related_id, created_at, updated_at, priority,
				flag_risk_at, flag_review_at, ok_to_leave_message)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (reference) DO NOTHING RETURNING id`,
			ref, p.Status, e.Name, e.Email, e.Phone, e.PreferredContact, e.Treatment, e.Message, e.DateOfBirth,
			e.ReferralSource, e.UTMSource, e.UTMMedium, e.UTMCampaign, ms(e.Consent.GivenAt), e.Consent.Version,
			assignee, related, now, now, p.Priority, flagAt(slices.Contains(p.Flags, screening.FlagRisk), now),
			flagAt(slices.Contains(p.Flags, screening.FlagReview), now), boolInt(e.OKToLeaveMessage))
		// No row: another enquiry already has this reference. DO NOTHING rather than a unique violation,
		// because on PostgreSQL a failed statement ends the whole transaction.
		if errors.Is(err, sql.ErrNoRows) && attempt < 5 {
			continue // draw again
		}
		if err != nil {
			return crm.Receipt{}, false, fmt.Errorf("insert enquiry: %w", err)
		}
		break
	}

	if e.IdempotencyKey != "" {
		res, err := tx.Exec(`INSERT INTO idempotency_keys (key, fingerprint, enquiry_id, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO NOTHING`, e.IdempotencyKey, e.Fingerprint, id, now)
		if err != nil {
			return crm.Receipt{}, false, fmt.Errorf("store idempotency key %s: %w", ref, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			// Another process stored the same key since the look-up above (PostgreSQL only: SQLite has one
			// writer). Run the whole write again: it will find the key and answer as the first request was.
			return crm.Receipt{}, false, errRetry
		}
	}
	if !assignee.Valid {
		if _, err := tx.Exec(`INSERT INTO events (enquiry_id, at, kind, to_status) VALUES (?, ?, 'created', ?)`,
			id, now, p.Status); err != nil {
			return crm.Receipt{}, false, fmt.Errorf("record creation of %s: %w", ref, err)
		}
	} else {
		// The creation and the assignment, in that order, in one statement.
		if _, err := tx.Exec(`INSERT INTO events (enquiry_id, at, kind, to_status, assignee_id)
				VALUES (?, ?, 'created', ?, NULL), (?, ?, 'assigned', '', ?)`,
			id, now, p.Status, id, now, assignee); err != nil {
			return crm.Receipt{}, false, fmt.Errorf("record creation and assignment of %s: %w", ref, err)
		}
		ct, _ := tx.(cachedTx)
		switch {
		case ct.load:
			ct.w.assigned(assignee.Int64, now) // written once for the batch, before its commit
		case ct.w != nil && ct.w.pg:
			// Concurrent intakes commit in any order: the latest assignment wins, whichever commits last.
			if _, err := tx.Exec(`UPDATE staff SET last_assigned_at = greatest(coalesce(last_assigned_at, 0), ?)
				WHERE id = ?`, now, assignee); err != nil {
				return crm.Receipt{}, false, fmt.Errorf("record assignment of %s: %w", ref, err)
			}
		default:
			if _, err := tx.Exec(`UPDATE staff SET last_assigned_at = ? WHERE id = ?`, now, assignee); err != nil {
				return crm.Receipt{}, false, fmt.Errorf("record assignment of %s: %w", ref, err)
			}
		}
	}
	if err := storeScreening(tx, id, e); err != nil {
		return crm.Receipt{}, false, fmt.Errorf("store screening of %s: %w", ref, err)
	}
	if len(p.Flags) > 0 { // what raised them, never the patient's words
		if _, err := tx.Exec(`INSERT INTO events (enquiry_id, at, kind, reason) VALUES (?, ?, 'flagged', ?)`,
			id, now, p.FlagReason); err != nil {
			return crm.Receipt{}, false, fmt.Errorf("record flags of %s: %w", ref, err)
		}
	}
	mails := p.Mail
	if hooks != noWebhooks {
		// The events go in the same INSERT as the email.
		mails = append(slices.Clip(mails), intakeWebhooks(hooks, ref, p, e, staffEmail(facts.Staff, p.AssigneeID), e.ReceivedAt)...)
	}
	if err := queueMails(tx, id, mails, now); err != nil {
		return crm.Receipt{}, false, fmt.Errorf("queue mail for %s: %w", ref, err)
	}
	return crm.Receipt{Reference: ref, Status: crm.FirstAnswer}, len(mails) > 0, nil
}

// intakeFacts reads what l names, and nothing else (see crm.IntakeLookup).
func intakeFacts(tx writeTx, l crm.IntakeLookup) (crm.IntakeFacts, error) {
	var f crm.IntakeFacts
	if l.Email != "" && l.EarlierLimit > 0 {
		var rows []struct {
			ID        int64  `db:"id"`
			CreatedAt int64  `db:"created_at"`
			Status    string `db:"status"`
			Erased    bool   `db:"erased"`
		}
		// Newest first through enquiries' (email, created_at) index, whose entries end in the id.
		err := tx.Select(&rows, `SELECT id, created_at, status, erased_at IS NOT NULL AS erased FROM enquiries
			WHERE email = ? AND created_at >= ? ORDER BY created_at DESC, id DESC LIMIT ?`,
			l.Email, ms(l.EarlierSince), l.EarlierLimit)
		if err != nil {
			return f, fmt.Errorf("read earlier enquiries: %w", err)
		}
		f.Earlier = make([]crm.EarlierEnquiry, len(rows))
		for i, r := range rows {
			f.Earlier[i] = crm.EarlierEnquiry{ID: r.ID, CreatedAt: fromMS(r.CreatedAt), Status: crm.Status(r.Status),
				Erased: r.Erased}
		}
	}
	if l.Email != "" && !l.ConfirmationsSince.IsZero() {
		// Through enquiries' (email, created_at) index, then each one's outbox rows.
		err := tx.Get(&f.ConfirmationsSent, `SELECT count(*) FROM enquiries e JOIN outbox o ON o.enquiry_id = e.id
			WHERE e.email = ? AND e.created_at > ? AND o.kind = 'confirmation'`, l.Email, ms(l.ConfirmationsSince))
		if err != nil {
			return f, fmt.Errorf("count confirmations: %w", err)
		}
	}
	if l.Treatment != "" {
		var err error
		if ct, ok := tx.(cachedTx); ok && ct.load {
			f.Staff, err = ct.w.staffFor(tx, l.Treatment)
		} else {
			f.Staff, err = staffTreating(tx, l.Treatment)
		}
		if err != nil {
			return f, err
		}
	}
	if l.Admins {
		var err error
		if f.Admins, err = adminEmails(tx); err != nil {
			return f, fmt.Errorf("find administrators: %w", err)
		}
	}
	return f, nil
}

// staffEmail is the address of account id among staff; "" for 0 or one not there.
func staffEmail(staff []crm.IntakeStaff, id int64) string {
	for _, s := range staff {
		if id != 0 && s.ID == id {
			return s.Email
		}
	}
	return ""
}

// intakeStaffRow is an account as assignment reads it (staffTreating, and the writer's load table); its
// columns are intakeStaffColumns, over staff s.
type intakeStaffRow struct {
	ID             int64         `db:"id"`
	Email          string        `db:"email"`
	Role           string        `db:"role"`
	Disabled       bool          `db:"disabled"`
	Open           int           `db:"open"`
	LastAssignedAt sql.NullInt64 `db:"last_assigned_at"`
}

const intakeStaffColumns = `s.id, s.email, s.role, s.disabled_at IS NOT NULL AS disabled, s.open_enquiries AS open,
	s.last_assigned_at`

func (r intakeStaffRow) staff() crm.IntakeStaff {
	s := crm.IntakeStaff{ID: r.ID, Email: r.Email, Role: crm.Role(r.Role), Disabled: r.Disabled, Open: r.Open}
	if r.LastAssignedAt.Valid {
		s.LastAssignedAt = fromMS(r.LastAssignedAt.Int64)
	}
	return s
}

// staffTreating returns every account whose treatments include treatment, whatever its role or state.
func staffTreating(tx writeTx, treatment string) ([]crm.IntakeStaff, error) {
	var rows []intakeStaffRow
	// Through staff_treatments' primary key (treatment, staff_id). staff.open_enquiries is kept by triggers
	// (migration 00002), so reading it costs nothing however many enquiries an account has.
	err := tx.Select(&rows, `SELECT `+intakeStaffColumns+`
		FROM staff_treatments t JOIN staff s ON s.id = t.staff_id
		WHERE t.treatment = ?`, treatment)
	if err != nil {
		return nil, fmt.Errorf("find staff treating %s: %w", treatment, err)
	}
	out := make([]crm.IntakeStaff, len(rows))
	for i, r := range rows {
		out[i] = r.staff()
	}
	return out, nil
}

// queueMail adds one message to the outbox, due at once, with a stable Message-ID (newMessageID).
func queueMail(tx writeTx, enquiryID int64, m crm.Mail, now int64) error {
	return queueMails(tx, enquiryID, []crm.Mail{m}, now)
}

// outboxInsert is the INSERT of queueMails for 1 to 5 messages (an enquiry queues up to three emails, and with
// webhooks on, its enquiry.created and enquiry.flagged events).
var outboxInsert = func() []string {
	const row = `(?, ?, ?, ?, ?, ?, ?, ?, ?)`
	out := make([]string, 6)
	for n := 1; n < len(out); n++ {
		out[n] = `INSERT INTO outbox (enquiry_id, kind, recipient, message_id, next_attempt_at, queued_at, created_at,
			link_token, payload) VALUES ` + row + strings.Repeat(", "+row, n-1)
	}
	return out
}()

// newMessageID returns the stored part of a Message-ID: 32 hex digits, the time queued (milliseconds, 48 bits)
// followed by 80 random bits, like a UUIDv7. Unique and unguessable as a wholly random id, but in time order:
// each new id lands at the end of outbox's UNIQUE index instead of on a random page of it, which for the three
// messages of every enquiry spares the writer three random B-tree pages to read and write back.
func newMessageID(nowMS int64) (string, error) {
	var b [16]byte
	for i := range 6 {
		b[i] = byte(nowMS >> (40 - 8*i))
	}
	if _, err := rand.Read(b[6:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// queueMails adds messages to the outbox, due at once, each with a stable Message-ID (newMessageID), in as few
// statements as it can.
func queueMails(tx writeTx, enquiryID int64, mails []crm.Mail, now int64) error {
	for len(mails) > 0 {
		n := min(len(mails), len(outboxInsert)-1)
		args := make([]any, 0, 9*n)
		for _, m := range mails[:n] {
			id, err := newMessageID(now)
			if err != nil {
				return err
			}
			args = append(args, enquiryID, m.Kind, m.Recipient, id, now, now, now,
				sql.NullString{String: m.LinkToken, Valid: m.LinkToken != ""},
				payloadArg(m.Payload))
		}
		if _, err := tx.Exec(outboxInsert[n], args...); err != nil {
			return err
		}
		mails = mails[n:]
	}
	return nil
}

// payloadArg is a message's payload as an INSERT argument: NULL for an email, without boxing a value (intake
// queues three emails per enquiry).
func payloadArg(p string) any {
	if p == "" {
		return nil
	}
	return p
}

// PurgeIdempotencyKeys deletes the idempotency keys older than crm.IdempotencyWindow and returns how many;
// serve calls it periodically (CreateEnquiry already ignores them, this only reclaims the space). Errors wrap
// crm.ErrUnavailable when the database cannot take writes.
func (d *EnquiryStore) PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := d.writer.do(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`DELETE FROM idempotency_keys WHERE created_at <= ?`, ms(now.Add(-crm.IdempotencyWindow)))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return int(n), nil
}

// boolInt is a yes/no column's stored value: 1 or 0 (an INTEGER with a CHECK on both engines, so that their
// schemas stay the same).
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
