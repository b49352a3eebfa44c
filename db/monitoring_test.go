package db

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// TestMonitoringQueries checks the two questions a metrics scrape asks, on either engine: the queued outbox by
// kind with its oldest message, and the risk enquiries still new past their urgent target.
func TestMonitoringQueries(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	start := time.Now().Add(-time.Second)
	var refs []string
	for i := int64(1); i <= 3; i++ {
		rec, err := d.CreateEnquiry(ctx, benchEnquiry(i), crm.PlanIntake)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, rec.Reference)
	}
	backlog, err := d.OutboxBacklog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byKind := map[string]crm.OutboxBacklog{}
	for _, b := range backlog {
		byKind[b.Kind] = b
	}
	for _, kind := range []string{"confirmation", "staff_new"} {
		b := byKind[kind]
		if b.Queued != 3 || b.OldestQueuedAt.Before(start) || b.OldestQueuedAt.After(time.Now()) {
			t.Errorf("%s: %+v, want 3 queued since %v", kind, b, start)
		}
	}
	// A message sent is no longer in the backlog.
	claimed, err := d.ClaimDue(ctx, time.Now().Add(time.Minute), time.Minute, 1)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if err := d.MarkSent(ctx, claimed[0].ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	backlog, _ = d.OutboxBacklog(ctx)
	total := 0
	for _, b := range backlog {
		total += b.Queued
	}
	if total != 5 {
		t.Errorf("after one sent, %d queued, want 5: %+v", total, backlog)
	}

	// Flagged risk six hours ago: past a cutoff of an hour ago, until contacted or erased.
	flag := func(ref string, at time.Time) {
		if _, err := d.write.Exec(`UPDATE enquiries SET flag_risk_at = ? WHERE reference = ?`, ms(at), ref); err != nil {
			t.Fatal(err)
		}
	}
	flag(refs[0], time.Now().Add(-6*time.Hour))
	flag(refs[1], time.Now().Add(-6*time.Hour))
	flag(refs[2], time.Now()) // not yet past
	count := func() int {
		t.Helper()
		n, err := d.CountRiskPastTarget(ctx, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 2 {
		t.Errorf("risk past target: %d, want 2", n)
	}
	if _, err := d.write.Exec(`UPDATE enquiries SET status = 'contacted' WHERE reference = ?`, refs[1]); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Errorf("after one was contacted: %d, want 1", n)
	}
}

// TestWriterTellsTheBatchHook: each batch of the SQLite writer reaches OnWriteBatch with its size and commit time.
func TestWriterTellsTheBatchHook(t *testing.T) {
	if onPostgres() {
		t.Skip("PostgreSQL has no group commit: the hook is not called")
	}
	d := openTest(t)
	var batches, writes, committed atomic.Int64
	d.OnWriteBatch(func(n int, commit time.Duration) {
		batches.Add(1)
		writes.Add(int64(n))
		if commit > 0 {
			committed.Add(1)
		}
	})
	for i := int64(1); i <= 3; i++ {
		if _, err := d.CreateEnquiry(context.Background(), benchEnquiry(i), crm.PlanIntake); err != nil {
			t.Fatal(err)
		}
	}
	// The hook runs after the callers are answered: wait for the writer to take one more write.
	if _, err := d.CreateEnquiry(context.Background(), benchEnquiry(4), crm.PlanIntake); err != nil {
		t.Fatal(err)
	}
	if batches.Load() < 3 || writes.Load() < 3 || committed.Load() < 3 {
		t.Errorf("hook saw %d batches, %d writes, %d commits; want at least 3 of each",
			batches.Load(), writes.Load(), committed.Load())
	}
}
