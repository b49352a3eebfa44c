package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/report"
)

// ReportStore reads what the reports and exports need (report.Store), in streams that never sort a large
// table.
type ReportStore struct{ *engine }

var _ report.Store = (*DB)(nil)

// How exports are read
//
// An export is one SELECT on a connection of the read pool, stepped a row at a time as the writer consumes it:
// SQLite keeps the statement's snapshot until it is closed, so the file is consistent however long the client
// takes, and nothing but the current row is held in memory. The query walks the created_at index in order
// (INDEXED BY), filtering as it goes, so SQLite never sorts — a sort of a million rows would be built in memory
// (temp_store = MEMORY) before the first row came out. While it runs, the open snapshot holds WAL checkpoints
// back; journal_size_limit (db.go) trims the WAL once it ends.

// exportSelect reads what an export writes of each enquiry: its own columns, its flags, and its screening as
// one JSON array (one indexed lookup per row; NULL when nothing was answered), with the answers themselves only
// when asked for. The array is built by each engine's JSON functions, in the order of instruments (SQLite
// walks the index on (enquiry_id, instrument)); Scan reads either text alike.
func (d *ReportStore) exportSelect(answers bool) string {
	screening := `CASE WHEN EXISTS (SELECT 1 FROM screenings s WHERE s.enquiry_id = e.id) THEN (SELECT json_group_array(json_object('i', s.instrument, 't', s.total, 'b', s.band%s))
			FROM screenings s WHERE s.enquiry_id = e.id) END`
	answersJSON := `, 'a', json(s.answers)`
	if d.pg {
		// json_agg of no rows is NULL already.
		screening = `(SELECT json_agg(json_build_object('i', s.instrument, 't', s.total, 'b', s.band%s) ORDER BY s.instrument)
			FROM screenings s WHERE s.enquiry_id = e.id)`
		answersJSON = `, 'a', s.answers::json`
	}
	if !answers {
		answersJSON = ""
	}
	return `SELECT e.reference, e.status, e.name, e.email, e.phone, e.preferred_contact, e.treatment,
		e.message, e.date_of_birth, e.referral_source, e.utm_source, e.utm_medium, e.utm_campaign, e.consent_at,
		e.consent_version, e.priority, e.assignee_id, coalesce(a.email, ''), coalesce(a.name, ''), e.close_reason,
		e.created_at, e.updated_at, e.first_contacted_at, e.erased_at IS NOT NULL, e.flag_risk_at, e.flag_review_at,
		` + fmt.Sprintf(screening, answersJSON) + `
	FROM enquiries e` + d.indexedBy("enquiries_created") + `
	LEFT JOIN staff a ON a.id = e.assignee_id`
}

// exportWhere is q as a WHERE clause on e.
func exportWhere(q report.Query) sqlBuilder {
	var b sqlBuilder
	if !q.From.IsZero() {
		b.add("e.created_at >= ?", ms(q.From))
	}
	if !q.To.IsZero() {
		b.add("e.created_at < ?", ms(q.To))
	}
	if len(q.Statuses) > 0 {
		b.add("e.status IN (?"+strings.Repeat(", ?", len(q.Statuses)-1)+")", anys(q.Statuses)...)
	} else {
		b.add("e.status <> ?", crm.StatusSpam)
	}
	if q.Treatment != "" {
		b.add("e.treatment = ?", q.Treatment)
	}
	switch {
	case q.Unassigned:
		b.add("e.assignee_id IS NULL")
	case q.AssigneeID != 0:
		b.add("e.assignee_id = ?", q.AssigneeID)
	}
	return b
}

// ExportEnquiries implements report.Store: one statement, so one snapshot on both engines, streamed a row at a
// time (on SQLite the open rows hold WAL checkpoints back until closed). Spam is left out unless q names its
// status. Its only errors, here and from the rows, are the database's.
func (d *ReportStore) ExportEnquiries(ctx context.Context, q report.Query) (report.Rows, error) {
	b := exportWhere(q)
	rows, err := d.read.QueryContext(ctx, d.exportSelect(q.Answers)+` WHERE `+b.where()+` ORDER BY e.created_at, e.id`, b.args...)
	if err != nil {
		return nil, fmt.Errorf("export enquiries: %w", err)
	}
	return &exportRows{rows: rows}, nil
}

