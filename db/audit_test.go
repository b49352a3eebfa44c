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

func TestAuditLog(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	a := addStaff(t, d, "a@clinic.example", crm.RoleAdmin)
	e := created(t, d, "ann@example.org", "")
	entries := []crm.AuditEntry{
		{At: t0, Actor: a.Ref(), Action: "view", Reference: e.Reference},
		{At: t0.Add(time.Second), Action: "staff_add", Detail: "by the CLI"},
		{At: t0.Add(2 * time.Second), Actor: a.Ref(), Action: "search", Detail: "3 results"},
		{At: t0.Add(3 * time.Second), Actor: a.Ref(), Action: "view", Reference: "GONE-GONE", Detail: "x"},
		{At: t0.Add(4 * time.Second), Actor: a.Ref(), Action: "view", Reference: e.Reference},
	}
	for _, en := range entries {
		if err := d.RecordAudit(ctx, en); err != nil {
			t.Fatal(err)
		}
	}
	all, next, err := d.ListAudit(ctx, crm.AuditQuery{})
	if err != nil || next != "" || len(all) != 5 {
		t.Fatalf("ListAudit: %d entries, next %q, %v", len(all), next, err)
	}
	if all[0].Action != "view" || all[0].Reference != e.Reference || all[0].Actor == nil || all[0].Actor.Email != a.Email ||
		!all[0].At.Equal(t0.Add(4*time.Second)) {
		t.Errorf("newest %+v", all[0])
	}
	// A reference is kept as text, even one that names no enquiry (or no longer does, once spam is deleted).
	if all[1].Reference != "GONE-GONE" || all[1].Detail != "x" {
		t.Errorf("an unknown reference: %+v", all[1])
	}
	if all[3].Actor != nil || all[3].Detail != "by the CLI" {
		t.Errorf("system entry %+v", all[3])
	}

	check := func(q crm.AuditQuery, want int) {
		t.Helper()
		var got []crm.AuditEntry
		for {
			page, next, err := d.ListAudit(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, page...)
			if next == "" {
				break
			}
			q.Cursor = next
		}
		if len(got) != want {
			t.Errorf("%+v: %d entries, want %d", q, len(got), want)
		}
		for i := 1; i < len(got); i++ {
			if got[i].ID >= got[i-1].ID {
				t.Errorf("%+v: not newest first", q)
			}
		}
	}
	check(crm.AuditQuery{Limit: 2}, 5)
	check(crm.AuditQuery{ActorID: a.ID, Limit: 1}, 4)
	check(crm.AuditQuery{Reference: e.Reference, Limit: 1}, 2)
	check(crm.AuditQuery{Reference: "GONE-GONE"}, 1)
	check(crm.AuditQuery{Action: "view", Limit: 2}, 3)
	check(crm.AuditQuery{Action: "view", ActorID: a.ID, Reference: e.Reference}, 2)

	var ie crm.InputError
	if _, _, err := d.ListAudit(ctx, crm.AuditQuery{Cursor: "%%"}); !errors.As(err, &ie) || ie["cursor"] == "" {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestAuditListEntriesFindEveryReferenceTheyShowed(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	a := addStaff(t, d, "a@clinic.example", crm.RoleAdmin)
	if err := d.RecordAudit(ctx, crm.AuditEntry{At: t0, Actor: a.Ref(), Action: "list",
		References: []string{"AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC"}}); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]int{"BBBB-BBBB": 1, "CCCC-CCCC": 1, "BBBB": 0, "DDDD-DDDD": 0} {
		got, _, err := d.ListAudit(ctx, crm.AuditQuery{Reference: ref})
		if err != nil || len(got) != want {
			t.Errorf("reference %s: %d entries (%v), want %d", ref, len(got), err, want)
		}
	}
}

func TestAuditChainNamesTheFirstEntryChangedOrRemoved(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	a := addStaff(t, d, "a@clinic.example", crm.RoleAdmin)
	for i := range 6 {
		if err := d.RecordAudit(ctx, crm.AuditEntry{At: t0.Add(time.Duration(i) * time.Second), Actor: a.Ref(),
			Action: "view", Reference: "K7QM-4XPD", Detail: "entry"}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := crm.VerifyAudit(ctx, d); err != nil || n != 6 {
		t.Fatalf("untouched log: %d entries, %v", n, err)
	}
	tamper := func(query string, args ...any) {
		t.Helper()
		if _, err := d.write.Exec(query, args...); err != nil {
			t.Fatal(err)
		}
	}
	expectBroken := func(what string, id int64) {
		t.Helper()
		_, err := crm.VerifyAudit(ctx, d)
		var broken *crm.AuditBrokenError
		if !errors.As(err, &broken) || broken.ID != id {
			t.Fatalf("%s: %v, want entry %d named", what, err, id)
		}
	}
	// Changing the detail, the actor or the time of entry 4 is found at entry 4.
	tamper(`UPDATE audit_log SET detail = 'nothing to see' WHERE id = 4`)
	expectBroken("detail changed", 4)
	tamper(`UPDATE audit_log SET detail = 'entry', actor_id = NULL WHERE id = 4`)
	expectBroken("actor removed", 4)
	tamper(`UPDATE audit_log SET actor_id = ?, at = at + 1 WHERE id = 4`, a.ID)
	expectBroken("time changed", 4)
	tamper(`UPDATE audit_log SET at = at - 1 WHERE id = 4`)
	if _, err := crm.VerifyAudit(ctx, d); err != nil {
		t.Fatalf("restored: %v", err)
	}
	// Rewriting an entry with a freshly computed hash still breaks the link to the next.
	var e crm.AuditEntry
	if err := d.WalkAudit(ctx, func(x crm.AuditEntry) error {
		if x.ID == 3 {
			e = x
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var prev string
	if err := d.read.Get(&prev, `SELECT hash FROM audit_log WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	e.Detail = "forged"
	tamper(`UPDATE audit_log SET detail = 'forged', hash = ? WHERE id = 3`, crm.ChainHash(prev, e))
	expectBroken("rewritten with a new hash", 4)
	// Removing an entry names the one after the gap.
	tamper(`DELETE FROM audit_log WHERE id IN (3, 4)`)
	expectBroken("removed", 5)
	tamper(`DELETE FROM audit_log WHERE id < 5`)
	expectBroken("the first removed", 5)
}

// TestMigrateSealsEntriesWrittenBeforeTheChain: a SQLite database from before the hash chain (migration 00003)
// has entries with no hash, which Migrate seals. A PostgreSQL database never has such entries (it starts
// empty, or is copied with its hashes), but Migrate seals them there too, and the test runs on both: the
// entries are written by hand, ids given, as the old SQLite code wrote them (PostgreSQL's audit_log.id has no
// default: the chain gives it).
func TestMigrateSealsEntriesWrittenBeforeTheChain(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	for i := range 3 {
		if _, err := d.write.Exec(`INSERT INTO audit_log (id, at, action, detail) VALUES (?, ?, 'view', ?)`,
			i+1, ms(t0)+int64(i), "old"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := crm.VerifyAudit(ctx, d); err == nil {
		t.Fatal("unsealed entries verified")
	}
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.RecordAudit(ctx, crm.AuditEntry{At: t0, Action: "view"}); err != nil {
		t.Fatal(err)
	}
	if n, err := crm.VerifyAudit(ctx, d); err != nil || n != 4 {
		t.Fatalf("after sealing: %d entries, %v", n, err)
	}
}

// TestTwoProcessesAppendToOneAuditChain: two processes (two handles on one database) recording at once take
// turns at the end of the chain — on SQLite through the file's write lock, on PostgreSQL through the chain's
// advisory lock — so every entry is stored, with consecutive ids, and the chain verifies.
func TestTwoProcessesAppendToOneAuditChain(t *testing.T) {
	a := openTest(t)
	b := otherProcess(t, a)
	ctx := context.Background()
	const perWriter = 25
	var wg sync.WaitGroup
	for w, d := range []*DB{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				if err := d.RecordAudit(ctx, crm.AuditEntry{At: t0.Add(time.Duration(i) * time.Second), Action: "view",
					Detail: fmt.Sprintf("writer %d entry %d", w, i)}); err != nil {
					t.Errorf("writer %d entry %d: %v", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	n, err := crm.VerifyAudit(ctx, b)
	if err != nil || n != 4*perWriter {
		t.Fatalf("the chain: %d entries, %v; want %d that verify", n, err, 4*perWriter)
	}
	var first, last int64
	if err := a.read.QueryRow(`SELECT min(id), max(id) FROM audit_log`).Scan(&first, &last); err != nil {
		t.Fatal(err)
	}
	if first != 1 || last != 4*perWriter {
		t.Errorf("ids run from %d to %d, want 1 to %d", first, last, 4*perWriter)
	}
}
