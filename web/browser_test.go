package web_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/frontdesk/frontdesk/intake"
)

// newBrowser starts Debian's headless Chromium for one test. A machine without it fails the test (CI installs
// it); set FRONTDESK_SKIP_BROWSER=1 to skip browser tests knowingly.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return newBrowserWithin(t, 60*time.Second)
}

// newBrowserWithin is newBrowser for a test that may take up to limit (a tour of many pages).
func newBrowserWithin(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	if testing.Short() || os.Getenv("FRONTDESK_SKIP_BROWSER") != "" {
		t.Skip("browser tests skipped")
	}
	path := ""
	for _, p := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if p == "" {
			continue
		}
		if found, err := exec.LookPath(p); err == nil {
			path = found
			break
		}
	}
	if path == "" {
		t.Fatal("no Chromium found: install Debian's chromium package (or set FRONTDESK_SKIP_BROWSER=1)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(390, 844), // a phone
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, limit)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// run runs an action that returns a value, failing the test on error.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// do runs actions, failing the test on error.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// submit clicks the form's button. The click and the wait for the next page are separate runs: a wait queued in
// the same run as a click that navigates can look in the page being left.
func submit(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, chromedp.Click(chromedp.CSS(`button[type=submit]`)))
}

// browserSignIn signs in from the sign-in page on screen, as a person would: email and password, then the
// code of the account's authenticator app on the second page.
func browserSignIn(t *testing.T, ctx context.Context, h *harness, email string) {
	t.Helper()
	do(t, ctx, chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), staffPassword))
	submit(t, ctx)
	do(t, ctx, chromedp.WaitVisible(chromedp.ID("code")))
	do(t, ctx, chromedp.SendKeys(chromedp.ID("code"), h.secondFactorCode(email)))
	do(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/login/2fa"] button`)))
}

