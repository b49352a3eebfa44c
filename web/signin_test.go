package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/web"
)

// trustingProxy lets a test be several clients: X-Forwarded-For is believed from the in-process connection.
func trustingProxy(c *web.Config) { c.TrustedProxies = []string{"0.0.0.0"} }

// TestFailuresFromOneClientDoNotLockOutAnother: client A guessing a password is slowed (429 with Retry-After,
// even with the right password) while client B signs in with it at once.
func TestFailuresFromOneClientDoNotLockOutAnother(t *testing.T) {
	h := newHarness(t, trustingProxy)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	attacker := h.agentFrom("198.51.100.7")
	attacker.get("/login")
	for i := range 5 {
		if resp := attacker.post("/login", url.Values{"email": {"admin@clinic.example"}, "password": {fmt.Sprintf("guess %d", i)}}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, resp.StatusCode)
		}
	}
	resp := attacker.post("/login", url.Values{"email": {"admin@clinic.example"}, "password": {staffPassword}})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("client A after 5 failures: %d, want 429 even with the right password", resp.StatusCode)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 || s > 15*60 {
		t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	owner := h.agentFrom("203.0.113.20")
	if resp := owner.signIn("admin@clinic.example", staffPassword); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/board" {
		t.Errorf("client B with the right password: %d → %q, want signed in", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Failures are audited with the account, never the password.
	if n := h.count(`SELECT count(*) FROM audit_log l JOIN staff s ON s.id = l.actor_id
		WHERE l.action = 'sign_in_failed' AND s.email = 'admin@clinic.example' AND l.detail LIKE '%198.51.100.7%'`); n != 5 {
		t.Errorf("%d failed sign-ins audited, want 5", n)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE detail LIKE '%guess%'`); n != 0 {
		t.Error("a password is in the audit log")
	}
	// An unknown account's failure is audited without the email typed.
	h.agentFrom("198.51.100.8").signIn("nobody@clinic.example", "whatever it was")
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'sign_in_failed' AND actor_id IS NULL AND detail LIKE 'unknown account%'`); n != 1 {
		t.Error("a failure on an unknown account not audited")
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE detail LIKE '%nobody%'`); n != 0 {
		t.Error("the email typed for an unknown account is in the audit log")
	}
}

// TestWrongCodesCountAsFailures: guessing the second factor is throttled like guessing the password.
func TestWrongCodesCountAsFailures(t *testing.T) {
	h := newHarness(t, trustingProxy)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	a := h.agentFrom("198.51.100.9")
	a.get("/login")
	a.post("/login", url.Values{"email": {"coord@clinic.example"}, "password": {staffPassword}})
	a.get("/login/2fa")
	for i := range 5 {
		if resp := a.post("/login/2fa", url.Values{"code": {fmt.Sprintf("00000%d", i)}}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i, resp.StatusCode)
		}
	}
	if resp := a.post("/login/2fa", url.Values{"code": {h.secondFactorCode("coord@clinic.example")}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after 5 wrong codes: %d, want 429", resp.StatusCode)
	}
	if n := h.count(`SELECT failed_sign_ins FROM staff WHERE email = 'coord@clinic.example'`); n != 5 {
		t.Errorf("failed_sign_ins = %d, want 5", n)
	}
	if resp := h.agentFrom("203.0.113.21").signIn("coord@clinic.example", staffPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the owner from elsewhere: %d", resp.StatusCode)
	}
	if n := h.count(`SELECT failed_sign_ins FROM staff WHERE email = 'coord@clinic.example'`); n != 0 {
		t.Errorf("failed_sign_ins = %d after a sign-in, want 0", n)
	}
}

// TestHundredFailuresNeedAPasswordReset: 100 consecutive failures on one account, spread over clients so no
// client is throttled, and the right password is refused from anywhere until the count is cleared.
func TestHundredFailuresNeedAPasswordReset(t *testing.T) {
	h := newHarness(t, trustingProxy)
	h.addStaff("clin@clinic.example", crm.RoleClinician)
	for i := range crm.MaxFailedSignIns {
		a := h.agentFrom(fmt.Sprintf("198.51.%d.%d", 100+i/4, 1+i%4)) // 4 guesses per client, under its limits
		a.get("/login")
		if resp := a.post("/login", url.Values{"email": {"clin@clinic.example"}, "password": {fmt.Sprintf("guess number %d", i)}}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, resp.StatusCode)
		}
	}
	owner := h.agentFrom("203.0.113.30")
	resp := owner.signIn("clin@clinic.example", staffPassword)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(owner.last, "Ask an administrator to reset its password") {
		t.Fatalf("right password after 100 failures: %d", resp.StatusCode)
	}
	if n := h.count(`SELECT failed_sign_ins FROM staff WHERE email = 'clin@clinic.example'`); n != crm.MaxFailedSignIns {
		t.Errorf("failed_sign_ins = %d", n)
	}
	// Still refused after a restart: the count is in the database.
	h.restart()
	if resp := h.agentFrom("203.0.113.31").signIn("clin@clinic.example", staffPassword); resp.StatusCode != http.StatusForbidden {
		t.Errorf("after a restart: %d", resp.StatusCode)
	}
	// The way back the page names: a password reset, through its emailed link.
	if _, err := h.accounts.SendPasswordReset(t.Context(), crm.System, "clin@clinic.example"); err != nil {
		t.Fatal(err)
	}
	var token string
	if err := h.raw.QueryRow(`SELECT link_token FROM outbox WHERE kind = 'staff_password_reset'`).Scan(&token); err != nil || token == "" {
		t.Fatalf("no reset link queued: %v", err)
	}
	const renewed = "lanterns along the harbour wall"
	owner = h.agentFrom("203.0.113.32")
	owner.get("/reset/" + token)
	if resp := owner.post("/reset/"+token, url.Values{"password": {renewed}}); resp.StatusCode != http.StatusOK || !strings.Contains(owner.last, "Password changed") {
		t.Fatalf("reset: %d %s", resp.StatusCode, owner.last)
	}
	if n := h.count(`SELECT failed_sign_ins FROM staff WHERE email = 'clin@clinic.example'`); n != 0 {
		t.Errorf("failed_sign_ins = %d after a password reset, want 0", n)
	}
	if resp := h.agentFrom("203.0.113.33").signIn("clin@clinic.example", renewed); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after a password reset: %d", resp.StatusCode)
	}
}

// TestCSRFTokenIsNewAfterSignIn: the token a visitor had on /login does not work once they are signed in (a
// planted token cannot ride the new session), and neither does the one of the second-factor page.
func TestCSRFTokenIsNewAfterSignIn(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	a := h.agent()
	a.get("/login")
	before := a.csrf
	a.post("/login", url.Values{"email": {"coord@clinic.example"}, "password": {staffPassword}})
	a.get("/login/2fa")
	pending := a.csrf
	if pending == "" || pending == before {
		t.Errorf("the CSRF token did not change after the password: %q", pending)
	}
	a.post("/login/2fa", url.Values{"code": {h.secondFactorCode("coord@clinic.example")}})
	a.get("/board")
	after := a.csrf
	if after == "" || after == before || after == pending {
		t.Fatalf("the CSRF token did not change at sign-in: before %q, pending %q, after %q", before, pending, after)
	}
	for _, old := range []string{before, pending} {
		// With the old token in both the form and its cookie, as someone who planted them would send.
		b := &agent{h: h, cookies: map[string]string{"frontdesk_session": a.cookies["frontdesk_session"], "frontdesk_csrf": old}}
		if resp := b.post("/logout", url.Values{"_csrf": {old}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("an old token after sign-in: %d, want 403", resp.StatusCode)
		}
	}
	if resp := a.get("/board"); resp.StatusCode != 200 {
		t.Fatal("the session ended on a refused form")
	}
	if resp := a.post("/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the new token: %d", resp.StatusCode)
	}
}

// TestCSRFTokenIsReadFromTheBodyOrHeaderOnly: a token in the query string is refused; in the form body or the
// X-CSRF-Token header (htmx) it works.
func TestCSRFTokenIsReadFromTheBodyOrHeaderOnly(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	ref := h.submit(t, "adhd")
	a := h.agent()
	a.signIn("coord@clinic.example", staffPassword)
	a.get("/enquiries/" + ref)
	post := func(target, body string, header bool) int {
		req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if header {
			req.Header.Set("X-CSRF-Token", a.csrf)
		}
		return a.send(req).StatusCode
	}
	notes := "/enquiries/" + ref + "/notes"
	if code := post(notes+"?_csrf="+url.QueryEscape(a.csrf), "body=from+the+query", false); code != http.StatusForbidden {
		t.Errorf("token in the query string: %d, want 403", code)
	}
	if n := h.count(`SELECT count(*) FROM notes`); n != 0 {
		t.Fatal("a note was added with the token in the query string")
	}
	if code := post(notes, "body=from+a+script", true); code != http.StatusSeeOther {
		t.Errorf("token in the X-CSRF-Token header: %d", code)
	}
	if code := post(notes, "body=from+the+form&_csrf="+url.QueryEscape(a.csrf), false); code != http.StatusSeeOther {
		t.Errorf("token in the form body: %d", code)
	}
	if n := h.count(`SELECT count(*) FROM notes`); n != 2 {
		t.Errorf("%d notes, want 2", n)
	}
}

// TestNextNeverLeavesTheSite: whatever next a sign-in link carries, sign-in ends on this site.
func TestNextNeverLeavesTheSite(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	for raw, want := range map[string]string{
		"/%09/evil.example":         "/board",
		"/%5Cevil.example":          "/board",
		"//evil.example":            "/board",
		"/%2F%2Fevil.example":       "/board",
		"https://evil.example/":     "/board",
		"/enquiries%3Fstatus%3Dnew": "/enquiries?status=new",
	} {
		a := h.agent()
		a.get("/login?next=" + raw)
		if got := extractNext(a.last); got != want {
			t.Errorf("/login?next=%s: the form carries next %q, want %q", raw, got, want)
		}
		decoded, err := url.QueryUnescape(raw)
		if err != nil {
			t.Fatal(err)
		}
		// Posted as it stands, as a crafted form would.
		a.post("/login", url.Values{"email": {"coord@clinic.example"}, "password": {staffPassword}, "next": {decoded}})
		a.get("/login/2fa")
		resp := a.post("/login/2fa", url.Values{"code": {h.secondFactorCode("coord@clinic.example")}})
		if loc := resp.Header.Get("Location"); loc != want {
			t.Errorf("next=%q: signed in to %q, want %q", decoded, loc, want)
		}
	}
	// A page asked for without a session comes back to it after sign-in, query string and all.
	a := h.agent()
	resp := a.get("/enquiries?status=new&q=ann")
	if loc := resp.Header.Get("Location"); loc != "/login?next="+url.QueryEscape("/enquiries?status=new&q=ann") {
		t.Errorf("redirect to sign-in: %q", loc)
	}
}

// extractNext reads the hidden next field of the sign-in form.
func extractNext(page string) string {
	const marker = `name="next" value="`
	i := strings.Index(page, marker)
	if i < 0 {
		return ""
	}
	rest := page[i+len(marker):]
	v := rest[:strings.Index(rest, `"`)]
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(v)
}

// TestHSTSFollowsTheBaseURL: Strict-Transport-Security on every answer when FRONTDESK_BASE_URL is https, even
// without a proxy header; never when it is http, even if a client claims https.
func TestHSTSFollowsTheBaseURL(t *testing.T) {
	secure := newHarness(t, func(c *web.Config) { c.BaseURL = "https://enquiries.clinic.example"; c.SecureCookies = true })
	for _, path := range []string{"/enquire", "/login", "/healthz", "/nowhere"} {
		if got := secure.get(path).Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=31536000") {
			t.Errorf("https base, %s: Strict-Transport-Security %q", path, got)
		}
	}
	plain := newHarness(t, nil)
	req := httptest.NewRequest(http.MethodGet, "/enquire", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	if got := plain.do(req).Header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("http base: Strict-Transport-Security %q", got)
	}
}
