package web_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/web"
)

func TestPagesWithoutASessionRedirectToLogin(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	for _, path := range []string{"/board", "/enquiries", "/enquiries/K7QM-4XPD", "/admin/users", "/admin/audit"} {
		resp := h.get(path)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("%s: %d → %q, want 303 to /login", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func TestSignInSessionAndSignOut(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	a := h.agent()
	a.get("/login")
	before := a.cookies["frontdesk_session"]
	resp := a.post("/login", url.Values{"email": {"Coord@Clinic.example"}, "password": {staffPassword}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login/2fa" {
		t.Fatalf("password: %d → %q, want the second-factor step", resp.StatusCode, resp.Header.Get("Location"))
	}
	pending := a.cookies["frontdesk_session"]
	if pending == "" || pending == before {
		t.Errorf("the session ID did not change after the password (fixation): before %q after %q", before, pending)
	}
	a.get("/login/2fa")
	resp = a.post("/login/2fa", url.Values{"code": {h.secondFactorCode("coord@clinic.example")}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/board" {
		t.Fatalf("second factor: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	after := a.cookies["frontdesk_session"]
	if after == "" || after == pending {
		t.Errorf("the session ID did not change at sign-in (fixation): pending %q after %q", pending, after)
	}
	// 256 random bits, URL-safe base64: at least the 128 that session IDs need.
	if raw, err := base64.RawURLEncoding.DecodeString(after); err != nil || len(raw) < 16 {
		t.Errorf("session ID %q does not carry 128 random bits or more", after)
	}
	var sessionCookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "frontdesk_session" {
			sessionCookie = c
		}
	}
	if sessionCookie == nil || !sessionCookie.HttpOnly || sessionCookie.SameSite != http.SameSiteLaxMode || sessionCookie.Secure {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over http", sessionCookie)
	}
	if resp := a.get("/board"); resp.StatusCode != 200 || !strings.Contains(a.last, "Board") {
		t.Fatalf("board after sign-in: %d", resp.StatusCode)
	}
	// Sign out ends the session: the old cookie no longer works either.
	old := a.cookies["frontdesk_session"]
	if resp := a.post("/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	} else if got := resp.Header.Get("Clear-Site-Data"); !strings.Contains(got, `"cache"`) || !strings.Contains(got, `"storage"`) {
		t.Errorf("logout leaves the browser's copies of staff pages: Clear-Site-Data %q", got)
	}
	a.cookies["frontdesk_session"] = old
	if resp := a.get("/board"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("board with the signed-out session: %d, want 303", resp.StatusCode)
	}
}

func TestSecureCookiesOverHTTPS(t *testing.T) {
	h := newHarness(t, func(c *web.Config) { c.SecureCookies = true })
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	resp := h.agent().signIn("coord@clinic.example", staffPassword)
	found := false
	for _, c := range resp.Cookies() {
		if c.Name == "frontdesk_session" {
			found = true
			if !c.Secure {
				t.Error("session cookie not Secure although the base URL is https")
			}
		}
	}
	if !found {
		t.Error("no session cookie set at sign-in")
	}
}

func TestWrongPasswordAndDisabledAccount(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	h.addStaff("gone@clinic.example", crm.RoleClinician)
	a := h.agent()
	resp := a.signIn("admin@clinic.example", "not the password")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(a.last, "do not match") {
		t.Errorf("wrong password: %d", resp.StatusCode)
	}
	if strings.Contains(h.logs.String(), "not the password") {
		t.Error("the password was logged")
	}
	admin := h.agent()
	admin.signIn("admin@clinic.example", staffPassword)
	admin.get("/admin/users")
	if resp := admin.post("/admin/users/update", url.Values{"email": {"gone@clinic.example"}, "action": {"disable"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d %s", resp.StatusCode, admin.last)
	}
	if resp := h.agent().signIn("gone@clinic.example", staffPassword); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("disabled account signs in: %d", resp.StatusCode)
	}
}

func TestSignInRateLimitPerAccount(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	a := h.agent()
	a.get("/login")
	for i := 0; i < 5; i++ {
		if resp := a.post("/login", url.Values{"email": {"admin@clinic.example"}, "password": {"guess " + string(rune('a'+i))}}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, resp.StatusCode)
		}
	}
	resp := a.post("/login", url.Values{"email": {"admin@clinic.example"}, "password": {staffPassword}})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("sixth attempt: %d, want 429 even with the right password", resp.StatusCode)
	}
	// Another account from the same client is not locked by these failures.
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	if resp := a.post("/login", url.Values{"email": {"coord@clinic.example"}, "password": {staffPassword}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("other account: %d", resp.StatusCode)
	}
}

func TestCSRFIsRequiredOnEveryStaffPost(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	ref := h.submit(t, "adhd")
	a := h.agent()
	a.signIn("coord@clinic.example", staffPassword)
	a.get("/enquiries/" + ref)
	cases := map[string]url.Values{
		"/enquiries/" + ref + "/notes":       {"body": {"A note"}},
		"/enquiries/" + ref + "/transitions": {"to": {"contacted"}},
		"/enquiries/" + ref + "/assign":      {"assignee": {"coord@clinic.example"}},
		"/logout":                            {},
	}
	for path, vals := range cases {
		for _, token := range []string{"", "forged-token"} {
			v := url.Values{"_csrf": {token}}
			for k, vv := range vals {
				v[k] = vv
			}
			if resp := a.post(path, v); resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with _csrf %q: %d, want 403", path, token, resp.StatusCode)
			}
		}
	}
	if n := h.count(`SELECT count(*) FROM notes`); n != 0 {
		t.Errorf("%d notes stored without a CSRF token", n)
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE status <> 'new' OR assignee_id IS NOT NULL`); n != 0 {
		t.Error("an enquiry changed without a CSRF token")
	}
	if resp := a.get("/board"); resp.StatusCode != 200 {
		t.Error("the session ended although logout had no CSRF token")
	}
	// With the token, the same form works.
	a.get("/enquiries/" + ref)
	if resp := a.post("/enquiries/"+ref+"/notes", url.Values{"body": {"A note"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("note with token: %d", resp.StatusCode)
	}
}

// TestSessionExpiresWhenIdleAndAtTheAbsoluteLimit: a session left idle past its limit ends, and one kept busy
// ends at the absolute limit. What each request must find is judged from the times the client saw, so that a
// slow answer on a loaded machine is not taken for a fault: the session began between t0 and t1, and its start
// is kept in whole seconds, so it may count from t0's second.
func TestSessionExpiresWhenIdleAndAtTheAbsoluteLimit(t *testing.T) {
	const idle, absolute = time.Second, 3 * time.Second
	h := newHarness(t, func(c *web.Config) { c.SessionIdle = idle; c.SessionAbsolute = absolute })
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	a := h.agent()
	a.signIn("coord@clinic.example", staffPassword)
	if resp := a.get("/board"); resp.StatusCode != 200 {
		t.Fatalf("board: %d", resp.StatusCode)
	}
	time.Sleep(idle + idle/2)
	if resp := a.get("/board"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after the idle limit: %d, want 303", resp.StatusCode)
	} else if !strings.Contains(resp.Header.Get("Clear-Site-Data"), `"storage"`) {
		t.Errorf("a session that timed out leaves the browser's copies: Clear-Site-Data %q", resp.Header.Get("Clear-Site-Data"))
	}

	b := h.agent()
	t0 := time.Now()
	b.signIn("coord@clinic.example", staffPassword)
	t1 := time.Now()
	prev, kept := t0, 0
	for { // keep it busy: never idle, until past the absolute limit
		time.Sleep(idle / 4)
		sent := time.Now()
		resp := b.get("/board")
		answered := time.Now()
		switch {
		case sent.Sub(t1) > absolute:
			if resp.StatusCode != http.StatusSeeOther {
				t.Errorf("past the absolute limit: %d, want 303", resp.StatusCode)
			}
			if kept < 2 {
				t.Errorf("only %d requests were surely inside both limits: the machine was too slow to tell", kept)
			}
			return
		case answered.Sub(t0.Truncate(time.Second)) < absolute && answered.Sub(prev) < idle:
			kept++
			if resp.StatusCode != 200 {
				t.Fatalf("a busy session ended %s after sign-in, %s after the last request: %d",
					answered.Sub(t0.Truncate(time.Second)).Round(time.Millisecond), answered.Sub(prev).Round(time.Millisecond), resp.StatusCode)
			}
		}
		prev = sent
	}
}

func TestSetupCreatesTheFirstAdministratorWithTheCode(t *testing.T) {
	h := newHarness(t, nil)
	a := h.agent()
	if resp := a.get("/login"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/setup" {
		t.Errorf("login with no accounts: %d → %q, want /setup", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := a.get("/setup"); resp.StatusCode != 200 || !strings.Contains(a.last, "setup code") {
		t.Fatalf("setup page: %d", resp.StatusCode)
	}
	form := url.Values{"name": {"Dr Rivers"}, "email": {"rivers@clinic.example"}, "password": {"a long enough password"}, "code": {"WRONGWRONG"}}
	if resp := a.post("/setup", form); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(a.last, "not the setup code") {
		t.Errorf("wrong code: %d", resp.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM staff`); n != 0 {
		t.Fatal("an account was created with a wrong code")
	}
	code, _ := h.accounts.SetupCode(t.Context())
	form.Set("code", code)
	resp := a.post("/setup", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("setup: %d %s", resp.StatusCode, a.last)
	}
	if n := h.count(`SELECT count(*) FROM staff WHERE role = 'admin' AND email = 'rivers@clinic.example'`); n != 1 {
		t.Error("first administrator not created")
	}
	// Signed in, but every account must enrol a second factor first (FRONTDESK_REQUIRE_2FA=all).
	if resp := a.get("/admin/users"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/2fa" {
		t.Errorf("after setup: %d → %q, want 303 to /account/2fa", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := a.get("/account/2fa"); resp.StatusCode != 200 || !strings.Contains(a.last, "otpauth://") {
		t.Errorf("enrolment page after setup: %d", resp.StatusCode)
	}
	if resp := h.agent().get("/setup"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("setup offered again: %d", resp.StatusCode)
	}
}

func TestStaffPagesWorkAnEnquiry(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	clin := h.addStaff("clin@clinic.example", crm.RoleClinician, "ptsd")
	ref := h.submit(t, "ptsd")
	a := h.agent()
	a.signIn("coord@clinic.example", staffPassword)
	a.get("/board")
	for _, want := range []string{ref, "Ann Example", "PTSD", clin.Name, "Move to Contacted"} {
		if !strings.Contains(a.last, want) {
			t.Errorf("board lacks %q", want)
		}
	}
	a.get("/enquiries/" + ref)
	for _, want := range []string{"ann@example.org", `href="tel:&#43;447700900123"`, "I have struggled to focus", "received the enquiry"} {
		if !strings.Contains(a.last, want) {
			t.Errorf("enquiry page lacks %q", want)
		}
	}
	if resp := a.post("/enquiries/"+ref+"/transitions", url.Values{"to": {"lost"}}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(a.last, "Give a reason") {
		t.Errorf("closing without reason: %d", resp.StatusCode)
	}
	if resp := a.post("/enquiries/"+ref+"/transitions", url.Values{"to": {"screening"}, "next": {"/board"}}); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/board" {
		t.Errorf("move: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := a.post("/enquiries/"+ref+"/transitions", url.Values{"to": {"contacted"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("backwards move: %d, want 409", resp.StatusCode)
	}
	a.post("/enquiries/"+ref+"/notes", url.Values{"body": {"Spoke to her; <b>assessment</b> next week."}})
	a.get("/enquiries/" + ref)
	if !strings.Contains(a.last, "moved it from New to Screening") || !strings.Contains(a.last, "&lt;b&gt;assessment&lt;/b&gt;") {
		t.Errorf("timeline lacks the move or the escaped note:\n%s", a.last)
	}
	// An open redirect through "next" is refused.
	resp := a.post("/enquiries/"+ref+"/priority", url.Values{"priority": {"high"}, "next": {"https://evil.example/"}})
	if loc := resp.Header.Get("Location"); loc != "/enquiries/"+ref {
		t.Errorf("next=https://evil.example redirected to %q", loc)
	}
	// Search finds it by a word of the note.
	a.get("/enquiries?q=assessm")
	if !strings.Contains(a.last, ref) {
		t.Error("search by the start of a word in a note does not find the enquiry")
	}
	if resp := a.get("/enquiries?from=2026-13-01"); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(a.last, "YYYY-MM-DD") {
		t.Errorf("bad date filter: %d", resp.StatusCode)
	}
}

func TestClinicianCannotSeeAnotherClinicianEnquiryPage(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("a@clinic.example", crm.RoleClinician, "adhd")
	ref := h.submit(t, "adhd") // assigned to a@
	h.addStaff("b@clinic.example", crm.RoleClinician)
	b := h.agent()
	b.signIn("b@clinic.example", staffPassword)
	if resp := b.get("/enquiries/" + ref); resp.StatusCode != http.StatusNotFound {
		t.Errorf("other clinician's enquiry: %d, want 404", resp.StatusCode)
	}
	if resp := b.get("/admin/users"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("clinician on /admin/users: %d, want 403", resp.StatusCode)
	}
}

func TestAdminAddsAndChangesStaff(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	a := h.agent()
	a.signIn("admin@clinic.example", staffPassword)
	a.get("/admin/users")
	resp := a.post("/admin/users", url.Values{"name": {"Dr New"}, "email": {"new-at-clinic"}, "role": {"clinician"}, "password": {"short"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(a.last, "valid email") || !strings.Contains(a.last, "12 characters") {
		t.Errorf("bad account: %d", resp.StatusCode)
	}
	resp = a.post("/admin/users", url.Values{"name": {"Dr New"}, "email": {"new@clinic.example"}, "role": {"clinician"},
		"treatments": {"adhd", "ptsd"}, "password": {"a long enough password"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d %s", resp.StatusCode, a.last)
	}
	if n := h.count(`SELECT count(*) FROM staff_treatments t JOIN staff s ON s.id = t.staff_id WHERE s.email = 'new@clinic.example'`); n != 2 {
		t.Errorf("%d treatments stored, want 2", n)
	}
	a.get("/admin/users")
	a.post("/admin/users/update", url.Values{"email": {"new@clinic.example"}, "role": {"coordinator"}, "treatments": {"anxiety"}})
	if n := h.count(`SELECT count(*) FROM staff WHERE email = 'new@clinic.example' AND role = 'coordinator'`); n != 1 {
		t.Error("role not changed")
	}
	// An admin cannot lock themselves out.
	if resp := a.post("/admin/users/update", url.Values{"email": {"admin@clinic.example"}, "action": {"disable"}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("self-disable: %d", resp.StatusCode)
	}
	a.get("/admin/audit")
	if !strings.Contains(a.last, "Account added") || !strings.Contains(a.last, "Account changed") {
		t.Error("account changes not in the audit log under readable names")
	}
	// The action filter is a select of the actions, with readable names; choosing one keeps only it.
	if !strings.Contains(a.last, `<select id="action" name="action">`) || !strings.Contains(a.last, `<option value="staff_add">Account added</option>`) {
		t.Error("the action filter is not a select of readable actions")
	}
	a.get("/admin/audit?action=staff_update")
	if !strings.Contains(a.last, `<option value="staff_update" selected>`) || strings.Contains(a.last, "<td>Account added</td>") ||
		!strings.Contains(a.last, "<td>Account changed</td>") {
		t.Error("filtering by action does not keep only that action")
	}
}

func TestBoardShowsTheOldestCardsAndLinksToTheRest(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	var refs []string
	for i := 0; i < crm.BoardCardLimit+3; i++ {
		refs = append(refs, h.submit(t, "other"))
	}
	a := h.agent()
	a.signIn("coord@clinic.example", staffPassword)
	a.get("/board")
	if !strings.Contains(a.last, refs[0]) || strings.Contains(a.last, refs[len(refs)-1]) {
		t.Error("the board does not show the oldest-waiting cards first, up to its limit")
	}
	want := fmt.Sprintf(`href="/enquiries?status=new">All %d new →`, crm.BoardCardLimit+3)
	if !strings.Contains(a.last, want) {
		t.Errorf("board lacks the link to the rest: %q", want)
	}
}
