package web_test

import (
	"database/sql"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/web"
)

// exec changes the database file directly, for what a test cannot wait for (a token's expiry, say).
func (h *harness) exec(query string, args ...any) {
	h.t.Helper()
	rw, err := sql.Open("sqlite3", "file:"+h.path+"?_busy_timeout=5000")
	if err != nil {
		h.t.Fatal(err)
	}
	defer rw.Close()
	if _, err := rw.Exec(query, args...); err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}
}

// signedIn returns an agent signed in as email, checking that it worked.
func (h *harness) signedIn(email, password string) *agent {
	h.t.Helper()
	a := h.agent()
	if resp := a.signIn(email, password); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/board" {
		h.t.Fatalf("sign in as %s: %d → %q", email, resp.StatusCode, resp.Header.Get("Location"))
	}
	return a
}

// signedOut reports whether the agent's next page sends it to the sign-in page.
func (a *agent) signedOut() bool {
	resp := a.get("/board")
	return resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/login")
}

var endSessionForm = regexp.MustCompile(`action="/account/sessions/(\d+)/end"`)

func TestAccountPageListsSessionsAndEndsOthers(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	h.addStaff("other@clinic.example", crm.RoleCoordinator)
	here := h.signedIn("coord@clinic.example", staffPassword)
	laptop := h.signedIn("coord@clinic.example", staffPassword)
	someoneElse := h.signedIn("other@clinic.example", staffPassword)

	if resp := here.get("/account"); resp.StatusCode != http.StatusOK {
		t.Fatalf("/account: %d", resp.StatusCode)
	}
	if !strings.Contains(here.last, `href="/account"`) || !strings.Contains(here.last, `href="/account/2fa"`) {
		t.Error("the header does not link /account, or the page does not link /account/2fa")
	}
	if n := strings.Count(here.last, "This session"); n != 1 {
		t.Errorf("%d sessions marked as this one, want 1", n)
	}
	others := endSessionForm.FindAllStringSubmatch(here.last, -1)
	if len(others) != 1 {
		t.Fatalf("%d other sessions offered to sign out, want 1 (the other person's must not be listed)", len(others))
	}

	// Ending the other session signs that browser out at its next request; this one stays.
	if resp := here.post("/account/sessions/"+others[0][1]+"/end", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("end session: %d", resp.StatusCode)
	}
	if !laptop.signedOut() {
		t.Error("the ended session still opens pages")
	}
	if here.signedOut() {
		t.Error("ending another session signed this one out")
	}
	if someoneElse.signedOut() {
		t.Error("another person's session was ended")
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'session_end'`); n != 1 {
		t.Errorf("%d session_end audit entries, want 1", n)
	}
	// Someone else's session cannot be ended from here.
	var theirs string
	if err := h.raw.QueryRow(`SELECT ss.id FROM staff_sessions ss JOIN staff s ON s.id = ss.staff_id
		WHERE s.email = 'other@clinic.example'`).Scan(&theirs); err != nil {
		t.Fatal(err)
	}
	here.get("/account")
	if resp := here.post("/account/sessions/"+theirs+"/end", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("ending another person's session: %d, want 404", resp.StatusCode)
	}
	if someoneElse.signedOut() {
		t.Error("another person's session was ended")
	}

	// Sign out all other sessions.
	phone := h.signedIn("coord@clinic.example", staffPassword)
	tablet := h.signedIn("coord@clinic.example", staffPassword)
	here.get("/account")
	if resp := here.post("/account/sessions/end-others", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("end others: %d", resp.StatusCode)
	}
	if !phone.signedOut() || !tablet.signedOut() {
		t.Error("a session survived 'sign out all other sessions'")
	}
	here.get("/account")
	if !strings.Contains(here.last, "2 other sessions were signed out") || endSessionForm.MatchString(here.last) {
		t.Errorf("after ending the others the page shows:\n%s", here.last)
	}
	// Signing out ends the session's record too.
	here.post("/logout", nil)
	if n := h.count(`SELECT count(*) FROM staff_sessions ss JOIN staff s ON s.id = ss.staff_id
		WHERE s.email = 'coord@clinic.example' AND ss.ended_at IS NULL`); n != 0 {
		t.Errorf("%d sessions of the account still open after signing out everywhere", n)
	}
}

func TestDisablingAnAccountSignsItOutAndRevokesItsTokensAtOnce(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	h.addStaff("clin@clinic.example", crm.RoleClinician, "adhd")
	admin := h.signedIn("admin@clinic.example", staffPassword)
	clin := h.signedIn("clin@clinic.example", staffPassword)
	token := h.token("clin@clinic.example")
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries", token, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("token before: %d", resp.StatusCode)
	}
	admin.get("/admin/users")
	resp := admin.post("/admin/users/update", url.Values{"email": {"clin@clinic.example"}, "action": {"disable"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if !clin.signedOut() {
		t.Error("the disabled account's live session still opens pages")
	}
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries", token, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the disabled account's token: %d, want 401", resp.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM sessions s JOIN staff_sessions ss ON ss.session_key = s.key
		JOIN staff st ON st.id = ss.staff_id WHERE st.email = 'clin@clinic.example'`); n != 0 {
		t.Errorf("%d stored sessions of the disabled account remain", n)
	}
	// Enabling the account again brings back neither the session nor the token.
	admin.get("/admin/users")
	admin.post("/admin/users/update", url.Values{"email": {"clin@clinic.example"}, "action": {"enable"}})
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries", token, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a token came back with the account: %d", resp.StatusCode)
	}
	if !clin.signedOut() {
		t.Error("a session came back with the account")
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'staff_update'`); n != 2 {
		t.Errorf("%d staff_update audit entries, want 2", n)
	}
}

func TestAdminSignsAnAccountOutEverywhereAndResetsItsSecondFactor(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	h.addStaff("clin@clinic.example", crm.RoleClinician, "adhd")
	admin := h.signedIn("admin@clinic.example", staffPassword)
	clin := h.signedIn("clin@clinic.example", staffPassword)
	token := h.token("clin@clinic.example")
	admin.get("/admin/users")
	if !strings.Contains(admin.last, `action="/admin/users/reset-2fa"`) {
		t.Fatal("no way to reset an enrolled account's second factor on /admin/users")
	}
	if resp := admin.post("/admin/users/sign-out", url.Values{"email": {"clin@clinic.example"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d %s", resp.StatusCode, admin.last)
	}
	if !clin.signedOut() {
		t.Error("the account's live session still opens pages")
	}
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries", token, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the account's token: %d, want 401", resp.StatusCode)
	}
	// Its owner signs in again (password and code) and is signed out once more by the second-factor reset.
	clin = h.signedIn("clin@clinic.example", staffPassword)
	admin.get("/admin/users")
	if resp := admin.post("/admin/users/reset-2fa", url.Values{"email": {"clin@clinic.example"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset 2fa: %d", resp.StatusCode)
	}
	if !clin.signedOut() {
		t.Error("a session survived the second-factor reset")
	}
	if n := h.count(`SELECT count(*) FROM staff_totp t JOIN staff s ON s.id = t.staff_id WHERE s.email = 'clin@clinic.example'`); n != 0 {
		t.Error("the second factor is still there")
	}
	if resp := admin.post("/admin/users/sign-out", url.Values{"email": {"nobody@clinic.example"}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("an unknown account: %d", resp.StatusCode)
	}
	// Only administrators may.
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	coord := h.signedIn("coord@clinic.example", staffPassword)
	coord.get("/board")
	if resp := coord.post("/admin/users/sign-out", url.Values{"email": {"admin@clinic.example"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a coordinator signing out an administrator: %d", resp.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action IN ('session_end', '2fa_reset') AND detail LIKE '%clin@clinic.example%'`); n != 2 {
		t.Errorf("%d audit entries for the two actions, want 2", n)
	}
}

