package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake/screening"
)

// screeningLink finds the invitation's link on a thanks page.
var screeningLink = regexp.MustCompile(`href="(/enquire/screening/([A-Za-z0-9_-]{43}))"`)

// enquire posts the enquiry form as a patient's browser would and returns the agent (holding the cookie the
// answer set), the reference and the response.
func enquire(t *testing.T, h *harness, edit func(url.Values)) (*agent, string, *http.Response) {
	t.Helper()
	form := validForm()
	form.Set("idempotency_key", strconv.FormatInt(time.Now().UnixNano(), 36))
	if edit != nil {
		edit(form)
	}
	a := h.agent()
	resp := a.post("/enquire", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /enquire: %d\n%s", resp.StatusCode, a.last)
	}
	loc := resp.Header.Get("Location")
	ref := strings.TrimPrefix(loc, "/enquire/thanks?ref=")
	if ref == loc || ref == "" {
		t.Fatalf("POST /enquire redirected to %q", loc)
	}
	return a, ref, resp
}

// invitation opens the thanks page and returns the link to the questionnaires it offers ("" for none).
func invitation(t *testing.T, a *agent, ref string) string {
	t.Helper()
	if resp := a.get("/enquire/thanks?ref=" + ref); resp.StatusCode != http.StatusOK {
		t.Fatalf("thanks page: %d", resp.StatusCode)
	}
	m := screeningLink.FindStringSubmatch(a.last)
	if m == nil {
		return ""
	}
	return m[1]
}

// phq9Answers and the like fill a questionnaire's fields.
func answersFor(id string, values ...int) url.Values {
	v := url.Values{}
	for i, n := range values {
		v.Set(screening.FormField(id, i), strconv.Itoa(n))
	}
	return v
}

func merge(vs ...url.Values) url.Values {
	out := url.Values{}
	for _, v := range vs {
		for k, x := range v {
			out[k] = x
		}
	}
	return out
}

// allNo answers every safety question no.
func allNo() url.Values {
	v := url.Values{}
	for _, q := range screening.Default().Safety() {
		v.Set(screening.SafetyField(q.Key), "no")
	}
	return v
}

