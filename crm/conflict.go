package crm

import (
	"context"
	"fmt"
	"time"
)

// ConflictError refuses a change decided on a version of an enquiry that is no longer current: someone changed
// it since the person (or client) saw it, and nothing was changed. It wraps ErrConflict.
type ConflictError struct {
	// Current is the enquiry as it is now (as the refused change found it).
	Current Enquiry
	// Seen is the version the refused change was decided on.
	Seen int64
	// ChangedBy made the latest change; nil when Frontdesk did (an erasure by the retention run, say) or when
	// the timeline could not be read.
	ChangedBy *StaffRef
	// ChangedAt is when the latest change was made (zero when the timeline could not be read).
	ChangedAt time.Time
	// ChangeKind is the latest change's timeline kind: status, assigned, priority, note, erased or created.
	ChangeKind string
}

// Error names the enquiry and both versions; never anything personal.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("enquiry %s changed since version %d (now %d)", e.Current.Reference, e.Seen, e.Current.Version)
}

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// checkVersion refuses e when a change was decided on another version of it; seen 0 means the caller did not
// say which version it saw, and the change applies to the enquiry as it is.
func checkVersion(e Enquiry, seen int64) error {
	if seen != 0 && seen != e.Version {
		return &ConflictError{Current: e, Seen: seen}
	}
	return nil
}

// changesVersion reports whether a timeline event of that kind came with a new version (a reminder does not).
func changesVersion(kind string) bool { return kind != "reminder" }

// explainConflict fills in who made the latest change and when, from the enquiry's timeline. The timeline is
// read after the refused transaction; if yet another change landed meanwhile, that one is named, which is what
// the person needs to know. A failure to read it leaves the conflict unexplained rather than hiding it.
func (w *Workspace) explainConflict(ctx context.Context, c *ConflictError) {
	events, err := w.enquiries.Timeline(ctx, c.Current.ID)
	if err != nil {
		w.log.WarnContext(ctx, "read the timeline of a conflict", "ref", c.Current.Reference, "error", err)
		return
	}
	for i := len(events) - 1; i >= 0; i-- {
		if changesVersion(events[i].Kind) {
			c.ChangedBy, c.ChangedAt, c.ChangeKind = events[i].Actor, events[i].At, events[i].Kind
			return
		}
	}
}
