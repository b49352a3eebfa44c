package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/jmoiron/sqlx"
)

// EnquiryStore keeps the enquiries: intake (crm.IntakeStore), the pipeline with its timeline, notes and
// reminders (crm.EnquiryStore), the lists and searches, and the screening answers and links
// (crm.ScreeningStore, crm.ScreeningLinkStore).
type EnquiryStore struct{ *engine }

// enquiryRow is an enquiry joined to its assignee and the reference of its related enquiry.
type enquiryRow struct {
	ID               int64         `db:"id"`
	Reference        string        `db:"reference"`
	Status           string        `db:"status"`
	Name             string        `db:"name"`
	Email            string        `db:"email"`
	Phone            string        `db:"phone"`
	PreferredContact string        `db:"preferred_contact"`
	Treatment        string        `db:"treatment"`
	Message          string        `db:"message"`
	DateOfBirth      string        `db:"date_of_birth"`
	ReferralSource   string        `db:"referral_source"`
	OKToLeaveMessage bool          `db:"ok_to_leave_message"`
	UTMSource        string        `db:"utm_source"`
	UTMMedium        string        `db:"utm_medium"`
	UTMCampaign      string        `db:"utm_campaign"`
	ConsentAt        int64         `db:"consent_at"`
	ConsentVersion   string        `db:"consent_version"`
	Priority         string        `db:"priority"`
	AssigneeID       sql.NullInt64 `db:"assignee_id"`
	AssigneeEmail    string        `db:"assignee_email"`
	AssigneeName     string        `db:"assignee_name"`
	Related          string        `db:"related"`
	CloseReason      string        `db:"close_reason"`
	CreatedAt        int64         `db:"created_at"`
	UpdatedAt        int64         `db:"updated_at"`
	FirstContactedAt sql.NullInt64 `db:"first_contacted_at"`
	RemindedAt       sql.NullInt64 `db:"reminded_at"`
	Erased           bool          `db:"erased"`
	Version          int64         `db:"version"`
	FlagRiskAt       sql.NullInt64 `db:"flag_risk_at"`
	FlagReviewAt     sql.NullInt64 `db:"flag_review_at"`
}

// enquirySelect reads enquiryRow; callers add the WHERE clause on e.
const enquirySelect = `SELECT e.id, e.reference, e.status, e.name, e.email, e.phone, e.preferred_contact, e.treatment,
		e.message, e.date_of_birth, e.referral_source, e.utm_source, e.utm_medium, e.utm_campaign, e.consent_at,
		e.consent_version, e.priority, e.assignee_id, coalesce(a.email, '') AS assignee_email,
		coalesce(a.name, '') AS assignee_name, coalesce(r.reference, '') AS related, e.close_reason, e.created_at,
		e.updated_at, e.first_contacted_at, e.reminded_at, e.erased_at IS NOT NULL AS erased, e.version,
		e.flag_risk_at, e.flag_review_at, e.ok_to_leave_message
	FROM enquiries e
	LEFT JOIN staff a ON a.id = e.assignee_id
	LEFT JOIN enquiries r ON r.id = e.related_id`

func (r enquiryRow) enquiry() crm.Enquiry {
	e := crm.Enquiry{
		ID: r.ID, Reference: r.Reference, Status: crm.Status(r.Status), Name: r.Name, Email: r.Email,
		Phone: r.Phone, PreferredContact: r.PreferredContact, Treatment: r.Treatment, Message: r.Message,
		DateOfBirth: r.DateOfBirth, ReferralSource: r.ReferralSource, OKToLeaveMessage: r.OKToLeaveMessage,
		UTMSource: r.UTMSource,
		UTMMedium: r.UTMMedium, UTMCampaign: r.UTMCampaign, ConsentAt: fromMS(r.ConsentAt),
		ConsentVersion: r.ConsentVersion, Priority: r.Priority, Related: r.Related, CloseReason: r.CloseReason,
		CreatedAt: fromMS(r.CreatedAt), UpdatedAt: fromMS(r.UpdatedAt), FirstContactedAt: nullMS(r.FirstContactedAt),
		RemindedAt: nullMS(r.RemindedAt), Erased: r.Erased, Version: r.Version,
		RiskAt: nullMS(r.FlagRiskAt), ReviewAt: nullMS(r.FlagReviewAt),
	}
	if r.AssigneeID.Valid {
		e.Assignee = &crm.StaffRef{ID: r.AssigneeID.Int64, Email: r.AssigneeEmail, Name: r.AssigneeName}
	}
	return e
}

