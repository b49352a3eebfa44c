package crm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/frontdesk/frontdesk/intake"
	"golang.org/x/sync/errgroup"
)

// MaxNoteLength is the longest note accepted, in characters.
const MaxNoteLength = 10000

// MaxReasonLength is the longest reason for a status change.
const MaxReasonLength = 1000

// BoardCardLimit is how many cards each board column shows; the column's count and a link to the full list
// cover the rest. A screenful or two is what anyone works from, and it keeps the board quick to draw.
const BoardCardLimit = 25

// boardCountCap bounds each column's count, so the board stays instant with a million enquiries.
const boardCountCap = 1000

// Workspace is the staff's view of the pipeline: listing, reading, moving, assigning and annotating enquiries.
// Every method checks the actor's role here, not only in handlers: an enquiry the actor may not see is
// ErrNotFound, an action their role may not take is ErrForbidden.
type Workspace struct {
	enquiries    EnquiryStore
	staff        StaffStore
	audit        AuditStore
	firstContact time.Duration
	inbox        string
	loc          *time.Location
	now          func() time.Time
	log          *slog.Logger
}

// WorkspaceConfig are the clinic's settings the workspace applies.
type WorkspaceConfig struct {
	// FirstContact is the target for first contact; past it a new enquiry is overdue.
	FirstContact time.Duration
	// IntakeInbox is told of overdue unassigned enquiries ("" for nobody).
	IntakeInbox string
	// Location is the clinic's time zone: date filters are its local dates.
	Location *time.Location
}

// NewWorkspace returns the workspace over the given stores.
func NewWorkspace(e EnquiryStore, s StaffStore, a AuditStore, cfg WorkspaceConfig, log *slog.Logger) *Workspace {
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.FirstContact <= 0 {
		cfg.FirstContact = 24 * time.Hour
	}
	return &Workspace{enquiries: e, staff: s, audit: a, firstContact: cfg.FirstContact, inbox: cfg.IntakeInbox,
		loc: cfg.Location, now: time.Now, log: log}
}

// SetClock replaces the workspace's clock (tests, and the demo, which backdates).
func (w *Workspace) SetClock(now func() time.Time) { w.now = now }

// FirstContactTarget is the promised time to first contact.
func (w *Workspace) FirstContactTarget() time.Duration { return w.firstContact }

// annotate sets the fields the workspace derives: the first-contact due time and whether it has passed.
func (w *Workspace) annotate(e *Enquiry, now time.Time) {
	e.FirstContactDue = e.CreatedAt.Add(w.firstContact)
	e.Overdue = e.Status == StatusNew && now.After(e.FirstContactDue)
}

// ListFilter is a listing as people and API clients ask for it; every field is optional text, checked by
// List. Dates are YYYY-MM-DD in the clinic's time zone, inclusive.
type ListFilter struct {
	Status    string // one status, or several separated by commas
	Treatment string
	Assignee  string // an email, "me", or "none" for unassigned
	Q         string
	From      string
	To        string
	Overdue   string // "true" keeps overdue enquiries only
	Cursor    string
	Limit     int
}

