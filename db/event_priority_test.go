package db

import (
	"context"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// A priority event keeps its priority in its own column: the timeline reads it as Priority (never as Reason),
// and an erasure empties the reasons but keeps it.
func TestPriorityEventsKeepTheirPriorityThroughAnErasure(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	e := created(t, d, "ann@example.org", "")
	at := t0.Add(time.Hour)
	_, err := d.UpdateEnquiry(ctx, e.Reference, crm.Actor{}, at, func(crm.Enquiry) (crm.Change, error) {
		return crm.Change{Status: crm.StatusContacted, Reason: "called back", FirstContact: true, Priority: "high"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	events := func() map[string]crm.Event {
		t.Helper()
		tl, err := d.Timeline(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]crm.Event{}
		for _, ev := range tl {
			out[ev.Kind] = ev
		}
		return out
	}
	before := events()
	if p := before["priority"]; p.Priority != "high" || p.Reason != "" {
		t.Errorf("priority event %+v: want priority high and no reason", p)
	}
	if s := before["status"]; s.Reason != "called back" || s.Priority != "" {
		t.Errorf("status event %+v", s)
	}
	if n := count(t, d, `SELECT count(*) FROM events WHERE enquiry_id = ? AND kind = 'priority' AND priority = 'high'
		AND reason = ''`, e.ID); n != 1 {
		t.Errorf("%d priority events stored with priority 'high' in their own column, want 1", n)
	}

	if err := d.EraseEnquiries(ctx, []string{e.Reference}, crm.Actor{}, at.Add(time.Hour),
		func(ref string) crm.AuditEntry { return crm.AuditEntry{Action: "erase", Reference: ref} }); err != nil {
		t.Fatal(err)
	}
	after := events()
	if p := after["priority"]; p.Priority != "high" {
		t.Errorf("after erasure the priority event is %+v, want its priority kept", p)
	}
	if s := after["status"]; s.Reason != "" {
		t.Errorf("after erasure the status event still says %q", s.Reason)
	}
}

// Migration 00009 moves the priority of the priority events stored before it out of reason into its own
// column, leaves every other event's reason alone, and its down migration puts it back.
func TestMigrationMovesPriorityOutOfReason(t *testing.T) {
	sqliteOnly(t) // SQLite's migration history: PostgreSQL's schema starts at 00009 with the column in place
	ctx := context.Background()
	d := openAtVersion(t, 8)
	p, err := d.provider()
	if err != nil {
		t.Fatal(err)
	}
	rows := []*row{{CreatedAt: t0}}
	insertRows(t, d, rows)
	id := rows[0].ID
	d.write.MustExec(`INSERT INTO events (enquiry_id, at, kind, reason) VALUES
		(?1, 1, 'priority', 'urgent'), (?1, 2, 'status', 'called back'), (?1, 3, 'flagged', 'risk: message')`, id)

	if _, err := p.UpTo(ctx, 9); err != nil {
		t.Fatal(err)
	}
	type ev struct {
		Kind     string `db:"kind"`
		Reason   string `db:"reason"`
		Priority string `db:"priority"`
	}
	var got []ev
	if err := d.read.Select(&got, `SELECT kind, reason, priority FROM events WHERE enquiry_id = ? ORDER BY at`, id); err != nil {
		t.Fatal(err)
	}
	want := []ev{{"priority", "", "urgent"}, {"status", "called back", ""}, {"flagged", "risk: message", ""}}
	if len(got) != len(want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d after the migration: %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, err := d.write.Exec(`INSERT INTO events (enquiry_id, at, kind, priority) VALUES (?, 4, 'priority', 'soon')`, id); err == nil {
		t.Error("a priority outside low, normal, high and urgent was stored")
	}

	if _, err := p.DownTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	var reason string
	if err := d.read.Get(&reason, `SELECT reason FROM events WHERE enquiry_id = ? AND kind = 'priority'`, id); err != nil || reason != "urgent" {
		t.Errorf("after the down migration the priority event's reason is %q (%v), want urgent", reason, err)
	}
}
