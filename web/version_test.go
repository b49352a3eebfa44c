package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/frontdesk/frontdesk/crm"
)

// TestStaffAPIRefusesAStaleVersion: a change sent with the version the client saw is refused with 409
// {"error":"conflict"} once someone else has changed the enquiry, and nothing changes; sent with the current
// version it goes through and the version grows.
func TestStaffAPIRefusesAStaleVersion(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	h.addStaff("clin@clinic.example", crm.RoleClinician)
	a, b := h.token("coord@clinic.example"), h.token("admin@clinic.example")
	ref := h.submit(t, "other")
	path := "/api/v1/enquiries/" + ref

	seen := decode(t, h.apiCall(http.MethodGet, path, a, ""))
	if seen["version"] != 1.0 {
		t.Fatalf("a new enquiry: version %v, want 1", seen["version"])
	}
	list := decode(t, h.apiCall(http.MethodGet, "/api/v1/enquiries", a, ""))
	if item := list["items"].([]any)[0].(map[string]any); item["version"] != 1.0 {
		t.Errorf("list item: version %v, want 1", item["version"])
	}

	resp := h.apiCall(http.MethodPost, path+"/transitions", b, `{"to":"not_suitable","reason":"Needs a specialist","version":1}`)
	closed := decode(t, resp)
	if resp.StatusCode != 200 || closed["version"] != 2.0 {
		t.Fatalf("B closes: %d %v", resp.StatusCode, closed)
	}
	stale := map[string]string{
		"/transitions": `{"to":"contacted","version":1}`,
		"/assign":      `{"assignee":"clin@clinic.example","version":1}`,
		"/priority":    `{"priority":"urgent","version":1}`,
	}
	for sub, req := range stale {
		resp := h.apiCall(http.MethodPost, path+sub, a, req)
		got := decode(t, resp)
		if resp.StatusCode != http.StatusConflict || got["error"] != "conflict" || got["version"] != 2.0 ||
			got["status"] != "not_suitable" || got["changed_at"] == nil {
			t.Errorf("stale %s: %d %v, want 409 conflict", sub, resp.StatusCode, got)
		}
		if by, _ := got["changed_by"].(map[string]any); by == nil || by["email"] != "admin@clinic.example" {
			t.Errorf("stale %s: changed_by %v, want the administrator", sub, got["changed_by"])
		}
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND status = 'not_suitable' AND version = 2
		AND assignee_id IS NULL AND priority = 'normal'`, ref); n != 1 {
		t.Error("a stale change changed the enquiry")
	}
	if n := h.count(`SELECT count(*) FROM events e JOIN enquiries q ON q.id = e.enquiry_id WHERE q.reference = ?`, ref); n != 2 {
		t.Errorf("%d events after the refused changes, want 2 (created, closed)", n)
	}

	// Decided on what is current, it goes through; the version grows with each change.
	for i, step := range []struct{ sub, body string }{
		{"/transitions", `{"to":"contacted","version":2}`},
		{"/assign", `{"assignee":"clin@clinic.example","version":3}`},
		{"/priority", `{"priority":"high","version":4}`},
		{"/priority", `{"priority":"low"}`}, // no version: applied as before
	} {
		resp := h.apiCall(http.MethodPost, path+step.sub, a, step.body)
		got := decode(t, resp)
		if resp.StatusCode != 200 || got["version"] != float64(3+i) {
			t.Errorf("%s %s: %d version %v, want 200 and %d", step.sub, step.body, resp.StatusCode, got["version"], 3+i)
		}
	}
	if resp := h.apiCall(http.MethodPost, path+"/notes", a, `{"body":"Rang back.","version":1}`); resp.StatusCode != http.StatusCreated {
		t.Errorf("a note on a changed enquiry: %d, want 201 (notes never conflict)", resp.StatusCode)
	}

	for _, bad := range []string{`"2"`, `1.5`, `true`, `[]`, `0`, `-3`} {
		resp := h.apiCall(http.MethodPost, path+"/transitions", a, `{"to":"screening","version":`+bad+`}`)
		got := decode(t, resp)
		fields, _ := got["fields"].(map[string]any)
		if resp.StatusCode != http.StatusUnprocessableEntity || fields["version"] == nil {
			t.Errorf("version %s: %d %v, want 422 naming version", bad, resp.StatusCode, got)
		}
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND status = 'contacted'`, ref); n != 1 {
		t.Error("a bad version changed the enquiry")
	}
}

var versionField = regexp.MustCompile(`name="version" value="(\d+)"`)

