package web_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/web"
)

// mainOf is the part of a page inside <main>.
func mainOf(t *testing.T, page string) string {
	t.Helper()
	start := strings.Index(page, "<main")
	end := strings.Index(page, "</main>")
	if start < 0 || end < start {
		t.Fatalf("no <main> in the page")
	}
	inner := page[start:end]
	return inner[strings.Index(inner, ">")+1:]
}

// TestFailedSubmitLeadsWithTheErrorSummary: after a failed submit the error summary is the first thing in
// <main> (above the intro and the crisis box, which stays on the page), it is focused on load without
// JavaScript (autofocus on a focusable element), each line links to its field, and the title starts "Error: ".
func TestFailedSubmitLeadsWithTheErrorSummary(t *testing.T) {
	h := newHarness(t, nil)
	vals := url.Values{"name": {"Ann Example"}, "email": {"ann@"}, "treatment": {"ptsd"}, "preferred_contact": {"pigeon"},
		"dob_day": {"27"}, "dob_month": {"3"}}
	resp := h.postForm("/enquire", vals)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", resp.StatusCode)
	}
	page := body(t, resp)
	if title := regexp.MustCompile(`<title>([^<]*)</title>`).FindStringSubmatch(page); title == nil ||
		!strings.HasPrefix(title[1], "Error: ") {
		t.Errorf("title %v does not start with \"Error: \"", title)
	}
	main := strings.TrimSpace(mainOf(t, page))
	if !strings.HasPrefix(main, `<div class="error-summary"`) {
		t.Errorf("<main> starts with %.120q, not the error summary", main)
	}
	summary := main[:strings.Index(main, "</div>")]
	for _, want := range []string{`id="error-summary"`, `tabindex="-1"`, "autofocus", `role="alert"`} {
		if !strings.Contains(summary, want) {
			t.Errorf("the error summary lacks %s", want)
		}
	}
	crisis := strings.Index(main, `class="crisis"`)
	if crisis < 0 || crisis < strings.Index(main, `id="error-summary"`) || strings.Index(main, "<h1>") < len(summary) {
		t.Error("the crisis box must stay on the page, after the summary, as must the intro")
	}
	for _, link := range []string{`href="#email"`, `href="#preferred_contact-either"`, `href="#dob_year"`, `href="#consent"`} {
		if !strings.Contains(summary, link) {
			t.Errorf("the summary has no link %s", link)
		}
	}
	// Each link leads to an element of the page with that id.
	for _, m := range regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(summary, -1) {
		if !strings.Contains(page, `id="`+m[1]+`"`) {
			t.Errorf("the summary links to #%s, which is not on the page", m[1])
		}
	}
}

// TestScreeningErrorSummaryIsFirstInMain: the questionnaire page's 422 leads with its summary too, and keeps
// the crisis box.
func TestScreeningErrorSummaryIsFirstInMain(t *testing.T) {
	h := newHarness(t, nil)
	a := h.agent()
	resp := a.post("/enquire", validForm())
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: %d", resp.StatusCode)
	}
	thanks := body(t, a.get(resp.Header.Get("Location")))
	link := regexp.MustCompile(`href="(/enquire/screening/[^"]+)"`).FindStringSubmatch(thanks)
	if link == nil {
		t.Fatal("no invitation to the questionnaires")
	}
	page := body(t, a.post(link[1], url.Values{"phq9_1": {"1"}}))
	main := strings.TrimSpace(mainOf(t, page))
	if !strings.HasPrefix(main, `<div class="error-summary"`) || !strings.Contains(main[:200], "autofocus") {
		t.Errorf("<main> starts with %.160q, not the focused error summary", main)
	}
	if !strings.Contains(main, `class="crisis"`) || !strings.Contains(page, "<title>Error: ") {
		t.Error("no crisis box, or the title does not start with \"Error: \"")
	}
}

