package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/intake"
)

func TestEnquiryFormPage(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.get("/enquire?treatment=ptsd&utm_source=newsletter")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	page := body(t, resp)
	for _, want := range []string{
		"Harbour Clinic", "within 24 hours", // clinic name and what happens next
		"999", "A&amp;E", "116 123", "NHS 111", // the crisis note
		`<option value="ptsd" selected>`,       // treatment preselected from the link
		`name="utm_source" value="newsletter"`, // campaign kept
		`href="/privacy"`,                      // the notice consent refers to
		`name="idempotency_key" value="`,       // the form's own key
		`<meta name="viewport"`,                // phones
	} {
		if !strings.Contains(page, want) {
			t.Errorf("form page lacks %q", want)
		}
	}
	// Every visible field has a label tied to it.
	for _, id := range []string{"name", "email", "phone", "ok_to_leave_message", "treatment", "message", "dob_day",
		"dob_month", "dob_year", "referral_source", "consent"} {
		if !strings.Contains(page, `<label for="`+id+`"`) || !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("field %s has no label", id)
		}
	}
	// The honeypot is hidden from people and from screen readers, and skipped by the keyboard.
	hp := regexp.MustCompile(`(?s)<div class="hp" aria-hidden="true">.*?name="website"[^>]*tabindex="-1"`)
	if !hp.MatchString(page) {
		t.Error("honeypot is not hidden from assistive technology and keyboard")
	}
}

func TestFormSubmitRedirectsToThanks(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.postForm("/enquire", validForm())
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d: %s", resp.StatusCode, body(t, resp))
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	ref := loc.Query().Get("ref")
	if loc.Path != "/enquire/thanks" || ref == "" {
		t.Fatalf("Location %q", resp.Header.Get("Location"))
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND treatment = 'depression' AND preferred_contact = 'email'`, ref); n != 1 {
		t.Error("form enquiry not stored")
	}
	thanks := body(t, h.get(loc.String()))
	for _, want := range []string{ref, "116 123", "999", "NHS 111", "within 24 hours"} {
		if !strings.Contains(thanks, want) {
			t.Errorf("thanks page lacks %q", want)
		}
	}
	// A double click or a browser resubmit of the same answers and key gives the same reference.
	again := h.postForm("/enquire", validForm())
	if again.Header.Get("Location") != resp.Header.Get("Location") {
		t.Errorf("resubmission went to %q, want %q", again.Header.Get("Location"), resp.Header.Get("Location"))
	}
	// Answers edited after going back (same key) are a new enquiry, not an error.
	edited := validForm()
	edited.Set("treatment", "anxiety")
	third := h.postForm("/enquire", edited)
	if third.StatusCode != http.StatusSeeOther || third.Header.Get("Location") == resp.Header.Get("Location") {
		t.Errorf("edited resubmission: %d %q", third.StatusCode, third.Header.Get("Location"))
	}
	if n := h.count(`SELECT count(*) FROM enquiries`); n != 2 {
		t.Errorf("%d enquiries, want 2", n)
	}
}

func TestFormErrorsAreShownBesideFieldsWithValuesKept(t *testing.T) {
	h := newHarness(t, nil)
	vals := url.Values{"name": {"Ann Example"}, "email": {"ann@"}, "phone": {"12"}, "treatment": {"ptsd"},
		"message": {"Please call after 5pm"}, "idempotency_key": {"k-9"}}
	resp := h.postForm("/enquire", vals)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", resp.StatusCode)
	}
	page := body(t, resp)
	for _, field := range []string{"email", "phone", "consent"} {
		if !strings.Contains(page, `id="`+field+`-error"`) {
			t.Errorf("no error beside %s", field)
		}
		input := regexp.MustCompile(`(?s)id="` + field + `"[^>]*aria-describedby="[^"]*` + field + `-error"[^>]*aria-invalid="true"`)
		if !input.MatchString(page) {
			t.Errorf("%s is not described by its error or not marked invalid", field)
		}
	}
	if strings.Contains(page, `id="name-error"`) {
		t.Error("a valid field is shown with an error")
	}
	for _, kept := range []string{`value="Ann Example"`, `value="ann@"`, `value="12"`, `<option value="ptsd" selected>`,
		">Please call after 5pm</textarea>", `name="idempotency_key" value="k-9"`} {
		if !strings.Contains(page, kept) {
			t.Errorf("entered value not kept: %q", kept)
		}
	}
	if !strings.Contains(page, `class="error-summary"`) || !strings.Contains(page, `href="#email"`) {
		t.Error("no error summary linking to the fields")
	}
	if n := h.count(`SELECT count(*) FROM enquiries`); n != 0 {
		t.Errorf("an invalid form changed the database: %d rows", n)
	}
}

// TestFormEscapesWhatWasEntered: the re-shown form is html/template output, so markup typed by anyone stays text.
func TestFormEscapesWhatWasEntered(t *testing.T) {
	h := newHarness(t, nil)
	attack := `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	vals := url.Values{"name": {attack}, "email": {attack}, "message": {"</textarea><script>alert(3)</script>"},
		"utm_source": {`" onfocus="alert(4)`}}
	page := body(t, h.postForm("/enquire", vals))
	for _, raw := range []string{"<script>alert", "<img src=x", `" onfocus="alert(4)`, "</textarea><script>"} {
		if strings.Contains(page, raw) {
			t.Errorf("unescaped %q in the re-shown form", raw)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("entered text not shown back escaped")
	}
	thanks := body(t, h.get("/enquire/thanks?ref=%3Cscript%3Ealert(1)%3C/script%3E"))
	if strings.Contains(thanks, "<script>alert") {
		t.Error("thanks page shows an unescaped reference")
	}
}

func TestPrivacyNoticeShowsItsVersion(t *testing.T) {
	h := newHarness(t, nil)
	page := body(t, h.get("/privacy"))
	if !strings.Contains(page, "Version "+intake.PrivacyNoticeVersion) || !strings.Contains(page, "Harbour Clinic") {
		t.Error("privacy notice lacks its version or the clinic name")
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.get("/enquire")
	for header, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"X-Request-Id":            "-",
		"Cache-Control":           "no-store",
	} {
		if got := resp.Header.Get(header); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want it to contain %q", header, got, want)
		}
	}
	if resp.Header.Get("Server") != "" {
		t.Errorf("Server header %q", resp.Header.Get("Server"))
	}
}
