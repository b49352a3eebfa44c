package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
)

// TestAJustSubmittedEnquiryIsFound: an enquiry posted through the API is found on the staff search page at
// once — by name, a fragment of its email, its phone number as typed and a word of its message — whether or not
// the search indexer has reached it yet (db's tests hold it back to check each state); each search lists it once.
func TestAJustSubmittedEnquiryIsFound(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	a := h.agent()
	a.signIn("coord@clinic.example", staffPassword)
	resp := h.postJSON("/api/v1/enquiries", `{"name":"Quentina Marsh-Ödegaard","email":"q.marsh@example.net",
		"phone":"07700 900777","treatment":"anxiety","message":"Panic attacks on the underground.","consent":true}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("submit: %d %s", resp.StatusCode, body(t, resp))
	}
	ref, _ := decode(t, resp)["reference"].(string)
	for _, text := range []string{"Quentina", "odegaard", "q.marsh@exam", "07700 900777", "+447700900777", "underground"} {
		if resp := a.get("/enquiries?q=" + url.QueryEscape(text)); resp.StatusCode != http.StatusOK {
			t.Fatalf("search %q: %d", text, resp.StatusCode)
		}
		if n := strings.Count(a.last, `href="/enquiries/`+ref+`"`); n != 1 {
			t.Errorf("search %q lists the enquiry %d times, want once", text, n)
		}
	}
	a.get("/enquiries?q=" + url.QueryEscape("quentina overground"))
	if strings.Contains(a.last, ref) {
		t.Error("a search with a word the enquiry lacks found it")
	}
}