// TestDateOfBirthInThreeFields: the form asks day, month and year (one fieldset, a legend and a hint, numeric
// keyboards); they are stored as date_of_birth; a part missing or wrong is named, the parts entered are kept
// and the wrong one marked; the age rule is the same as ever.
func TestDateOfBirthInThreeFields(t *testing.T) {
	h := newHarness(t, nil)
	page := body(t, h.get("/enquire"))
	fieldset := regexp.MustCompile(`(?s)<fieldset[^>]*role="group"[^>]*>\s*<legend>Date of birth.*?</fieldset>`).FindString(page)
	if fieldset == "" || !strings.Contains(fieldset, "For example, 27 3 1990") || strings.Contains(page, `type="date"`) {
		t.Fatalf("no date of birth fieldset with its hint, or a date picker left:\n%s", fieldset)
	}
	for _, part := range []string{"dob_day", "dob_month", "dob_year"} {
		if !regexp.MustCompile(`<input id="` + part + `" name="` + part + `" type="text" inputmode="numeric"`).MatchString(fieldset) {
			t.Errorf("%s is not a numeric text field in the fieldset", part)
		}
	}

	form := validForm()
	form.Set("dob_day", "7")
	form.Set("dob_month", "3")
	form.Set("dob_year", "1990")
	resp := h.postForm("/enquire", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d: %s", resp.StatusCode, body(t, resp))
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE date_of_birth = '1990-03-07'`); n != 1 {
		t.Error("the three fields were not stored as 1990-03-07")
	}

	form.Set("idempotency_key", "another")
	form.Set("dob_day", "27")
	form.Set("dob_month", "13")
	form.Set("dob_year", "")
	resp = h.postForm("/enquire", form)
	page = body(t, resp)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Date of birth must include a year") {
		t.Fatalf("missing year: %d, no message naming the year", resp.StatusCode)
	}
	for _, kept := range []string{`id="dob_day" name="dob_day"`, `value="27"`, `value="13"`} {
		if !strings.Contains(page, kept) {
			t.Errorf("entered part not kept: %s", kept)
		}
	}
	if !regexp.MustCompile(`id="dob_year"[^>]*aria-invalid="true"`).MatchString(page) ||
		regexp.MustCompile(`id="dob_day"[^>]*aria-invalid="true"`).MatchString(page) {
		t.Error("the missing year is not the part marked invalid")
	}

	form.Set("dob_day", "1")
	form.Set("dob_month", "1")
	form.Set("dob_year", "2020")
	page = body(t, h.postForm("/enquire", form))
	if !strings.Contains(page, "aged 18 or over") {
		t.Error("a child's date of birth was not refused with the age message")
	}
	if n := h.count(`SELECT count(*) FROM enquiries`); n != 1 {
		t.Errorf("%d enquiries stored, want 1", n)
	}

	// The JSON API keeps date_of_birth as YYYY-MM-DD.
	resp = h.postJSON("/api/v1/enquiries", strings.Replace(validJSON, `"consent":true`, `"consent":true,"date_of_birth":"1985-12-31"`, 1))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("API: %d %s", resp.StatusCode, body(t, resp))
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE date_of_birth = '1985-12-31'`); n != 1 {
		t.Error("the API's date_of_birth was not stored")
	}
}

