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

	"github.com/frontdesk/frontdesk/crm/hours"
	"github.com/frontdesk/frontdesk/intake"
	"golang.org/x/sync/errgroup"
)

// MaxNoteLength is the longest note accepted, in characters.
const MaxNoteLength = 10000

// MaxReasonLength is the longest reason for a status change.
const MaxReasonLength = 1000

// Workspace is the staff's view of the pipeline: listing, reading, moving, assigning and annotating enquiries.
// Every method checks the actor's role here, not only in handlers: an enquiry the actor may not see is
// ErrNotFound, an action their role may not take is ErrForbidden.
type Workspace struct {
	enquiries EnquiryStore
	staff     StaffStore
	audit     AuditStore
	targets   Targets
	inbox     string
	loc       *time.Location
	now       func() time.Time
	log       *slog.Logger
}

// WorkspaceConfig are the clinic's settings the workspace applies.
type WorkspaceConfig struct {
	// FirstContact is the target for first contact; past it a new enquiry is overdue.
	FirstContact time.Duration
	// UrgentContact is the target for first contact of an enquiry flagged risk, counted from when it was
	// flagged (FRONTDESK_URGENT_CONTACT_HOURS; default DefaultUrgentContactHours).
	UrgentContact time.Duration
	// OpeningHours, when not nil, are the clinic's opening hours (FRONTDESK_OPENING_HOURS): both targets, the
	// overdue flag and the reminders then count only the time the clinic is open.
	OpeningHours *hours.Schedule
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
	if cfg.UrgentContact <= 0 {
		cfg.UrgentContact = DefaultUrgentContactHours * time.Hour
	}
	return &Workspace{enquiries: e, staff: s, audit: a,
		targets: Targets{FirstContact: cfg.FirstContact, Urgent: cfg.UrgentContact, Hours: cfg.OpeningHours},
		inbox:   cfg.IntakeInbox, loc: cfg.Location, now: time.Now, log: log}
}

// SetClock replaces the workspace's clock (tests, and the demo, which backdates).
func (w *Workspace) SetClock(now func() time.Time) { w.now = now }

// FirstContactTarget is the promised time to first contact (in opening hours, when the clinic has them).
func (w *Workspace) FirstContactTarget() time.Duration { return w.targets.FirstContact }

// UrgentContactTarget is the promised time to first contact of an enquiry flagged risk, from its flag.
func (w *Workspace) UrgentContactTarget() time.Duration { return w.targets.Urgent }

// OpeningHours are the clinic's opening hours the targets count (nil: round the clock).
func (w *Workspace) OpeningHours() *hours.Schedule { return w.targets.Hours }

// Targets are the first-contact targets the workspace applies.
func (w *Workspace) Targets() Targets { return w.targets }

// annotate sets the fields the workspace derives: the first-contact due time (sooner for a risk flag) and
// whether it has passed, decided as the overdue filter and the reminders decide it (Targets.Cutoffs).
func (w *Workspace) annotate(e *Enquiry, now time.Time) {
	e.FirstContactDue = w.targets.Due(e.CreatedAt, e.RiskAt)
	overdueBefore, urgentBefore := w.targets.Cutoffs(now)
	e.Overdue = e.Status == StatusNew && Past(e.CreatedAt, e.RiskAt, overdueBefore, urgentBefore)
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
	// Screening is the questionnaires answered, as the actor may see them (answers for clinicians and
	// administrators only).
	Screening ScreeningSummary
	// UrgentContact is the first-contact target of an enquiry flagged risk, from its flag.
	UrgentContact time.Duration
}

// Detail returns the enquiry with its timeline, notes, screening and the actions open to the actor, and records
// the view (and, when the actor is shown screening answers, that too: see Screening).
func (w *Workspace) Detail(ctx context.Context, actor Actor, ref string) (Detail, error) {
	e, err := w.visible(ctx, actor, ref)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Enquiry: e, Next: NextStatuses(e.Status), UrgentContact: w.targets.Urgent}
	// The view's audit entry is a durable write, waiting for its group commit; the page's reads run meanwhile,
	// so the page costs the longer of the two rather than their sum. Nothing is shown unless the view is
	// recorded.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return w.record(gctx, actor, "view", e.Reference, "") })
	g.Go(func() (err error) { d.Timeline, err = w.enquiries.Timeline(gctx, e.ID); return err })
	g.Go(func() (err error) { d.Notes, err = w.enquiries.Notes(gctx, e.ID); return err })
	g.Go(func() (err error) { d.Assignable, err = w.assignable(gctx, actor, e); return err })
	g.Go(func() error {
		s, err := w.Screening(gctx, actor, []Enquiry{e})
		d.Screening = s[e.ID]
		return err
	})
	if err := g.Wait(); err != nil {
		return Detail{}, err
	}
	d.Timeline = redactTimeline(actor, d.Timeline)
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
	events, err := w.enquiries.Timeline(ctx, e.ID)
	return redactTimeline(actor, events), err
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
// new — for one flagged risk, its urgent target, counted from the flag; both in opening hours when the clinic
// has them — to its assignee, or to the intake inbox when unassigned. It returns how many it queued.
func (w *Workspace) SendOverdueReminders(ctx context.Context) (int, error) {
	now := w.now().UTC()
	overdueBefore, urgentBefore := w.targets.Cutoffs(now)
	n, err := w.enquiries.QueueOverdueReminders(ctx, overdueBefore, urgentBefore, w.inbox, now)
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
