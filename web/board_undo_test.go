package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
)

var undoVersion = regexp.MustCompile(`action="/enquiries/[^"]+/undo"[^>]*>\s*<input type="hidden" name="_csrf" value="[^"]*">\s*<input type="hidden" name="version" value="(\d+)">`)

// TestUndoAMoveWithoutJavaScript: a move from the board's button returns to the board saying what moved where,
// with an Undo form; the undo puts the enquiry back in new without a first contact and says so on the board, on
// the timeline and in the audit log. Another member of staff cannot undo it.
func TestUndoAMoveWithoutJavaScript(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	ref := h.submit(t, "anxiety")
	a := h.agent()
	a.signIn("coord@clinic.example", staffPassword)
	a.get("/board")
	version := regexp.MustCompile(`data-ref="` + ref + `"[\s\S]*?name="version" value="(\d+)"`).FindStringSubmatch(a.last)
	if version == nil {
		t.Fatal("the board has no move form for the enquiry")
	}
	resp := a.post("/enquiries/"+ref+"/transitions", url.Values{"to": {"contacted"}, "version": {version[1]}, "next": {"/board"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/board" {
		t.Fatalf("move: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND status = 'contacted' AND first_contacted_at IS NOT NULL`, ref); n != 1 {
		t.Fatal("the move was not stored with its first contact")
	}
	a.get("/board")
	for _, want := range []string{`role="status"`, "Moved " + ref + " to Contacted.", `action="/enquiries/` + ref + `/undo"`,
		`name="next" value="/board"`, `id="stage-contacted" aria-labelledby`, `id="moved-card" tabindex="-1" data-moved`, "Just moved"} {
		if !strings.Contains(a.last, want) {
			t.Errorf("the board after the move lacks %q", want)
		}
	}
	// On a phone the board shows the stage the card moved to.
	if !strings.Contains(a.last, `class="column is-current" id="stage-contacted"`) {
		t.Error("the board after the move does not show the contacted stage on a phone")
	}
	m := undoVersion.FindStringSubmatch(a.last)
	if m == nil {
		t.Fatal("no version in the undo form")
	}
	after, _ := strconv.Atoi(m[1])

	// Someone else cannot undo it.
	b := h.agent()
	b.signIn("admin@clinic.example", staffPassword)
	b.get("/board")
	b.post("/enquiries/"+ref+"/undo", url.Values{"version": {m[1]}, "next": {"/board"}})
	b.get("/board")
	if !strings.Contains(b.last, `role="alert"`) || !strings.Contains(b.last, "Not undone: Only the person who made a move can undo it.") {
		t.Errorf("another member of staff's undo is not refused with a reason:\n%.3000s", b.last[strings.Index(b.last, "<main"):])
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND status = 'contacted'`, ref); n != 1 {
		t.Fatal("another member of staff undid the move")
	}

	resp = a.post("/enquiries/"+ref+"/undo", url.Values{"version": {strconv.Itoa(after)}, "next": {"/board"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/board" {
		t.Fatalf("undo: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND status = 'new' AND first_contacted_at IS NULL`, ref); n != 1 {
		t.Fatal("the undo did not restore new and clear the first contact")
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'undo_move' AND refs = ?`, ref); n != 1 {
		t.Errorf("the undo is in the audit log %d times, want once", n)
	}
	a.get("/board")
	if !strings.Contains(a.last, "Undone: "+ref+" is back in New.") || !strings.Contains(a.last, `class="column is-current" id="stage-new"`) {
		t.Error("the board after the undo does not say so, or shows another stage")
	}
	a.get("/enquiries/" + ref)
	if !strings.Contains(a.last, "undid the move to Contacted: back to New") {
		t.Error("the timeline does not show the undo")
	}
	// Undoing twice is refused: the undo was the latest change.
	a.post("/enquiries/"+ref+"/undo", url.Values{"version": {strconv.Itoa(after + 1)}})
	a.get("/enquiries/" + ref)
	if !strings.Contains(a.last, "Not undone: "+ref+" has changed since that move.") {
		t.Error("a second undo is not refused")
	}

	// The enquiry page's own move offers the undo there.
	a.get("/enquiries/" + ref)
	v := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(a.last)
	resp = a.post("/enquiries/"+ref+"/transitions", url.Values{"to": {"screening"}, "version": {v[1]}})
	if loc := resp.Header.Get("Location"); loc != "/enquiries/"+ref {
		t.Fatalf("move from the enquiry page went to %q", loc)
	}
	a.get("/enquiries/" + ref)
	if !strings.Contains(a.last, "Moved "+ref+" to Screening.") || !strings.Contains(a.last, `name="next" value="/enquiries/`+ref+`"`) {
		t.Error("the enquiry page after a move offers no undo")
	}
}

// TestStaffErrorPagesUseTheStaffLayout: signed in, a missing enquiry, a dead link and a page the role may not
// open answer in the staff layout with a way on, without the patients' crisis box or form link; a patient's
// 404 keeps them.
func TestStaffErrorPagesUseTheStaffLayout(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	a := h.agent()
	a.signIn("coord@clinic.example", staffPassword)
	staffLayout := func(what string) {
		t.Helper()
		if !strings.Contains(a.last, `<nav class="staff" aria-label="Main">`) || !strings.Contains(a.last, `action="/logout"`) {
			t.Errorf("%s: not in the staff layout", what)
		}
		if strings.Contains(a.last, `class="crisis"`) || strings.Contains(a.last, `href="/enquire"`) {
			t.Errorf("%s: shows the patients' crisis box or form link", what)
		}
		if m := csrfField.FindStringSubmatch(a.last); m == nil || m[1] == "" {
			t.Errorf("%s: the sign-out form has no CSRF token", what)
		}
	}
	cases := []struct {
		path   string
		status int
		want   []string
	}{
		{"/enquiries/ZZZZ-ZZZZ", 404, []string{"No enquiry has that reference", `href="/enquiries"`, "Search the list of enquiries"}},
		{"/no-such-page", 404, []string{"There is no page at this address", `href="/board"`}},
		{"/admin/users", 403, []string{"Your role cannot do that", "Coordinator", "ask an administrator"}},
	}
	for _, c := range cases {
		if resp := a.get(c.path); resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d", c.path, resp.StatusCode, c.status)
		}
		staffLayout(c.path)
		for _, want := range c.want {
			if !strings.Contains(a.last, want) {
				t.Errorf("%s lacks %q", c.path, want)
			}
		}
	}
	// A patient's error page is the patients' own.
	p := h.agent()
	if resp := p.get("/no-such-page"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("patient 404: %d", resp.StatusCode)
	}
	if strings.Contains(p.last, `aria-label="Main"`) || !strings.Contains(p.last, `class="crisis"`) || !strings.Contains(p.last, `href="/enquire"`) {
		t.Error("a patient's 404 is not in the patient layout with the crisis box and the form link")
	}
}
