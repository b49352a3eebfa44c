package web_test

import (
	"context"
	"net/http"
	netmail "net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/mailer"
	"github.com/frontdesk/frontdesk/intake/screening"
	"github.com/frontdesk/frontdesk/web"
)

// urgentRows lists the staff_urgent outbox rows of an enquiry as "recipient" strings, and fails if any carries a
// link token (the only free-form column of a row).
func urgentRows(t *testing.T, h *harness, ref string) []string {
	t.Helper()
	rows, err := h.raw.Query(`SELECT o.recipient, coalesce(o.link_token, '') FROM outbox o JOIN enquiries e ON e.id = o.enquiry_id
		WHERE e.reference = ? AND o.kind = 'staff_urgent' ORDER BY o.recipient`, ref)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var to, link string
		if err := rows.Scan(&to, &link); err != nil {
			t.Fatal(err)
		}
		if link != "" {
			t.Errorf("the urgent notice to %s carries a link token", to)
		}
		out = append(out, to)
	}
	return out
}

func TestScreeningPageRiskQueuesUrgentNotice(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("clin@clinic.example", crm.RoleClinician, "depression")
	h.addStaff("admin@clinic.example", crm.RoleAdmin)

	cases := []struct {
		name    string
		answers url.Values
		source  string
	}{
		{"PHQ-9 item 9", merge(answersFor("phq9", 0, 1, 0, 0, 0, 0, 0, 0, 1)), "risk: phq9 item 9"},
		{"self-harm question", url.Values{"safety_self_harm_thoughts": {"yes"}}, "risk: self_harm_thoughts"},
	}
	for i, tc := range cases {
		a, ref, _ := enquire(t, h, func(v url.Values) { v.Set("email", "p"+strconv.Itoa(i)+"@example.org") })
		if got := urgentRows(t, h, ref); len(got) != 0 {
			t.Fatalf("%s: urgent notices before any answer: %v", tc.name, got)
		}
		link := invitation(t, a, ref)
		if resp := a.post(link, tc.answers); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d\n%s", tc.name, resp.StatusCode, a.last)
		}
		if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND priority = 'urgent'
			AND flag_risk_at IS NOT NULL AND flag_review_at IS NULL`, ref); n != 1 {
			t.Errorf("%s: not urgent and flagged risk", tc.name)
		}
		if got, want := urgentRows(t, h, ref), []string{"clin@clinic.example", "intake@clinic.example"}; !slices.Equal(got, want) {
			t.Errorf("%s: urgent notices to %v, want %v", tc.name, got, want)
		}
		if n := h.count(`SELECT count(*) FROM events v JOIN enquiries e ON e.id = v.enquiry_id WHERE e.reference = ?
			AND ((v.kind = 'flagged' AND v.reason = ?) OR (v.kind = 'priority' AND v.priority = 'urgent'))`, ref, tc.source); n != 2 {
			t.Errorf("%s: want a 'flagged' event (%s) and a 'priority' event", tc.name, tc.source)
		}
		// The page the patient lands on leads with the crisis help.
		a.get("/enquire/thanks?ref=" + ref)
		if i := strings.Index(a.last, `id="crisis-first"`); i < 0 || i > strings.Index(a.last, "Thank you — we have your enquiry</h1>") {
			t.Errorf("%s: the thanks page does not lead with the crisis help", tc.name)
		}
	}

	// An enquiry already flagged risk (by its message) is not flagged or noticed again.
	a, ref, _ := enquire(t, h, func(v url.Values) {
		v.Set("email", "q@example.org")
		v.Set("message", "I have been feeling suicidal.")
	})
	riskAt := h.count(`SELECT flag_risk_at FROM enquiries WHERE reference = ?`, ref)
	notices := len(urgentRows(t, h, ref))
	if riskAt == 0 || notices == 0 {
		t.Fatal("risk language in the message did not flag the enquiry")
	}
	if resp := a.post(invitation(t, a, ref), url.Values{"safety_self_harm_thoughts": {"yes"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("answers: %d", resp.StatusCode)
	}
	if got := h.count(`SELECT flag_risk_at FROM enquiries WHERE reference = ?`, ref); got != riskAt {
		t.Error("a second risk answer moved the flag's time")
	}
	if got := len(urgentRows(t, h, ref)); got != notices {
		t.Errorf("a second risk answer sent %d more urgent notices", got-notices)
	}

	// A review answer: flagged review, no urgent notice, priority unchanged.
	a, ref, _ = enquire(t, h, func(v url.Values) { v.Set("email", "r@example.org") })
	if resp := a.post(invitation(t, a, ref), url.Values{"safety_liver_disease": {"yes"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("review answer: %d", resp.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND flag_review_at IS NOT NULL
		AND flag_risk_at IS NULL AND priority = 'normal'`, ref); n != 1 {
		t.Error("a review answer did not flag review alone")
	}
	if n := h.count(`SELECT count(*) FROM events v JOIN enquiries e ON e.id = v.enquiry_id WHERE e.reference = ?
		AND v.kind = 'flagged' AND v.reason = 'review: liver_disease'`, ref); n != 1 {
		t.Error("no 'flagged' event for the review answer")
	}
	if got := urgentRows(t, h, ref); len(got) != 0 {
		t.Errorf("a review answer sent urgent notices: %v", got)
	}
	a.get("/enquire/thanks?ref=" + ref)
	if strings.Contains(a.last, `id="crisis-first"`) {
		t.Error("a review answer leads the thanks page with the crisis help")
	}

	// Nobody assigned and no intake inbox: the administrators are told.
	a, ref, _ = enquire(t, h, func(v url.Values) { v.Set("email", "s@example.org"); v.Set("treatment", "adhd") })
	token := strings.TrimPrefix(invitation(t, a, ref), "/enquire/screening/")
	noInbox := crm.NewScreeningService(h.db, "", nil)
	if _, err := noInbox.Submit(context.Background(), token, screening.Answers{Safety: map[string]bool{"self_harm_thoughts": true}}); err != nil {
		t.Fatal(err)
	}
	if got := urgentRows(t, h, ref); !slices.Equal(got, []string{"admin@clinic.example"}) {
		t.Errorf("with nobody else to tell, urgent notices went to %v", got)
	}

	// What the urgent email says, once the mailer writes it: the reference and a link, no answers.
	if !slices.Contains(mailer.Kinds, crm.MailUrgent) {
		t.Log("the mailer has no staff_urgent template yet: checked the outbox rows only")
		return
	}
	from, _ := netmail.ParseAddress("Frontdesk <no-reply@clinic.example>")
	r, err := mailer.NewRenderer(mailer.RenderConfig{Clinic: mailer.Clinic{Name: "Harbour Clinic"}, From: from,
		BaseURL: h.cfg.BaseURL, FirstContactHours: 24, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := h.db.ClaimDue(context.Background(), time.Now(), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	rendered := 0
	for _, m := range msgs {
		if m.Kind != crm.MailUrgent {
			continue
		}
		out, err := r.Render(m)
		if err != nil {
			t.Fatal(err)
		}
		rendered++
		all := out.Subject + out.Text + out.HTML
		if !strings.Contains(all, m.Enquiry.Reference) {
			t.Errorf("the urgent notice lacks its reference")
		}
		for _, clinical := range []string{"Nearly every day", "Several days", "PHQ", "phq9", "self_harm", "harming yourself",
			"liver", "suicidal", "Ann Example", "@example.org"} {
			if strings.Contains(all, clinical) {
				t.Errorf("the urgent notice carries %q", clinical)
			}
		}
	}
	if rendered == 0 {
		t.Error("no urgent notice was rendered")
	}
}

func TestThanksPageShowsCrisisHelpFirstForRisk(t *testing.T) {
	h := newHarness(t, nil)
	a, ref, _ := enquire(t, h, func(v url.Values) { v.Set("message", "I keep thinking about ending my life") })
	a.get("/enquire/thanks?ref=" + ref)
	page := a.last
	first := strings.Index(page, `id="crisis-first"`)
	thanks := strings.Index(page, "Thank you — we have your enquiry</h1>")
	if first < 0 || thanks < 0 || first > thanks {
		t.Fatalf("the crisis help does not come before the thank-you (%d, %d):\n%s", first, thanks, page)
	}
	help := page[first:thanks]
	for _, want := range []string{"999", "A&amp;E", "NHS 111", "option 2", "116 123", "free, any time", "SHOUT", "85258",
		"within 4 hours"} {
		if !strings.Contains(help, want) {
			t.Errorf("the crisis help lacks %q", want)
		}
	}
	if strings.Index(page, "<main") > first {
		t.Error("the crisis help is outside the page's main content")
	}
	if between := page[strings.Index(page, "<main"):first]; strings.Contains(between, "<p") || strings.Contains(between, "<h1") {
		t.Errorf("something comes before the crisis help: %s", between)
	}

	// The urgent hours are the configured ones.
	h2 := newHarness(t, func(c *web.Config) { c.UrgentContactHours = 2 })
	a2, ref2, _ := enquire(t, h2, func(v url.Values) { v.Set("message", "I keep thinking about ending my life") })
	a2.get("/enquire/thanks?ref=" + ref2)
	if !strings.Contains(a2.last, "within 2 hours") {
		t.Error("the thanks page does not use UrgentContactHours")
	}

	// Without the cookie, or for another reference, the page is as it always was.
	plain := body(t, h.get("/enquire/thanks?ref="+ref))
	if strings.Contains(plain, `id="crisis-first"`) || strings.Contains(plain, "/enquire/screening/") {
		t.Error("the thanks page without the cookie says more than the reference")
	}
	b, refB, _ := enquire(t, h, func(v url.Values) { v.Set("email", "bob@example.org") })
	b.cookies["fd_screening"] = a.cookies["fd_screening"]
	b.get("/enquire/thanks?ref=" + refB)
	if strings.Contains(b.last, `id="crisis-first"`) || strings.Contains(b.last, "/enquire/screening/") {
		t.Error("another enquiry's cookie changed the thanks page")
	}

	// A plain enquiry's thanks page leads with the thank-you; the general help stays below it.
	c, refC, _ := enquire(t, h, func(v url.Values) { v.Set("email", "cy@example.org") })
	c.get("/enquire/thanks?ref=" + refC)
	page = c.last
	if strings.Contains(page, `id="crisis-first"`) {
		t.Error("a plain enquiry's thanks page leads with the crisis help")
	}
	if t1, help := strings.Index(page, "Thank you — we have your enquiry</h1>"), strings.Index(page, "If you need help now"); t1 < 0 || help < t1 {
		t.Error("a plain enquiry's thanks page does not lead with the thank-you")
	}
	if !strings.Contains(page, "/enquire/screening/") {
		t.Error("a plain enquiry's thanks page does not invite to the questionnaires")
	}
}
