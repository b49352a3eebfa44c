package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserScreeningOnPhone: on a phone-sized screen, a patient follows the invitation from the thanks page,
// answers part of the PHQ-9 by taps and by keyboard, is shown what is missing at the top of the page, finishes
// it and lands on the thanks page — without the page ever scrolling sideways.
func TestBrowserScreeningOnPhone(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	base := h.listen()
	ctx := newBrowser(t)
	// The window may not shrink below 500px wide in headless mode; the viewport of a phone is emulated.
	do(t, ctx, chromedp.EmulateViewport(390, 844))
	id := func(s string) chromedp.ID { return chromedp.ID(s) }
	noSideways := func(where string) {
		t.Helper()
		if w := run(t, ctx, chromedp.Evaluate[int](`window.innerWidth`)); w != 390 {
			t.Fatalf("the viewport is %dpx wide, not a phone's 390px", w)
		}
		if w := run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
			t.Errorf("%s is %dpx wide on a 390px phone", where, w)
		}
	}

	do(t, ctx, chromedp.Navigate(base+"/enquire"), chromedp.WaitVisible(id("name")))
	do(t, ctx,
		chromedp.SendKeys(id("name"), "Ann Example"),
		chromedp.SendKeys(id("email"), "ann@example.org"),
		chromedp.SendKeys(id("treatment"), "Depression"),
		chromedp.Click(id("consent")),
	)
	submit(t, ctx)
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`.reference`)))
	ref := strings.TrimSpace(run(t, ctx, chromedp.Text(chromedp.CSS(`.reference`))))

	// The invitation, then the questionnaires.
	do(t, ctx, chromedp.Click(chromedp.CSS(`.invite a`)))
	do(t, ctx, chromedp.WaitVisible(id("phq9_1-0")))
	if title := run(t, ctx, chromedp.Title()); !strings.HasPrefix(title, "Help us prepare for your call") {
		t.Errorf("title %q", title)
	}
	noSideways("the questionnaire page")

	// Question 1 by a tap on its label; question 2 by keyboard (an arrow key moves along the radio group and
	// chooses); question 3 by a tap on the button itself.
	do(t, ctx, chromedp.Click(chromedp.CSS(`label[for="phq9_1-1"]`)))
	do(t, ctx, chromedp.Focus(id("phq9_2-0")), chromedp.KeyEvent(" "), chromedp.KeyEvent(kb.ArrowDown))
	do(t, ctx, chromedp.Click(id("phq9_3-2")))
	chosen := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input[type=radio]:checked')].map(r => r.id)`))
	if strings.Join(chosen, ",") != "phq9_1-1,phq9_2-1,phq9_3-2" {
		t.Fatalf("chosen: %v", chosen)
	}
	submit(t, ctx)

	do(t, ctx, chromedp.WaitVisible(id("error-summary")))
	if title := run(t, ctx, chromedp.Title()); !strings.HasPrefix(title, "Error: ") {
		t.Errorf("title %q does not start with \"Error: \"", title)
	}
	// The browser applies autofocus at its next rendering opportunity, which under load may come after the
	// summary is visible: wait for it (a page that never moves focus fails after 5 s).
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.activeElement && document.activeElement.id === "error-summary"`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		focused := run(t, ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
		t.Errorf("focus is on %q, not the error summary (%v)", focused, err)
	}
	top := run(t, ctx, chromedp.Evaluate[float64](`document.getElementById('error-summary').getBoundingClientRect().top`))
	if top < 0 || top > 844 {
		t.Errorf("the error summary is not on screen (top %.0f)", top)
	}
	summary := run(t, ctx, chromedp.Text(id("error-summary")))
	for _, want := range []string{"PHQ-9, question 4", "PHQ-9, question 9"} {
		if !strings.Contains(summary, want) {
			t.Errorf("error summary lacks %q: %s", want, summary)
		}
	}
	kept := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input[type=radio]:checked')].map(r => r.id)`))
	if strings.Join(kept, ",") != "phq9_1-1,phq9_2-1,phq9_3-2" {
		t.Errorf("answers not kept: %v", kept)
	}
	noSideways("the questionnaire page with errors")

	// The summary's link takes the patient to the first question missing.
	do(t, ctx, chromedp.Click(chromedp.CSS(`#error-summary a[href="#phq9_4-0"]`)))
	if f := run(t, ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "phq9_4-0" {
		t.Errorf("the summary's link left the focus on %q", f)
	}
	for _, q := range []string{"4", "5", "6", "7", "8", "9"} {
		do(t, ctx, chromedp.Click(chromedp.CSS(`label[for="phq9_`+q+`-0"]`)))
	}
	submit(t, ctx)
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`.reference`)))
	loc := run(t, ctx, chromedp.Location())
	if !strings.HasSuffix(loc, "/enquire/thanks?ref="+ref) {
		t.Errorf("landed on %s", loc)
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('.invite').length`)); n != 0 {
		t.Error("the thanks page still invites to the questionnaires")
	}
	noSideways("the thanks page")
	if n := h.count(`SELECT count(*) FROM screenings s JOIN enquiries e ON e.id = s.enquiry_id
		WHERE e.reference = ? AND s.instrument = 'phq9' AND s.total = 4 AND s.source = 'screening_page'`, ref); n != 1 {
		t.Error("the PHQ-9 answered in the browser is not stored")
	}
}
