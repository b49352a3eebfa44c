package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/web"
	"github.com/pquerna/otp/totp"
)

var (
	secretText    = regexp.MustCompile(`<code class="secret" id="secret">([A-Z2-7 ]+)</code>`)
	recoveryCodes = regexp.MustCompile(`<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>`)
)

// codeAt is the account's TOTP code for the time step of t.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// TestTwoFactorEnrolmentAndSignInThroughThePages: an account without a second factor signs in, can reach only
// the enrolment page, enrols by QR page and code, sees its recovery codes once, and from then on signs in with
// password and code — or once with each recovery code.
func TestTwoFactorEnrolmentAndSignInThroughThePages(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaffWithoutSecondFactor("coord@clinic.example", crm.RoleCoordinator)
	a := h.agent()
	resp := a.signIn("coord@clinic.example", staffPassword)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/2fa" {
		t.Fatalf("sign-in without a second factor: %d → %q, want 303 to /account/2fa", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, path := range []string{"/board", "/enquiries", "/admin/users"} {
		if resp := a.get(path); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/2fa" {
			t.Errorf("%s before enrolment: %d → %q, want 303 to /account/2fa", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	a.get("/account/2fa") // for a CSRF token of the signed-in session
	if resp := a.post("/enquiries/K7QM-4XPD/notes", url.Values{"body": {"x"}}); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/2fa" {
		t.Errorf("a POST before enrolment: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// The enrolment page: a QR code drawn on the server, the secret as text, the otpauth URI, a code field.
	if resp := a.get("/account/2fa"); resp.StatusCode != 200 {
		t.Fatalf("enrolment page: %d", resp.StatusCode)
	}
	for _, want := range []string{`src="data:image/png;base64,`, `otpauth://totp/Harbour%20Clinic:coord@clinic.example?`,
		`name="code"`, `autocomplete="one-time-code"`, `inputmode="numeric"`, `<label for="code">`} {
		if !strings.Contains(a.last, want) {
			t.Errorf("enrolment page lacks %q", want)
		}
	}
	m := secretText.FindStringSubmatch(a.last)
	if m == nil {
		t.Fatalf("no secret shown as text:\n%s", a.last)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	if a.get("/account/2fa"); !strings.Contains(a.last, m[1]) {
		t.Error("a reload offered another secret: an app that scanned the first would be useless")
	}
	// A wrong code: 422, the error beside the field, nothing stored.
	resp = a.post("/account/2fa", url.Values{"code": {"000000"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(a.last, `id="code-error"`) ||
		!strings.Contains(a.last, `aria-describedby="code-help code-error"`) {
		t.Errorf("wrong enrolment code: %d", resp.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM staff_totp`); n != 0 {
		t.Fatal("a second factor was stored with a wrong code")
	}
	enrolledAt := time.Now()
	resp = a.post("/account/2fa", url.Values{"code": {codeAt(t, secret, enrolledAt)}})
	codes := recoveryCodes.FindAllStringSubmatch(a.last, -1)
	if resp.StatusCode != 200 || len(codes) != 10 || !strings.Contains(a.last, "shown only this once") {
		t.Fatalf("enrolment: %d, %d recovery codes shown\n%s", resp.StatusCode, len(codes), a.last)
	}
	if n := h.count(`SELECT count(*) FROM staff_recovery_codes WHERE used_at IS NULL`); n != 10 {
		t.Errorf("%d recovery codes stored, want 10", n)
	}
	for _, c := range codes {
		if n := h.count(`SELECT count(*) FROM staff_recovery_codes WHERE code_hash = ?`, c[1]); n != 0 {
			t.Error("a recovery code is stored as it is, not hashed")
		}
	}
	// Like passwords: argon2id, each with its own salt (58 random bits are too few for a fast hash).
	if n := h.count(`SELECT count(DISTINCT code_hash) FROM staff_recovery_codes WHERE code_hash LIKE '$argon2id$%'`); n != 10 {
		t.Errorf("%d recovery codes hashed with argon2id, want 10", n)
	}
	if n := h.count(`SELECT count(*) FROM audit_log l JOIN staff s ON s.id = l.actor_id WHERE l.action = '2fa_enrol' AND s.email = 'coord@clinic.example'`); n != 1 {
		t.Errorf("%d 2fa_enrol audit entries", n)
	}
	if resp := a.get("/board"); resp.StatusCode != 200 {
		t.Errorf("board after enrolment: %d", resp.StatusCode)
	}
	if a.get("/account/2fa"); strings.Contains(a.last, codes[0][1]) || !strings.Contains(a.last, "<strong>10</strong> unused recovery codes") {
		t.Error("the enrolled status page shows the codes again, or not how many are left")
	}
	a.post("/logout", nil)

	// Password alone is not a sign-in.
	b := h.agent()
	b.get("/login")
	if resp := b.post("/login", url.Values{"email": {"coord@clinic.example"}, "password": {staffPassword}}); resp.Header.Get("Location") != "/login/2fa" {
		t.Fatalf("password of an enrolled account: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := b.get("/board"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("board with only the password: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	b.get("/login/2fa")
	for _, want := range []string{`name="code"`, `autocomplete="one-time-code"`, `inputmode="numeric"`, "recovery code"} {
		if !strings.Contains(b.last, want) {
			t.Errorf("second-factor page lacks %q", want)
		}
	}
	if resp := b.post("/login/2fa", url.Values{"code": {"123456"}}); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(b.last, `id="code-error"`) {
		t.Errorf("wrong code: %d", resp.StatusCode)
	}
	// The enrolment code again (a replay within its window) is refused.
	if resp := b.post("/login/2fa", url.Values{"code": {codeAt(t, secret, enrolledAt)}}); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(b.last, "used already") {
		t.Errorf("replayed code: %d", resp.StatusCode)
	}
	resp = b.post("/login/2fa", url.Values{"code": {h.secondFactorCodeFor(secret, "coord@clinic.example")}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/board" {
		t.Fatalf("right code: %d → %q\n%s", resp.StatusCode, resp.Header.Get("Location"), b.last)
	}
	if resp := b.get("/board"); resp.StatusCode != 200 {
		t.Errorf("board after both steps: %d", resp.StatusCode)
	}

	// A recovery code signs in once.
	for i, want := range []int{http.StatusSeeOther, http.StatusUnauthorized} {
		c := h.agent()
		c.get("/login")
		c.post("/login", url.Values{"email": {"coord@clinic.example"}, "password": {staffPassword}})
		c.get("/login/2fa")
		resp := c.post("/login/2fa", url.Values{"code": {strings.ToUpper(codes[3][1])}})
		if resp.StatusCode != want {
			t.Errorf("recovery code, use %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	if n := h.count(`SELECT count(*) FROM staff_recovery_codes WHERE used_at IS NOT NULL`); n != 1 {
		t.Errorf("%d recovery codes marked used, want 1", n)
	}
	for action, want := range map[string]int{"sign_in": 3, "recovery_code_used": 1, "sign_in_failed": 3} {
		if n := h.count(`SELECT count(*) FROM audit_log WHERE action = ?`, action); n != want {
			t.Errorf("%d %s audit entries, want %d", n, action, want)
		}
	}
	if strings.Contains(h.logs.String(), staffPassword) || strings.Contains(h.logs.String(), secret) {
		t.Error("a password or secret was logged")
	}
}

// secret is the account's stored authenticator secret.
func (h *harness) secret(email string) string {
	h.t.Helper()
	var secret string
	if err := h.raw.QueryRow(`SELECT t.secret FROM staff_totp t JOIN staff s ON s.id = t.staff_id WHERE s.email = ?`, email).Scan(&secret); err != nil {
		h.t.Fatal(err)
	}
	return secret
}

// secondFactorCodeFor is secondFactorCode for an account the test enrolled through the pages.
func (h *harness) secondFactorCodeFor(secret, email string) string {
	h.t.Helper()
	code := h.secondFactorCode(email)
	if len(code) != 6 {
		h.t.Fatal("no TOTP step left for " + email)
	}
	return code
}

func TestNewRecoveryCodesNeedACurrentCode(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("clin@clinic.example", crm.RoleClinician)
	old := h.recovery["clin@clinic.example"][0]
	a := h.agent()
	a.signIn("clin@clinic.example", staffPassword)
	a.get("/account/2fa")
	if resp := a.post("/account/2fa/recovery-codes", url.Values{"code": {"000000"}}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(a.last, `id="code-error"`) {
		t.Errorf("wrong code: %d", resp.StatusCode)
	}
	// Sign-in used this time step and maybe the next: move the clinic's clock on two minutes for a fresh one.
	later := func() time.Time { return time.Now().Add(2 * time.Minute) }
	h.accounts.SetClock(later)
	resp := a.post("/account/2fa/recovery-codes", url.Values{"code": {codeAt(t, h.secret("clin@clinic.example"), later())}})
	codes := recoveryCodes.FindAllStringSubmatch(a.last, -1)
	if resp.StatusCode != 200 || len(codes) != 10 {
		t.Fatalf("new codes: %d, %d codes", resp.StatusCode, len(codes))
	}
	stored := func(code string) int {
		t.Helper()
		rows, err := h.raw.Query(`SELECT code_hash FROM staff_recovery_codes`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var hash string
			if err := rows.Scan(&hash); err != nil {
				t.Fatal(err)
			}
			if crm.RecoveryCodeMatches(hash, code) {
				n++
			}
		}
		return n
	}
	if stored(old) != 0 {
		t.Error("an old recovery code survived its replacement")
	}
	if stored(codes[0][1]) != 1 {
		t.Error("a new recovery code is not stored")
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'recovery_codes_new'`); n != 1 {
		t.Error("new recovery codes not audited")
	}
}

// TestTwoFactorPolicy: FRONTDESK_REQUIRE_2FA decides who is sent to enrol; an enrolled account is asked for
// its code under every policy.
func TestTwoFactorPolicy(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	cases := []struct {
		policy     crm.TwoFactorPolicy
		admin, clk string // where each, without a second factor, lands after the password
	}{
		{"", "/account/2fa", "/account/2fa"}, // the zero value is "all"
		{crm.TwoFactorAll, "/account/2fa", "/account/2fa"},
		{crm.TwoFactorAdmins, "/account/2fa", "/board"},
		{crm.TwoFactorOff, "/board", "/board"},
	}
	for _, tc := range cases {
		h := newHarness(t, func(c *web.Config) { c.Require2FA = tc.policy })
		h.addStaffWithoutSecondFactor("admin@clinic.example", crm.RoleAdmin)
		h.addStaffWithoutSecondFactor("clin@clinic.example", crm.RoleClinician)
		h.addStaff("enrolled@clinic.example", crm.RoleClinician)
		for email, want := range map[string]string{"admin@clinic.example": tc.admin, "clin@clinic.example": tc.clk} {
			a := h.agent()
			if resp := a.signIn(email, staffPassword); resp.Header.Get("Location") != want {
				t.Errorf("policy %q, %s: → %q, want %q", tc.policy, email, resp.Header.Get("Location"), want)
			}
			if resp := a.get("/board"); (resp.StatusCode == 200) != (want == "/board") {
				t.Errorf("policy %q, %s: board %d", tc.policy, email, resp.StatusCode)
			}
		}
		a := h.agent()
		a.get("/login")
		if resp := a.post("/login", url.Values{"email": {"enrolled@clinic.example"}, "password": {staffPassword}}); resp.Header.Get("Location") != "/login/2fa" {
			t.Errorf("policy %q: an enrolled account was not asked for its code: → %q", tc.policy, resp.Header.Get("Location"))
		}
	}
}

func TestSecondFactorStepNeedsAPasswordFirst(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	a := h.agent()
	if resp := a.get("/login/2fa"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("code page without a password: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	a.get("/login")
	if resp := a.post("/login/2fa", url.Values{"code": {h.secondFactorCode("coord@clinic.example")}}); resp.StatusCode != http.StatusSeeOther ||
		!strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("a code without a password: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := a.get("/board"); resp.StatusCode != http.StatusSeeOther {
		t.Error("signed in with a code alone")
	}
}

// TestPasswordStepExpires: a correct password waits for its code only so long; then sign-in starts again.
func TestPasswordStepExpires(t *testing.T) {
	h := newHarness(t, func(c *web.Config) { c.SecondFactorWait = time.Second })
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	a := h.agent()
	a.get("/login")
	a.post("/login", url.Values{"email": {"coord@clinic.example"}, "password": {staffPassword}})
	a.get("/login/2fa")
	time.Sleep(1500 * time.Millisecond)
	resp := a.post("/login/2fa", url.Values{"code": {h.secondFactorCode("coord@clinic.example")}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?expired=1" {
		t.Fatalf("a code after the wait: %d → %q, want 303 to /login?expired=1", resp.StatusCode, resp.Header.Get("Location"))
	}
	if a.get("/login?expired=1"); !strings.Contains(a.last, "took too long") {
		t.Error("the sign-in page does not say why")
	}
	if resp := a.get("/board"); resp.StatusCode != http.StatusSeeOther {
		t.Error("signed in with an expired password step")
	}
}
