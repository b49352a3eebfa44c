// Package report is what administrators take out of Frontdesk: the enquiries as CSV or Excel files, streamed
// from the database a row at a time, and the figures of the pipeline — the funnel, the time to first contact,
// where enquiries come from, and each clinician's workload. It declares the storage it needs (Store), which
// package db implements, and checks roles itself: only administrators (and Frontdesk itself, for the command
// line) may use it. It writes CSV itself; the Excel workbook is written by package crm/report/xlsx, which cmd
// hands to the service (Config.XLSX), so db and web never depend on it.
//
// Exports contain patients' health data: the treatment they asked about, their message and date of birth. Every
// export is recorded in the audit log with who made it, its filters and its row count.
package report

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	opening "github.com/frontdesk/frontdesk/crm/hours"
)

// Query selects enquiries for an export. The zero value selects every enquiry but spam.
type Query struct {
	// From and To bound created_at: From <= created_at < To (zero: unbounded).
	From, To time.Time
	// Statuses, when not empty, keeps those statuses only; otherwise spam is left out.
	Statuses []crm.Status
	// Treatment, when not "", keeps that treatment only.
	Treatment string
	// AssigneeID keeps one member of staff's enquiries; Unassigned keeps the unassigned ones.
	AssigneeID int64
	Unassigned bool
	// Answers asks for the screening answers themselves, besides the totals and bands.
	Answers bool
}

// Rows is an open export: the enquiries a Query selects, read one at a time from one read snapshot. Like
// sql.Rows, Next advances, Scan reads the current row, Err reports what stopped Next early, and Close must be
// called (it is safe to call twice).
type Rows interface {
	// Next advances to the next enquiry; false at the end or on an error (see Err).
	Next() bool
	// Scan fills e with the current enquiry: every field an export writes (its UpdatedAt and Version, and what
	// the workspace derives, may be left zero). It overwrites all of e, so one Enquiry may be reused for every
	// row.
	Scan(e *crm.Enquiry) error
	// Screening returns the questionnaires answered with the current enquiry, as Scan last read it (valid until
	// the next Scan): each with its total and band, and its answers only when the Query asked for Answers.
	Screening() []crm.Screening
	// Err is the error that ended Next early, or nil.
	Err() error
	// Close releases the read snapshot and its connection.
	Close() error
}

// Fact is what the reports need of one enquiry.
type Fact struct {
	CreatedAt time.Time
	// FirstContactedAt is when it first left "new" (zero: not yet).
	FirstContactedAt time.Time
	Status           crm.Status
	// Furthest is the furthest active status its status events name, as from or to status ("" when none does).
	Furthest       crm.Status
	Treatment      string
	ReferralSource string
	UTMSource      string
	UTMMedium      string
	UTMCampaign    string
	// Assignee is its current assignee (ID 0: unassigned).
	Assignee    crm.StaffRef
	CloseReason string
	// RiskAt is when it was flagged risk (zero: it is not).
	RiskAt time.Time
}

// WorkloadCount is how many active enquiries one assignee holds in one status.
type WorkloadCount struct {
	// Assignee is the member of staff (ID 0: unassigned).
	Assignee crm.StaffRef
	Status   crm.Status
	Count    int
	// Overdue is how many of them are new and were created before the overdue time asked for.
	Overdue int
}

// Store is the storage reports and exports read. Every method reads; none writes.
type Store interface {
	// ExportEnquiries starts reading the enquiries q selects, oldest first (created_at, then ID), from one read
	// snapshot, and returns them to be read one at a time: it holds no more than the current row in memory,
	// and never sorts, whatever the number of rows. The caller must Close the rows. An error here means nothing
	// was read.
	ExportEnquiries(ctx context.Context, q Query) (Rows, error)
	// CountExport returns how many enquiries q selects.
	CountExport(ctx context.Context, q Query) (int, error)
	// ReportFacts calls fn once for each enquiry created in [from, to), spam included, in no particular order,
	// from one read snapshot. It stops at fn's first error and returns it unwrapped.
	ReportFacts(ctx context.Context, from, to time.Time, fn func(*Fact) error) error
	// Workload counts the active enquiries per assignee and status; Overdue counts the new ones created before
	// overdueBefore. Pairs with no enquiry are left out.
	Workload(ctx context.Context, overdueBefore time.Time) ([]WorkloadCount, error)
}

