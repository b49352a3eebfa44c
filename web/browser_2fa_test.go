package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/frontdesk/frontdesk/crm"
)

// TestBrowserEnrolsASecondFactorAndSignsInWithIt: on a phone-sized screen, a new account signs in, is sent to
// enrol, reads the secret off the page into its "app", turns two-factor on, sees its recovery codes, signs out,
// signs in again with password and code, then with a recovery code.
func TestBrowserEnrolsASecondFactorAndSignsInWithIt(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaffWithoutSecondFactor("coord@clinic.example", crm.RoleCoordinator)
	base := h.listen()
	ctx := newBrowser(t)
	id := func(s string) chromedp.ID { return chromedp.ID(s) }
	password := func() {
		do(t, ctx, chromedp.WaitVisible(id("email")))
		do(t, ctx, chromedp.SendKeys(id("email"), "coord@clinic.example"), chromedp.SendKeys(id("password"), staffPassword))
		submit(t, ctx)
	}
	signOut := func() {
		do(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
		do(t, ctx, chromedp.WaitVisible(id("email")))
	}

	do(t, ctx, chromedp.Navigate(base+"/board"))
	password()
	do(t, ctx, chromedp.WaitVisible(id("secret")), chromedp.WaitVisible(chromedp.CSS(`img.qr`)))
	if w := run(t, ctx, chromedp.Evaluate[int](`document.querySelector('img.qr').naturalWidth`)); w == 0 {
		t.Error("the QR code image did not load")
	}
	secret := strings.ReplaceAll(run(t, ctx, chromedp.Text(id("secret"))), " ", "")
	do(t, ctx, chromedp.SendKeys(id("code"), codeAt(t, secret, time.Now())))
	do(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/account/2fa"] button`)))
	do(t, ctx, chromedp.WaitVisible(id("recovery-codes")))
	codes := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#recovery-codes code')].map(c => c.textContent)`))
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown, want 10", len(codes))
	}
	if heading := run(t, ctx, chromedp.Text(chromedp.CSS(`h1`))); !strings.Contains(heading, "Save your recovery codes") {
		t.Errorf("heading %q", heading)
	}
	pageWidth := run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	viewWidth := run(t, ctx, chromedp.Evaluate[int](`window.innerWidth`))
	if pageWidth > viewWidth {
		t.Errorf("the recovery codes page is %dpx wide on a %dpx phone", pageWidth, viewWidth)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`a.button.primary`)))
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-board]`)))
	signOut()

	// Password and a code from the app.
	password()
	do(t, ctx, chromedp.WaitVisible(id("code")))
	do(t, ctx, chromedp.SendKeys(id("code"), h.secondFactorCode("coord@clinic.example")))
	do(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/login/2fa"] button`)))
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-board]`)))
	signOut()

	// Password and a recovery code.
	password()
	do(t, ctx, chromedp.WaitVisible(id("code")))
	do(t, ctx, chromedp.Click(chromedp.CSS(`details.recovery summary`)))
	do(t, ctx, chromedp.WaitVisible(id("recovery_code")), chromedp.SendKeys(id("recovery_code"), codes[0]))
	do(t, ctx, chromedp.Click(chromedp.CSS(`details.recovery button`)))
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-board]`)))
	if n := h.count(`SELECT count(*) FROM staff_recovery_codes WHERE used_at IS NOT NULL`); n != 1 {
		t.Errorf("%d recovery codes used, want 1", n)
	}
}