// staffRef builds the reference to a member of staff from a nullable join; nil when the ID is NULL.
func staffRef(id sql.NullInt64, email, name string) *crm.StaffRef {
	if !id.Valid {
		return nil
	}
	return &crm.StaffRef{ID: id.Int64, Email: email, Name: name}
}

// actorID is the stored form of an actor: NULL for Frontdesk itself.
func actorID(a crm.Actor) sql.NullInt64 {
	return sql.NullInt64{Int64: a.ID, Valid: a.ID != 0}
}

// GetEnquiry implements crm.EnquiryStore: one indexed lookup by reference with the assignee and the related
// enquiry's reference joined. It returns erased and spam enquiries too; an error wrapping crm.ErrNotFound when no
// enquiry has ref (compared as given), or a wrapped error of the database.
func (d *EnquiryStore) GetEnquiry(ctx context.Context, ref string) (crm.Enquiry, error) {
	e, err := getEnquiry(ctx, d.read, ref)
	if err != nil {
		return crm.Enquiry{}, fmt.Errorf("get enquiry %s: %w", ref, err)
	}
	return e, nil
}

func getEnquiry(ctx context.Context, q sqlx.QueryerContext, ref string) (crm.Enquiry, error) {
	var row enquiryRow
	err := sqlx.GetContext(ctx, q, &row, enquirySelect+` WHERE e.reference = ?`, ref)
	if errors.Is(err, sql.ErrNoRows) {
		return crm.Enquiry{}, crm.ErrNotFound
	}
	if err != nil {
		return crm.Enquiry{}, err
	}
	return row.enquiry(), nil
}

// UpdateEnquiry implements crm.EnquiryStore: it returns the enquiry as changed. decide's error is returned
// unwrapped; others wrap crm.ErrNotFound when no enquiry has ref, or crm.ErrUnavailable when the database cannot
// take writes. On SQLite decide runs inside the write transaction on the writer goroutine, so it sees the enquiry
// as no other write can change it before the change lands. On PostgreSQL the enquiry's row is locked (FOR UPDATE)
// before it is read, which gives the same guarantee across processes; after a deadlock the whole write, decide
// included, runs again.
func (d *EnquiryStore) UpdateEnquiry(ctx context.Context, ref string, actor crm.Actor, at time.Time,
	decide func(crm.Enquiry) (crm.Change, error)) (crm.Enquiry, error) {
	var (
		out       crm.Enquiry
		decideErr error
		mailed    bool
	)
	err := d.writer.do(ctx, func(tx *Tx) error {
		out, decideErr, mailed = crm.Enquiry{}, nil, false
		// On PostgreSQL the row is locked first, so that decide sees the version the change will apply to.
		if d.pg {
			if _, err := tx.Exec(`SELECT 1 FROM enquiries e WHERE reference = ?`+d.forUpdate("e"), ref); err != nil {
				return err
			}
		}
		e, err := getEnquiry(ctx, tx, ref)
		if err != nil {
			return err
		}
		c, err := decide(e)
		if err != nil {
			decideErr = err
			return err
		}
		hooks := d.webhooks()
		if err := applyChange(d.writer.cached(tx), e, c, actor, ms(at), hooks); err != nil {
			return err
		}
		mailed = len(c.Mail) > 0 || (hooks != noWebhooks && (c.Status != "" || c.Assign != nil))
		out, err = getEnquiry(ctx, tx, ref)
		return err
	})
	if decideErr != nil {
		return crm.Enquiry{}, decideErr
	}
	if err != nil {
		return crm.Enquiry{}, fmt.Errorf("update enquiry %s: %w", ref, err)
	}
	if mailed {
		d.notifyMailQueued()
	}
	return out, nil
}

