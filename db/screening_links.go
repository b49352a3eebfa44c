package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake/screening"
)

var _ crm.ScreeningLinkStore = (*DB)(nil)

// screeningLinkRow is a screening link joined to its enquiry.
type screeningLinkRow struct {
	EnquiryID int64         `db:"enquiry_id"`
	Hash      string        `db:"token_hash"`
	ExpiresAt int64         `db:"expires_at"`
	UsedAt    sql.NullInt64 `db:"used_at"`
	Reference string        `db:"reference"`
	Treatment string        `db:"treatment"`
	Status    string        `db:"status"`
	Erased    bool          `db:"erased"`
	Risk      bool          `db:"risk"`
	Email     string        `db:"email"`
	CreatedAt int64         `db:"created_at"`
	RiskAt    sql.NullInt64 `db:"flag_risk_at"`
}

const screeningLinkSelect = `SELECT l.enquiry_id, l.token_hash, l.expires_at, l.used_at, e.reference, e.treatment,
		e.status, e.erased_at IS NOT NULL AS erased, e.flag_risk_at IS NOT NULL AS risk, e.email,
		e.created_at, e.flag_risk_at
	FROM screening_links l JOIN enquiries e ON e.id = l.enquiry_id
	WHERE l.token_hash = ?`

func (r screeningLinkRow) state() crm.ScreeningLinkState {
	return crm.ScreeningLinkState{Hash: r.Hash, ExpiresAt: fromMS(r.ExpiresAt), UsedAt: nullMS(r.UsedAt),
		Reference: r.Reference, Treatment: r.Treatment, Status: crm.Status(r.Status), Erased: r.Erased, Risk: r.Risk,
		Email: r.Email, Received: fromMS(r.CreatedAt), RiskAt: nullMS(r.RiskAt)}
}

// ScreeningLink implements crm.ScreeningLinkStore: one lookup through the UNIQUE index on token_hash. It returns
// the link as stored, used or expired included (the caller judges it with Problem), crm.ErrNotFound when no link
// has the hash, or a wrapped error of the database.
func (d *EnquiryStore) ScreeningLink(ctx context.Context, hash string) (crm.ScreeningLinkState, error) {
	var row screeningLinkRow
	err := d.read.GetContext(ctx, &row, screeningLinkSelect, hash)
	if errors.Is(err, sql.ErrNoRows) {
		return crm.ScreeningLinkState{}, crm.ErrNotFound
	}
	if err != nil {
		return crm.ScreeningLinkState{}, fmt.Errorf("read screening link: %w", err)
	}
	return row.state(), nil
}

// AnswerScreening implements crm.ScreeningLinkStore: the link is taken by a conditional UPDATE, so of two
// submissions racing for it only one stores anything; the facts are read, decide asked, and its plan stored in
// the same transaction. On SQLite no other write can change the facts meanwhile (one writer); on PostgreSQL the
// facts are read with the enquiry's row locked (FOR UPDATE), to the same effect. It returns the plan's outcome; a *crm.ScreeningLinkError when
// the link cannot be taken, crm.ErrNotFound when no link has the hash (nothing is changed then), or a wrapped
// error of the storage (crm.ErrUnavailable when the database cannot take writes).
func (d *EnquiryStore) AnswerScreening(ctx context.Context, a crm.ScreeningAnswers,
	decide func(crm.ScreeningAnswers, crm.ScreeningFacts) crm.ScreeningPlan) (crm.ScreeningOutcome, error) {
	var out crm.ScreeningOutcome
	var mailed bool
	hooks := d.webhooks()
	err := d.writer.do(ctx, func(tx *Tx) error {
		out, mailed = crm.ScreeningOutcome{}, false
		var err error
		out, mailed, err = answerScreening(d.writer.cached(tx), a, decide, d.forUpdate("e"), hooks)
		return err
	})
	if err != nil {
		return crm.ScreeningOutcome{}, fmt.Errorf("store screening answers: %w", err)
	}
	if mailed {
		d.notifyMailQueued()
	}
	return out, nil
}

