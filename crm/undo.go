package crm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/intake"
)

// UndoWindow is how long after a move the person who made it may undo it. A slip is noticed at once; after
// ten minutes a move has been acted on (a call made, a colleague told), and undoing it would rewrite history.
const UndoWindow = 10 * time.Minute

// UndoReason is the reason a timeline event carries when it undoes a move to status to. The timeline shows such
// an event as the undo of that move, and reports can leave the pair out.
func UndoReason(to Status) string { return UndoReasonPrefix + to.Label() }

// UndoReasonPrefix begins the reason of every undo's status event (UndoReason); the reports leave those events,
// and the moves they undid, out of how far an enquiry got.
const UndoReasonPrefix = "Undo of the move to "

// IsUndo reports whether the event undid a move (a status event back from e.From, written by UndoMove).
func (e Event) IsUndo() bool {
	return e.Kind == "status" && e.From != "" && e.Reason == UndoReason(e.From)
}

// UndoRefusedError is an undo that was not made, with the reason written for the person who asked. It wraps
// ErrConflict: the enquiry is no longer as the move left it, or the move is not theirs to undo.
type UndoRefusedError struct {
	Reference string
	// Why says, in plain English, why not and what to do instead.
	Why string
}

func (e *UndoRefusedError) Error() string { return "undo on " + e.Reference + " refused: " + e.Why }

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *UndoRefusedError) Unwrap() error { return ErrConflict }

// UndoneMove is a move that was undone: the enquiry had gone From → To and is now back at From.
type UndoneMove struct {
	Enquiry  Enquiry
	From, To Status
}

// UndoMove undoes the actor's latest move of an enquiry. version is the enquiry's Version the move left it at
// (the page offering the undo was given it). The move must be the latest change to the enquiry (a reminder
// aside), made by the actor less than UndoWindow ago, and the enquiry must still be at version: otherwise an
// *UndoRefusedError and nothing changes. ErrNotFound when the actor may not see the enquiry; an InputError when
// version is not positive.
//
// The undo restores the status (and, for a closed one, its closing reason), clears the first contact when the
// undone move recorded it, and is itself a status event on the timeline (reason UndoReason) and an audit entry
// (action "undo_move"). A move queues no email, so there is nothing to call back; an enquiry back in new is
// reminded of again when overdue, unless it already was.
func (w *Workspace) UndoMove(ctx context.Context, actor Actor, ref string, version int64) (UndoneMove, error) {
	if version <= 0 {
		return UndoneMove{}, InputError{"version": "version must be a positive whole number: the enquiry's version after the move."}
	}
	e, err := w.visible(ctx, actor, ref)
	if err != nil {
		return UndoneMove{}, err
	}
	refuse := func(why string) (UndoneMove, error) {
		return UndoneMove{}, &UndoRefusedError{Reference: e.Reference, Why: why}
	}
	events, err := w.enquiries.Timeline(ctx, e.ID)
	if err != nil {
		return UndoneMove{}, err
	}
	// The latest change is the last written (the highest ID): the timeline is in time order, and a clock set
	// back must not make an older change look like the latest.
	last := -1
	for i, ev := range events {
		if changesVersion(ev.Kind) && (last < 0 || ev.ID > events[last].ID) {
			last = i
		}
	}
	if e.Version != version || last < 0 || events[last].Kind != "status" || events[last].IsUndo() {
		return refuse(fmt.Sprintf("%s has changed since that move. Open it to see what changed, and move it yourself if you still need to.", e.Reference))
	}
	move := events[last]
	if move.Actor == nil || move.Actor.ID != actor.ID {
		return refuse(fmt.Sprintf("Only the person who made a move can undo it. Open %s to move it yourself.", e.Reference))
	}
	if w.now().Sub(move.At) > UndoWindow {
		return refuse(fmt.Sprintf("A move can be undone for %d minutes only. Open %s to move it yourself.", int(UndoWindow.Minutes()), e.Reference))
	}
	// A closed status goes back with the reason it was closed for, which the move (a reopen) had cleared.
	closeReason := ""
	if move.From.Closed() {
		var closedAt int64
		for _, ev := range events {
			if ev.Kind == "status" && ev.To == move.From && ev.ID < move.ID && ev.ID > closedAt {
				closeReason, closedAt = ev.Reason, ev.ID
			}
		}
	}
	madeFirstContact := move.From == StatusNew && e.FirstContactedAt != nil && e.FirstContactedAt.Equal(move.At)
	canon, _ := intake.ParseReference(ref)
	out, err := w.update(ctx, actor, canon, version, func(cur Enquiry) (Change, error) {
		if cur.Status != move.To {
			return Change{}, &ConflictError{Current: cur, Seen: version}
		}
		return Change{Status: move.From, Reason: closeReason, ClearFirstContact: madeFirstContact, Undoes: move.To}, nil
	})
	var conflict *ConflictError
	if errors.As(err, &conflict) {
		return refuse(fmt.Sprintf("%s has changed since that move. Open it to see what changed, and move it yourself if you still need to.", e.Reference))
	}
	if err != nil {
		return UndoneMove{}, err
	}
	if err := w.record(ctx, actor, "undo_move", out.Reference, move.To.Label()+" back to "+move.From.Label()); err != nil {
		return UndoneMove{}, err
	}
	return UndoneMove{Enquiry: out, From: move.From, To: move.To}, nil
}