// TestOKToLeaveMessage: asked beside the phone field, taken from the form and the API (a boolean only), stored,
// shown to staff in plain words and in the API's enquiry.
func TestOKToLeaveMessage(t *testing.T) {
	h := newHarness(t, nil)
	page := body(t, h.get("/enquire"))
	phone, leave, contact := strings.Index(page, `id="phone"`), strings.Index(page, `id="ok_to_leave_message"`),
		strings.Index(page, `name="preferred_contact"`)
	if leave < 0 || leave < phone || leave > contact || !strings.Contains(page, "voicemail or text message") {
		t.Error("the voicemail question is not beside the phone field")
	}

	form := validForm()
	form.Set("ok_to_leave_message", "true")
	loc, _ := url.Parse(h.postForm("/enquire", form).Header.Get("Location"))
	yes := loc.Query().Get("ref")
	resp := h.postJSON("/api/v1/enquiries", strings.Replace(validJSON, `"consent":true`, `"consent":true,"ok_to_leave_message":false`, 1))
	no, _ := decode(t, resp)["reference"].(string)
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND ok_to_leave_message = 1`, yes); n != 1 {
		t.Error("the ticked box was not stored")
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND ok_to_leave_message = 0`, no); n != 1 {
		t.Error("false from the API was not stored as no")
	}
	resp = h.postJSON("/api/v1/enquiries", strings.Replace(validJSON, `"consent":true`, `"consent":true,"ok_to_leave_message":"yes"`, 1))
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a string for ok_to_leave_message: %d, want 422", resp.StatusCode)
	}
	if fields, _ := decode(t, resp)["fields"].(map[string]any); fields["ok_to_leave_message"] == nil {
		t.Errorf("the 422 does not name ok_to_leave_message: %v", fields)
	}

	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	tok := h.token("coord@clinic.example")
	for ref, want := range map[string]bool{yes: true, no: false} {
		got := decode(t, h.apiCall(http.MethodGet, "/api/v1/enquiries/"+ref, tok, ""))
		if v, ok := got["ok_to_leave_message"].(bool); !ok || v != want {
			t.Errorf("API enquiry %s: ok_to_leave_message %v, want %v", ref, got["ok_to_leave_message"], want)
		}
	}
	a := h.agent()
	a.signIn("coord@clinic.example", staffPassword)
	if p := body(t, a.get("/enquiries/"+yes)); !strings.Contains(p, "Voicemail or text") || !strings.Contains(p, "Yes, may leave a message") {
		t.Error("the staff page does not say a message may be left")
	}
	if p := body(t, a.get("/enquiries/"+no)); !strings.Contains(p, "No — do not leave messages") {
		t.Error("the staff page does not say to leave no message")
	}
}

// TestThanksPageRepeatsTheEmailToItsSenderOnly: the browser that sent the enquiry sees the address it gave, and
// what to do if it is wrong; the address is never in the URL, and the reference alone (another browser, a
// guessed or shared link) never shows it.
func TestThanksPageRepeatsTheEmailToItsSenderOnly(t *testing.T) {
	h := newHarness(t, nil)
	a := h.agent()
	form := validForm()
	form.Set("email", "Ann.Typo@Example.org")
	resp := a.post("/enquire", form)
	where := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || strings.Contains(strings.ToLower(where), "typo") {
		t.Fatalf("submit: %d to %q", resp.StatusCode, where)
	}
	page := body(t, a.get(where))
	if !strings.Contains(page, "We sent a confirmation to <strong class=\"sent-to\">ann.typo@example.org</strong>") {
		t.Error("the thanks page does not repeat the address")
	}
	if !strings.Contains(page, "Not your address?") || !strings.Contains(page, `href="tel:02079460018"`) ||
		!strings.Contains(page, `href="/enquire"`) {
		t.Error("the thanks page does not say what to do about a wrong address")
	}
	if other := body(t, h.get(where)); strings.Contains(other, "typo") || !strings.Contains(other, "confirmation to your email address") {
		t.Error("the reference alone shows the address, or the plain sentence is missing")
	}
}

// TestPhoneNumbersAreTappableOnPatientPages: the clinic's number is a tel: link wherever a patient page gives it.
func TestPhoneNumbersAreTappableOnPatientPages(t *testing.T) {
	h := newHarness(t, nil)
	for _, path := range []string{"/enquire", "/privacy", "/enquire/thanks?ref=ABCD-2345"} {
		page := body(t, h.get(path))
		if !strings.Contains(page, `<a href="tel:02079460018">020 7946 0018</a>`) {
			t.Errorf("%s: the clinic's number is not a tel: link", path)
		}
	}
}

