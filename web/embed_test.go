package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/web"
)

const clinicSites = "https://www.clinic.example https://clinic.example"

func framable(c *web.Config) {
	c.FrameAncestors = strings.Fields(clinicSites)
}

// TestPatientPagesMayBeFramedByTheClinicsSiteOnly: with FRONTDESK_FRAME_ANCESTORS, the form, its answer, the
// thanks page, the questionnaires and the privacy notice allow those origins (and no X-Frame-Options
// contradicts it) and carry the script that reports their height; staff pages and everything else stay
// frame-ancestors 'none' with X-Frame-Options DENY, without that script. Without the setting, no page may be
// framed.
func TestPatientPagesMayBeFramedByTheClinicsSiteOnly(t *testing.T) {
	h := newHarness(t, framable)
	want := "frame-ancestors 'self' " + clinicSites
	invalid := validForm()
	invalid.Del("email")
	patient := map[string]*http.Response{
		"GET /enquire":                 h.get("/enquire"),
		"POST /enquire (invalid)":      h.postForm("/enquire", invalid),
		"GET /enquire/thanks":          h.get("/enquire/thanks?ref=ABCD-EFGH"),
		"GET /enquire/screening/TOKEN": h.get("/enquire/screening/not-a-token"),
		"GET /privacy":                 h.get("/privacy"),
	}
	for name, resp := range patient {
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, want+";") || strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q, want %q", name, csp, want)
		}
		if x := resp.Header.Get("X-Frame-Options"); x != "" {
			t.Errorf("%s: X-Frame-Options %q contradicts frame-ancestors", name, x)
		}
		page := body(t, resp)
		if !strings.Contains(page, `<script src="/static/frame.js" defer data-origins="`+clinicSites+`"></script>`) {
			t.Errorf("%s (%d): no framed-page script", name, resp.StatusCode)
		}
	}
	ok := validForm()
	resp := h.postForm("/enquire", ok)
	if got := resp.Header.Get("Content-Security-Policy"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(got, want) {
		t.Errorf("POST /enquire: %d, CSP %q", resp.StatusCode, got)
	}

	for _, path := range []string{"/login", "/board", "/admin/users", "/setup", "/healthz", "/static/app.css", "/api/v1/enquiries", "/nowhere"} {
		resp := h.get(path)
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "clinic.example") {
			t.Errorf("%s: CSP %q, want frame-ancestors 'none'", path, csp)
		}
		if x := resp.Header.Get("X-Frame-Options"); x != "DENY" {
			t.Errorf("%s: X-Frame-Options %q, want DENY", path, x)
		}
		if strings.Contains(body(t, resp), "frame.js") {
			t.Errorf("%s carries the framed-page script", path)
		}
	}

	plain := newHarness(t, nil)
	resp = plain.get("/enquire")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("without FRONTDESK_FRAME_ANCESTORS the form allows framing: %q", csp)
	}
	if strings.Contains(body(t, resp), "frame.js") {
		t.Error("without FRONTDESK_FRAME_ANCESTORS the form carries the framed-page script")
	}
}

// TestEmbedScriptIsServedToOtherSites: /embed.js is JavaScript that other sites may load (Cross-Origin-Resource-
// Policy cross-origin; the default same-origin would block it) and browsers may cache, and it heeds only
// Frontdesk's own messages.
func TestEmbedScriptIsServedToOtherSites(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.get("/embed.js")
	js := body(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("/embed.js: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "public") || !strings.Contains(cc, "max-age=") {
		t.Errorf("Cache-Control %q, want it cacheable", cc)
	}
	if corp := resp.Header.Get("Cross-Origin-Resource-Policy"); corp != "cross-origin" {
		t.Errorf("Cross-Origin-Resource-Policy %q: other sites could not load the script", corp)
	}
	for _, want := range []string{"e.origin !== origin", "e.source !== frame.contentWindow", `typeof height !== "number"`, "frame.title"} {
		if !strings.Contains(js, want) {
			t.Errorf("embed.js lacks %q", want)
		}
	}
}

// TestFramedThanksPageKeepsItsCookieInAFrame: when other sites may frame the pages, the cookie that lets the
// thanks page recognise the patient's enquiry is SameSite=None, Secure and Partitioned, so that it reaches the
// thanks page inside the clinic's page (a Lax cookie is dropped there) and is kept for that site only.
func TestFramedThanksPageKeepsItsCookieInAFrame(t *testing.T) {
	for _, framed := range []bool{false, true} {
		edit := func(*web.Config) {}
		if framed {
			edit = framable
		}
		h := newHarness(t, edit)
		resp := h.postForm("/enquire", validForm())
		var cookie string
		for _, v := range resp.Header.Values("Set-Cookie") {
			if strings.HasPrefix(v, "fd_screening=") {
				cookie = v
			}
		}
		lower := strings.ToLower(cookie)
		if framed && (!strings.Contains(lower, "samesite=none") || !strings.Contains(lower, "secure") ||
			!strings.Contains(lower, "partitioned") || !strings.Contains(lower, "httponly") || !strings.Contains(lower, "path=/enquire")) {
			t.Errorf("framable: cookie %q, want SameSite=None; Secure; Partitioned; HttpOnly under /enquire", cookie)
		}
		if !framed && !strings.Contains(lower, "samesite=lax") {
			t.Errorf("not framable: cookie %q, want SameSite=Lax", cookie)
		}
	}
}

// TestThanksPageOffersTheBookingLinkUnlessFlaggedRisk: with FRONTDESK_BOOKING_URL, the thanks page of the
// patient's own enquiry offers "Book a free introductory call" at the booking page with the reference added to
// its own query; an enquiry flagged risk (here by the words of its message) never gets it, nor does the plain
// thanks page that anybody with a reference may open.
func TestThanksPageOffersTheBookingLinkUnlessFlaggedRisk(t *testing.T) {
	h := newHarness(t, func(c *web.Config) { c.BookingURL = "https://cal.example/clinic/intro?duration=20" })
	a, ref, _ := enquire(t, h, nil)
	a.get("/enquire/thanks?ref=" + ref)
	link := `href="https://cal.example/clinic/intro?duration=20&amp;ref=` + url.QueryEscape(ref) + `"`
	if !strings.Contains(a.last, link) || !strings.Contains(a.last, "Book a free introductory call") {
		t.Errorf("the thanks page does not offer %s:\n%s", link, a.last)
	}
	if page := body(t, h.get("/enquire/thanks?ref="+ref)); strings.Contains(page, "cal.example") {
		t.Error("the thanks page without the patient's cookie offers the booking page")
	}

	r, riskRef, _ := enquire(t, h, func(v url.Values) { v.Set("message", "I keep thinking about ending my life") })
	r.get("/enquire/thanks?ref=" + riskRef)
	if !strings.Contains(r.last, "If you need help now") {
		t.Fatalf("the risk enquiry's thanks page does not lead with the crisis help:\n%s", r.last)
	}
	if strings.Contains(r.last, "cal.example") || strings.Contains(r.last, "Book a free") {
		t.Errorf("the thanks page of an enquiry flagged risk offers the booking page:\n%s", r.last)
	}

	plain := newHarness(t, nil)
	b, ref2, _ := enquire(t, plain, nil)
	b.get("/enquire/thanks?ref=" + ref2)
	if strings.Contains(b.last, "Book a free") {
		t.Error("without FRONTDESK_BOOKING_URL the thanks page offers a booking")
	}
}
