package db

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// TestTwoProcessesNeverClaimTheSameMessage: several claimers in each of two processes (two handles on one
// database) claim at once until nothing is due: every message is claimed, and none twice. On SQLite a
// process's claims queue for its one writer and the file's write lock serializes the two processes; on
// PostgreSQL every claimer runs its own transaction at the same moment, and the claims race for the same rows.
func TestTwoProcessesNeverClaimTheSameMessage(t *testing.T) {
	a := openTest(t)
	b := otherProcess(t, a)
	ctx := context.Background()
	for i := 0; i < 40; i++ {
		e := newEnquiry(string(rune('a'+i%26)) + "x" + string(rune('a'+i/26)) + "@example.org")
		e.IntakeInbox = "intake@clinic.example"
		if _, err := a.CreateEnquiry(ctx, e, crm.PlanIntake); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 8 {
		d := []*DB{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range 100 { // bounded: a claim that ignored leases would never run dry
				ms, err := d.ClaimDue(ctx, time.Now(), time.Minute, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ms) == 0 {
					return
				}
				mu.Lock()
				for _, m := range ms {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(seen) != 80 {
		t.Errorf("claimed %d distinct messages, want 80", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %d claimed %d times", id, n)
		}
	}
}

// TestALeaseOfAProcessThatDiedRunsOut: a process that claimed mail and died before sending (closed here
// without releasing anything) holds its messages until the lease runs out; then another process claims them,
// as a second attempt.
func TestALeaseOfAProcessThatDiedRunsOut(t *testing.T) {
	a := openTest(t)
	b, err := Open(a.source, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, email := range []string{"ann@example.org", "bob@example.org"} {
		if _, err := a.CreateEnquiry(ctx, newEnquiry(email), crm.PlanIntake); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	const lease = time.Minute
	claimed, err := b.ClaimDue(ctx, now, lease, 10)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("the first process claimed %d, %v; want 2", len(claimed), err)
	}
	b.Close()
	if again, err := a.ClaimDue(ctx, now.Add(lease-time.Millisecond), lease, 10); err != nil || len(again) != 0 {
		t.Fatalf("claimed %d (%v) while the dead process's lease ran", len(again), err)
	}
	again, err := a.ClaimDue(ctx, now.Add(lease), lease, 10)
	if err != nil || len(again) != 2 {
		t.Fatalf("claimed %d (%v) once the lease ran out, want 2", len(again), err)
	}
	for i, m := range again {
		if m.ID != claimed[i].ID || m.Attempts != 2 {
			t.Errorf("claimed again %d (attempt %d), want %d as attempt 2", m.ID, m.Attempts, claimed[i].ID)
		}
	}
}

func TestClaimCarriesASummaryButNeverWhatThePatientWrote(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	e := newEnquiry("ann@example.org")
	e.Message, e.DateOfBirth = "a private message", "1990-04-02"
	rec, err := d.CreateEnquiry(ctx, e, crm.PlanIntake)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := d.ClaimDue(ctx, time.Now(), time.Minute, 10)
	if err != nil || len(ms) != 1 {
		t.Fatalf("%v, %d", err, len(ms))
	}
	m := ms[0]
	if m.Kind != crm.MailConfirmation || m.Recipient != "ann@example.org" || len(m.MessageID) != 32 ||
		m.Attempts != 1 || m.Enquiry.Reference != rec.Reference || m.Enquiry.Treatment != "adhd" ||
		m.Enquiry.PatientName != "Ann Example" || m.Enquiry.Assigned || m.Enquiry.Erased ||
		!m.Enquiry.ReceivedAt.Equal(m.CreatedAt) || m.QueuedAt.IsZero() {
		t.Errorf("claimed %+v", m)
	}
}

func TestOutboxStateChanges(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	if _, err := d.CreateEnquiry(ctx, newEnquiry("ann@example.org"), crm.PlanIntake); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ms, _ := d.ClaimDue(ctx, now, time.Minute, 10)
	id := ms[0].ID

	// Given back unattempted: claimable at once, the attempt not counted.
	if err := d.Release(ctx, id); err != nil {
		t.Fatal(err)
	}
	ms, _ = d.ClaimDue(ctx, now, time.Minute, 10)
	if len(ms) != 1 || ms[0].Attempts != 1 {
		t.Fatalf("after release: %+v", ms)
	}
	// A retry is not due before its time.
	if err := d.MarkRetry(ctx, id, now.Add(time.Hour), "451 try later"); err != nil {
		t.Fatal(err)
	}
	if ms, _ := d.ClaimDue(ctx, now.Add(59*time.Minute), time.Minute, 10); len(ms) != 0 {
		t.Fatalf("claimed before its retry time")
	}
	if es, _ := d.List(ctx, crm.OutboxFilter{Status: crm.OutboxQueued}); len(es) != 1 || es[0].LastError != "451 try later" ||
		!es[0].NextAttemptAt.Equal(now.Add(time.Hour).Truncate(time.Millisecond)) {
		t.Fatalf("listed %+v", es)
	}
	if ms, _ := d.ClaimDue(ctx, now.Add(time.Hour), time.Minute, 10); len(ms) != 1 || ms[0].Attempts != 2 {
		t.Fatalf("not claimed when due: %+v", ms)
	}
	if err := d.MarkFailed(ctx, id, "550 no such user"); err != nil {
		t.Fatal(err)
	}
	var state *crm.OutboxStateError
	if err := d.MarkSent(ctx, id, now); !errors.Is(err, crm.ErrConflict) || !errors.As(err, &state) ||
		state.ID != id || state.Status != crm.OutboxFailed || state.Want != crm.OutboxQueued {
		t.Errorf("mark sent of a failed message: %v, want an OutboxStateError (failed, not queued)", err)
	}
	if err := d.MarkRetry(ctx, 999, now, ""); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("mark retry of no message: %v, want ErrNotFound", err)
	}
	if n, _ := d.CountUnsent(ctx, now.Add(time.Hour)); n != 0 {
		t.Errorf("a failed message counted as unsent: %d", n)
	}

	woken := 0
	d.OnMailQueued(func() { woken++ })
	later := now.Add(10 * 24 * time.Hour)
	retried := func(id int64) crm.AuditEntry {
		return crm.AuditEntry{At: later, Action: "outbox_retry", Detail: fmt.Sprintf("email %d", id)}
	}
	if err := d.Requeue(ctx, id, later, retried(id)); err != nil {
		t.Fatal(err)
	}
	if got, _, err := d.ListAudit(ctx, crm.AuditQuery{Action: "outbox_retry"}); err != nil || len(got) != 1 ||
		got[0].Detail != fmt.Sprintf("email %d", id) {
		t.Errorf("the retry's audit entry: %+v, %v", got, err)
	}
	if woken != 1 {
		t.Errorf("requeue woke the worker %d times", woken)
	}
	ms, _ = d.ClaimDue(ctx, later, time.Minute, 10)
	if len(ms) != 1 || ms[0].Attempts != 1 || !ms[0].QueuedAt.Equal(later.Truncate(time.Millisecond)) {
		t.Fatalf("after requeue: %+v", ms)
	}
	if err := d.MarkSent(ctx, id, later); err != nil {
		t.Fatal(err)
	}
	if err := d.Requeue(ctx, id, later, retried(id)); !errors.As(err, &state) || state.Status != crm.OutboxSent ||
		state.Want != crm.OutboxFailed || !errors.Is(err, crm.ErrConflict) {
		t.Errorf("requeue of a sent message: %v, want an OutboxStateError (sent, not failed)", err)
	}
	if err := d.Requeue(ctx, 999, later, retried(999)); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("requeue of no message: %v, want ErrNotFound", err)
	}
	// A retry that changed nothing recorded nothing.
	if got, _, _ := d.ListAudit(ctx, crm.AuditQuery{Action: "outbox_retry"}); len(got) != 1 {
		t.Errorf("%d retries in the audit log, want 1", len(got))
	}
	es, _ := d.List(ctx, crm.OutboxFilter{Status: crm.OutboxSent})
	if len(es) != 1 || es[0].SentAt == nil || es[0].LastError != "" || es[0].Leased {
		t.Errorf("sent: %+v", es)
	}
}

func TestNewEnquiryWakesTheMailWorker(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	var woken int
	d.OnMailQueued(func() { woken++ })
	if _, err := d.CreateEnquiry(ctx, newEnquiry("ann@example.org"), crm.PlanIntake); err != nil {
		t.Fatal(err)
	}
	spam := newEnquiry("bot@example.org")
	spam.Spam = true
	if _, err := d.CreateEnquiry(ctx, spam, crm.PlanIntake); err != nil {
		t.Fatal(err)
	}
	if woken != 1 {
		t.Errorf("woken %d times, want once (spam queues nothing)", woken)
	}
}

func TestRenewLeaseKeepsOnlyTheLeaseItHolds(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	e := newEnquiry("ann@example.org")
	e.IntakeInbox = "intake@clinic.example"
	if _, err := d.CreateEnquiry(ctx, e, crm.PlanIntake); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	const lease = 10 * time.Second
	ms, err := d.ClaimDue(ctx, now, lease, 10)
	if err != nil || len(ms) != 2 {
		t.Fatalf("claim: %v, %d", err, len(ms))
	}
	ids := []int64{ms[0].ID, ms[1].ID}
	held := now.Add(lease)

	// Renewed: the lease now runs to the new end, and the old end no longer frees the messages.
	renewed, err := d.RenewLease(ctx, ids, held, held.Add(lease))
	if err != nil || len(renewed) != 2 {
		t.Fatalf("renew: %v, %v", err, renewed)
	}
	if again, _ := d.ClaimDue(ctx, held.Add(time.Second), lease, 10); len(again) != 0 {
		t.Fatalf("claimed after the first lease although it was renewed: %+v", again)
	}
	// A renewal that names a lease the worker no longer holds changes nothing.
	if renewed, err := d.RenewLease(ctx, ids, held, held.Add(time.Hour)); err != nil || len(renewed) != 0 {
		t.Fatalf("renewal of a stale lease: %v, %v", err, renewed)
	}
	// Once the renewed lease is over another worker claims them, and the first cannot take them back.
	later := held.Add(lease + time.Second)
	taken, _ := d.ClaimDue(ctx, later, lease, 10)
	if len(taken) != 2 {
		t.Fatalf("not claimable after the renewed lease: %+v", taken)
	}
	if renewed, _ := d.RenewLease(ctx, ids, held.Add(lease), later.Add(time.Hour)); len(renewed) != 0 {
		t.Errorf("the first worker renewed a lease another worker holds: %v", renewed)
	}
	if renewed, _ := d.RenewLease(ctx, ids, later.Add(lease), later.Add(2*lease)); len(renewed) != 2 {
		t.Errorf("the holder could not renew its lease: %v", renewed)
	}
	if renewed, err := d.RenewLease(ctx, nil, held, later); err != nil || len(renewed) != 0 {
		t.Errorf("renew of nothing: %v, %v", err, renewed)
	}
}

func TestMarkSentAllMarksABatchInOneGoAndNamesTheGoneOnes(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	for _, email := range []string{"ann@example.org", "bob@example.org"} {
		e := newEnquiry(email)
		e.IntakeInbox = "intake@clinic.example"
		if _, err := d.CreateEnquiry(ctx, e, crm.PlanIntake); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	ms, err := d.ClaimDue(ctx, now, time.Minute, 10)
	if err != nil || len(ms) != 4 {
		t.Fatalf("claim: %v, %d", err, len(ms))
	}
	// One of them was refused meanwhile: it stays failed.
	if err := d.MarkFailed(ctx, ms[3].ID, "550 no such user"); err != nil {
		t.Fatal(err)
	}
	const missing = 999999
	gone, err := d.MarkSentAll(ctx, []int64{ms[0].ID, ms[1].ID, ms[2].ID, ms[3].ID, missing}, now)
	if err != nil || len(gone) != 1 || gone[0] != missing {
		t.Fatalf("MarkSentAll: gone %v, %v; want only %d", gone, err, missing)
	}
	byID := map[int64]crm.OutboxEntry{}
	es, _ := d.List(ctx, crm.OutboxFilter{})
	for _, e := range es {
		byID[e.ID] = e
	}
	for _, m := range ms[:3] {
		if e := byID[m.ID]; e.Status != crm.OutboxSent || e.SentAt == nil || e.Leased {
			t.Errorf("message %d: %+v, want sent", m.ID, e)
		}
	}
	if e := byID[ms[3].ID]; e.Status != crm.OutboxFailed {
		t.Errorf("the refused message became %s", e.Status)
	}
	if n, _ := d.CountUnsent(ctx, now.Add(time.Hour)); n != 0 {
		t.Errorf("%d still unsent", n)
	}
	if gone, err := d.MarkSentAll(ctx, nil, now); err != nil || gone != nil {
		t.Errorf("mark nothing: %v, %v", gone, err)
	}
}