// CountExport implements report.Store: the count of what ExportEnquiries(q) would read, from a snapshot of its
// own (a row may arrive in between). Its only errors are the database's (wrapped).
func (d *ReportStore) CountExport(ctx context.Context, q report.Query) (int, error) {
	b := exportWhere(q)
	var n int
	if err := d.read.GetContext(ctx, &n, `SELECT count(*) FROM enquiries e WHERE `+b.where(), b.args...); err != nil {
		return 0, fmt.Errorf("count export: %w", err)
	}
	return n, nil
}

// exportRows reads an export's rows into a reused set of scan targets.
type exportRows struct {
	rows *sql.Rows
	r    struct {
		status, preferred, priority, treatment, referral string
		assigneeID                                       sql.NullInt64
		assigneeEmail, assigneeName                      string
		consentAt, createdAt, updatedAt                  int64
		firstContacted, riskAt, reviewAt                 sql.NullInt64
		erased                                           bool
		screening                                        sql.NullString
	}
	assignee  crm.StaffRef
	screening []crm.Screening
}

// Screening implements report.Rows.
func (x *exportRows) Screening() []crm.Screening { return x.screening }

// exportScreening is one questionnaire of exportSelect's JSON array.
type exportScreening struct {
	Instrument string          `json:"i"`
	Total      *int            `json:"t"`
	Band       string          `json:"b"`
	Answers    json.RawMessage `json:"a"`
}

func (x *exportRows) Next() bool   { return x.rows.Next() }
func (x *exportRows) Err() error   { return x.rows.Err() }
func (x *exportRows) Close() error { return x.rows.Close() }

// Scan fills e; e.Assignee points into the rows and is valid until the next Scan.
func (x *exportRows) Scan(e *crm.Enquiry) error {
	r := &x.r
	*e = crm.Enquiry{}
	if err := x.rows.Scan(&e.Reference, &r.status, &e.Name, &e.Email, &e.Phone, &r.preferred, &r.treatment,
		&e.Message, &e.DateOfBirth, &r.referral, &e.UTMSource, &e.UTMMedium, &e.UTMCampaign, &r.consentAt,
		&e.ConsentVersion, &r.priority, &r.assigneeID, &r.assigneeEmail, &r.assigneeName, &e.CloseReason,
		&r.createdAt, &r.updatedAt, &r.firstContacted, &r.erased, &r.riskAt, &r.reviewAt, &r.screening); err != nil {
		return err
	}
	e.RiskAt, e.ReviewAt = nullMS(r.riskAt), nullMS(r.reviewAt)
	x.screening = x.screening[:0]
	if r.screening.Valid {
		var list []exportScreening
		if err := json.Unmarshal([]byte(r.screening.String), &list); err != nil {
			return fmt.Errorf("read screening of %s: %w", e.Reference, err)
		}
		for _, l := range list {
			s := crm.Screening{Instrument: l.Instrument, Band: l.Band}
			if l.Total != nil {
				s.Total = *l.Total
			}
			if len(l.Answers) > 0 {
				var err error
				if l.Instrument == crm.SafetyInstrument {
					err = json.Unmarshal(l.Answers, &s.Safety)
				} else {
					err = json.Unmarshal(l.Answers, &s.Answers)
				}
				if err != nil {
					return fmt.Errorf("read %s answers of %s: %w", l.Instrument, e.Reference, err)
				}
			}
			x.screening = append(x.screening, s)
		}
	}
	e.Status, e.PreferredContact, e.Priority = crm.Status(r.status), r.preferred, r.priority
	e.Treatment, e.ReferralSource = r.treatment, r.referral
	e.ConsentAt, e.CreatedAt, e.UpdatedAt = fromMS(r.consentAt), fromMS(r.createdAt), fromMS(r.updatedAt)
	if r.firstContacted.Valid {
		t := fromMS(r.firstContacted.Int64)
		e.FirstContactedAt = &t
	}
	if r.assigneeID.Valid {
		x.assignee = crm.StaffRef{ID: r.assigneeID.Int64, Email: r.assigneeEmail, Name: r.assigneeName}
		e.Assignee = &x.assignee
	}
	e.Erased = r.erased
	return nil
}

// stageRank is SQL giving an active status's place in the pipeline (crm.ActiveStatuses), or -1.
func stageRank(col string) string {
	var b strings.Builder
	b.WriteString("CASE " + col)
	for i, s := range crm.ActiveStatuses {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", s, i)
	}
	b.WriteString(" ELSE -1 END")
	return b.String()
}

