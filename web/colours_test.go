package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// colourScheme asks Chromium to prefer a light or dark colour scheme, as the visitor's system would.
func colourScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return err
	})
}

// focusEmulation makes the page behave as the focused window: a headless page is not, and :focus-visible
// would match nothing.
func focusEmulation() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return err
	})
}

// contrastScript defines, in the page, WCAG 2's contrast ratio between computed colours and the colour an
// element is drawn on (its own background, or the first ancestor's that is not transparent).
const contrastScript = `
	const rgb = c => (c.match(/[\d.]+/g) || []).map(Number);
	const lum = c => { const [r, g, b] = rgb(c).map(v => v / 255).map(v => v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
		return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
	const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
	const drawnOn = el => { for (let e = el; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;
		const v = rgb(c); if (v.length === 3 || (v.length === 4 && v[3] > 0)) return c; } return 'rgb(255, 255, 255)'; };
	const shown = el => { const r = el.getBoundingClientRect(); return r.width > 1 && r.height > 1 && getComputedStyle(el).visibility !== 'hidden'; };
`

// focusProblems focuses every link, button and field on the page as the keyboard would and checks its ring: a
// solid outline of at least 2 px, at 3:1 at least against what it is drawn on (the ring sits outside the
// element, on its parent's background).
const focusProblems = `(() => {` + contrastScript + `
	const out = [];
	for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea')) {
		if (!shown(el) || el.disabled || el.closest('.hp')) continue;
		el.focus({focusVisible: true});
		if (document.activeElement !== el) continue;
		const s = getComputedStyle(el);
		const on = drawnOn(el.parentElement);
		const r = ratio(s.outlineColor, on);
		const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + (el.textContent || el.name || '').trim().slice(0, 30) + '"';
		if (s.outlineStyle === 'none' || parseFloat(s.outlineWidth) < 2) out.push(name + ': no focus ring');
		else if (r < 3) out.push(name + ': focus ring ' + s.outlineColor + ' on ' + on + ' is ' + r.toFixed(2) + ':1');
		el.blur();
	}
	return out;
})()`

// textProblems checks every piece of text on screen against what it is drawn on: 4.5:1, or 3:1 for large
// text (24 px, or 18.66 px bold). The charts are left out: their box is white in either scheme, their colours
// checked in report_charts.go.
const textProblems = `(() => {` + contrastScript + `
	const out = [];
	const bodyRatio = ratio(getComputedStyle(document.body).color, drawnOn(document.body));
	if (bodyRatio < 4.5) out.push('body text is ' + bodyRatio.toFixed(2) + ':1');
	for (const el of document.querySelectorAll('body *')) {
		if (el.closest('svg, option, .visually-hidden, .hp, .skip') || !shown(el)) continue;
		if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
		const s = getComputedStyle(el);
		const px = parseFloat(s.fontSize), large = px >= 24 || (px >= 18.66 && Number(s.fontWeight) >= 700);
		const r = ratio(s.color, drawnOn(el));
		if (r < (large ? 3 : 4.5)) out.push(el.tagName.toLowerCase() + '.' + el.className + ' "' + el.textContent.trim().slice(0, 30) +
			'": ' + s.color + ' on ' + drawnOn(el) + ' is ' + r.toFixed(2) + ':1');
	}
	return [...new Set(out)];
})()`

// The focus ring keeps 3:1 against every background it shows on, and text 4.5:1, in the light scheme and in
// the dark one, on the patient's pages and on every staff page.
func TestBrowserFocusRingAndColoursHoldContrast(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	s := seedStaffPages(t, h)
	base := h.listen()
	ctx := newBrowser(t)
	do(t, ctx, chromedp.EmulateViewport(390, 844), focusEmulation())
	check := func(scheme string, pages []string) {
		t.Helper()
		do(t, ctx, colourScheme(scheme))
		for _, p := range pages {
			do(t, ctx, chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
			if dark := run(t, ctx, chromedp.Evaluate[bool](`matchMedia('(prefers-color-scheme: dark)').matches`)); dark != (scheme == "dark") {
				t.Fatalf("the page does not see the %s scheme", scheme)
			}
			// Every page follows the scheme: dark pages have a dark background and light text.
			bg := run(t, ctx, chromedp.Evaluate[float64](`(() => {`+contrastScript+` return lum(drawnOn(document.body)); })()`))
			if (scheme == "dark") != (bg < 0.1) {
				t.Errorf("%s scheme, %s: the page's background has a luminance of %.2f", scheme, p, bg)
			}
			for _, problem := range run(t, ctx, chromedp.Evaluate[[]string](textProblems)) {
				t.Errorf("%s scheme, %s: %s", scheme, p, problem)
			}
			for _, problem := range run(t, ctx, chromedp.Evaluate[[]string](focusProblems)) {
				t.Errorf("%s scheme, %s: %s", scheme, p, problem)
			}
		}
	}
	public := []string{"/enquire", "/privacy", "/login"}
	staff := append([]string{"/board", "/enquiries", "/enquiries/" + s.uk, "/enquiries/" + s.flagged}, staffPages...)
	for _, scheme := range []string{"light", "dark"} {
		check(scheme, public)
	}
	do(t, ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.ID("email")))
	browserSignIn(t, ctx, h, "admin@clinic.example")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-board]`)))
	for _, scheme := range []string{"light", "dark"} {
		check(scheme, staff)
	}
}