func TestScreeningPageFlow(t *testing.T) {
	h := newHarness(t, nil)
	a, ref, resp := enquire(t, h, nil) // treatment depression
	if loc := resp.Header.Get("Location"); loc != "/enquire/thanks?ref="+ref {
		t.Errorf("Location %q", loc)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "fd_screening" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("POST /enquire set no screening cookie")
	}
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/enquire" || cookie.Secure ||
		cookie.MaxAge != 3600 {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/enquire, not Secure on http, an hour", cookie)
	}

	link := invitation(t, a, ref)
	if link == "" || !strings.Contains(a.last, "Help us prepare for your call (optional, about 3 minutes)") {
		t.Fatalf("the thanks page does not invite to the questionnaires:\n%s", a.last)
	}
	token := strings.TrimPrefix(link, "/enquire/screening/")
	if token != cookie.Value {
		t.Error("the invitation's token is not the cookie's")
	}
	if got := h.count(`SELECT count(*) FROM screening_links WHERE token_hash = ?`, crm.ScreeningTokenHash(token)); got != 1 {
		t.Error("the link's token does not hash to the stored link")
	}

	resp = a.get(link)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", link, resp.StatusCode)
	}
	if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy %q", got)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q", got)
	}
	page := a.last
	cat := screening.Default()
	phq9, _ := cat.Instrument("phq9")
	gad7, _ := cat.Instrument("gad7")
	asrs, _ := cat.Instrument("asrs_a")
	for _, want := range []string{phq9.Title, gad7.Title, phq9.Stem, "Help us prepare for your call",
		"reads your answers", "Nothing here is a diagnosis", "skip any questionnaire"} {
		if !strings.Contains(page, templateEscape(want)) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if !strings.Contains(page, `<legend>9. `+templateEscape(phq9.Items[8].Text)+`</legend>`) {
		t.Error("PHQ-9's ninth question is not the legend of its fieldset")
	}
	for _, in := range []screening.Instrument{phq9, gad7} {
		if !strings.Contains(page, templateEscape(in.Attribution)) {
			t.Errorf("the page lacks %s's attribution, verbatim", in.ID)
		}
	}
	if strings.Contains(page, asrs.Title) || strings.Contains(page, `name="asrs_a_1"`) {
		t.Error("a depression enquiry is offered the ASRS")
	}
	for _, q := range cat.Safety() {
		if !strings.Contains(page, `name="`+screening.SafetyField(q.Key)+`" value="yes"`) {
			t.Errorf("safety question %s not asked as yes/no", q.Key)
		}
	}
	if n := strings.Count(page, "<fieldset"); n != len(phq9.Items)+len(gad7.Items)+len(cat.Safety()) {
		t.Errorf("%d fieldsets, want one per question", n)
	}
	if n, want := strings.Count(page, "<legend>"), strings.Count(page, "<fieldset"); n != want {
		t.Errorf("%d legends for %d fieldsets", n, want)
	}
	if regexp.MustCompile(`<input type="radio" id="([^"]+)"`).FindAllStringSubmatch(page, -1) == nil {
		t.Fatal("no radio buttons")
	}
	for _, m := range regexp.MustCompile(`<input type="radio" id="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if !strings.Contains(page, `<label for="`+m[1]+`">`) {
			t.Errorf("radio %s has no label", m[1])
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("the page needs JavaScript")
	}

	// A partly answered PHQ-9: 422, every error beside its question and in the summary, the answers kept,
	// nothing stored.
	partial := merge(answersFor("phq9", 2, 1, 3), url.Values{"safety_liver_disease": {"no"}})
	resp = a.post(link, partial)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("partial PHQ-9: %d", resp.StatusCode)
	}
	page = a.last
	if !strings.Contains(page, "<title>Error: ") {
		t.Error("the title of a page with errors does not start with \"Error: \"")
	}
	for i := 4; i <= 9; i++ {
		f := "phq9_" + strconv.Itoa(i)
		if !strings.Contains(page, `id="`+f+`" aria-describedby="`+f+`-error"`) || !strings.Contains(page, `id="`+f+`-error"`) {
			t.Errorf("no error beside %s", f)
		}
		if !strings.Contains(page, `<a href="#`+f+`-0">PHQ-9, question `+strconv.Itoa(i)) {
			t.Errorf("the error summary does not link %s", f)
		}
	}
	if strings.Contains(page, `id="phq9_1-error"`) || strings.Contains(page, `gad7_1-error`) {
		t.Error("an answered question, or a questionnaire left blank, is marked wrong")
	}
	if strings.Index(page, `id="error-summary"`) > strings.Index(page, "<h1>") {
		t.Error("the error summary is not at the top")
	}
	for _, kept := range []string{`id="phq9_1-2" name="phq9_1" value="2" checked`, `id="phq9_2-1" name="phq9_2" value="1" checked`,
		`id="phq9_3-3" name="phq9_3" value="3" checked`, `id="safety_liver_disease-no" name="safety_liver_disease" value="no" checked`} {
		if !strings.Contains(page, kept) {
			t.Errorf("answer not kept: %s", kept)
		}
	}
	if n := h.count(`SELECT count(*) FROM screenings s JOIN enquiries e ON e.id = s.enquiry_id WHERE e.reference = ?`, ref); n != 0 {
		t.Errorf("a rejected form stored %d screenings", n)
	}
	if n := h.count(`SELECT count(*) FROM screening_links WHERE used_at IS NOT NULL`); n != 0 {
		t.Error("a rejected form used the link")
	}
	version := h.count(`SELECT version FROM enquiries WHERE reference = ?`, ref)

	// Nothing answered at all: on to the thanks page, nothing stored, and the link still works.
	resp = a.post(link, url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/enquire/thanks?ref="+ref {
		t.Fatalf("nothing answered: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := h.count(`SELECT count(*) FROM screenings`) + h.count(`SELECT count(*) FROM events WHERE kind = 'screening'`) +
		h.count(`SELECT count(*) FROM screening_links WHERE used_at IS NOT NULL`); n != 0 {
		t.Error("a page sent with nothing answered stored something, or used the link")
	}
	if got := h.count(`SELECT version FROM enquiries WHERE reference = ?`, ref); got != version {
		t.Error("a page sent with nothing answered changed the enquiry")
	}
	if invitation(t, a, ref) != link {
		t.Error("after nothing answered, the thanks page no longer offers the link")
	}

	// The whole PHQ-9 and GAD-7 and the safety questions: stored with totals and bands, the link used.
	valid := merge(answersFor("phq9", 2, 2, 1, 1, 1, 1, 1, 2, 0), answersFor("gad7", 1, 1, 1, 1, 1, 1, 0), allNo())
	resp = a.post(link, valid)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/enquire/thanks?ref="+ref {
		t.Fatalf("valid answers: %d → %q\n%s", resp.StatusCode, resp.Header.Get("Location"), a.last)
	}
	if !slices.ContainsFunc(resp.Cookies(), func(c *http.Cookie) bool { return c.Name == "fd_screening" && c.Value == token }) {
		t.Error("the questionnaire page did not hand its token to the thanks page")
	}
	for _, row := range []struct {
		instrument string
		total      int
		band       string
	}{{"phq9", 11, "moderate"}, {"gad7", 6, "mild"}} {
		if n := h.count(`SELECT count(*) FROM screenings s JOIN enquiries e ON e.id = s.enquiry_id
			WHERE e.reference = ? AND s.instrument = ? AND s.total = ? AND s.band = ? AND s.source = 'screening_page'`,
			ref, row.instrument, row.total, row.band); n != 1 {
			t.Errorf("%s not stored with total %d and band %s", row.instrument, row.total, row.band)
		}
	}
	if n := h.count(`SELECT count(*) FROM screenings s JOIN enquiries e ON e.id = s.enquiry_id
		WHERE e.reference = ? AND s.instrument = 'safety' AND s.answers LIKE '%"liver_disease":false%'`, ref); n != 1 {
		t.Error("the safety answers are not stored")
	}
	if n := h.count(`SELECT count(*) FROM events v JOIN enquiries e ON e.id = v.enquiry_id
		WHERE e.reference = ? AND v.kind = 'screening' AND v.reason = 'phq9, gad7, safety' AND v.actor_id IS NULL`, ref); n != 1 {
		t.Error("no 'screening' event naming the questionnaires")
	}
	if got := h.count(`SELECT version FROM enquiries WHERE reference = ?`, ref); got != version+1 {
		t.Errorf("version %d → %d, want one more", version, got)
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND flag_risk_at IS NULL AND flag_review_at IS NULL
		AND priority = 'normal'`, ref); n != 1 {
		t.Error("answers that raise nothing flagged the enquiry")
	}
	if n := h.count(`SELECT count(*) FROM screening_links l JOIN enquiries e ON e.id = l.enquiry_id
		WHERE e.reference = ? AND l.used_at IS NOT NULL`, ref); n != 1 {
		t.Error("the link was not used up")
	}

	// The thanks page no longer invites, and says nothing of scores.
	if again := invitation(t, a, ref); again != "" {
		t.Error("the thanks page still invites to a used link")
	}
	for _, secret := range []string{"moderate", "Moderate", "mild", "Mild", "PHQ-9"} {
		if strings.Contains(a.last, secret) {
			t.Errorf("the thanks page shows %q", secret)
		}
	}
	// The log names the route, never the token.
	logs := h.logs.String()
	if strings.Contains(logs, token) {
		t.Error("the token was logged")
	}
	if !strings.Contains(logs, "/enquire/screening/[token]") {
		t.Error("the screening page's requests are not logged with the token masked")
	}
}