func TestBrowserFillsTheFormAndSeesTheReference(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	base := h.listen()
	ctx := newBrowser(t)
	id := func(s string) chromedp.ID { return chromedp.ID(s) }

	do(t, ctx, chromedp.Navigate(base+"/enquire"), chromedp.WaitVisible(id("name")))
	// On a phone the page must not scroll sideways.
	pageWidth := run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	viewWidth := run(t, ctx, chromedp.Evaluate[int](`window.innerWidth`))
	if pageWidth > viewWidth {
		t.Errorf("the form is %dpx wide on a %dpx phone screen", pageWidth, viewWidth)
	}
	// First a mistake: no consent and a bad email. The browser's own checks are off (novalidate), so the
	// server's messages are what the patient sees.
	do(t, ctx,
		chromedp.SendKeys(id("name"), "Zoë O'Brien"),
		chromedp.SendKeys(id("email"), "zoe@"),
		chromedp.SendKeys(id("treatment"), "PTSD"), // typing in a select picks the matching option, as a person would
	)
	submit(t, ctx)
	do(t, ctx, chromedp.WaitVisible(id("error-summary")))
	summary := run(t, ctx, chromedp.Text(id("error-summary")))
	if !strings.Contains(summary, "valid email") || !strings.Contains(summary, "tick the box") {
		t.Errorf("error summary: %q", summary)
	}
	if kept := run(t, ctx, chromedp.Value(id("name"))); kept != "Zoë O'Brien" {
		t.Errorf("name not kept: %q", kept)
	}

	do(t, ctx,
		chromedp.Clear(id("email")),
		chromedp.SendKeys(id("email"), "zoe@example.org"),
		chromedp.SendKeys(id("phone"), "07700 900123"),
		chromedp.Click(id("preferred_contact-phone")),
		chromedp.SendKeys(id("message"), "Evenings are best."),
		chromedp.Click(id("consent")),
	)
	submit(t, ctx)
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`.reference`)))
	ref := strings.TrimSpace(run(t, ctx, chromedp.Text(chromedp.CSS(`.reference`))))
	if _, ok := intake.ParseReference(ref); !ok {
		t.Fatalf("thanks page shows %q, not a reference", ref)
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND name = ? AND phone = '+447700900123'
		AND preferred_contact = 'phone' AND treatment = 'ptsd'`, ref, "Zoë O'Brien"); n != 1 {
		t.Errorf("enquiry %s not stored as entered", ref)
	}
}

func TestBrowserKeyboardReachesTheFormAndSkipsTheHoneypot(t *testing.T) {
	h := newHarness(t, nil)
	base := h.listen()
	ctx := newBrowser(t)
	do(t, ctx, chromedp.Navigate(base+"/enquire"), chromedp.WaitVisible(chromedp.ID("name")))
	order := run(t, ctx, chromedp.Evaluate[[]string](`(() => {
		const focusable = [...document.querySelectorAll('a[href], input, select, textarea, button')]
			.filter(el => el.tabIndex >= 0 && !el.disabled && el.type !== 'hidden');
		return focusable.map(el => el.id || el.name || el.tagName);
	})()`))
	joined := strings.Join(order, ",")
	if strings.Contains(joined, "website") {
		t.Errorf("the honeypot is reachable by keyboard: %s", joined)
	}
	for _, id := range []string{"name", "email", "phone", "treatment", "message", "consent", "BUTTON"} {
		if !strings.Contains(joined, id) {
			t.Errorf("%s not reachable by keyboard: %s", id, joined)
		}
	}
}

// TestBrowserStaffWorkAnEnquiry: sign in, see a new enquiry on the board, move it, add a note, and see both in
// the timeline — on a phone-sized screen, with htmx and JavaScript running.
func TestBrowserStaffWorkAnEnquiry(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", "coordinator")
	ref := h.submit(t, "anxiety")
	base := h.listen()
	ctx := newBrowser(t)
	id := func(s string) chromedp.ID { return chromedp.ID(s) }

	do(t, ctx, chromedp.Navigate(base+"/board"), chromedp.WaitVisible(id("email")))
	browserSignIn(t, ctx, h, "coord@clinic.example")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-board]`)))
	card := chromedp.CSS(`li.card[data-ref="` + ref + `"]`)
	do(t, ctx, chromedp.WaitVisible(card))
	if col := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('li.card[data-ref="`+ref+`"]').closest('.column').dataset.status`)); col != "new" {
		t.Fatalf("card is in column %q, want new", col)
	}
	// Move it with its button.
	do(t, ctx, chromedp.Click(chromedp.CSS(`li.card[data-ref="`+ref+`"] form.move button`)))
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`.column[data-status="contacted"] li.card[data-ref="`+ref+`"]`)))
	if flash := run(t, ctx, chromedp.Text(chromedp.CSS(`.flash`))); !strings.Contains(flash, "Moved "+ref+" to Contacted.") {
		t.Errorf("flash %q", flash)
	}
	// Open it, add a note, and see the note and the move in the timeline.
	do(t, ctx, chromedp.Click(chromedp.CSS(`li.card[data-ref="`+ref+`"] a.card-link`)))
	do(t, ctx, chromedp.WaitVisible(id("body")), chromedp.SendKeys(id("body"), "Left a voicemail; will try again at 5pm."))
	do(t, ctx, chromedp.Click(chromedp.CSS(`form[action$="/notes"] button`)))
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	timeline := run(t, ctx, chromedp.Text(chromedp.CSS(`.timeline`)))
	for _, want := range []string{"moved it from New to Contacted", "added a note", "Left a voicemail"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q:\n%s", want, timeline)
		}
	}
	if n := h.count(`SELECT count(*) FROM notes n JOIN enquiries e ON e.id = n.enquiry_id WHERE e.reference = ? AND e.status = 'contacted'`, ref); n != 1 {
		t.Errorf("note or move not stored (%d)", n)
	}
	pageWidth := run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	viewWidth := run(t, ctx, chromedp.Evaluate[int](`window.innerWidth`))
	if pageWidth > viewWidth {
		t.Errorf("the enquiry page is %dpx wide on a %dpx phone", pageWidth, viewWidth)
	}
	// Boosted navigation must not leave copies of patient pages in the browser's storage, where they would
	// outlive the session.
	stored := run(t, ctx, chromedp.Evaluate[string](`JSON.stringify(Object.keys(sessionStorage).concat(Object.keys(localStorage)).map(k => k + "=" + (sessionStorage.getItem(k) || localStorage.getItem(k) || "")))`))
	if strings.Contains(stored, "voicemail") || strings.Contains(stored, "Skip to main content") {
		t.Errorf("the browser's storage keeps patient pages: %.300s", stored)
	}
}

// TestBrowserDragsACardToALaterColumn: where JavaScript runs, dropping a card on a later column moves it there
// (through the card's own form, so the server checks the move and the CSRF token as for the button).
func TestBrowserDragsACardToALaterColumn(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", "coordinator")
	ref := h.submit(t, "depression")
	base := h.listen()
	ctx := newBrowser(t)
	do(t, ctx, chromedp.EmulateViewport(1400, 900))
	do(t, ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.ID("email")))
	browserSignIn(t, ctx, h, "coord@clinic.example")
	// Wait for the page's script to have set up dragging, not only for the card to be drawn.
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`li.card[data-ref="`+ref+`"]`)), chromedp.WaitReady(chromedp.CSS(`[data-board][data-drag-ready]`)))
	// Drop it on "screening", skipping "contacted"; an earlier column must refuse the drop.
	ok := run(t, ctx, chromedp.Evaluate[bool](`(() => {
		const card = document.querySelector('li.card[data-ref="`+ref+`"]');
		const target = document.querySelector('.column[data-status="screening"]');
		const dt = new DataTransfer();
		card.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt}));
		const over = new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: dt});
		target.dispatchEvent(over);
		if (!over.defaultPrevented) return false;
		target.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: dt}));
		return true;
	})()`))
	if !ok {
		t.Fatal("the later column did not accept the drop")
	}
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`.column[data-status="screening"] li.card[data-ref="`+ref+`"]`)))
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND status = 'screening' AND first_contacted_at IS NOT NULL`, ref); n != 1 {
		t.Error("the drop did not move the enquiry to screening")
	}
	refused := run(t, ctx, chromedp.Evaluate[bool](`(() => {
		const card = document.querySelector('li.card[data-ref="`+ref+`"]');
		const dt = new DataTransfer();
		card.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt}));
		const over = new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: dt});
		document.querySelector('.column[data-status="new"]').dispatchEvent(over);
		card.dispatchEvent(new DragEvent('dragend', {bubbles: true, dataTransfer: dt}));
		return !over.defaultPrevented;
	})()`))
	if !refused {
		t.Error("an earlier column accepted the card")
	}
}

