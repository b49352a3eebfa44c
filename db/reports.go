package db

import (
	"context"
	"database/sql"
	"errors"
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
// An export is read in one read transaction, so one snapshot of the database on both engines however long the
// client takes: the staff first (a handful of rows, kept in a map, so the rows carry an assignee's id rather
// than a join's two strings), then one SELECT of the enquiries stepped a row at a time as the writer consumes
// it; nothing but the current row is held in memory. The query walks the created_at index in order
// (INDEXED BY), filtering as it goes, so SQLite never sorts — a sort of a million rows would be built in memory
// (temp_store = MEMORY) before the first row came out. While it runs, the open snapshot holds WAL checkpoints
// back; journal_size_limit (db.go) trims the WAL once it ends.
//
// Screening answers. On PostgreSQL each row carries its screening as one JSON array (a correlated aggregate).
// On SQLite that subquery was the largest part of reading a row — an index probe for every enquiry, and for
// those with answers a second probe and a JSON array built and parsed again — so the export reads the
// screenings instead in one pass over their (enquiry_id, instrument) index, beside the enquiries, on the same
// transaction (screeningMerge): enquiries come in created_at order, which is id order unless an enquiry was
// stored out of turn, and such an enquiry's screenings are read with one indexed lookup of its own.

// exportColumns are the enquiry's columns that an export writes, in the order exportRows.Scan reads them. The
// five enumerations come as one text, e.g. "contacted,phone,adhd,gp,normal" (their CHECKs allow lower-case
// letters and underscores only): the driver makes a string, and an interface to hold it, for every text column
// of every row, and these five were half of them.
const exportColumns = `e.id, e.reference, e.status || ',' || e.preferred_contact || ',' || e.treatment || ',' ||
		e.referral_source || ',' || e.priority, e.name, e.email, e.phone, e.message, e.date_of_birth, e.utm_source,
		e.utm_medium, e.utm_campaign, e.consent_at, e.consent_version, e.assignee_id, e.close_reason, e.created_at,
		e.first_contacted_at, e.erased_at IS NOT NULL, e.flag_risk_at, e.flag_review_at, e.ok_to_leave_message`

// exportSelect reads what an export writes of each enquiry: its own columns and its flags, and on PostgreSQL
// its screening as one JSON array (NULL when nothing was answered), with the answers themselves only when
// asked for.
func (d *ReportStore) exportSelect(answers bool) string {
	if !d.pg {
		return `SELECT ` + exportColumns + ` FROM enquiries e` + d.indexedBy("enquiries_created")
	}
	answersJSON := `, 'a', s.answers::json`
	if !answers {
		answersJSON = ""
	}
	// json_agg of no rows is NULL already.
	return `SELECT ` + exportColumns + `,
		(SELECT json_agg(json_build_object('i', s.instrument, 't', s.total, 'b', s.band` + answersJSON + `) ORDER BY s.instrument)
			FROM screenings s WHERE s.enquiry_id = e.id)
	FROM enquiries e`
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

// ExportEnquiries implements report.Store: one read transaction, so one snapshot on both engines, streamed a
// row at a time (on SQLite the open transaction holds WAL checkpoints back until closed). Spam is left out
// unless q names its status. Its only errors, here and from the rows, are the database's, or stored answers
// that do not decode.
func (d *ReportStore) ExportEnquiries(ctx context.Context, q report.Query) (report.Rows, error) {
	tx, err := d.snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("export enquiries: %w", err)
	}
	x := &exportRows{tx: tx, pg: d.pg, staff: map[int64]*crm.StaffRef{}}
	var staff []struct {
		ID    int64  `db:"id"`
		Email string `db:"email"`
		Name  string `db:"name"`
	}
	if err := tx.SelectContext(ctx, &staff, `SELECT id, email, name FROM staff`); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("export enquiries: read staff: %w", err)
	}
	for _, s := range staff {
		x.staff[s.ID] = &crm.StaffRef{ID: s.ID, Email: s.Email, Name: s.Name}
	}
	b := exportWhere(q)
	if x.rows, err = tx.QueryContext(ctx, d.exportSelect(q.Answers)+` WHERE `+b.where()+` ORDER BY e.created_at, e.id`, b.args...); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("export enquiries: %w", err)
	}
	if !d.pg {
		x.merge = &screeningMerge{ctx: ctx, tx: tx, answers: q.Answers}
	}
	columns, err := x.rows.Columns()
	if err != nil {
		x.Close()
		return nil, fmt.Errorf("export enquiries: %w", err)
	}
	x.vals, x.dest = make([]any, len(columns)), make([]any, len(columns))
	for i := range x.vals {
		x.dest[i] = &x.vals[i]
	}
	return x, nil
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

// exportRows reads an export's rows. Each column is scanned into an any, as the driver gives it (database/sql
// then assigns it without converting), and taken apart by type in Scan: no reflection, and no string made
// twice.
type exportRows struct {
	tx        *Tx
	pg        bool
	rows      *sql.Rows
	vals      []any // the current row, one value per column
	dest      []any // pointers to vals, for Scan
	staff     map[int64]*crm.StaffRef
	merge     *screeningMerge // SQLite: the screenings, read beside the rows
	screening []crm.Screening
	err       error
	closed    bool
}

// Screening implements report.Rows.
func (x *exportRows) Screening() []crm.Screening { return x.screening }