func TestAdminSignsEveryoneOutButThemselves(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	h.addStaff("clin@clinic.example", crm.RoleClinician, "adhd")
	admin := h.signedIn("admin@clinic.example", staffPassword)
	coord := h.signedIn("coord@clinic.example", staffPassword)
	clin := h.signedIn("clin@clinic.example", staffPassword)
	token := h.token("clin@clinic.example")
	coord.get("/board")
	if resp := coord.post("/admin/users/sign-out-all", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a coordinator signing everyone out: %d", resp.StatusCode)
	}
	admin.get("/admin/users")
	if resp := admin.post("/admin/users/sign-out-all", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign everyone out: %d %s", resp.StatusCode, admin.last)
	}
	if !coord.signedOut() || !clin.signedOut() {
		t.Error("a session of another account survived")
	}
	if resp := admin.get("/admin/users"); resp.StatusCode != http.StatusOK || !strings.Contains(admin.last, "Every other session was ended: 2 sessions") {
		t.Errorf("the administrator who asked: %d", resp.StatusCode)
	}
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries", token, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("a token after everyone was signed out: %d, want it still working", resp.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'session_end' AND detail LIKE 'every session of every account%'`); n != 1 {
		t.Errorf("%d audit entries, want 1", n)
	}
}

func TestChangingThePasswordEndsOtherSessionsAndRevokesTokens(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	here := h.signedIn("coord@clinic.example", staffPassword)
	elsewhere := h.signedIn("coord@clinic.example", staffPassword)
	token := h.token("coord@clinic.example")
	const newPassword = "kettle on the windowsill at dawn"

	here.get("/account")
	cases := []struct {
		current, next, field, says string
	}{
		{"not my password at all", newPassword, "current_password", "not your current password"},
		{staffPassword, "passwordpassword", "new_password", "too common or easy to guess"},
		{staffPassword, "short", "new_password", "at least 12 characters"},
	}
	for _, c := range cases {
		resp := here.post("/account/password", url.Values{"current_password": {c.current}, "new_password": {c.next}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", c.says, resp.StatusCode)
			continue
		}
		errorBeside := regexp.MustCompile(`id="` + c.field + `-error"[^>]*>.*` + regexp.QuoteMeta(c.says))
		if !errorBeside.MatchString(here.last) || !strings.Contains(here.last, `aria-describedby="`+c.field+`-help `+c.field+`-error"`) &&
			!strings.Contains(here.last, `aria-describedby=" `+c.field+`-error"`) {
			t.Errorf("%s: no error beside %s", c.says, c.field)
		}
	}
	if elsewhere.signedOut() {
		t.Fatal("a refused change ended a session")
	}

	before := here.cookies["frontdesk_session"]
	resp := here.post("/account/password", url.Values{"current_password": {staffPassword}, "new_password": {newPassword}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
		t.Fatalf("change password: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if after := here.cookies["frontdesk_session"]; after == "" || after == before {
		t.Error("the session was not regenerated after the password change")
	}
	if resp := here.get("/account"); resp.StatusCode != http.StatusOK || !strings.Contains(here.last, "Every other session") {
		t.Errorf("this browser after the change: %d", resp.StatusCode)
	}
	if !elsewhere.signedOut() {
		t.Error("the other session survived the password change")
	}
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries", token, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token after the password change: %d, want 401", resp.StatusCode)
	}
	if resp := h.agent().signIn("coord@clinic.example", staffPassword); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("old password: %d", resp.StatusCode)
	}
	h.signedIn("coord@clinic.example", newPassword)
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'password_change'`); n != 1 {
		t.Errorf("%d password_change audit entries, want 1", n)
	}
}

var newTokenField = regexp.MustCompile(`id="new-token" type="text" readonly value="(fd_[a-z0-9]+)"`)

func TestAccountTokensAreMadeShownOnceAndRevoked(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	a := h.signedIn("coord@clinic.example", staffPassword)
	a.get("/account")
	if !strings.Contains(a.last, `name="days" type="number"`) || !strings.Contains(a.last, `value="90"`) {
		t.Error("the token form does not offer the default lifetime of 90 days")
	}
	for _, days := range []string{"0", "abc", "3651", "-2"} {
		resp := a.post("/account/tokens", url.Values{"label": {"script"}, "days": {days}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(a.last, `id="days-error"`) {
			t.Errorf("days %q: %d, want 422 with an error beside days", days, resp.StatusCode)
		}
	}
	resp := a.post("/account/tokens", url.Values{"label": {""}, "days": {"30"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(a.last, `id="label-error"`) {
		t.Errorf("no label: %d", resp.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM api_tokens`); n != 0 {
		t.Fatalf("%d tokens stored by refused forms", n)
	}

	if resp := a.post("/account/tokens", url.Values{"label": {"reporting script"}, "days": {"30"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("create token: %d", resp.StatusCode)
	}
	m := newTokenField.FindStringSubmatch(a.last)
	if m == nil {
		t.Fatalf("the new token is not shown:\n%s", a.last)
	}
	token := m[1]
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries", token, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("new token: %d", resp.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM api_tokens WHERE label = 'reporting script'
		AND expires_at - created_at = 30 * 86400000`); n != 1 {
		t.Error("the token does not expire 30 days after it was made")
	}
	a.get("/account")
	if strings.Contains(a.last, token) {
		t.Error("the token is shown again")
	}
	if !strings.Contains(a.last, "reporting script") {
		t.Error("the token is not listed")
	}
	revoke := regexp.MustCompile(`action="(/account/tokens/\d+/revoke)"`).FindStringSubmatch(a.last)
	if revoke == nil {
		t.Fatal("no revoke button")
	}
	if resp := a.post(revoke[1], nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries", token, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", resp.StatusCode)
	}
	a.get("/account")
	if !strings.Contains(a.last, "Revoked") {
		t.Error("the token is not shown revoked")
	}
	for _, action := range []string{"token_create", "token_revoke"} {
		if n := h.count(`SELECT count(*) FROM audit_log WHERE action = ?`, action); n != 1 {
			t.Errorf("%d %s audit entries, want 1", n, action)
		}
	}
}

func TestASessionWithoutALiveRecordIsSignedOut(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	// Ended, though its session data is still stored (as if the data were written back by a request in flight).
	ended := h.signedIn("coord@clinic.example", staffPassword)
	h.exec(`UPDATE staff_sessions SET ended_at = 1`)
	if !ended.signedOut() {
		t.Error("a session whose record was ended still opens pages")
	}
	// Never recorded: a session from before sessions were recorded per account.
	unrecorded := h.signedIn("coord@clinic.example", staffPassword)
	h.exec(`DELETE FROM staff_sessions`)
	if !unrecorded.signedOut() {
		t.Error("a session with no record still opens pages")
	}
	if n := h.count(`SELECT count(*) FROM sessions`); n != 0 {
		t.Errorf("%d sessions still stored after being refused", n)
	}
}

func TestCommonPasswordsAreRefusedWhereverAPasswordIsSet(t *testing.T) {
	// The administrator made by /setup works at once, without first setting up a second factor.
	h := newHarness(t, func(c *web.Config) { c.Require2FA = crm.TwoFactorOff })
	setup := h.agent()
	setup.get("/setup")
	code, _ := h.accounts.SetupCode(t.Context())
	form := url.Values{"name": {"Dr Rivers"}, "email": {"rivers@clinic.example"}, "password": {"passwordpassword"}, "code": {code}}
	if resp := setup.post("/setup", form); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(setup.last, `id="password-error"`) || !strings.Contains(setup.last, "too common") {
		t.Errorf("setup with a common password: %d", resp.StatusCode)
	}
	form.Set("password", staffPassword)
	if resp := setup.post("/setup", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("setup: %d", resp.StatusCode)
	}
	setup.get("/admin/users")
	for _, weak := range []string{"123456789012", "qwertyuiopasdf"} {
		resp := setup.post("/admin/users", url.Values{"name": {"Dr New"}, "email": {"new@clinic.example"},
			"role": {"clinician"}, "password": {weak}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(setup.last, "too common") {
			t.Errorf("new account with %q: %d", weak, resp.StatusCode)
		}
	}
	if n := h.count(`SELECT count(*) FROM staff`); n != 1 {
		t.Errorf("%d accounts, want only the administrator", n)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'staff_add'`); n != 1 {
		t.Errorf("%d staff_add audit entries, want 1", n)
	}
}