// answerScreening takes the link of a and stores a as decide plans it, on tx; mailed reports whether it queued
// mail (or a webhook event). lock (engine.forUpdate) is added to the read of the enquiry's facts. Unless hooks is
// noWebhooks, raised flags queue an enquiry.flagged event (its link made from hooks).
func answerScreening(tx writeTx, a crm.ScreeningAnswers,
	decide func(crm.ScreeningAnswers, crm.ScreeningFacts) crm.ScreeningPlan, lock, hooks string) (crm.ScreeningOutcome, bool, error) {
	now := ms(a.At)
	var id int64
	err := tx.Get(&id, `UPDATE screening_links SET used_at = ?
		WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?
			AND enquiry_id IN (SELECT id FROM enquiries WHERE erased_at IS NULL AND status <> 'spam')
		RETURNING enquiry_id`, now, a.Hash, now)
	if errors.Is(err, sql.ErrNoRows) {
		// Say why, from the link as it is now.
		var row screeningLinkRow
		switch err := tx.Get(&row, screeningLinkSelect, a.Hash); {
		case errors.Is(err, sql.ErrNoRows):
			return crm.ScreeningOutcome{}, false, crm.ErrNotFound
		case err != nil:
			return crm.ScreeningOutcome{}, false, fmt.Errorf("read screening link: %w", err)
		}
		p := row.state().Problem(a.At)
		if p == "" {
			p = crm.LinkUsed // cannot happen: the UPDATE's condition is Problem's
		}
		return crm.ScreeningOutcome{}, false, &crm.ScreeningLinkError{Problem: p}
	}
	if err != nil {
		return crm.ScreeningOutcome{}, false, fmt.Errorf("take screening link: %w", err)
	}

	f, err := screeningFacts(tx, id, a.NeedsAdmins(), lock)
	if err != nil {
		return crm.ScreeningOutcome{}, false, err
	}
	p := decide(a, f)

	rows := crm.Screenings(a.Answers, a.Assessment, "screening_page", a.At)
	if err := insertScreenings(tx, id, rows); err != nil {
		return crm.ScreeningOutcome{}, false, fmt.Errorf("store screening of %s: %w", f.Reference, err)
	}
	if _, err := tx.Exec(`INSERT INTO events (enquiry_id, at, kind, reason) VALUES (?, ?, 'screening', ?)`,
		id, now, crm.ScreeningEventReason(rows)); err != nil {
		return crm.ScreeningOutcome{}, false, fmt.Errorf("record screening of %s: %w", f.Reference, err)
	}
	risk, review := slices.Contains(p.Raise, screening.FlagRisk), slices.Contains(p.Raise, screening.FlagReview)
	if _, err := tx.Exec(`UPDATE enquiries SET version = version + 1, updated_at = ?,
			flag_risk_at = CASE WHEN ? THEN ? ELSE flag_risk_at END,
			flag_review_at = CASE WHEN ? THEN ? ELSE flag_review_at END,
			priority = CASE WHEN ? THEN ? ELSE priority END
		WHERE id = ?`, now, risk, now, review, now, p.Urgent, crm.PriorityUrgent, id); err != nil {
		return crm.ScreeningOutcome{}, false, fmt.Errorf("flag %s: %w", f.Reference, err)
	}
	if len(p.Raise) > 0 {
		if _, err := tx.Exec(`INSERT INTO events (enquiry_id, at, kind, reason) VALUES (?, ?, 'flagged', ?)`,
			id, now, p.FlagReason); err != nil {
			return crm.ScreeningOutcome{}, false, fmt.Errorf("record flags of %s: %w", f.Reference, err)
		}
	}
	if p.Urgent {
		// As SetPriority records it, with Frontdesk as the actor.
		if _, err := tx.Exec(`INSERT INTO events (enquiry_id, at, kind, priority) VALUES (?, ?, 'priority', ?)`,
			id, now, crm.PriorityUrgent); err != nil {
			return crm.ScreeningOutcome{}, false, fmt.Errorf("record priority of %s: %w", f.Reference, err)
		}
	}
	if err := queueMails(tx, id, p.Mail, now); err != nil {
		return crm.ScreeningOutcome{}, false, fmt.Errorf("queue urgent notice for %s: %w", f.Reference, err)
	}
	if hooks != noWebhooks && len(p.Raise) > 0 {
		if err := queueWebhooks(tx, hooks, id, now, crm.WebhookFlagged); err != nil {
			return crm.ScreeningOutcome{}, false, err
		}
		return p.Outcome, true, nil
	}
	return p.Outcome, len(p.Mail) > 0, nil
}

// screeningFacts reads what crm.PlanScreeningAnswers needs of enquiry id, and the active administrators only
// when admins is set.
func screeningFacts(tx writeTx, id int64, admins bool, lock string) (crm.ScreeningFacts, error) {
	var e struct {
		Reference     string         `db:"reference"`
		Priority      string         `db:"priority"`
		Risk          bool           `db:"risk"`
		Review        bool           `db:"review"`
		AssigneeEmail sql.NullString `db:"assignee_email"`
	}
	// A disabled assignee is nobody to tell: the join leaves its address out.
	if err := tx.Get(&e, `SELECT e.reference, e.priority, e.flag_risk_at IS NOT NULL AS risk,
			e.flag_review_at IS NOT NULL AS review, s.email AS assignee_email
		FROM enquiries e LEFT JOIN staff s ON s.id = e.assignee_id AND s.disabled_at IS NULL
		WHERE e.id = ?`+lock, id); err != nil {
		return crm.ScreeningFacts{}, fmt.Errorf("read enquiry %d: %w", id, err)
	}
	f := crm.ScreeningFacts{Reference: e.Reference, Priority: e.Priority, RiskFlagged: e.Risk,
		ReviewFlagged: e.Review, AssigneeEmail: e.AssigneeEmail.String}
	if admins {
		var err error
		if f.Admins, err = adminEmails(tx); err != nil {
			return crm.ScreeningFacts{}, fmt.Errorf("find administrators for %s: %w", e.Reference, err)
		}
	}
	return f, nil
}
