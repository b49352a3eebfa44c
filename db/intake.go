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
	"github.com/jmoiron/sqlx"
)

// CreateEnquiry implements crm.IntakeStore: the enquiry, its idempotency key, its assignment, its link to an
// earlier enquiry from the same address, its timeline event and its outbox messages are one transaction,
// committed (fsynced) before it returns.
func (d *DB) CreateEnquiry(ctx context.Context, e crm.NewEnquiry) (crm.Receipt, error) {
	var rec crm.Receipt
	err := d.writer.do(ctx, func(tx *sqlx.Tx) error {
		var err error
		rec, err = createEnquiry(d.writer.cached(tx), e)
		return err
	})
	if err != nil {
		return crm.Receipt{}, fmt.Errorf("store enquiry: %w", err)
	}
	if !e.Spam && !rec.Replayed {
		d.notifyMailQueued() // a new enquiry always queues mail (its confirmation, or a notice to staff)
	}
	return rec, nil
}

func createEnquiry(tx writeTx, e crm.NewEnquiry) (crm.Receipt, error) {
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
				return crm.Receipt{}, fmt.Errorf("forget idempotency key: %w", err)
			}
		case err == nil:
			if prior.Fingerprint != e.Fingerprint {
				return crm.Receipt{}, crm.ErrIdempotencyConflict
			}
			// The replay is told exactly what the first request was told, whatever has happened since.
			return crm.Receipt{Reference: prior.Reference, Status: crm.FirstAnswer, Replayed: true}, nil
		case !errors.Is(err, sql.ErrNoRows):
			return crm.Receipt{}, fmt.Errorf("look up idempotency key: %w", err)
		}
	}

	status := crm.StatusNew
	if e.Spam {
		status = crm.StatusSpam
	}
	var relatedID sql.NullInt64
	var assignee sql.NullInt64
	var assigneeEmail string
	var confirmations int
	if !e.Spam {
		err := tx.Get(&relatedID, `SELECT id FROM enquiries
			WHERE email = ? AND created_at >= ? AND status <> 'spam' AND erased_at IS NULL
			ORDER BY created_at DESC LIMIT 1`, e.Email, now-crm.RelatedWindow.Milliseconds())
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return crm.Receipt{}, fmt.Errorf("find related enquiry: %w", err)
		}
		// Through enquiries' (email, created_at) index, then each one's outbox rows.
		err = tx.Get(&confirmations, `SELECT count(*) FROM enquiries e JOIN outbox o ON o.enquiry_id = e.id
			WHERE e.email = ? AND e.created_at > ? AND o.kind = 'confirmation'`,
			e.Email, now-crm.ConfirmationWindow.Milliseconds())
		if err != nil {
			return crm.Receipt{}, fmt.Errorf("count confirmations: %w", err)
		}
		id, email, err := chooseAssignee(tx, e.Treatment)
		if err != nil {
			return crm.Receipt{}, err
		}
		if id != 0 {
			assignee = sql.NullInt64{Int64: id, Valid: true}
			assigneeEmail = email
		}
	}

	var id int64
	var ref string
	for attempt := 0; ; attempt++ {
		ref = intake.NewReference()
		res, err := tx.Exec(`INSERT INTO enquiries (reference, status, name, email, phone, preferred_contact,
				treatment, message, date_of_birth, referral_source, utm_source, utm_medium, utm_campaign,
				consent_at, consent_version, assignee_id, related_id, created_at, updated_at, priority,
				flag_risk_at, flag_review_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ref, status, e.Name, e.Email, e.Phone, e.PreferredContact, e.Treatment, e.Message, e.DateOfBirth,
			e.ReferralSource, e.UTMSource, e.UTMMedium, e.UTMCampaign, ms(e.Consent.GivenAt), e.Consent.Version,
			assignee, relatedID, now, now, priorityOf(e), flagAt(e.Assessment.Has(screening.FlagRisk), now),
			flagAt(e.Assessment.Has(screening.FlagReview), now))
		if err != nil {
			if isUniqueViolation(err) && attempt < 5 {
				continue // another enquiry already has this reference: draw again
			}
			return crm.Receipt{}, fmt.Errorf("insert enquiry: %w", err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return crm.Receipt{}, fmt.Errorf("insert enquiry: %w", err)
		}
		break
	}

	if e.IdempotencyKey != "" {
		if _, err := tx.Exec(`INSERT INTO idempotency_keys (key, fingerprint, enquiry_id, created_at) VALUES (?, ?, ?, ?)`,
			e.IdempotencyKey, e.Fingerprint, id, now); err != nil {
			return crm.Receipt{}, fmt.Errorf("store idempotency key %s: %w", ref, err)
		}
	}
	if !assignee.Valid {
		if _, err := tx.Exec(`INSERT INTO events (enquiry_id, at, kind, to_status) VALUES (?, ?, 'created', ?)`,
			id, now, status); err != nil {
			return crm.Receipt{}, fmt.Errorf("record creation of %s: %w", ref, err)
		}
	} else {
		// The creation and the assignment, in that order, in one statement.
		if _, err := tx.Exec(`INSERT INTO events (enquiry_id, at, kind, to_status, assignee_id)
				VALUES (?, ?, 'created', ?, NULL), (?, ?, 'assigned', '', ?)`,
			id, now, status, id, now, assignee); err != nil {
			return crm.Receipt{}, fmt.Errorf("record creation and assignment of %s: %w", ref, err)
		}
		if _, err := tx.Exec(`UPDATE staff SET last_assigned_at = ? WHERE id = ?`, now, assignee); err != nil {
			return crm.Receipt{}, fmt.Errorf("record assignment of %s: %w", ref, err)
		}
	}
	if err := storeScreening(tx, id, e, now); err != nil {
		return crm.Receipt{}, fmt.Errorf("store screening of %s: %w", ref, err)
	}
	mails := crm.IntakeMail(e, assigneeEmail, confirmations)
	if e.Assessment.Has(screening.FlagRisk) && !slices.ContainsFunc(mails, func(m crm.Mail) bool { return m.Kind == crm.MailUrgent }) {
		// Nobody set to be told (no intake inbox, nobody assigned): the administrators are.
		admins, err := adminEmails(tx)
		if err != nil {
			return crm.Receipt{}, fmt.Errorf("find administrators for %s: %w", ref, err)
		}
		mails = append(mails, crm.UrgentFallback(admins)...)
	}
	if err := queueMails(tx, id, mails, now); err != nil {
		return crm.Receipt{}, fmt.Errorf("queue mail for %s: %w", ref, err)
	}
	return crm.Receipt{Reference: ref, Status: crm.FirstAnswer}, nil
}

// chooseAssignee applies crm.ChooseAssignee to the active clinicians who treat treatment. It returns 0 when
// there is nobody.
func chooseAssignee(tx writeTx, treatment string) (int64, string, error) {
	var rows []struct {
		ID             int64         `db:"id"`
		Email          string        `db:"email"`
		Open           int           `db:"open"`
		LastAssignedAt sql.NullInt64 `db:"last_assigned_at"`
	}
	// staff.open_enquiries is kept by triggers (migration 00002), so choosing costs nothing however many
	// enquiries a clinician has.
	err := tx.Select(&rows, `SELECT s.id, s.email, s.last_assigned_at, s.open_enquiries AS open
		FROM staff_treatments t JOIN staff s ON s.id = t.staff_id
		WHERE t.treatment = ? AND s.role = 'clinician' AND s.disabled_at IS NULL`, treatment)
	if err != nil {
		return 0, "", fmt.Errorf("find clinicians for %s: %w", treatment, err)
	}
	cands := make([]crm.Candidate, len(rows))
	for i, r := range rows {
		cands[i] = crm.Candidate{StaffID: r.ID, Open: r.Open}
		if r.LastAssignedAt.Valid {
			cands[i].LastAssignedAt = fromMS(r.LastAssignedAt.Int64)
		}
	}
	id, ok := crm.ChooseAssignee(cands)
	if !ok {
		return 0, "", nil
	}
	for _, r := range rows {
		if r.ID == id {
			return id, r.Email, nil
		}
	}
	return 0, "", nil
}

// queueMail adds one message to the outbox, due at once, with a stable Message-ID (newMessageID).
func queueMail(tx writeTx, enquiryID int64, m crm.Mail, now int64) error {
	return queueMails(tx, enquiryID, []crm.Mail{m}, now)
}

// outboxInsert is the INSERT of queueMails for 1, 2 and 3 messages (an enquiry queues up to three).
var outboxInsert = func() []string {
	const row = `(?, ?, ?, ?, ?, ?, ?, ?)`
	out := make([]string, 4)
	for n := 1; n < len(out); n++ {
		out[n] = `INSERT INTO outbox (enquiry_id, kind, recipient, message_id, next_attempt_at, queued_at, created_at,
			link_token) VALUES ` + row + strings.Repeat(", "+row, n-1)
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
		args := make([]any, 0, 8*n)
		for _, m := range mails[:n] {
			id, err := newMessageID(now)
			if err != nil {
				return err
			}
			args = append(args, enquiryID, m.Kind, m.Recipient, id, now, now, now,
				sql.NullString{String: m.LinkToken, Valid: m.LinkToken != ""})
		}
		if _, err := tx.Exec(outboxInsert[n], args...); err != nil {
			return err
		}
		mails = mails[n:]
	}
	return nil
}

// PurgeIdempotencyKeys deletes the idempotency keys older than crm.IdempotencyWindow and returns how many;
// serve calls it periodically (CreateEnquiry already ignores them, this only reclaims the space).
func (d *DB) PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := d.writer.do(ctx, func(tx *sqlx.Tx) error {
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
