package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
)

// A priority change shows on the enquiry page as the priority set, and in the API's timeline as "priority" —
// and, for clients written against earlier releases, as "reason" too (until the next release).
func TestTimelineShowsThePrioritySet(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	tok := h.token("coord@clinic.example")
	ref := h.submit(t, "adhd")
	if resp := h.apiCall(http.MethodPost, "/api/v1/enquiries/"+ref+"/priority", tok, `{"priority":"high"}`); resp.StatusCode != 200 {
		t.Fatalf("set priority: %d %s", resp.StatusCode, body(t, resp))
	}

	tl := decode(t, h.apiCall(http.MethodGet, "/api/v1/enquiries/"+ref+"/timeline", tok, ""))
	items, _ := tl["items"].([]any)
	var found bool
	for _, it := range items {
		ev := it.(map[string]any)
		if ev["kind"] != "priority" {
			if _, ok := ev["priority"]; ok {
				t.Errorf("a %v event has a priority: %v", ev["kind"], ev)
			}
			continue
		}
		found = true
		if ev["priority"] != "high" || ev["reason"] != "high" {
			t.Errorf("priority event %v: want priority and reason high", ev)
		}
	}
	if !found {
		t.Fatalf("no priority event in %v", tl)
	}

	a := h.agent()
	a.signIn("coord@clinic.example", staffPassword)
	a.get("/enquiries/" + ref)
	if !strings.Contains(a.last, "set the priority to High") {
		t.Errorf("the page's timeline lacks the priority set:\n%s", a.last)
	}
	// Set again through the page's form: the newest is shown beside the first.
	if resp := a.post("/enquiries/"+ref+"/priority", url.Values{"priority": {"low"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set priority through the page: %d", resp.StatusCode)
	}
	a.get("/enquiries/" + ref)
	if !strings.Contains(a.last, "set the priority to Low") || !strings.Contains(a.last, "set the priority to High") {
		t.Errorf("the page's timeline lacks one of the priorities set:\n%s", a.last)
	}
}