// TestBrowserFailedSubmitFocusesTheErrorSummary: on a phone (390x844), after a bad submit, focus is on the
// error summary, which is on the first screen, and the title starts "Error: "; the summary's link to the date
// of birth takes focus to the part that is wrong.
func TestBrowserFailedSubmitFocusesTheErrorSummary(t *testing.T) {
	h := newHarness(t, nil)
	base := h.listen()
	ctx := newBrowser(t)
	do(t, ctx, chromedp.EmulateViewport(390, 844))
	id := func(s string) chromedp.ID { return chromedp.ID(s) }
	do(t, ctx, chromedp.Navigate(base+"/enquire"), chromedp.WaitVisible(id("name")))
	do(t, ctx,
		chromedp.SendKeys(id("name"), "Ann Example"),
		chromedp.SendKeys(id("email"), "ann@"),
		chromedp.SendKeys(id("dob_day"), "27"),
		chromedp.SendKeys(id("dob_month"), "3"),
	)
	submit(t, ctx)
	do(t, ctx, chromedp.WaitVisible(id("error-summary")))
	if title := run(t, ctx, chromedp.Title()); !strings.HasPrefix(title, "Error: ") {
		t.Errorf("title %q does not start with \"Error: \"", title)
	}
	// The browser applies autofocus at its next rendering opportunity: wait for it (a page that never moves
	// focus fails after 5 s).
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.activeElement && document.activeElement.id === "error-summary"`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		focused := run(t, ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id || document.activeElement.tagName : ""`))
		t.Errorf("focus is on %q, not the error summary (%v)", focused, err)
	}
	rect := run(t, ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.getElementById('error-summary').getBoundingClientRect(); return [r.top, r.bottom]; })()`))
	if rect[0] < 0 || rect[0] > 844 || rect[1] > 844 {
		t.Errorf("the error summary is not within the first screen (top %.0f, bottom %.0f)", rect[0], rect[1])
	}
	if w := run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("the form with errors is %dpx wide on a 390px phone", w)
	}
	if kept := run(t, ctx, chromedp.Value(id("dob_month"))); kept != "3" {
		t.Errorf("the month was not kept: %q", kept)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`#error-summary a[href="#dob_year"]`)))
	if f := run(t, ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "dob_year" {
		t.Errorf("the summary's link left the focus on %q, not the year", f)
	}
}
