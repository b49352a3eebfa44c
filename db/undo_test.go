package db

import (
	"context"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// TestUpdateEnquiryUndoesAMove: a change that undoes a move clears the first contact, restores the closing
// reason it is given, and writes its status event with the undo's reason, on both engines.
func TestUpdateEnquiryUndoesAMove(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	coord := addStaff(t, d, "coord@clinic.example", crm.RoleCoordinator)
	actor := crm.Actor{ID: coord.ID, Email: coord.Email, Name: coord.Name, Role: coord.Role}
	e := created(t, d, "ann@example.org", "")
	update := func(at time.Time, c crm.Change) crm.Enquiry {
		t.Helper()
		got, err := d.UpdateEnquiry(ctx, e.Reference, actor, at, func(crm.Enquiry) (crm.Change, error) { return c, nil })
		if err != nil {
			t.Fatalf("update %+v: %v", c, err)
		}
		return got
	}
	moved := update(t0.Add(time.Hour), crm.Change{Status: crm.StatusContacted, FirstContact: true})
	if moved.FirstContactedAt == nil {
		t.Fatal("the move recorded no first contact")
	}
	back := update(t0.Add(time.Hour+time.Minute), crm.Change{Status: crm.StatusNew, ClearFirstContact: true, Undoes: crm.StatusContacted})
	if back.Status != crm.StatusNew || back.FirstContactedAt != nil || back.Version != moved.Version+1 {
		t.Fatalf("after the undo: %s, first contact %v, version %d", back.Status, back.FirstContactedAt, back.Version)
	}
	events, err := d.Timeline(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := events[len(events)-1]
	if !last.IsUndo() || last.From != crm.StatusContacted || last.To != crm.StatusNew || last.Reason != crm.UndoReason(crm.StatusContacted) {
		t.Fatalf("undo event %+v", last)
	}

	// A closed status goes back with its reason; the event still names the undo, not the reason.
	update(t0.Add(2*time.Hour), crm.Change{Status: crm.StatusLost, Reason: "No answer"})
	update(t0.Add(3*time.Hour), crm.Change{Status: crm.StatusContacted})
	closed := update(t0.Add(3*time.Hour+time.Minute), crm.Change{Status: crm.StatusLost, Reason: "No answer", Undoes: crm.StatusContacted})
	if closed.CloseReason != "No answer" {
		t.Fatalf("close reason after undoing a reopen: %q", closed.CloseReason)
	}
	events, err = d.Timeline(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if last := events[len(events)-1]; !last.IsUndo() || last.To != crm.StatusLost {
		t.Fatalf("undo of the reopen recorded as %+v", last)
	}
}