// MaxConcurrentExports is how many exports may read the database at once; more wait their turn, so exports
// can never take every connection of the read pool from the staff's pages.
const MaxConcurrentExports = 2

// MaxReportDays is the longest date range a report covers.
const MaxReportDays = 731

// Config are the clinic's settings the reports apply.
type Config struct {
	// FirstContact is the target for first contact (FRONTDESK_FIRST_CONTACT_HOURS); default 24 hours.
	FirstContact time.Duration
	// UrgentContact is the first-contact target of an enquiry flagged risk, from its flag
	// (FRONTDESK_URGENT_CONTACT_HOURS); default crm.DefaultUrgentContactHours.
	UrgentContact time.Duration
	// OpeningHours, when not nil, are the clinic's opening hours (FRONTDESK_OPENING_HOURS): the targets, the
	// overdue counts and the times to first contact then count only the time the clinic is open.
	OpeningHours *opening.Schedule
	// Location is the clinic's time zone: dates in filters are its local dates, weeks start on its Mondays,
	// and exported times are written in it. Default time.Local.
	Location *time.Location
	// XLSX writes Excel exports: package crm/report/xlsx's Write, wired by cmd. Without it an Excel export is
	// refused (an InputError naming "format"); CSV needs nothing.
	XLSX SheetWriter
}

// Service makes reports and exports for administrators.
type Service struct {
	store  Store
	staff  crm.StaffStore
	audit  crm.AuditStore
	target time.Duration
	urgent time.Duration
	hours  *opening.Schedule
	loc    *time.Location
	now    func() time.Time
	log    *slog.Logger
	slots  chan struct{}
	xlsx   SheetWriter
}

// New returns the reports and exports service over the given stores.
func New(store Store, staff crm.StaffStore, audit crm.AuditStore, cfg Config, log *slog.Logger) *Service {
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.FirstContact <= 0 {
		cfg.FirstContact = 24 * time.Hour
	}
	if cfg.UrgentContact <= 0 {
		cfg.UrgentContact = crm.DefaultUrgentContactHours * time.Hour
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: store, staff: staff, audit: audit, target: cfg.FirstContact, urgent: cfg.UrgentContact,
		hours: cfg.OpeningHours, loc: cfg.Location,
		now: time.Now, log: log, slots: make(chan struct{}, MaxConcurrentExports), xlsx: cfg.XLSX}
}

// SetClock replaces the service's clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Location is the clinic's time zone the service writes dates in.
func (s *Service) Location() *time.Location { return s.loc }

// FirstContactTarget is the promised time to first contact.
func (s *Service) FirstContactTarget() time.Duration { return s.target }

// UrgentContactTarget is the promised time to first contact of an enquiry flagged risk, from its flag.
func (s *Service) UrgentContactTarget() time.Duration { return s.urgent }

// OpeningHours are the clinic's opening hours the targets count (nil: round the clock).
func (s *Service) OpeningHours() *opening.Schedule { return s.hours }

// allowed returns ErrForbidden unless the actor is an administrator (crm.System is one).
func allowed(actor crm.Actor) error {
	if actor.Role != crm.RoleAdmin {
		return fmt.Errorf("%w: reports and exports are for administrators", crm.ErrForbidden)
	}
	return nil
}

// Filter is an export's selection as people and scripts ask for it; every field is optional text, checked by
// the service.
type Filter struct {
	// From and To are YYYY-MM-DD dates in the clinic's time zone, both inclusive.
	From string
	To   string
	// Status is one status, or several separated by commas; "" is every status but spam.
	Status string
	// Treatment is a treatment code such as adhd.
	Treatment string
	// Assignee is a member of staff's email, or "none" for unassigned enquiries.
	Assignee string
	// Answers is "true" to add the screening answers, item by item (phq9_1…, safety_<key>); "" or "false"
	// leaves them out (the totals, bands and flags are always there).
	Answers string
}

