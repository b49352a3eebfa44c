package web_test

// The tour of every page: a patient's and a member of staff's way through Frontdesk in headless Chromium, each
// page looked at on a phone (390×844), on a laptop (1366×900), and on the phone in the dark colour scheme. On
// each, each time: the page is no wider
// than its window, and axe-core (installed from the npm registry into web/testdata/axe by `make test`) finds no
// violation of WCAG 2.2 A and AA. With FRONTDESK_SCREENSHOTS set to a folder, a full-page PNG of every page at
// both widths is written there (`make screenshots` writes them to docs/screenshots/).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/frontdesk/frontdesk/crm"
	"github.com/pquerna/otp/totp"
)

// widths are the windows every page is looked at in: a phone and a laptop, and the phone again in the dark
// colour scheme (prefers-color-scheme: dark), whose contrast axe checks too.
var widths = []struct {
	name          string
	width, height int64
	mobile, dark  bool
}{
	{"phone", 390, 844, true, false},
	{"desktop", 1366, 900, false, false},
	{"phone-dark", 390, 844, true, true},
}

// axeTags are the rule sets axe runs: WCAG 2.0, 2.1 and 2.2 at levels A and AA.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"}

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// axeScript returns axe-core's source, from the npm install `make test` runs (web/testdata/axe).
func axeScript(t *testing.T) string {
	t.Helper()
	axeOnce.Do(func() {
		var b []byte
		b, axeErr = os.ReadFile(filepath.Join("testdata", "axe", "node_modules", "axe-core", "axe.min.js"))
		axeSource = string(b)
	})
	if axeErr != nil {
		t.Fatalf("axe-core is not installed (%v): run `make test`, or `npm ci --prefix web/testdata/axe`", axeErr)
	}
	return axeSource
}

// axeViolation is what the tour reports of one axe rule that failed.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// tour looks at the page on screen at every width; the viewport is changed without a reload, so a page
// reached by a POST (an error summary, a thanks page) is looked at as it is.
type tour struct {
	t        *testing.T
	ctx      context.Context
	shots    string
	seen     map[string]bool
	problems []string
}

