package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
}

const screeningLinkSelect = `SELECT l.enquiry_id, l.token_hash, l.expires_at, l.used_at, e.reference, e.treatment,
		e.status, e.erased_at IS NOT NULL AS erased, e.flag_risk_at IS NOT NULL AS risk
	FROM screening_links l JOIN enquiries e ON e.id = l.enquiry_id
	WHERE l.token_hash = ?`

func (r screeningLinkRow) state() crm.ScreeningLinkState {
	return crm.ScreeningLinkState{Hash: r.Hash, ExpiresAt: fromMS(r.ExpiresAt), UsedAt: nullMS(r.UsedAt),
		Reference: r.Reference, Treatment: r.Treatment, Status: crm.Status(r.Status), Erased: r.Erased, Risk: r.Risk}
}

// ScreeningLink implements crm.ScreeningLinkStore: one lookup through the UNIQUE index on token_hash.
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

// AnswerScreening implements crm.ScreeningLinkStore. The link is taken by a conditional UPDATE, so of two
// submissions racing for it only one stores anything; the rest of the change rides in the same transaction.
func (d *EnquiryStore) AnswerScreening(ctx context.Context, a crm.ScreeningAnswers) (crm.ScreeningOutcome, error) {
	var out crm.ScreeningOutcome
	var mailed bool
	err := d.writer.do(ctx, func(tx *Tx) error {
		out, mailed = crm.ScreeningOutcome{}, false
		var err error
		out, mailed, err = answerScreening(d.writer.cached(tx), a)
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

func answerScreening(tx writeTx, a crm.ScreeningAnswers) (crm.ScreeningOutcome, bool, error) {
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

	var e struct {
		Reference     string         `db:"reference"`
		Priority      string         `db:"priority"`
		RiskAt        sql.NullInt64  `db:"flag_risk_at"`
		ReviewAt      sql.NullInt64  `db:"flag_review_at"`
		AssigneeEmail sql.NullString `db:"assignee_email"`
	}
	// A disabled assignee is nobody to tell: the urgent notice goes to the inbox, or else to the administrators.
	if err := tx.Get(&e, `SELECT e.reference, e.priority, e.flag_risk_at, e.flag_review_at, s.email AS assignee_email
		FROM enquiries e LEFT JOIN staff s ON s.id = e.assignee_id AND s.disabled_at IS NULL
		WHERE e.id = ?`, id); err != nil {
		return crm.ScreeningOutcome{}, false, fmt.Errorf("read enquiry %d: %w", id, err)
	}

	rows := crm.Screenings(a.Answers, a.Assessment, "screening_page", a.At)
	if err := insertScreenings(tx, id, rows); err != nil {
		return crm.ScreeningOutcome{}, false, fmt.Errorf("store screening of %s: %w", e.Reference, err)
	}
	if _, err := tx.Exec(`INSERT INTO events (enquiry_id, at, kind, reason) VALUES (?, ?, 'screening', ?)`,
		id, now, crm.ScreeningEventReason(rows)); err != nil {
		return crm.ScreeningOutcome{}, false, fmt.Errorf("record screening of %s: %w", e.Reference, err)
	}

	// Only the flags the enquiry did not carry are raised; each keeps the time it was first raised.
	raised := screening.Assessment{RiskSources: a.Assessment.RiskSources, Review: a.Assessment.Review}
	risk := a.Assessment.Has(screening.FlagRisk) && !e.RiskAt.Valid
	review := a.Assessment.Has(screening.FlagReview) && !e.ReviewAt.Valid
	if risk {
		raised.Flags = append(raised.Flags, screening.FlagRisk)
	}
	if review {
		raised.Flags = append(raised.Flags, screening.FlagReview)
	}
	urgent := risk && e.Priority != crm.PriorityUrgent
	if _, err := tx.Exec(`UPDATE enquiries SET version = version + 1, updated_at = ?,
			flag_risk_at = CASE WHEN ? THEN ? ELSE flag_risk_at END,
			flag_review_at = CASE WHEN ? THEN ? ELSE flag_review_at END,
			priority = CASE WHEN ? THEN ? ELSE priority END
		WHERE id = ?`, now, risk, now, review, now, urgent, crm.PriorityUrgent, id); err != nil {
		return crm.ScreeningOutcome{}, false, fmt.Errorf("flag %s: %w", e.Reference, err)
	}
	if len(raised.Flags) > 0 {
		if _, err := tx.Exec(`INSERT INTO events (enquiry_id, at, kind, reason) VALUES (?, ?, 'flagged', ?)`,
			id, now, crm.FlagReason(raised)); err != nil {
			return crm.ScreeningOutcome{}, false, fmt.Errorf("record flags of %s: %w", e.Reference, err)
		}
	}
	if urgent {
		// As SetPriority records it, with Frontdesk as the actor.
		if _, err := tx.Exec(`INSERT INTO events (enquiry_id, at, kind, priority) VALUES (?, ?, 'priority', ?)`,
			id, now, crm.PriorityUrgent); err != nil {
			return crm.ScreeningOutcome{}, false, fmt.Errorf("record priority of %s: %w", e.Reference, err)
		}
	}
	var mails []crm.Mail
	if risk {
		mails = crm.UrgentMail(e.AssigneeEmail.String, a.IntakeInbox)
		if len(mails) == 0 {
			admins, err := adminEmails(tx)
			if err != nil {
				return crm.ScreeningOutcome{}, false, fmt.Errorf("find administrators for %s: %w", e.Reference, err)
			}
			mails = crm.UrgentFallback(admins)
		}
		if err := queueMails(tx, id, mails, now); err != nil {
			return crm.ScreeningOutcome{}, false, fmt.Errorf("queue urgent notice for %s: %w", e.Reference, err)
		}
	}

	out := crm.ScreeningOutcome{Reference: e.Reference, Flags: []string{}, Raised: raised.Flags}
	if e.RiskAt.Valid || risk {
		out.Flags = append(out.Flags, screening.FlagRisk)
	}
	if e.ReviewAt.Valid || review {
		out.Flags = append(out.Flags, screening.FlagReview)
	}
	return out, len(mails) > 0, nil
}
