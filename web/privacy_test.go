package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/web"
)

func TestAdminPrivacyPageGivesTheDocumentAndErasesByAddress(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	ann1 := h.submit(t, "adhd")
	ann2 := h.submit(t, "ptsd") // same address: validJSON
	resp := h.postJSON("/api/v1/enquiries", strings.Replace(validJSON, "Ann@Example.org", "bea@example.org", 1))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("submit: %d", resp.StatusCode)
	}
	other, _ := decode(t, resp)["reference"].(string)

	c := h.agent()
	c.signIn("coord@clinic.example", staffPassword)
	if resp := c.get("/admin/privacy"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("coordinator: %d, want 403", resp.StatusCode)
	}
	a := h.agent()
	a.signIn("admin@clinic.example", staffPassword)
	if resp := a.get("/admin/privacy"); resp.StatusCode != 200 {
		t.Fatalf("page: %d", resp.StatusCode)
	}
	for _, want := range []string{`action="/admin/privacy/access"`, `action="/admin/privacy/erase"`, `name="_csrf"`,
		`<label for="access-email">`, `<label for="erase-email">`, `<label for="erase-confirm">`, "24 months (2 years)", "30 days"} {
		if !strings.Contains(a.last, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	// Without the CSRF token: refused.
	if resp := a.post("/admin/privacy/access", url.Values{"_csrf": {""}, "email": {"ann@example.org"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("no _csrf: %d", resp.StatusCode)
	}
	a.get("/admin/privacy")
	// A bad address: the page again, the error beside the field.
	if resp := a.post("/admin/privacy/access", url.Values{"email": {"ann-at-example"}}); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(a.last, `id="access-email-error"`) || !strings.Contains(a.last, `aria-describedby="access-email-error"`) {
		t.Errorf("bad address: %d", resp.StatusCode)
	}
	// The document, as a file to save.
	resp = a.post("/admin/privacy/access", url.Values{"email": {"ANN@example.org"}})
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("download: %d %v", resp.StatusCode, resp.Header)
	}
	var doc crm.SubjectAccessDocument
	if err := json.Unmarshal([]byte(a.last), &doc); err != nil || doc.Email != "ann@example.org" || len(doc.Enquiries) != 2 ||
		doc.Enquiries[0].Reference != ann1 || doc.Enquiries[1].Reference != ann2 {
		t.Fatalf("document: %v %+v", err, doc)
	}

	// Erasure needs the address typed twice; nothing changes until it is.
	a.get("/admin/privacy")
	if resp := a.post("/admin/privacy/erase", url.Values{"email": {"ann@example.org"}, "confirm_email": {"anne@example.org"}}); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(a.last, `id="erase-confirm-error"`) || !strings.Contains(a.last, `aria-describedby="erase-confirm-help erase-confirm-error"`) {
		t.Errorf("mismatched confirmation: %d", resp.StatusCode)
	}
	if resp := a.post("/admin/privacy/erase", url.Values{"email": {"nobody@example.org"}, "confirm_email": {"nobody@example.org"}}); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(a.last, `id="erase-email-error"`) {
		t.Errorf("unknown address: %d", resp.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE erased_at IS NOT NULL`); n != 0 {
		t.Fatalf("%d enquiries erased by refused requests", n)
	}
	resp = a.post("/admin/privacy/erase", url.Values{"email": {"ann@example.org"}, "confirm_email": {" Ann@Example.org"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/privacy" {
		t.Fatalf("erase: %d %s", resp.StatusCode, a.last)
	}
	a.get("/admin/privacy")
	if !strings.Contains(a.last, ann1) || !strings.Contains(a.last, ann2) || strings.Contains(a.last, "ann@example.org") {
		t.Error("the page after should name the references erased, and not the address")
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE erased_at IS NOT NULL AND email = '' AND reference IN (?, ?)`, ann1, ann2); n != 2 {
		t.Errorf("%d of 2 erased", n)
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND email = 'bea@example.org'`, other); n != 1 {
		t.Error("another patient's enquiry was touched")
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'erase' AND detail NOT LIKE '%ann%'`); n != 2 {
		t.Errorf("%d erase entries without the address, want 2", n)
	}
	if n := h.count(`SELECT count(*) FROM sessions WHERE instr(lower(CAST(value AS TEXT)), 'ann@example.org') > 0`); n != 0 {
		t.Error("the erased address is kept in a session")
	}
}

func TestSubjectAccessAPI(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	h.addStaff("clin@clinic.example", crm.RoleClinician)
	ref := h.submit(t, "adhd")
	admin := h.token("admin@clinic.example")

	resp := h.apiCall(http.MethodGet, "/api/v1/subject-access?email="+url.QueryEscape("Ann@Example.org"), admin, "")
	if resp.StatusCode != 200 {
		t.Fatalf("admin: %d %s", resp.StatusCode, body(t, resp))
	}
	var doc crm.SubjectAccessDocument
	if err := json.Unmarshal([]byte(body(t, resp)), &doc); err != nil || doc.Email != "ann@example.org" ||
		len(doc.Enquiries) != 1 || doc.Enquiries[0].Reference != ref || doc.GeneratedAt.IsZero() {
		t.Errorf("document %+v %v", doc, err)
	}
	for _, who := range []string{"coord@clinic.example", "clin@clinic.example"} {
		if resp := h.apiCall(http.MethodGet, "/api/v1/subject-access?email=ann@example.org", h.token(who), ""); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", who, resp.StatusCode)
		}
	}
	if resp := h.apiCall(http.MethodGet, "/api/v1/subject-access?email=ann@example.org", "", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	for _, q := range []string{"", "?email=", "?email=not-an-address"} {
		resp := h.apiCall(http.MethodGet, "/api/v1/subject-access"+q, admin, "")
		m := decode(t, resp)
		fields, _ := m["fields"].(map[string]any)
		if resp.StatusCode != http.StatusUnprocessableEntity || fields["email"] == nil {
			t.Errorf("%q: %d %v, want 422 naming email", q, resp.StatusCode, m)
		}
	}
	// An address nobody used: a document with an empty list.
	resp = h.apiCall(http.MethodGet, "/api/v1/subject-access?email=nobody@example.org", admin, "")
	if b := body(t, resp); resp.StatusCode != 200 || !strings.Contains(b, `"enquiries":[]`) {
		t.Errorf("unknown address: %d %s", resp.StatusCode, b)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'subject_access'`); n != 2 {
		t.Errorf("%d subject access entries, want 2 (the refused requests are not requests)", n)
	}
}

func TestPrivacyNoticeStatesRetentionAndRights(t *testing.T) {
	h := newHarness(t, nil)
	page := body(t, h.get("/privacy"))
	for _, want := range []string{"24 months (2 years) after it closed", "30 days after they arrive",
		"a copy of all the information we hold about you", "to erase it",
		// How it is protected: two factors for staff, and a log of every look that shows any change.
		"a code from an app on their phone", "each entry is sealed to the one before"} {
		if !strings.Contains(page, want) {
			t.Errorf("the notice does not say %q", want)
		}
	}
	never := newHarness(t, func(c *web.Config) { c.RetentionMonths, c.SpamRetentionDays = 0, 0 })
	page = body(t, never.get("/privacy"))
	if !strings.Contains(page, "we keep it until you ask us to erase it") || strings.Contains(page, "after they arrive") {
		t.Error("with no retention periods the notice must not promise them")
	}
}