// factsSelect reads a report.Fact per enquiry; furthest is the highest rank its status events name (the
// larger of two values is max(a, b) on SQLite, greatest(a, b) on PostgreSQL, whose max is the aggregate only).
func (d *ReportStore) factsSelect() string {
	larger := "max"
	if d.pg {
		larger = "greatest"
	}
	return `SELECT e.created_at, e.first_contacted_at, e.status, e.treatment, e.referral_source, e.utm_source,
		e.utm_medium, e.utm_campaign, e.assignee_id, coalesce(a.email, ''), coalesce(a.name, ''), e.close_reason,
		coalesce((SELECT max(` + larger + `(` + stageRank("ev.from_status") + `, ` + stageRank("ev.to_status") + `))
			FROM events ev WHERE ev.enquiry_id = e.id AND ev.kind = 'status'), -1), e.flag_risk_at
	FROM enquiries e` + d.indexedBy("enquiries_created") + `
	LEFT JOIN staff a ON a.id = e.assignee_id
	WHERE e.created_at >= ? AND e.created_at < ?`
}

// ReportFacts implements report.Store: one statement over the created_at index, a row at a time. fn's error is
// returned unwrapped; the others are the database's (wrapped).
func (d *ReportStore) ReportFacts(ctx context.Context, from, to time.Time, fn func(*report.Fact) error) error {
	rows, err := d.read.QueryContext(ctx, d.factsSelect(), ms(from), ms(to))
	if err != nil {
		return fmt.Errorf("report facts: %w", err)
	}
	defer rows.Close()
	var (
		f                       report.Fact
		createdAt               int64
		contacted, assigneeID   sql.NullInt64
		riskAt                  sql.NullInt64
		status, treat, referral string
		furthest                int
	)
	for rows.Next() {
		f = report.Fact{}
		if err := rows.Scan(&createdAt, &contacted, &status, &treat, &referral, &f.UTMSource, &f.UTMMedium,
			&f.UTMCampaign, &assigneeID, &f.Assignee.Email, &f.Assignee.Name, &f.CloseReason, &furthest, &riskAt); err != nil {
			return fmt.Errorf("report facts: %w", err)
		}
		f.CreatedAt = fromMS(createdAt)
		if riskAt.Valid {
			f.RiskAt = fromMS(riskAt.Int64)
		}
		if contacted.Valid {
			f.FirstContactedAt = fromMS(contacted.Int64)
		}
		f.Status, f.Treatment, f.ReferralSource = crm.Status(status), treat, referral
		f.Assignee.ID = assigneeID.Int64
		if furthest >= 0 && furthest < len(crm.ActiveStatuses) {
			f.Furthest = crm.ActiveStatuses[furthest]
		}
		if err := fn(&f); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("report facts: %w", err)
	}
	return nil
}

// Workload implements report.Store: one grouped count over the active statuses. The assignee's email and name
// are grouped by too: PostgreSQL allows only grouped columns (and those of a grouped primary key) beside the
// aggregates, and they follow from the assignee anyway. Its only errors are the database's (wrapped).
func (d *ReportStore) Workload(ctx context.Context, overdueBefore time.Time) ([]report.WorkloadCount, error) {
	var rows []struct {
		AssigneeID sql.NullInt64 `db:"assignee_id"`
		Email      string        `db:"email"`
		Name       string        `db:"name"`
		Status     string        `db:"status"`
		Count      int           `db:"n"`
		Overdue    int           `db:"overdue"`
	}
	err := d.read.SelectContext(ctx, &rows, `SELECT e.assignee_id, coalesce(a.email, '') AS email,
			coalesce(a.name, '') AS name, e.status, count(*) AS n,
			count(*) FILTER (WHERE e.status = 'new' AND e.created_at < ?) AS overdue
		FROM enquiries e LEFT JOIN staff a ON a.id = e.assignee_id
		WHERE e.status IN (`+strings.Repeat("?, ", len(crm.ActiveStatuses)-1)+`?)
		GROUP BY e.assignee_id, a.email, a.name, e.status`, append([]any{ms(overdueBefore)}, anys(crm.ActiveStatuses)...)...)
	if err != nil {
		return nil, fmt.Errorf("workload: %w", err)
	}
	out := make([]report.WorkloadCount, len(rows))
	for i, r := range rows {
		out[i] = report.WorkloadCount{Assignee: crm.StaffRef{ID: r.AssigneeID.Int64, Email: r.Email, Name: r.Name},
			Status: crm.Status(r.Status), Count: r.Count, Overdue: r.Overdue}
	}
	return out, nil
}
