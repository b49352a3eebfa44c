package crm_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
)

// The subject access document shows a priority change as "priority" and, as earlier releases did, as "reason"
// (until the next release); no other event has a priority.
func TestSubjectAccessShowsThePrioritySet(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ref := w.enquiry(nil)
	e, err := w.ws.Get(ctx, w.coord, ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.ws.SetPriority(ctx, w.coord, ref, "high", 0); err != nil {
		t.Fatal(err)
	}
	p := crm.NewPrivacy(w.db, w.db, nil, crm.PrivacyConfig{}, quiet)
	doc, err := p.SubjectAccess(ctx, w.admin, e.Email)
	if err != nil || len(doc.Enquiries) != 1 {
		t.Fatalf("document %+v, %v", doc, err)
	}
	var found bool
	for _, v := range doc.Enquiries[0].Timeline {
		if v.Kind != "priority" {
			if v.Priority != "" {
				t.Errorf("a %s event has a priority: %+v", v.Kind, v)
			}
			continue
		}
		found = true
		if v.Priority != "high" || v.Reason != "high" {
			t.Errorf("priority event %+v: want priority and reason high", v)
		}
	}
	if !found {
		t.Fatalf("no priority event in %+v", doc.Enquiries[0].Timeline)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"reason":"high","priority":"high"`) {
		t.Errorf("the JSON does not show the priority both ways: %s", b)
	}
}
