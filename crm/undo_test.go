package crm_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/report"
)

// moved submits an enquiry and has actor move it from new to contacted at w.now, returning it as moved.
func (w *world) moved(actor crm.Actor) crm.Enquiry {
	w.t.Helper()
	ref := w.enquiry(nil)
	e, err := w.ws.Transition(context.Background(), actor, ref, crm.StatusContacted, "", 0)
	if err != nil {
		w.t.Fatal(err)
	}
	if e.FirstContactedAt == nil {
		w.t.Fatal("leaving new recorded no first contact")
	}
	return e
}

// TestUndoMoveRestoresStatusAndFirstContact: the undo puts the enquiry back in new with no first contact, says
// so on the timeline and in the audit log, and cannot be repeated.
func TestUndoMoveRestoresStatusAndFirstContact(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	now := w.now
	w.ws.SetClock(func() time.Time { return now })
	w.intake.SetClock(func() time.Time { return now })
	e := w.moved(w.coord)
	now = now.Add(9 * time.Minute)

	u, err := w.ws.UndoMove(ctx, w.coord, e.Reference, e.Version)
	if err != nil {
		t.Fatal(err)
	}
	if u.From != crm.StatusNew || u.To != crm.StatusContacted {
		t.Fatalf("undone move %s → %s, want new → contacted", u.From, u.To)
	}
	got, err := w.db.GetEnquiry(ctx, e.Reference)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != crm.StatusNew || got.FirstContactedAt != nil || got.Version != e.Version+1 {
		t.Fatalf("after undo: status %s, first contact %v, version %d; want new, none, %d", got.Status, got.FirstContactedAt, got.Version, e.Version+1)
	}
	events, err := w.db.Timeline(ctx, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := events[len(events)-1]
	if !last.IsUndo() || last.From != crm.StatusContacted || last.To != crm.StatusNew || last.Actor == nil || last.Actor.ID != w.coord.ID {
		t.Fatalf("last event %+v, want the coordinator's undo of the move to contacted", last)
	}
	audit, _, err := w.db.ListAudit(ctx, crm.AuditQuery{Action: "undo_move"})
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 1 || audit[0].Reference != e.Reference || audit[0].Actor == nil || audit[0].Actor.ID != w.coord.ID {
		t.Fatalf("audit %+v, want one undo_move entry by the coordinator for %s", audit, e.Reference)
	}
	// The same undo again is refused: the undo was the latest change.
	if _, err := w.ws.UndoMove(ctx, w.coord, e.Reference, got.Version); !refused(err) {
		t.Fatalf("second undo: %v, want refused", err)
	}
	// Moving it again records a new first contact, as a first move would.
	again, err := w.ws.Transition(ctx, w.coord, e.Reference, crm.StatusContacted, "", 0)
	if err != nil || again.FirstContactedAt == nil || !again.FirstContactedAt.Equal(now) {
		t.Fatalf("moved again: %v, first contact %v; want %v", err, again.FirstContactedAt, now)
	}
}

func refused(err error) bool {
	var r *crm.UndoRefusedError
	return errors.As(err, &r) && errors.Is(err, crm.ErrConflict) && r.Why != ""
}

// TestUndoMoveRefused: after another change, by another member of staff, after the window, or with a version
// the move did not leave: refused, and the enquiry stays as moved.
func TestUndoMoveRefused(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	now := w.now
	w.ws.SetClock(func() time.Time { return now })
	w.intake.SetClock(func() time.Time { return now })
	cases := []struct {
		name string
		undo func(e crm.Enquiry) error
	}{
		{"after a note", func(e crm.Enquiry) error {
			if _, err := w.ws.AddNote(ctx, w.admin, e.Reference, "Called back."); err != nil {
				t.Fatal(err)
			}
			_, err := w.ws.UndoMove(ctx, w.coord, e.Reference, e.Version)
			return err
		}},
		{"after a note, with the version it made", func(e crm.Enquiry) error {
			if _, err := w.ws.AddNote(ctx, w.coord, e.Reference, "Called back."); err != nil {
				t.Fatal(err)
			}
			_, err := w.ws.UndoMove(ctx, w.coord, e.Reference, e.Version+1)
			return err
		}},
		{"after a further move", func(e crm.Enquiry) error {
			if _, err := w.ws.Transition(ctx, w.admin, e.Reference, crm.StatusScreening, "", 0); err != nil {
				t.Fatal(err)
			}
			_, err := w.ws.UndoMove(ctx, w.coord, e.Reference, e.Version)
			return err
		}},
		{"by another member of staff", func(e crm.Enquiry) error {
			_, err := w.ws.UndoMove(ctx, w.admin, e.Reference, e.Version)
			return err
		}},
		{"after the window", func(e crm.Enquiry) error {
			now = now.Add(crm.UndoWindow + time.Second)
			_, err := w.ws.UndoMove(ctx, w.coord, e.Reference, e.Version)
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := w.moved(w.coord)
			if err := c.undo(e); !refused(err) {
				t.Fatalf("undo: %v, want refused", err)
			}
			got, err := w.db.GetEnquiry(ctx, e.Reference)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status == crm.StatusNew || got.FirstContactedAt == nil {
				t.Fatalf("after a refused undo: status %s, first contact %v", got.Status, got.FirstContactedAt)
			}
		})
	}
	// A clinician who may not see the enquiry is told it does not exist, as for any other action.
	e := w.moved(w.coord)
	if _, err := w.ws.Assign(ctx, w.coord, e.Reference, w.other.Email, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ws.UndoMove(ctx, w.clin, e.Reference, e.Version+1); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("clinician's undo of another's enquiry: %v, want ErrNotFound", err)
	}
}

// TestUndoMoveKeepsEarlierFirstContactAndCloseReason: undoing a later move leaves the first contact an earlier
// move made; undoing a reopen closes the enquiry again with its reason.
func TestUndoMoveKeepsEarlierFirstContactAndCloseReason(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	now := w.now
	w.ws.SetClock(func() time.Time { return now })
	w.intake.SetClock(func() time.Time { return now })
	e := w.moved(w.coord)
	first := *e.FirstContactedAt
	now = now.Add(time.Minute)
	e, err := w.ws.Transition(ctx, w.coord, e.Reference, crm.StatusScreening, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	u, err := w.ws.UndoMove(ctx, w.coord, e.Reference, e.Version)
	if err != nil {
		t.Fatal(err)
	}
	if u.Enquiry.Status != crm.StatusContacted || u.Enquiry.FirstContactedAt == nil || !u.Enquiry.FirstContactedAt.Equal(first) {
		t.Fatalf("after undoing contacted → screening: %s, first contact %v; want contacted, %v", u.Enquiry.Status, u.Enquiry.FirstContactedAt, first)
	}
	if _, err := w.ws.Transition(ctx, w.coord, e.Reference, crm.StatusLost, "Stopped answering", 0); err != nil {
		t.Fatal(err)
	}
	e, err = w.ws.Transition(ctx, w.coord, e.Reference, crm.StatusContacted, "", 0)
	if err != nil || e.CloseReason != "" {
		t.Fatalf("reopen: %v, close reason %q", err, e.CloseReason)
	}
	u, err = w.ws.UndoMove(ctx, w.coord, e.Reference, e.Version)
	if err != nil {
		t.Fatal(err)
	}
	if u.Enquiry.Status != crm.StatusLost || u.Enquiry.CloseReason != "Stopped answering" {
		t.Fatalf("after undoing the reopen: %s, %q; want lost, its reason", u.Enquiry.Status, u.Enquiry.CloseReason)
	}
}

// TestUndoneMoveIsNotCountedInTheFunnel: an enquiry moved to contacted and moved back by an undo never reached
// contacted as far as the funnel is concerned; one moved and left there did.
func TestUndoneMoveIsNotCountedInTheFunnel(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	undone := w.moved(w.coord)
	if _, err := w.ws.UndoMove(ctx, w.coord, undone.Reference, undone.Version); err != nil {
		t.Fatal(err)
	}
	w.moved(w.coord)
	svc := report.New(w.db, w.db, w.db, report.Config{FirstContact: 24 * time.Hour}, quiet)
	day := time.Now().UTC().Format("2006-01-02")
	r, err := svc.Report(ctx, w.admin, report.Range{From: day, To: day})
	if err != nil {
		t.Fatal(err)
	}
	reached := map[crm.Status]int{}
	for _, s := range r.Funnel.Stages {
		reached[s.Status] = s.Reached
	}
	if reached[crm.StatusNew] != 2 || reached[crm.StatusContacted] != 1 {
		t.Errorf("funnel reached new %d, contacted %d; want 2 and 1 (the undone move left out)", reached[crm.StatusNew], reached[crm.StatusContacted])
	}
}