// TestPrivacyNoticeNamesTheControllerRetentionAndICONumber: the notice says who the controller is (the clinic,
// by name), the retention periods from the settings (0: kept until the patient asks), and the ICO
// registration number when set; the form's link to it says it opens a new tab.
func TestPrivacyNoticeNamesTheControllerRetentionAndICONumber(t *testing.T) {
	h := newHarness(t, func(c *web.Config) { c.ICONumber = "ZA123456"; c.RetentionMonths = 18; c.SpamRetentionDays = 14 })
	page := body(t, h.get("/privacy"))
	for _, want := range []string{"The controller of your personal information", "<strong>Harbour Clinic</strong>",
		"registration number is <strong>ZA123456</strong>", "18 months after it closed", "14 days after they arrive"} {
		if !strings.Contains(page, want) {
			t.Errorf("the privacy notice lacks %q", want)
		}
	}
	h = newHarness(t, func(c *web.Config) { c.RetentionMonths = 0; c.SpamRetentionDays = 0 })
	page = body(t, h.get("/privacy"))
	if strings.Contains(page, "registration number") {
		t.Error("an ICO number is stated while none is set")
	}
	if strings.Count(page, "until you ask us to erase") != 2 {
		t.Error("retention 0 is not stated as kept until the patient asks, for enquiries and for spam")
	}
	form := body(t, h.get("/enquire"))
	if !regexp.MustCompile(`<a href="/privacy" target="_blank" rel="noopener">privacy notice \(opens in a new tab\)</a>`).MatchString(form) {
		t.Error("the form's link to the privacy notice does not say it opens a new tab")
	}
}

// TestLogoAndFavicon: /favicon.ico is an icon; a logo file is served at /logo (its type, cached, nothing else)
// and shown in the header of patient and staff pages with the clinic's name as its alt text; a logo kept
// elsewhere is allowed by the pages' Content-Security-Policy.
func TestLogoAndFavicon(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.get("/favicon.ico")
	ico := body(t, resp)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/x-icon" || !strings.HasPrefix(ico, "\x00\x00\x01\x00") {
		t.Errorf("/favicon.ico: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(ico))
	}
	page := body(t, h.get("/enquire"))
	if !strings.Contains(page, `<link rel="icon" href="/favicon.ico"`) || !strings.Contains(page, `<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">`) {
		t.Error("the layout does not link its icons")
	}
	if resp := h.get("/static/favicon.svg"); resp.StatusCode != 200 {
		t.Errorf("/static/favicon.svg: %d", resp.StatusCode)
	}
	if resp := h.get("/logo"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/logo without a logo: %d, want 404", resp.StatusCode)
	}

	file := filepath.Join(t.TempDir(), "logo.png")
	img := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")
	if err := os.WriteFile(file, img, 0o600); err != nil {
		t.Fatal(err)
	}
	logo, err := web.LoadLogo(file)
	if err != nil {
		t.Fatal(err)
	}
	h = newHarness(t, func(c *web.Config) { c.Logo = logo })
	page = body(t, h.get("/enquire"))
	src := regexp.MustCompile(`<a class="brand with-logo" href="/enquire"><img class="logo" src="(/logo\?v=[0-9a-f]+)" alt="Harbour Clinic"></a>`).FindStringSubmatch(page)
	if src == nil {
		t.Fatal("the patient header does not show the logo with the clinic's name as alt text")
	}
	resp = h.get(src[1])
	if got := body(t, resp); resp.StatusCode != 200 || got != string(img) || resp.Header.Get("Content-Type") != "image/png" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "max-age=31536000") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("/logo: %d %q, headers %v", resp.StatusCode, got, resp.Header)
	}
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	a := h.agent()
	a.signIn("coord@clinic.example", staffPassword)
	if staff := body(t, a.get("/board")); !strings.Contains(staff, `<img class="logo" src="`+src[1]+`" alt="Harbour Clinic">`) {
		t.Error("the staff header does not show the logo")
	}

	remote, err := web.LoadLogo("https://cdn.clinic.example/brand/logo.svg")
	if err != nil {
		t.Fatal(err)
	}
	h = newHarness(t, func(c *web.Config) { c.Logo = remote })
	resp = h.get("/enquire")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: https://cdn.clinic.example;") {
		t.Errorf("the CSP does not allow the logo's origin: %s", csp)
	}
	if !strings.Contains(body(t, resp), `src="https://cdn.clinic.example/brand/logo.svg"`) {
		t.Error("the header does not show the logo kept elsewhere")
	}
}