// TestStaffPagesRefuseAStaleForm: every form that changes an enquiry carries the version the page showed; sent
// after someone else changed it, the answer is 409 with the enquiry as it is now and who changed it, and
// nothing changes. A form without the field (from before versions) works as it always did.
func TestStaffPagesRefuseAStaleForm(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	admin := h.addStaff("admin@clinic.example", crm.RoleAdmin)
	ref := h.submit(t, "other")
	a := h.agent()
	a.signIn("coord@clinic.example", staffPassword)

	a.get("/board")
	if m := versionField.FindAllStringSubmatch(a.last, -1); len(m) != 1 || m[0][1] != "1" {
		t.Errorf("the board's move form carries versions %v, want one at 1", m)
	}
	a.get("/enquiries/" + ref)
	if m := versionField.FindAllStringSubmatch(a.last, -1); len(m) != 3 {
		t.Errorf("the enquiry page has %d forms with a version, want 3 (move, assign, priority)", len(m))
	}

	if _, err := h.ws.Transition(t.Context(), admin, ref, crm.StatusNotSuitable, "Needs a specialist service", 1); err != nil {
		t.Fatal(err)
	}
	sentence := regexp.MustCompile(`Staff admin moved this enquiry at \d\d:\d\d — it is now Not suitable\. Your change was not made\.`)
	for _, f := range []struct {
		path string
		vals url.Values
	}{
		{"/transitions", url.Values{"to": {"contacted"}, "version": {"1"}, "next": {"/board"}}},
		{"/assign", url.Values{"assignee": {"coord@clinic.example"}, "version": {"1"}}},
		{"/priority", url.Values{"priority": {"urgent"}, "version": {"1"}}},
	} {
		resp := a.post("/enquiries/"+ref+f.path, f.vals)
		if resp.StatusCode != http.StatusConflict {
			t.Fatalf("stale %s: %d, want 409", f.path, resp.StatusCode)
		}
		if !sentence.MatchString(a.last) || !strings.Contains(a.last, `role="alert"`) ||
			!strings.Contains(a.last, `<span class="badge status-not_suitable">Not suitable</span>`) {
			t.Errorf("stale %s: the page does not say who changed it and how it is now:\n%s", f.path, a.last)
		}
		if m := versionField.FindStringSubmatch(a.last); m == nil || m[1] != "2" {
			t.Errorf("stale %s: the page's forms carry %v, want the current version 2", f.path, m)
		}
		if got := resp.Header.Get("HX-Push-Url"); got != "/enquiries/"+ref {
			t.Errorf("stale %s: HX-Push-Url %q", f.path, got)
		}
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND status = 'not_suitable' AND version = 2
		AND assignee_id IS NULL AND priority = 'normal'`, ref); n != 1 {
		t.Error("a stale form changed the enquiry")
	}

	if resp := a.post("/enquiries/"+ref+"/transitions", url.Values{"to": {"contacted"}, "version": {"two"}}); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(a.last, "reload the page") {
		t.Errorf("a damaged version: %d", resp.StatusCode)
	}
	// A note is never refused for a stale page.
	if resp := a.post("/enquiries/"+ref+"/notes", url.Values{"body": {"She will call us."}, "version": {"1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("note: %d, want 303", resp.StatusCode)
	}
	// Without the field, as before versions: applied to the enquiry as it is.
	if resp := a.post("/enquiries/"+ref+"/transitions", url.Values{"to": {"contacted"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("move without a version: %d, want 303", resp.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND status = 'contacted' AND version = 4`, ref); n != 1 {
		t.Error("the move without a version was not applied")
	}
}

// TestBrowserShowsAConflictInsteadOfReopening: with the board open, the enquiry is closed elsewhere; the card's
// move button then answers with the enquiry page saying who closed it, focused, and the closure stands.
func TestBrowserShowsAConflictInsteadOfReopening(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	admin := h.addStaff("admin@clinic.example", crm.RoleAdmin)
	ref := h.submit(t, "anxiety")
	base := h.listen()
	ctx := newBrowser(t)
	do(t, ctx, chromedp.Navigate(base+"/board"), chromedp.WaitVisible(chromedp.ID("email")))
	browserSignIn(t, ctx, h, "coord@clinic.example")
	button := chromedp.CSS(`li.card[data-ref="` + ref + `"] form.move button`)
	do(t, ctx, chromedp.WaitVisible(button), chromedp.WaitReady(chromedp.CSS(`[data-board][data-drag-ready]`)))

	if _, err := h.ws.Transition(t.Context(), admin, ref, crm.StatusNotSuitable, "Needs a specialist service", 0); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Click(button))
	do(t, ctx, chromedp.WaitVisible(chromedp.ID("conflict")))
	notice := run(t, ctx, chromedp.Text(chromedp.ID("conflict")))
	if !strings.Contains(notice, "Staff admin moved this enquiry at") || !strings.Contains(notice, "it is now Not suitable") ||
		!strings.Contains(notice, "Your change was not made") {
		t.Errorf("conflict notice %q", notice)
	}
	if focused := run(t, ctx, chromedp.Evaluate[string](`document.activeElement && document.activeElement.id`)); focused != "conflict" {
		t.Errorf("focus is on %q, want the conflict notice", focused)
	}
	if path := run(t, ctx, chromedp.Evaluate[string](`location.pathname`)); path != "/enquiries/"+ref {
		t.Errorf("the address bar shows %q, want the enquiry's page", path)
	}
	if status := run(t, ctx, chromedp.Text(chromedp.CSS(`.status-line .badge`))); status != "Not suitable" {
		t.Errorf("the page shows the status %q, want Not suitable", status)
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND status = 'not_suitable'`, ref); n != 1 {
		t.Error("the stale move reopened the closure")
	}
}

// A boosted form answered with its errors keeps the address it was on: the POST address, put in the address
// bar, would find no page on reload.
func TestABoostedFormAnsweredWithErrorsKeepsItsAddress(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	ref := h.submit(t, "adhd")
	a := h.signedIn("coord@clinic.example", staffPassword)
	a.get("/enquiries/" + ref)
	a.headers = map[string]string{"HX-Request": "true", "HX-Boosted": "true"}
	// Closing without a reason is refused, with the page shown again.
	resp := a.post("/enquiries/"+ref+"/transitions", url.Values{"to": {"lost"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("closing without a reason: %d", resp.StatusCode)
	}
	if got := resp.Header.Get("HX-Push-Url"); got != "false" {
		t.Errorf("HX-Push-Url %q: htmx would show the POST address", got)
	}
	// A successful move is a redirect, which htmx follows to a real page.
	resp = a.post("/enquiries/"+ref+"/transitions", url.Values{"to": {"contacted"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("HX-Push-Url") != "" {
		t.Errorf("a move: %d, HX-Push-Url %q", resp.StatusCode, resp.Header.Get("HX-Push-Url"))
	}
}