// templateEscape is s as html/template writes it into a page.
func templateEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", `"`, "&#34;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func TestScreeningLinkSingleUseAndExpiry(t *testing.T) {
	h := newHarness(t, nil)
	admin := h.addStaff("admin@clinic.example", crm.RoleAdmin)
	valid := merge(answersFor("phq9", 0, 0, 0, 0, 0, 0, 0, 0, 0), allNo())

	// The same 410 page for every link that does not work: an unknown token first.
	resp := h.get("/enquire/screening/" + strings.Repeat("A", 43))
	if resp.StatusCode != http.StatusGone {
		t.Fatalf("unknown token: %d", resp.StatusCode)
	}
	gone := body(t, resp)
	if !strings.Contains(gone, "This link no longer works") || !strings.Contains(gone, "020 7946 0018") {
		t.Errorf("the 410 page does not say what to do:\n%s", gone)
	}
	if resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("the 410 page lacks its headers")
	}
	sameGone := func(what string, resp *http.Response) {
		t.Helper()
		if resp.StatusCode != http.StatusGone {
			t.Errorf("%s: %d, want 410", what, resp.StatusCode)
			return
		}
		if b := body(t, resp); b != gone {
			t.Errorf("%s: the 410 page differs from an unknown token's", what)
		}
	}
	sameGone("junk token", h.get("/enquire/screening/nonsense"))

	// Used: a second GET and POST are refused and change nothing.
	a, ref, _ := enquire(t, h, nil)
	link := invitation(t, a, ref)
	if resp := a.post(link, valid); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first answers: %d", resp.StatusCode)
	}
	snapshot := func() string {
		var s string
		if err := h.raw.QueryRow(`SELECT e.version || '|' || e.updated_at || '|' || group_concat(s.instrument || s.answers, ';')
			|| '|' || (SELECT count(*) FROM events WHERE enquiry_id = e.id) || '|' || (SELECT count(*) FROM outbox)
			FROM enquiries e JOIN screenings s ON s.enquiry_id = e.id WHERE e.reference = ?`, ref).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot()
	sameGone("used link, GET", h.get(link))
	other := merge(answersFor("phq9", 3, 3, 3, 3, 3, 3, 3, 3, 3), url.Values{"safety_self_harm_thoughts": {"yes"}})
	sameGone("used link, POST", h.postForm(link, other))
	if after := snapshot(); after != before {
		t.Errorf("a second submission changed the enquiry:\n%s\n%s", before, after)
	}

	// The store itself refuses a used link, whatever its caller checked before.
	_, err := h.db.AnswerScreening(context.Background(), crm.ScreeningAnswers{Hash: crm.ScreeningTokenHash(
		strings.TrimPrefix(link, "/enquire/screening/")), At: time.Now(), Answers: screening.Answers{
		Safety: map[string]bool{"self_harm_thoughts": true}}}, crm.PlanScreeningAnswers)
	var le *crm.ScreeningLinkError
	if !errors.As(err, &le) || le.Problem != crm.LinkUsed {
		t.Errorf("storing answers through a used link: %v, want a used-link error", err)
	}
	if after := snapshot(); after != before {
		t.Errorf("a refused store call changed the enquiry:\n%s\n%s", before, after)
	}

	// Posts racing for one link: one is taken, the others answered 410.
	r, refR, _ := enquire(t, h, func(v url.Values) { v.Set("email", "rae@example.org") })
	linkR := invitation(t, r, refR)
	const racers = 6
	statuses := make(chan int, racers)
	var wg sync.WaitGroup
	for range racers {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodPost, linkR, strings.NewReader(valid.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := h.app.Test(req, -1)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	won := 0
	for st := range statuses {
		switch st {
		case http.StatusSeeOther:
			won++
		case http.StatusGone:
		default:
			t.Errorf("a racing post answered %d", st)
		}
	}
	if won != 1 {
		t.Errorf("%d racing posts used the link, want 1", won)
	}
	if n := h.count(`SELECT count(*) FROM events v JOIN enquiries e ON e.id = v.enquiry_id
		WHERE e.reference = ? AND v.kind = 'screening'`, refR); n != 1 {
		t.Errorf("%d screening events for one link", n)
	}

	// Expired.
	b, refB, _ := enquire(t, h, func(v url.Values) { v.Set("email", "bea@example.org") })
	linkB := invitation(t, b, refB)
	if resp := h.get(linkB); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh link: %d", resp.StatusCode)
	}
	h.exec(`UPDATE screening_links SET expires_at = ? WHERE enquiry_id = (SELECT id FROM enquiries WHERE reference = ?)`,
		time.Now().Add(-time.Minute).UnixMilli(), refB)
	sameGone("expired link, GET", h.get(linkB))
	sameGone("expired link, POST", h.postForm(linkB, valid))
	if n := h.count(`SELECT count(*) FROM screenings s JOIN enquiries e ON e.id = s.enquiry_id WHERE e.reference = ?`, refB); n != 0 {
		t.Error("an expired link stored answers")
	}
	if invitation(t, b, refB) != "" {
		t.Error("the thanks page invites to an expired link")
	}

	// The enquiry marked spam by staff, and an erased one.
	c, refC, _ := enquire(t, h, func(v url.Values) { v.Set("email", "cat@example.org") })
	linkC := invitation(t, c, refC)
	h.exec(`UPDATE enquiries SET status = 'spam' WHERE reference = ?`, refC)
	sameGone("spam enquiry's link", h.get(linkC))
	d, refD, _ := enquire(t, h, func(v url.Values) { v.Set("email", "dan@example.org") })
	linkD := invitation(t, d, refD)
	if err := h.privacy.EraseReference(context.Background(), admin, refD); err != nil {
		t.Fatal(err)
	}
	sameGone("erased enquiry's link", h.get(linkD))
	sameGone("erased enquiry's link, POST", h.postForm(linkD, valid))
	if n := h.count(`SELECT count(*) FROM screenings s JOIN enquiries e ON e.id = s.enquiry_id WHERE e.reference = ?`, refD); n != 0 {
		t.Error("an erased enquiry's link stored answers")
	}

	// A caught spam enquiry is thanked and invited like any other, but its link never opens.
	s, refS, resp := enquire(t, h, func(v url.Values) { v.Set("website", "http://spam.example"); v.Set("email", "x@example.org") })
	var spamToken string
	for _, ck := range resp.Cookies() {
		if ck.Name == "fd_screening" {
			spamToken = ck.Value
		}
	}
	if len(spamToken) != 43 {
		t.Errorf("spam's cookie %q: want a 43-character token like any other", spamToken)
	}
	if got, want := invitation(t, s, refS), "/enquire/screening/"+spamToken; got != want {
		t.Errorf("spam's thanks page invites to %q, want %q like any other enquiry", got, want)
	}
	sameGone("spam's link", h.get("/enquire/screening/"+spamToken))
	sameGone("spam's link, POST", h.postForm("/enquire/screening/"+spamToken, valid))
	if n := h.count(`SELECT count(*) FROM screenings s JOIN enquiries e ON e.id = s.enquiry_id WHERE e.reference = ?`, refS); n != 0 {
		t.Error("a spam enquiry's link stored answers")
	}
}
