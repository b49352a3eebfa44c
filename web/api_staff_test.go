package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
)

func TestStaffAPIAuthentication(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	for _, tok := range []string{"", "fd_notarealtoken", "Basic abc"} {
		resp := h.apiCall(http.MethodGet, "/api/v1/enquiries", tok, "")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("token %q: %d, want 401", tok, resp.StatusCode)
		}
		if got := decode(t, resp); got["error"] == nil {
			t.Errorf("401 body %v", got)
		}
	}
	tok := h.token("coord@clinic.example")
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries", tok, ""); resp.StatusCode != 200 {
		t.Errorf("valid token: %d", resp.StatusCode)
	}
	tokens, _ := h.accounts.Tokens(t.Context(), crm.System, 1)
	if err := h.accounts.RevokeToken(t.Context(), crm.System, 1, tokens[0].ID); err != nil {
		t.Fatal(err)
	}
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries", tok, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", resp.StatusCode)
	}
}

func TestStaffAPIWorksAnEnquiry(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	h.addStaff("clin@clinic.example", crm.RoleClinician)
	tok := h.token("coord@clinic.example")
	ref := h.submit(t, "adhd")

	list := decode(t, h.apiCall(http.MethodGet, "/api/v1/enquiries?status=new&treatment=adhd", tok, ""))
	items, _ := list["items"].([]any)
	if len(items) != 1 || list["next_cursor"] != "" {
		t.Fatalf("list: %v", list)
	}
	item := items[0].(map[string]any)
	for _, field := range []string{"reference", "status", "name", "email", "phone", "preferred_contact", "treatment", "message",
		"referral_source", "assignee", "priority", "overdue", "created_at", "first_contacted_at"} {
		if _, ok := item[field]; !ok {
			t.Errorf("list item lacks %s", field)
		}
	}
	if item["assignee"] != nil || item["overdue"] != false || item["first_contacted_at"] != nil {
		t.Errorf("item %v", item)
	}

	resp := h.apiCall(http.MethodPost, "/api/v1/enquiries/"+ref+"/transitions", tok, `{"to":"contacted"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("transition: %d %s", resp.StatusCode, body(t, resp))
	}
	if got := decode(t, resp); got["status"] != "contacted" || got["first_contacted_at"] == nil {
		t.Errorf("after transition: %v", got)
	}
	for _, tc := range []struct {
		body   string
		status int
	}{
		{`{"to":"new"}`, 409},
		{`{"to":"bogus"}`, 422},
		{`{"to":"lost"}`, 422},
		{`{"to":"lost","reason":"   "}`, 422},
		{`{"to":`, 400},
		{`{"to":5}`, 422},
	} {
		resp := h.apiCall(http.MethodPost, "/api/v1/enquiries/"+ref+"/transitions", tok, tc.body)
		if resp.StatusCode != tc.status {
			t.Errorf("transition %s: %d, want %d", tc.body, resp.StatusCode, tc.status)
		}
		if got := decode(t, resp); got["error"] == nil {
			t.Errorf("transition %s: body %v has no error", tc.body, got)
		}
	}
	resp = h.apiCall(http.MethodPost, "/api/v1/enquiries/"+ref+"/assign", tok, `{"assignee":"clin@clinic.example"}`)
	if got := decode(t, resp); resp.StatusCode != 200 || got["assignee"].(map[string]any)["email"] != "clin@clinic.example" {
		t.Errorf("assign: %d %v", resp.StatusCode, got)
	}
	if resp := h.apiCall(http.MethodPost, "/api/v1/enquiries/"+ref+"/assign", tok, `{"assignee":"nobody@clinic.example"}`); resp.StatusCode != 422 {
		t.Errorf("assign to unknown: %d", resp.StatusCode)
	}
	resp = h.apiCall(http.MethodPost, "/api/v1/enquiries/"+ref+"/notes", tok, `{"body":"Called back"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("note: %d", resp.StatusCode)
	}
	if resp := h.apiCall(http.MethodPost, "/api/v1/enquiries/"+ref+"/notes", tok, `{"body":""}`); resp.StatusCode != 422 {
		t.Errorf("empty note: %d", resp.StatusCode)
	}
	if resp := h.apiCall(http.MethodPost, "/api/v1/enquiries/"+ref+"/notes", tok, "body=x"); resp.StatusCode != 415 && resp.StatusCode != 400 {
		t.Errorf("non-JSON note: %d", resp.StatusCode)
	}
	tl := decode(t, h.apiCall(http.MethodGet, "/api/v1/enquiries/"+ref+"/timeline", tok, ""))
	events, _ := tl["items"].([]any)
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, e.(map[string]any)["kind"].(string))
	}
	if got := strings.Join(kinds, ","); got != "created,status,assigned,note" {
		t.Errorf("timeline kinds %s", got)
	}
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries/ZZZZ-ZZZZ", tok, ""); resp.StatusCode != 404 {
		t.Errorf("unknown ref: %d", resp.StatusCode)
	}
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries?status=bogus", tok, ""); resp.StatusCode != 422 {
		t.Errorf("bad filter: %d", resp.StatusCode)
	}
}

func TestStaffAPIRolesForClinicians(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("a@clinic.example", crm.RoleClinician, "adhd")
	h.addStaff("b@clinic.example", crm.RoleClinician)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	theirs := h.submit(t, "adhd")      // assigned to a@
	unassigned := h.submit(t, "other") // nobody treats "other"
	tok := h.token("b@clinic.example")
	for _, path := range []string{"/api/v1/enquiries/" + theirs, "/api/v1/enquiries/" + theirs + "/timeline"} {
		if resp := h.apiCall(http.MethodGet, path, tok, ""); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	if resp := h.apiCall(http.MethodPost, "/api/v1/enquiries/"+theirs+"/notes", tok, `{"body":"x"}`); resp.StatusCode != 404 {
		t.Errorf("note on another's: %d, want 404", resp.StatusCode)
	}
	if resp := h.apiCall(http.MethodPost, "/api/v1/enquiries/"+unassigned+"/assign", tok, `{"assignee":"coord@clinic.example"}`); resp.StatusCode != 403 {
		t.Errorf("clinician assigns someone else: %d, want 403", resp.StatusCode)
	}
	if resp := h.apiCall(http.MethodPost, "/api/v1/enquiries/"+unassigned+"/assign", tok, `{"assignee":"b@clinic.example"}`); resp.StatusCode != 200 {
		t.Errorf("clinician takes an unassigned one: %d", resp.StatusCode)
	}
	list := decode(t, h.apiCall(http.MethodGet, "/api/v1/enquiries", tok, ""))
	if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["reference"] != unassigned {
		t.Errorf("clinician's list: %v", list)
	}
}
