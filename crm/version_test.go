package crm_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// timelineOf returns the enquiry's events as "kind" or "kind:from>to", for comparing before and after.
func (w *world) timelineOf(ref string) string {
	w.t.Helper()
	events, err := w.ws.Timeline(context.Background(), w.admin, ref)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, ev := range events {
		s := ev.Kind
		if ev.Kind == "status" {
			s += fmt.Sprintf(":%s>%s", ev.From, ev.To)
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// TestAMoveOnAStaleViewIsRefused: A reads an enquiry as new; B closes it; A's "contacted", decided on what A
// read, is refused with who closed it and when, and nothing changes — it does not reopen B's closure.
func TestAMoveOnAStaleViewIsRefused(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ref := w.enquiry(nil)
	seen, err := w.ws.Get(ctx, w.coord, ref) // A's page
	if err != nil {
		t.Fatal(err)
	}
	if seen.Version != 1 {
		t.Fatalf("a new enquiry is at version %d, want 1", seen.Version)
	}
	closedAt := time.Now()
	closed, err := w.ws.Transition(ctx, w.admin, ref, crm.StatusNotSuitable, "Needs a specialist service", seen.Version) // B
	if err != nil {
		t.Fatal(err)
	}
	if closed.Version != seen.Version+1 {
		t.Fatalf("after B's move: version %d, want %d", closed.Version, seen.Version+1)
	}
	timeline := w.timelineOf(ref)

	stale := map[string]func() error{
		"move": func() error {
			_, err := w.ws.Transition(ctx, w.coord, ref, crm.StatusContacted, "", seen.Version)
			return err
		},
		"assign": func() error {
			_, err := w.ws.Assign(ctx, w.coord, ref, w.clin.Email, seen.Version)
			return err
		},
		"priority": func() error {
			_, err := w.ws.SetPriority(ctx, w.coord, ref, "urgent", seen.Version)
			return err
		},
	}
	for name, do := range stale {
		err := do()
		var conflict *crm.ConflictError
		if !errors.Is(err, crm.ErrConflict) || !errors.As(err, &conflict) {
			t.Fatalf("stale %s: %v, want a *crm.ConflictError", name, err)
		}
		if conflict.Current.Status != crm.StatusNotSuitable || conflict.Current.Version != closed.Version || conflict.Seen != seen.Version {
			t.Errorf("stale %s: current %s v%d, seen %d", name, conflict.Current.Status, conflict.Current.Version, conflict.Seen)
		}
		if conflict.ChangedBy == nil || conflict.ChangedBy.ID != w.admin.ID || conflict.ChangeKind != "status" ||
			conflict.ChangedAt.Before(closedAt.Add(-time.Second)) || conflict.ChangedAt.After(time.Now()) {
			t.Errorf("stale %s: changed by %+v (%s) at %v, want the administrator's move", name, conflict.ChangedBy, conflict.ChangeKind, conflict.ChangedAt)
		}
		if strings.Contains(conflict.Error(), "Pat") || strings.Contains(conflict.Error(), "@") {
			t.Errorf("the conflict's text carries personal data: %s", conflict.Error())
		}
	}
	now, _ := w.ws.Get(ctx, w.coord, ref)
	if now.Status != crm.StatusNotSuitable || now.Version != closed.Version || now.Assignee != nil || now.Priority != "normal" ||
		!now.UpdatedAt.Equal(closed.UpdatedAt) || w.timelineOf(ref) != timeline {
		t.Errorf("a refused change changed the enquiry: %s v%d %+v %s; timeline %s (was %s)", now.Status, now.Version,
			now.Assignee, now.Priority, w.timelineOf(ref), timeline)
	}

	// A note never conflicts (it decides nothing on the state), but it is a change: the version grows.
	if _, err := w.ws.AddNote(ctx, w.coord, ref, "She asked us to call after 5pm."); err != nil {
		t.Fatalf("note on a changed enquiry: %v", err)
	}
	now, _ = w.ws.Get(ctx, w.coord, ref)
	if now.Version != closed.Version+1 {
		t.Errorf("after a note: version %d, want %d", now.Version, closed.Version+1)
	}
	// Decided again on what is current, the move goes through (reopening, now on purpose); without a version
	// (an older client) a change applies as it always did.
	reopened, err := w.ws.Transition(ctx, w.coord, ref, crm.StatusContacted, "", now.Version)
	if err != nil || reopened.Status != crm.StatusContacted || reopened.Version != now.Version+1 {
		t.Fatalf("move on the current version: %v, %s v%d", err, reopened.Status, reopened.Version)
	}
	if e, err := w.ws.SetPriority(ctx, w.coord, ref, "high", 0); err != nil || e.Version != reopened.Version+1 {
		t.Errorf("change without a version: %v, v%d", err, e.Version)
	}
	if _, err := w.ws.Transition(ctx, w.coord, ref, crm.StatusScreening, "", -1); outcome(err) != "422" {
		t.Errorf("negative version: %v, want an InputError", err)
	}
}

// TestAStaleChangeByAClinicianWhoNoLongerSeesItIsNotFound: visibility comes first, so a clinician never learns
// who took an enquiry away from them.
func TestAStaleChangeByAClinicianWhoNoLongerSeesItIsNotFound(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ref := w.enquiry(nil)
	seen, err := w.ws.Get(ctx, w.clin, ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.ws.Assign(ctx, w.coord, ref, w.other.Email, seen.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ws.Transition(ctx, w.clin, ref, crm.StatusContacted, "", seen.Version); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("stale move on an enquiry no longer theirs: %v, want ErrNotFound", err)
	}
}

// TestRacingMovesNeverReopenAClosure: two people read the same new enquiry; one closes it, the other moves it
// to contacted, at the same moment, each with the version they read. In every round exactly one wins, and a
// closure is never silently undone.
func TestRacingMovesNeverReopenAClosure(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	wins := map[string]int{}
	for round := 0; round < 50; round++ {
		ref := w.enquiry(nil)
		seen, err := w.ws.Get(ctx, w.coord, ref)
		if err != nil {
			t.Fatal(err)
		}
		var start, done sync.WaitGroup
		start.Add(1)
		errs := map[string]error{}
		var mu sync.Mutex
		for _, m := range []struct {
			who    string
			actor  crm.Actor
			to     crm.Status
			reason string
		}{
			{"closer", w.admin, crm.StatusNotSuitable, "Outside what we treat"},
			{"mover", w.coord, crm.StatusContacted, ""},
		} {
			done.Add(1)
			go func() {
				defer done.Done()
				start.Wait()
				_, err := w.ws.Transition(ctx, m.actor, ref, m.to, m.reason, seen.Version)
				mu.Lock()
				errs[m.who] = err
				mu.Unlock()
			}()
		}
		start.Done()
		done.Wait()
		var winner string
		for who, err := range errs {
			switch {
			case err == nil:
				if winner != "" {
					t.Fatalf("round %d: both moves went through on version %d", round, seen.Version)
				}
				winner = who
			case !errors.Is(err, crm.ErrConflict):
				t.Fatalf("round %d: %s: %v", round, who, err)
			}
		}
		if winner == "" {
			t.Fatalf("round %d: neither move went through: %v", round, errs)
		}
		wins[winner]++
		e, _ := w.ws.Get(ctx, w.coord, ref)
		want := map[string]crm.Status{"closer": crm.StatusNotSuitable, "mover": crm.StatusContacted}[winner]
		tl := w.timelineOf(ref)
		if e.Status != want || e.Version != seen.Version+1 || strings.Count(tl, "status:") != 1 || strings.Contains(tl, "not_suitable>") {
			t.Fatalf("round %d: %s won, but the enquiry is %s v%d with timeline %s", round, winner, e.Status, e.Version, tl)
		}
	}
	t.Logf("wins over 50 rounds: %v", wins)
}