func (tr *tour) look(name string) {
	t := tr.t
	t.Helper()
	if tr.seen[name] {
		t.Fatalf("page %q looked at twice", name)
	}
	tr.seen[name] = true
	if !run(t, tr.ctx, chromedp.Evaluate[bool](`typeof axe !== "undefined"`)) {
		do(t, tr.ctx, chromedp.Evaluate[chromedp.Void](axeScript(t)+";undefined"))
	}
	for _, w := range widths {
		opts := []chromedp.EmulateViewportOption{}
		if w.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		do(t, tr.ctx, chromedp.EmulateViewport(w.width, w.height, opts...), colourScheme(map[bool]string{false: "light", true: "dark"}[w.dark]))
		// Let layout settle after the resize (scripts listening to it included).
		do(t, tr.ctx, chromedp.Evaluate[chromedp.Void](`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r())))`, chromedp.EvalAwaitPromise))
		wide := run(t, tr.ctx, chromedp.Evaluate[int](`Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)`))
		if wide > int(w.width) {
			culprit := run(t, tr.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => {
				const out = [];
				for (const el of document.body.querySelectorAll('*')) {
					const r = el.getBoundingClientRect();
					if (r.right > %d + 1 && r.width > 0) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '') + ' right=' + Math.round(r.right));
				}
				return out.slice(0, 5).join('; ');
			})()`, w.width)))
			tr.problems = append(tr.problems, fmt.Sprintf("%s at %s: %d px wide in a %d px window (%s)", name, w.name, wide, w.width, culprit))
		}
		tags, _ := json.Marshal(axeTags)
		raw := run(t, tr.ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: "tag", values: `+string(tags)+`}, resultTypes: ["violations"]})
			.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
				targets: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))))`, chromedp.EvalAwaitPromise))
		var vs []axeViolation
		if err := json.Unmarshal([]byte(raw), &vs); err != nil {
			t.Fatalf("axe on %s: %v", name, err)
		}
		for _, v := range vs {
			tr.problems = append(tr.problems, fmt.Sprintf("%s at %s: axe %s (%s): %s — %s", name, w.name, v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", ")))
		}
		if tr.shots != "" {
			png := run(t, tr.ctx, chromedp.FullScreenshot(100))
			file := filepath.Join(tr.shots, fmt.Sprintf("%s-%s.png", name, w.name))
			if err := os.WriteFile(file, png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Back to the light phone, the browser's state between looks.
	do(t, tr.ctx, chromedp.EmulateViewport(widths[0].width, widths[0].height, chromedp.EmulateMobile), colourScheme("light"))
}

// clickAndLoad clicks the button sel and waits until the page it leads to has loaded: waiting for an element
// instead could find it on the page being left. Staff pages are boosted by htmx (the new page's body is swapped
// into the same document), so the page being left is marked on its <main>, not on window.
func (tr *tour) clickAndLoad(sel string) {
	t := tr.t
	t.Helper()
	// The click is the element's own (what a tap or Enter does), after marking the page being left.
	do(t, tr.ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("main").dataset.tourLeft = "1"; document.querySelector(`+"`"+sel+"`"+`).click(); undefined`))
	for deadline := time.Now().Add(20 * time.Second); ; {
		loaded, err := chromedp.Run(tr.ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && !!document.querySelector("main") && !document.querySelector("main[data-tour-left]") && !document.querySelector(".htmx-request, .htmx-settling, .htmx-swapping")`))
		if err == nil && loaded {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("clicked %s: no new page loaded (%v)", sel, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// open navigates to path and looks at it.
func (tr *tour) open(base, name, path string) {
	tr.t.Helper()
	if err := chromedp.Do(tr.ctx, chromedp.Navigate(base+path)); err != nil {
		tr.t.Fatalf("open %s (%s): %v", name, path, err)
	}
	tr.look(name)
}

func TestEveryPageFitsBothWidthsAndPassesAxe(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	base := h.listen()
	ctx := newBrowserWithin(t, 3*time.Minute)
	axeScript(t)
	shots := os.Getenv("FRONTDESK_SCREENSHOTS")
	if shots != "" {
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tr := &tour{t: t, ctx: ctx, shots: shots, seen: map[string]bool{}}
	id := func(s string) chromedp.ID { return chromedp.ID(s) }

	// Staff and data for the staff pages: a risk-flagged enquiry with screening answers, an assigned one, one
	// moved along the pipeline, a note; the outbox then holds confirmations and notices, the audit its entries.
	admin := h.addStaff("admin@clinic.example", crm.RoleAdmin)
	h.addStaff("coordinator@clinic.example", crm.RoleCoordinator)
	h.addStaff("clinician@clinic.example", crm.RoleClinician, "depression", "adhd")
	risky := h.submitScreened(t, "Robin Risk", `,"phone":"07700 900456","message":"Some days I do not want to go on.",
		"screening":{"phq9":[2,2,1,1,2,1,1,1,1],"gad7":[1,1,1,1,1,1,1],"safety":{"self_harm_thoughts":true,"pregnant_or_breastfeeding":false,"high_blood_pressure":true}}`)
	plain := h.submit(t, "adhd")
	moved := h.submit(t, "depression")
	tok := h.token(admin.Email)
	for _, call := range []struct{ path, body string }{
		{"/api/v1/enquiries/" + moved + "/transitions", `{"to":"contacted"}`},
		{"/api/v1/enquiries/" + plain + "/notes", `{"body":"Left a voicemail; will try again on Tuesday."}`},
	} {
		if resp := h.apiCall("POST", call.path, tok, call.body); resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %s", call.path, resp.StatusCode, body(t, resp))
		}
	}

	// The patient: the form, its errors, the thanks page, the screening and its errors, the privacy notice.
	tr.open(base, "enquire", "/enquire")
	do(t, ctx, chromedp.SendKeys(id("name"), "Zoë O'Brien"), chromedp.SendKeys(id("email"), "zoe@"))
	tr.clickAndLoad(`main button[type=submit]`)
	tr.look("enquire-errors")
	do(t, ctx,
		chromedp.Clear(id("email")),
		chromedp.SendKeys(id("email"), "zoe@example.org"),
		chromedp.SendKeys(id("treatment"), "Depression"),
		chromedp.Click(id("consent")),
	)
	tr.clickAndLoad(`main button[type=submit]`)
	tr.look("thanks")
	html := run(t, ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	m := screeningLink.FindStringSubmatch(html)
	if m == nil {
		t.Fatal("the thanks page links to no screening")
	}
	tr.open(base, "screening", m[1])
	// Half of one questionnaire: the questions come back with the error beside them.
	do(t, ctx, chromedp.Click(chromedp.CSS(`input[type=radio][name^="phq9"]`)))
	tr.clickAndLoad(`main button[type=submit]`)
	tr.look("screening-errors")
	tr.open(base, "privacy", "/privacy")
	tr.open(base, "not-found", "/no-such-page")

	// Staff: sign-in (with a mistake), the second factor, then every staff page.
	tr.open(base, "login", "/login")
	do(t, ctx, chromedp.SendKeys(id("email"), admin.Email), chromedp.SendKeys(id("password"), "not the password"))
	tr.clickAndLoad(`main button[type=submit]`)
	tr.look("login-error")
	tr.open(base, "reset-request", "/reset")
	do(t, ctx, chromedp.Navigate(base+"/login"))
	do(t, ctx, chromedp.SendKeys(id("email"), admin.Email), chromedp.SendKeys(id("password"), staffPassword))
	tr.clickAndLoad(`main button[type=submit]`)
	tr.look("login-2fa")
	do(t, ctx, chromedp.SendKeys(id("code"), h.secondFactorCode(admin.Email)))
	tr.clickAndLoad(`form[action="/login/2fa"] button`)

	for _, p := range []struct{ name, path string }{
		{"board", "/board"},
		{"enquiries", "/enquiries"},
		{"enquiries-filtered", "/enquiries?status=new&treatment=depression"},
		{"enquiries-search", "/enquiries?q=" + url.QueryEscape("Robin")},
		{"enquiry-risk", "/enquiries/" + risky},
		{"enquiry-noted", "/enquiries/" + plain},
		{"enquiry-contacted", "/enquiries/" + moved},
		{"account", "/account"},
		{"account-2fa", "/account/2fa"},
		{"admin-users", "/admin/users"},
		{"admin-audit", "/admin/audit"},
		{"admin-reports", "/admin/reports"},
		{"admin-outbox", "/admin/outbox"},
		{"admin-privacy", "/admin/privacy"},
		{"staff-not-found", "/enquiries/NOPE-0000"},
	} {
		tr.open(base, p.name, p.path)
	}

	// A new clinician's first sign-in: enrolment of the second factor, the recovery codes, then a page their
	// role may not see (the staff 403), and the board as a clinician sees it.
	signOut(t, ctx, base)
	newcomer := h.addStaffWithoutSecondFactor("newcomer@clinic.example", crm.RoleClinician, "adhd")
	do(t, ctx, chromedp.Navigate(base+"/login"))
	do(t, ctx, chromedp.SendKeys(id("email"), newcomer.Email), chromedp.SendKeys(id("password"), staffPassword))
	tr.clickAndLoad(`main button[type=submit]`)
	tr.look("enrol-2fa")
	secret := strings.Join(strings.Fields(run(t, ctx, chromedp.Text(id("secret")))), "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.SendKeys(id("code"), code))
	tr.clickAndLoad(`form[action="/account/2fa"] button[type=submit]`)
	tr.look("recovery-codes")
	tr.open(base, "board-clinician", "/board")
	tr.open(base, "staff-forbidden", "/admin/users")
	signOut(t, ctx, base)

	// A forgotten password: the request, then the form the emailed link opens.
	mail := h.mailbox(t)
	do(t, ctx, chromedp.Navigate(base+"/reset"))
	do(t, ctx, chromedp.SendKeys(id("email"), admin.Email))
	tr.clickAndLoad(`main button[type=submit]`)
	tr.look("reset-requested")
	tr.open(base, "reset-form", mail.resetLink())

	// A new installation: the first administrator's setup page.
	fresh := newHarness(t, nil)
	tr.open(fresh.listen(), "setup", "/setup")

	for _, p := range tr.problems {
		t.Error(p)
	}
	if shots != "" {
		t.Logf("screenshots of %d pages at %d widths in %s", len(tr.seen), len(widths), shots)
	}
}

// resetLink waits for the password-reset email and returns the path of its link.
func (m *mailbox) resetLink() string {
	m.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, f := range m.files() {
			if _, text := readMail(m.t, f); resetLink.MatchString(text) {
				return resetLink.FindStringSubmatch(text)[1]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	m.t.Fatal("no password-reset email was written")
	return ""
}

// signOut signs out with the button in the header of the account page.
func signOut(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(base+"/account"))
	do(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
	run(t, ctx, chromedp.Poll[bool](`location.pathname === "/login" && document.readyState === "complete"`))
}
