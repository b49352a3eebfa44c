package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/web"
)

// TestPasswordFieldsAreMaskedAndWelcomePasswordManagers: every password field is type=password with an
// autocomplete hint, so a browser masks it and a password manager fills it (nothing blocks pasting).
func TestPasswordFieldsAreMaskedAndWelcomePasswordManagers(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	login := body(t, h.get("/login"))
	a := h.signedIn("coord@clinic.example", staffPassword)
	a.get("/account")
	for page, html := range map[string]string{"/login": login, "/account": a.last} {
		n := strings.Count(html, `type="password"`)
		if n == 0 {
			t.Errorf("%s has no password field", page)
		}
		if hinted := strings.Count(html, `autocomplete="current-password"`) + strings.Count(html, `autocomplete="new-password"`); hinted < n {
			t.Errorf("%s: %d password fields, %d with an autocomplete hint", page, n, hinted)
		}
		if strings.Contains(html, "onpaste") {
			t.Errorf("%s blocks pasting", page)
		}
	}
}

// TestThePasswordIsCheckedExactlyAsTyped: no trimming, no case folding.
func TestThePasswordIsCheckedExactlyAsTyped(t *testing.T) {
	h := newHarness(t, func(c *web.Config) { trustingProxy(c); c.Require2FA = crm.TwoFactorOff })
	const typed = "  Lanterns along the Harbour wall "
	if _, err := h.accounts.Create(t.Context(), crm.System, crm.NewStaff{Email: "exact@clinic.example", Name: "Exact",
		Role: crm.RoleCoordinator, Password: typed}); err != nil {
		t.Fatal(err)
	}
	for i, wrong := range []string{strings.TrimSpace(typed), strings.ToLower(typed), typed + " "} {
		if resp := h.agentFrom(fmt.Sprintf("192.0.2.%d", i+1)).signIn("exact@clinic.example", wrong); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("sign-in with %q: %d, want 401", wrong, resp.StatusCode)
		}
	}
	if resp := h.agentFrom("192.0.2.9").signIn("exact@clinic.example", typed); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign-in with the password as typed: %d", resp.StatusCode)
	}
}

// TestOneClientIsThrottledAcrossAccounts: 20 failures from one address, spread over many accounts, hold that
// address back (429) — password spraying — while another address signs in.
func TestOneClientIsThrottledAcrossAccounts(t *testing.T) {
	h := newHarness(t, trustingProxy)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	sprayer := h.agentFrom("198.51.100.50")
	sprayer.get("/login")
	for i := range 20 {
		resp := sprayer.post("/login", url.Values{"email": {fmt.Sprintf("user%d@clinic.example", i)}, "password": {"Winter2026!"}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, resp.StatusCode)
		}
	}
	if resp := sprayer.post("/login", url.Values{"email": {"coord@clinic.example"}, "password": {staffPassword}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the 21st attempt from the same address: %d, want 429", resp.StatusCode)
	}
	if resp := h.agentFrom("203.0.113.60").signIn("coord@clinic.example", staffPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another address: %d, want signed in", resp.StatusCode)
	}
}

// TestEveryStaffPageCanSignOutAndIsNotCached: each page shows a way to sign out, and none may be stored by the
// browser or a proxy.
func TestEveryStaffPageCanSignOutAndIsNotCached(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	ref := h.submit(t, "adhd")
	a := h.signedIn("admin@clinic.example", staffPassword)
	for _, page := range []string{"/board", "/enquiries", "/enquiries/" + ref, "/account", "/account/2fa", "/admin/users",
		"/admin/audit", "/admin/reports", "/admin/outbox", "/admin/privacy"} {
		resp := a.get(page)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", page, resp.StatusCode)
			continue
		}
		if !strings.Contains(a.last, `action="/logout"`) {
			t.Errorf("%s has no sign-out", page)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("%s: Cache-Control %q, want no-store", page, cc)
		}
	}
}