// query turns a filter into a store query for the actor, or an InputError naming each bad field.
func (w *Workspace) query(ctx context.Context, actor Actor, f ListFilter) (ListQuery, error) {
	var q ListQuery
	errs := InputError{}
	for _, s := range strings.Split(f.Status, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		st := Status(s)
		if !st.Valid() {
			errs["status"] = fmt.Sprintf("Unknown status %q.", s)
			continue
		}
		q.Statuses = append(q.Statuses, st)
	}
	if f.Treatment != "" {
		if intake.Label(intake.Treatments, f.Treatment) == f.Treatment {
			errs["treatment"] = fmt.Sprintf("Unknown treatment %q.", f.Treatment)
		}
		q.Treatment = f.Treatment
	}
	switch a := strings.ToLower(strings.TrimSpace(f.Assignee)); a {
	case "":
	case "none", "unassigned":
		q.Unassigned = true
	case "me":
		q.AssigneeID = actor.ID
	default:
		s, _, err := w.staff.StaffByEmail(ctx, a)
		switch {
		case errors.Is(err, ErrNotFound):
			errs["assignee"] = fmt.Sprintf("No member of staff has the email %q.", a)
		case err != nil:
			return q, err
		default:
			q.AssigneeID = s.ID
		}
	}
	var err error
	if q.From, err = w.parseDate(f.From); err != nil {
		errs["from"] = "Give the date as YYYY-MM-DD."
	}
	if q.To, err = w.parseDate(f.To); err != nil {
		errs["to"] = "Give the date as YYYY-MM-DD."
	} else if !q.To.IsZero() {
		q.To = q.To.AddDate(0, 0, 1) // inclusive: up to the end of that day
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) && errs["to"] == "" {
		errs["to"] = "The end date must not be before the start date."
	}
	switch strings.ToLower(f.Overdue) {
	case "", "false", "0":
	case "true", "1", "on":
		q.OverdueBefore = w.now().Add(-w.firstContact)
	default:
		errs["overdue"] = "overdue must be true or false."
	}
	if len(f.Q) > 200 {
		errs["q"] = "Search for at most 200 characters."
	}
	q.Text = strings.TrimSpace(f.Q)
	q.Cursor = f.Cursor
	q.Limit = f.Limit
	if !actor.SeesAll() {
		q.VisibleTo = actor.ID
		if slices.Contains(q.Statuses, StatusSpam) {
			errs["status"] = "Spam is not shown to clinicians."
		}
	}
	if len(errs) > 0 {
		return q, errs
	}
	return q, nil
}

// ParseDate reads a YYYY-MM-DD date as the start of that day in the clinic's time zone ("" is the zero time).
func (w *Workspace) parseDate(s string) (time.Time, error) {
	if s = strings.TrimSpace(s); s == "" {
		return time.Time{}, nil
	}
	return time.ParseInLocation("2006-01-02", s, w.loc)
}

// List returns one page of the enquiries the actor may see that match f. A search is recorded in the audit
// log. Bad filter values are an InputError naming each.
func (w *Workspace) List(ctx context.Context, actor Actor, f ListFilter) (Page, error) {
	q, err := w.query(ctx, actor, f)
	if err != nil {
		return Page{}, err
	}
	page, err := w.enquiries.ListEnquiries(ctx, q)
	if err != nil {
		return Page{}, fmt.Errorf("list enquiries: %w", err)
	}
	now := w.now()
	for i := range page.Items {
		w.annotate(&page.Items[i], now)
	}
	// Which patients a listing showed is recorded, page by page (never the search text, which may be a name).
	action, detail := "list", fmt.Sprintf("%d shown", len(page.Items))
	if q.Text != "" {
		action, detail = "search", fmt.Sprintf("%d results", len(page.Items))
	}
	if err := w.recordShown(ctx, actor, action, page.Items, detail); err != nil {
		return Page{}, err
	}
	return page, nil
}

// Column is one board column: a status, how many enquiries the actor may see in it (capped: Capped means
// "Count or more"), and its oldest cards.
type Column struct {
	Status Status
	Count  int
	Capped bool
	Cards  []Enquiry
}

