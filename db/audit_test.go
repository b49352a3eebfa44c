package db

import (
	"context"
	"errors"
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
	if all[1].Reference != "" || all[1].Detail != "reference GONE-GONE; x" {
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
	check(crm.AuditQuery{Reference: "GONE-GONE"}, 0)
	check(crm.AuditQuery{Action: "view", Limit: 2}, 3)
	check(crm.AuditQuery{Action: "view", ActorID: a.ID, Reference: e.Reference}, 2)

	var ie crm.InputError
	if _, _, err := d.ListAudit(ctx, crm.AuditQuery{Cursor: "%%"}); !errors.As(err, &ie) || ie["cursor"] == "" {
		t.Errorf("bad cursor: %v", err)
	}
}