// applyChange writes c to the enquiry e with one timeline event per part that changes something, all on tx, and
// unless hooks is noWebhooks, the webhook events of a move and of an assignment (their links made from hooks).
func applyChange(tx writeTx, e crm.Enquiry, c crm.Change, actor crm.Actor, at int64, hooks string) error {
	who := actorID(actor)
	var sets []string
	var args []any
	if c.Status != "" {
		reason := ""
		if c.Status.Closed() {
			reason = c.Reason
		}
		sets = append(sets, "status = ?", "close_reason = ?")
		args = append(args, c.Status, reason)
	}
	if c.FirstContact {
		sets = append(sets, "first_contacted_at = coalesce(first_contacted_at, ?)")
		args = append(args, at)
	}
	if c.ClearFirstContact {
		sets = append(sets, "first_contacted_at = NULL")
	}
	var assignee sql.NullInt64
	if c.Assign != nil {
		assignee = sql.NullInt64{Int64: *c.Assign, Valid: *c.Assign != 0}
		sets = append(sets, "assignee_id = ?")
		args = append(args, assignee)
	}
	if c.Priority != "" {
		sets = append(sets, "priority = ?")
		args = append(args, c.Priority)
	}
	if len(sets) > 0 || c.Note != "" {
		// Every change, a note included, makes a new version: a decision taken on the old one is refused.
		sets = append(sets, "version = version + 1", "updated_at = ?")
		args = append(args, at)
		if _, err := tx.Exec(`UPDATE enquiries SET `+strings.Join(sets, ", ")+` WHERE id = ?`,
			append(args, e.ID)...); err != nil {
			return fmt.Errorf("change enquiry: %w", err)
		}
	}

	event := func(kind string, cols string, vals ...any) error {
		q := `INSERT INTO events (enquiry_id, at, actor_id, kind` + cols + `) VALUES (?, ?, ?, ?` +
			strings.Repeat(", ?", len(vals)) + `)`
		if _, err := tx.Exec(q, append([]any{e.ID, at, who, kind}, vals...)...); err != nil {
			return fmt.Errorf("record %s event: %w", kind, err)
		}
		return nil
	}
	if c.Status != "" {
		reason := c.Reason
		if c.Undoes != "" {
			reason = crm.UndoReason(c.Undoes)
		}
		if err := event("status", ", from_status, to_status, reason", e.Status, c.Status, reason); err != nil {
			return err
		}
	}
	if c.Assign != nil {
		if assignee.Valid {
			if _, err := tx.Exec(`UPDATE staff SET last_assigned_at = ? WHERE id = ?`, at, assignee); err != nil {
				return fmt.Errorf("record assignment: %w", err)
			}
		}
		if err := event("assigned", ", assignee_id", assignee); err != nil {
			return err
		}
	}
	if c.Priority != "" {
		if err := event("priority", ", priority", c.Priority); err != nil {
			return err
		}
	}
	if c.Note != "" {
		var noteID int64
		err := tx.Get(&noteID, `INSERT INTO notes (enquiry_id, author_id, body, created_at) VALUES (?, ?, ?, ?)
			RETURNING id`, e.ID, who, c.Note, at)
		if err != nil {
			return fmt.Errorf("add note: %w", err)
		}
		if err := event("note", ", note_id", noteID); err != nil {
			return err
		}
	}
	for _, m := range c.Mail {
		if err := queueMail(tx, e.ID, m, at); err != nil {
			return fmt.Errorf("queue %s mail: %w", m.Kind, err)
		}
	}
	if hooks != noWebhooks {
		var kinds []crm.MailKind
		if c.Status != "" {
			kinds = append(kinds, crm.WebhookStatusChanged)
		}
		if c.Assign != nil {
			kinds = append(kinds, crm.WebhookAssigned)
		}
		return queueWebhooks(tx, hooks, e.ID, at, kinds...)
	}
	return nil
}