func (x *exportRows) Next() bool { return x.err == nil && x.rows.Next() }

func (x *exportRows) Err() error {
	if x.err != nil {
		return x.err
	}
	return x.rows.Err()
}

// Close closes the statements and ends the read transaction.
func (x *exportRows) Close() error {
	if x.closed {
		return nil
	}
	x.closed = true
	err := x.merge.close()
	err = errors.Join(err, x.rows.Close())
	if rerr := x.tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
		err = errors.Join(err, rerr)
	}
	return err
}

// exportValue reads a value of the row as a Go value of its column's kind; it records a value of any other
// type in r.err, which Scan returns.
type exportValue struct {
	vals []any
	err  error
}

func (r *exportValue) text(i int) string {
	switch v := r.vals[i].(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case nil:
		return ""
	}
	r.bad(i)
	return ""
}

// integer is the column's integer, and false for NULL.
func (r *exportValue) integer(i int) (int64, bool) {
	switch v := r.vals[i].(type) {
	case int64:
		return v, true
	case nil:
		return 0, false
	}
	r.bad(i)
	return 0, false
}

func (r *exportValue) boolean(i int) bool {
	switch v := r.vals[i].(type) {
	case bool:
		return v
	case int64:
		return v != 0
	}
	r.bad(i)
	return false
}

// time is the column's time, and the zero time for NULL.
func (r *exportValue) time(i int) time.Time {
	if v, ok := r.integer(i); ok {
		return fromMS(v)
	}
	return time.Time{}
}

// nullTime is the column's time, and nil for NULL.
func (r *exportValue) nullTime(i int) *time.Time {
	if v, ok := r.integer(i); ok {
		t := fromMS(v)
		return &t
	}
	return nil
}

func (r *exportValue) bad(i int) {
	if r.err == nil {
		r.err = fmt.Errorf("column %d is a %T", i+1, r.vals[i])
	}
}

// Scan fills e with every field an export writes (not UpdatedAt, Version or what the workspace derives);
// e.Assignee is shared by every row with that assignee and must not be changed.
func (x *exportRows) Scan(e *crm.Enquiry) error {
	if err := x.rows.Scan(x.dest...); err != nil {
		return err
	}
	r := exportValue{vals: x.vals}
	id, _ := r.integer(0)
	enums := r.text(2)
	status, enums, _ := strings.Cut(enums, ",")
	preferred, enums, _ := strings.Cut(enums, ",")
	treatment, enums, _ := strings.Cut(enums, ",")
	referral, priority, ok := strings.Cut(enums, ",")
	if !ok && r.err == nil {
		r.err = fmt.Errorf("column 3 is %q, not five values", r.text(2))
	}
	*e = crm.Enquiry{ID: id, Reference: r.text(1), Status: crm.Status(status), PreferredContact: preferred,
		Treatment: treatment, ReferralSource: referral, Priority: priority, Name: r.text(3), Email: r.text(4),
		Phone: r.text(5), Message: r.text(6), DateOfBirth: r.text(7), UTMSource: r.text(8), UTMMedium: r.text(9),
		UTMCampaign: r.text(10), ConsentAt: r.time(11), ConsentVersion: r.text(12), CloseReason: r.text(14),
		CreatedAt: r.time(15), FirstContactedAt: r.nullTime(16), Erased: r.boolean(17), RiskAt: r.nullTime(18),
		ReviewAt: r.nullTime(19), OKToLeaveMessage: r.boolean(20)}
	if assignee, ok := r.integer(13); ok {
		if e.Assignee = x.staff[assignee]; e.Assignee == nil { // not in the snapshot's staff: the foreign key forbids it
			e.Assignee = &crm.StaffRef{ID: assignee}
		}
	}
	if r.err != nil {
		return fmt.Errorf("read export row %s: %w", e.Reference, r.err)
	}
	var err error
	x.screening = x.screening[:0]
	if x.pg {
		x.screening, err = screeningsFromJSON(x.screening, r.text(21))
	} else {
		x.screening, err = x.merge.of(id, x.screening)
	}
	if err != nil {
		x.err = fmt.Errorf("read screening of %s: %w", e.Reference, err)
		return x.err
	}
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
// An undone move is left out, and so is its undo (crm.UndoMove): the undo is the enquiry's next status event,
// back from the move's status to where it came from, with a reason that starts with crm.UndoReasonPrefix.
func (d *ReportStore) factsSelect() string {
	larger := "max"
	if d.pg {
		larger = "greatest"
	}
	undo := `'` + crm.UndoReasonPrefix + `%'`
	return `SELECT e.created_at, e.first_contacted_at, e.status, e.treatment, e.referral_source, e.utm_source,
		e.utm_medium, e.utm_campaign, e.assignee_id, coalesce(a.email, ''), coalesce(a.name, ''), e.close_reason,
		coalesce((SELECT max(` + larger + `(` + stageRank("ev.from_status") + `, ` + stageRank("ev.to_status") + `))
			FROM events ev WHERE ev.enquiry_id = e.id AND ev.kind = 'status' AND ev.reason NOT LIKE ` + undo + `
				AND NOT EXISTS (SELECT 1 FROM events u WHERE u.enquiry_id = ev.enquiry_id AND u.id > ev.id
					AND u.kind = 'status' AND u.from_status = ev.to_status AND u.to_status = ev.from_status
					AND u.reason LIKE ` + undo + `)), -1), e.flag_risk_at
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