// String describes the filter for the audit log: "from 2026-11-01 to 2026-11-30, status new" or "all".
func (f Filter) String() string {
	var parts []string
	add := func(name, v string) {
		if v = strings.TrimSpace(v); v != "" {
			parts = append(parts, name+" "+v)
		}
	}
	add("from", f.From)
	add("to", f.To)
	add("status", f.Status)
	add("treatment", f.Treatment)
	add("assignee", f.Assignee)
	if answers, _ := parseAnswers(f.Answers); answers {
		parts = append(parts, "with screening answers")
	}
	if len(parts) == 0 {
		return "all enquiries"
	}
	return strings.Join(parts, ", ")
}

const dateLayout = "2006-01-02"

// exportWords words a filter's problems beside the export form's fields (and after the command line's flags).
func exportWords(p crm.FilterProblem) string {
	switch {
	case p.Kind == crm.FilterBadDate && p.Field == "from":
		return fmt.Sprintf("Give the start date as YYYY-MM-DD, for example 2026-11-01 (not %q).", p.Value)
	case p.Kind == crm.FilterBadDate:
		return fmt.Sprintf("Give the end date as YYYY-MM-DD, for example 2026-11-30 (not %q).", p.Value)
	case p.Kind == crm.FilterEndBeforeStart:
		return "The end date must not be before the start date."
	case p.Kind == crm.FilterUnknownStatus:
		return fmt.Sprintf("Unknown status %q: use one of %s.", p.Value, statusList())
	case p.Kind == crm.FilterUnknownTreatment:
		return fmt.Sprintf("Unknown treatment %q: use adhd, depression, anxiety, ptsd, addiction, chronic_pain or other.", p.Value)
	case p.Kind == crm.FilterUnknownAssignee:
		return fmt.Sprintf("No member of staff has the email %q.", p.Value)
	}
	return "Check this value."
}

// query turns a filter into a store query, or an InputError naming each bad field.
func (s *Service) query(ctx context.Context, f Filter) (Query, error) {
	var q Query
	sel, problems := crm.ParseEnquiryFilter(crm.EnquiryFilter{From: f.From, To: f.To, Status: f.Status,
		Treatment: f.Treatment, Assignee: f.Assignee}, s.loc)
	unknown, err := sel.FindAssignee(ctx, s.staff)
	if err != nil {
		return q, err
	}
	errs := crm.InputError{}
	append(problems, unknown...).WordInto(errs, exportWords)
	q.From, q.To, q.Statuses, q.Treatment = sel.From, sel.To, sel.Statuses, sel.Treatment
	q.AssigneeID, q.Unassigned = sel.AssigneeID, sel.Unassigned
	var ok bool
	if q.Answers, ok = parseAnswers(f.Answers); !ok {
		errs["answers"] = fmt.Sprintf("answers must be true or false, not %q.", strings.TrimSpace(f.Answers))
	}
	if len(errs) > 0 {
		return q, errs
	}
	return q, nil
}

// parseAnswers reads the Answers filter: true, false, or "" for false; ok is false for anything else.
func parseAnswers(v string) (answers, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "0", "no", "off":
		return false, true
	case "true", "1", "yes", "on":
		return true, true
	}
	return false, false
}

func statusList() string {
	names := make([]string, len(crm.AllStatuses))
	for i, st := range crm.AllStatuses {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}

// record writes one audit entry for the actor; Frontdesk itself is recorded without an actor.
func (s *Service) record(ctx context.Context, actor crm.Actor, action, detail string) error {
	if err := s.audit.RecordAudit(ctx, crm.AuditEntry{At: s.now().UTC(), Actor: actor.Ref(), Action: action, Detail: detail}); err != nil {
		return fmt.Errorf("record %s: %w", action, err)
	}
	return nil
}