// Board returns a column per active status with the enquiries the actor may see, oldest first (the longest
// waiting at the top). The columns are read concurrently: each is an independent indexed read.
func (w *Workspace) Board(ctx context.Context, actor Actor, f ListFilter) ([]Column, error) {
	f.Status, f.Cursor, f.Limit = "", "", BoardCardLimit
	base, err := w.query(ctx, actor, f)
	if err != nil {
		return nil, err
	}
	now := w.now()
	cols := make([]Column, len(ActiveStatuses))
	g, gctx := errgroup.WithContext(ctx)
	for i, st := range ActiveStatuses {
		g.Go(func() error {
			q := base
			q.Statuses, q.Oldest = []Status{st}, true
			page, err := w.enquiries.ListEnquiries(gctx, q)
			if err != nil {
				return fmt.Errorf("board column %s: %w", st, err)
			}
			n := len(page.Items)
			if page.NextCursor != "" {
				if n, err = w.enquiries.CountEnquiries(gctx, q, boardCountCap); err != nil {
					return fmt.Errorf("board column %s: %w", st, err)
				}
			}
			for i := range page.Items {
				w.annotate(&page.Items[i], now)
			}
			cols[i] = Column{Status: st, Count: n, Capped: n >= boardCountCap, Cards: page.Items}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var shown []Enquiry
	for _, col := range cols {
		shown = append(shown, col.Cards...)
	}
	if err := w.recordShown(ctx, actor, "list", shown, fmt.Sprintf("board: %d shown", len(shown))); err != nil {
		return nil, err
	}
	return cols, nil
}

// Get returns the enquiry for the actor and records the view (who, when) in the audit log. ErrNotFound when
// it does not exist or the actor may not see it.
func (w *Workspace) Get(ctx context.Context, actor Actor, ref string) (Enquiry, error) {
	e, err := w.visible(ctx, actor, ref)
	if err != nil {
		return Enquiry{}, err
	}
	if err := w.record(ctx, actor, "view", e.Reference, ""); err != nil {
		return Enquiry{}, err
	}
	return e, nil
}

// visible loads an enquiry the actor may see, without recording a view.
func (w *Workspace) visible(ctx context.Context, actor Actor, ref string) (Enquiry, error) {
	canon, ok := intake.ParseReference(ref)
	if !ok {
		return Enquiry{}, ErrNotFound
	}
	e, err := w.enquiries.GetEnquiry(ctx, canon)
	if err != nil {
		return Enquiry{}, err
	}
	if !actor.CanSee(e.AssigneeID(), e.Status) {
		return Enquiry{}, ErrNotFound
	}
	w.annotate(&e, w.now())
	return e, nil
}

// Detail is everything the enquiry page shows.
type Detail struct {
	Enquiry  Enquiry
	Timeline []Event
	Notes    []Note
	// Next lists the statuses the enquiry may move to.
	Next []Status
	// Assignable lists the staff the actor may assign it to (only the actor themselves, for a clinician who
	// may take it; nobody when they may not).
	Assignable []Staff
}

// Detail returns the enquiry with its timeline, notes and the actions open to the actor, and records the view.
func (w *Workspace) Detail(ctx context.Context, actor Actor, ref string) (Detail, error) {
	e, err := w.visible(ctx, actor, ref)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Enquiry: e, Next: NextStatuses(e.Status)}
	// The view's audit entry is a durable write, waiting for its group commit; the page's reads run meanwhile,
	// so the page costs the longer of the two rather than their sum. Nothing is shown unless the view is
	// recorded.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return w.record(gctx, actor, "view", e.Reference, "") })
	g.Go(func() (err error) { d.Timeline, err = w.enquiries.Timeline(gctx, e.ID); return err })
	g.Go(func() (err error) { d.Notes, err = w.enquiries.Notes(gctx, e.ID); return err })
	g.Go(func() (err error) { d.Assignable, err = w.assignable(gctx, actor, e); return err })
	if err := g.Wait(); err != nil {
		return Detail{}, err
	}
	return d, nil
}

func (w *Workspace) assignable(ctx context.Context, actor Actor, e Enquiry) ([]Staff, error) {
	if !actor.SeesAll() {
		if e.Assignee == nil {
			return []Staff{{ID: actor.ID, Email: actor.Email, Name: actor.Name, Role: actor.Role}}, nil
		}
		return nil, nil
	}
	all, err := w.staff.ListStaff(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, s := range all {
		if !s.Disabled {
			out = append(out, s)
		}
	}
	return out, nil
}

// Timeline returns every event of an enquiry the actor may see, oldest first, and records the view.
func (w *Workspace) Timeline(ctx context.Context, actor Actor, ref string) ([]Event, error) {
	e, err := w.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	return w.enquiries.Timeline(ctx, e.ID)
}

// Transition moves an enquiry to status to. version is the enquiry's Version the move was decided on (0: apply
// it to the enquiry as it is now); a *ConflictError (ErrConflict) when the enquiry has changed since, and nothing
// changes. ErrTransitionNotAllowed when the pipeline does not allow it from the current status; an InputError
// when to is unknown, a closing status has no reason or version is negative. Leaving new records the first
// contact.
func (w *Workspace) Transition(ctx context.Context, actor Actor, ref string, to Status, reason string, version int64) (Enquiry, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case !to.Valid():
		return Enquiry{}, InputError{"to": fmt.Sprintf("Unknown status %q.", to)}
	case to.Closed() && reason == "":
		return Enquiry{}, InputError{"reason": fmt.Sprintf("Give a reason for moving it to %s.", to.Label())}
	case utf8.RuneCountInString(reason) > MaxReasonLength:
		return Enquiry{}, InputError{"reason": fmt.Sprintf("Keep the reason to %d characters.", MaxReasonLength)}
	}
	return w.update(ctx, actor, ref, version, func(e Enquiry) (Change, error) {
		if !CanTransition(e.Status, to) {
			return Change{}, fmt.Errorf("%w: from %s to %s", ErrTransitionNotAllowed, e.Status, to)
		}
		return Change{Status: to, Reason: reason, FirstContact: e.FirstContactedAt == nil && e.Status == StatusNew && to != StatusSpam}, nil
	})
}

// Assign gives an enquiry to the member of staff with that email ("" to unassign). Admins and coordinators may
// assign anyone active; a clinician may only take an unassigned enquiry for themselves (ErrForbidden
// otherwise). The new assignee is emailed. version is as for Transition: a *ConflictError when the enquiry has
// changed since that version (even if it is already assigned as asked), 0 for no check.
func (w *Workspace) Assign(ctx context.Context, actor Actor, ref, assigneeEmail string, version int64) (Enquiry, error) {
	assigneeEmail = strings.ToLower(strings.TrimSpace(assigneeEmail))
	var target Staff
	if assigneeEmail != "" {
		s, _, err := w.staff.StaffByEmail(ctx, assigneeEmail)
		if errors.Is(err, ErrNotFound) || (err == nil && s.Disabled) {
			return Enquiry{}, InputError{"assignee": fmt.Sprintf("No active member of staff has the email %q.", assigneeEmail)}
		}
		if err != nil {
			return Enquiry{}, err
		}
		target = s
	}
	if !actor.SeesAll() && (target.ID == 0 || target.ID != actor.ID) {
		// Visibility first: a clinician must not learn that an enquiry they cannot see exists.
		if _, err := w.visible(ctx, actor, ref); err != nil {
			return Enquiry{}, err
		}
		return Enquiry{}, fmt.Errorf("%w: a clinician may only take an unassigned enquiry for themselves", ErrForbidden)
	}
	return w.update(ctx, actor, ref, version, func(e Enquiry) (Change, error) {
		if !actor.SeesAll() && e.Assignee != nil {
			if e.Assignee.ID == actor.ID {
				return Change{}, nil // already theirs
			}
			return Change{}, ErrNotFound
		}
		if e.AssigneeID() == target.ID {
			return Change{}, nil
		}
		id := target.ID
		c := Change{Assign: &id}
		if target.ID != 0 && target.ID != actor.ID && e.Status != StatusSpam {
			c.Mail = []Mail{{Kind: MailAssigned, Recipient: target.Email}}
		}
		return c, nil
	})
}

// AddNote adds a plain-text note to an enquiry the actor may see. A note never conflicts: it adds to the
// enquiry whatever happened since the page was opened, and decides nothing on its state (it still makes a new
// version, so a move decided before the note was read is refused).
func (w *Workspace) AddNote(ctx context.Context, actor Actor, ref, body string) (Note, error) {
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	switch n := utf8.RuneCountInString(body); {
	case n == 0:
		return Note{}, InputError{"body": "Write the note first."}
	case n > MaxNoteLength:
		return Note{}, InputError{"body": fmt.Sprintf("Keep a note to %d characters (this one has %d).", MaxNoteLength, n)}
	}
	e, err := w.update(ctx, actor, ref, 0, func(Enquiry) (Change, error) { return Change{Note: body}, nil })
	if err != nil {
		return Note{}, err
	}
	notes, err := w.enquiries.Notes(ctx, e.ID)
	if err != nil || len(notes) == 0 {
		return Note{}, fmt.Errorf("read back note on %s: %v", e.Reference, err)
	}
	for i := len(notes) - 1; i >= 0; i-- {
		if notes[i].Author != nil && notes[i].Author.ID == actor.ID && notes[i].Body == body {
			return notes[i], nil
		}
	}
	return notes[len(notes)-1], nil
}

// SetPriority sets an enquiry's priority (low, normal, high, urgent). version is as for Transition.
func (w *Workspace) SetPriority(ctx context.Context, actor Actor, ref, priority string, version int64) (Enquiry, error) {
	if !slices.Contains(Priorities, priority) {
		return Enquiry{}, InputError{"priority": "Choose low, normal, high or urgent."}
	}
	return w.update(ctx, actor, ref, version, func(e Enquiry) (Change, error) {
		if e.Priority == priority {
			return Change{}, nil
		}
		return Change{Priority: priority}, nil
	})
}

// update applies decide to an enquiry the actor may see, checking visibility inside the transaction too. When
// version is not 0, the enquiry must still be at that version, checked in the same transaction before decide:
// otherwise a *ConflictError, explained from the timeline, and nothing changes. Visibility comes first, so a
// clinician never learns who changed an enquiry they may no longer see.
func (w *Workspace) update(ctx context.Context, actor Actor, ref string, version int64, decide func(Enquiry) (Change, error)) (Enquiry, error) {
	if version < 0 {
		return Enquiry{}, InputError{"version": "version must be a positive whole number: the enquiry's version you saw."}
	}
	canon, ok := intake.ParseReference(ref)
	if !ok {
		return Enquiry{}, ErrNotFound
	}
	e, err := w.enquiries.UpdateEnquiry(ctx, canon, actor, w.now().UTC(), func(e Enquiry) (Change, error) {
		if !actor.CanSee(e.AssigneeID(), e.Status) {
			return Change{}, ErrNotFound
		}
		if err := checkVersion(e, version); err != nil {
			return Change{}, err
		}
		return decide(e)
	})
	var conflict *ConflictError
	if errors.As(err, &conflict) {
		w.annotate(&conflict.Current, w.now())
		w.explainConflict(ctx, conflict)
		w.log.LogAttrs(ctx, slog.LevelInfo, "stale change refused", slog.String("ref", conflict.Current.Reference),
			slog.Int64("actor", actor.ID), slog.Int64("seen", version), slog.Int64("version", conflict.Current.Version))
	}
	if err != nil {
		return Enquiry{}, err
	}
	w.annotate(&e, w.now())
	w.log.LogAttrs(ctx, slog.LevelInfo, "enquiry updated", slog.String("ref", e.Reference),
		slog.Int64("actor", actor.ID), slog.String("status", string(e.Status)))
	return e, nil
}

// SendOverdueReminders queues one reminder for every enquiry that passed its first-contact target while still
// new: to its assignee, or to the intake inbox when unassigned. It returns how many it queued.
func (w *Workspace) SendOverdueReminders(ctx context.Context) (int, error) {
	now := w.now().UTC()
	n, err := w.enquiries.QueueOverdueReminders(ctx, now.Add(-w.firstContact), w.inbox, now)
	if err != nil {
		return 0, fmt.Errorf("overdue reminders: %w", err)
	}
	if n > 0 {
		w.log.Info("overdue reminders queued", "count", n)
	}
	return n, nil
}

// Audit returns a page of the accountability log; admins only.
func (w *Workspace) Audit(ctx context.Context, actor Actor, q AuditQuery) ([]AuditEntry, string, error) {
	if actor.Role != RoleAdmin {
		return nil, "", ErrForbidden
	}
	return w.audit.ListAudit(ctx, q)
}

// record writes one audit entry for the actor.
func (w *Workspace) record(ctx context.Context, actor Actor, action, ref, detail string) error {
	return w.recordEntry(ctx, actor, AuditEntry{Action: action, Reference: ref, Detail: detail})
}

// recordShown writes one audit entry naming every enquiry a listing showed the actor.
func (w *Workspace) recordShown(ctx context.Context, actor Actor, action string, shown []Enquiry, detail string) error {
	refs := make([]string, len(shown))
	for i, e := range shown {
		refs[i] = e.Reference
	}
	return w.recordEntry(ctx, actor, AuditEntry{Action: action, References: refs, Detail: detail})
}

// recordEntry writes e as done by the actor now.
func (w *Workspace) recordEntry(ctx context.Context, actor Actor, e AuditEntry) error {
	e.At, e.Actor = w.now().UTC(), actor.Ref()
	if err := w.audit.RecordAudit(ctx, e); err != nil {
		return fmt.Errorf("record %s: %w", e.Action, err)
	}
	return nil
}

// Record writes an audit entry on behalf of another service (exports, account changes).
func (w *Workspace) Record(ctx context.Context, actor Actor, action, ref, detail string) error {
	return w.record(ctx, actor, action, ref, detail)
}
