package db

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// Changes from two processes (two handles on one database) to one enquiry apply one after the other: each
// decision sees the version the change then applies to, so no change is decided on a stale enquiry. On
// PostgreSQL that takes the row lock UpdateEnquiry reads under; on SQLite the one writer.
func TestConcurrentChangesToOneEnquiryEachSeeTheLastVersion(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	other := otherProcess(t, d)
	coord := addStaff(t, d, "coord@clinic.example", crm.RoleCoordinator)
	actor := crm.Actor{ID: coord.ID, Email: coord.Email, Name: coord.Name, Role: coord.Role}
	e := created(t, d, "ann@example.org", "")

	const each = 6
	var mu sync.Mutex
	var seen []int64
	var wg sync.WaitGroup
	for i, h := range []*DB{d, other, d, other} {
		wg.Add(1)
		go func(i int, h *DB) {
			defer wg.Done()
			for j := 0; j < each; j++ {
				var saw int64
				_, err := h.UpdateEnquiry(ctx, e.Reference, actor, t0.Add(time.Hour), func(cur crm.Enquiry) (crm.Change, error) {
					saw = cur.Version
					// Give the other writers time to get in between the read and the write.
					time.Sleep(2 * time.Millisecond)
					return crm.Change{Note: fmt.Sprintf("note %d.%d", i, j)}, nil
				})
				if err != nil {
					t.Errorf("update %d.%d: %v", i, j, err)
					return
				}
				mu.Lock()
				seen = append(seen, saw)
				mu.Unlock()
			}
		}(i, h)
	}
	wg.Wait()
	slices.Sort(seen)
	if len(slices.Compact(slices.Clone(seen))) != len(seen) {
		t.Errorf("two changes were decided on the same version: %v", seen)
	}
	after, err := d.GetEnquiry(ctx, e.Reference)
	if err != nil {
		t.Fatal(err)
	}
	if want := e.Version + 4*each; after.Version != want {
		t.Errorf("version after %d changes = %d, want %d", 4*each, after.Version, want)
	}
	if n := count(t, d, `SELECT count(*) FROM notes WHERE enquiry_id = ?`, e.ID); n != 4*each {
		t.Errorf("%d notes stored, want %d", n, 4*each)
	}
}