// Timeline implements crm.EnquiryStore: every event of the enquiry, oldest first (at, then id), with the
// actor, assignee and note each names; an unknown enquiry has none, not crm.ErrNotFound. Its only errors are the
// database's (wrapped).
func (d *EnquiryStore) Timeline(ctx context.Context, enquiryID int64) ([]crm.Event, error) {
	var rows []struct {
		ID            int64         `db:"id"`
		At            int64         `db:"at"`
		Kind          string        `db:"kind"`
		From          string        `db:"from_status"`
		To            string        `db:"to_status"`
		Reason        string        `db:"reason"`
		Priority      string        `db:"priority"`
		ActorID       sql.NullInt64 `db:"actor_id"`
		ActorEmail    string        `db:"actor_email"`
		ActorName     string        `db:"actor_name"`
		AssigneeID    sql.NullInt64 `db:"assignee_id"`
		AssigneeEmail string        `db:"assignee_email"`
		AssigneeName  string        `db:"assignee_name"`
		Note          string        `db:"note"`
	}
	err := d.read.SelectContext(ctx, &rows, `SELECT v.id, v.at, v.kind, v.from_status, v.to_status, v.reason,
			v.priority, v.actor_id, coalesce(a.email, '') AS actor_email, coalesce(a.name, '') AS actor_name,
			v.assignee_id, coalesce(s.email, '') AS assignee_email, coalesce(s.name, '') AS assignee_name,
			coalesce(n.body, '') AS note
		FROM events v
		LEFT JOIN staff a ON a.id = v.actor_id
		LEFT JOIN staff s ON s.id = v.assignee_id
		LEFT JOIN notes n ON n.id = v.note_id
		WHERE v.enquiry_id = ?
		ORDER BY v.at, v.id`, enquiryID)
	if err != nil {
		return nil, fmt.Errorf("timeline of enquiry %d: %w", enquiryID, err)
	}
	out := make([]crm.Event, len(rows))
	for i, r := range rows {
		out[i] = crm.Event{
			ID: r.ID, At: fromMS(r.At), Kind: r.Kind, From: crm.Status(r.From), To: crm.Status(r.To),
			Reason: r.Reason, Priority: r.Priority, Actor: staffRef(r.ActorID, r.ActorEmail, r.ActorName),
			Assignee: staffRef(r.AssigneeID, r.AssigneeEmail, r.AssigneeName), Note: r.Note,
		}
	}
	return out, nil
}

// Notes implements crm.EnquiryStore: the enquiry's notes, oldest first (created_at, then id), each with its
// author; an unknown enquiry has none, not crm.ErrNotFound. Its only errors are the database's (wrapped).
func (d *EnquiryStore) Notes(ctx context.Context, enquiryID int64) ([]crm.Note, error) {
	var rows []struct {
		ID          int64         `db:"id"`
		Body        string        `db:"body"`
		CreatedAt   int64         `db:"created_at"`
		AuthorID    sql.NullInt64 `db:"author_id"`
		AuthorEmail string        `db:"author_email"`
		AuthorName  string        `db:"author_name"`
	}
	err := d.read.SelectContext(ctx, &rows, `SELECT n.id, n.body, n.created_at, n.author_id,
			coalesce(s.email, '') AS author_email, coalesce(s.name, '') AS author_name
		FROM notes n LEFT JOIN staff s ON s.id = n.author_id
		WHERE n.enquiry_id = ?
		ORDER BY n.created_at, n.id`, enquiryID)
	if err != nil {
		return nil, fmt.Errorf("notes of enquiry %d: %w", enquiryID, err)
	}
	out := make([]crm.Note, len(rows))
	for i, r := range rows {
		out[i] = crm.Note{ID: r.ID, Body: r.Body, CreatedAt: fromMS(r.CreatedAt),
			Author: staffRef(r.AuthorID, r.AuthorEmail, r.AuthorName)}
	}
	return out, nil
}
