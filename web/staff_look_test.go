package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/web"
)

// staffPages are the pages an administrator reads, each with data in it once seedStaffPages has run.
var staffPages = []string{"/admin/users", "/admin/reports", "/admin/outbox", "/admin/audit", "/admin/privacy", "/account"}

// seeded is what seedStaffPages made: the references of its enquiries, by what they show.
type seeded struct {
	uk, abroad, closed, flagged string
}

// seedStaffPages fills the database the way a clinic's first weeks would: staff of every role, enquiries with
// UK and foreign phone numbers, a campaign, a referral source, a move, a closing, a note, a priority, a risk
// flag, and mail sent and failed, so that every staff page has rows to show.
func seedStaffPages(t *testing.T, h *harness) seeded {
	t.Helper()
	ctx := context.Background()
	admin := h.addStaff("admin@clinic.example", crm.RoleAdmin)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	h.addStaff("clin@clinic.example", crm.RoleClinician, "adhd", "ptsd")
	post := func(json string) string {
		resp := h.postJSON("/api/v1/enquiries", json)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("submit: %d %s", resp.StatusCode, body(t, resp))
		}
		ref, _ := decode(t, resp)["reference"].(string)
		return ref
	}
	var s seeded
	s.uk = post(`{"name":"Ann Example","email":"ann@example.org","phone":"07700 900123","treatment":"adhd",
		"preferred_contact":"phone","referral_source":"gp","utm_source":"newsletter","utm_medium":"mailing",
		"utm_campaign":"Spring open day","message":"Evenings are best.","consent":true}`)
	s.abroad = post(`{"name":"Bea Example","email":"bea@example.org","phone":"+1 415 555 2671","treatment":"chronic_pain",
		"referral_source":"search","consent":true}`)
	s.closed = post(`{"name":"Cy Example","email":"cy@example.org","treatment":"addiction","referral_source":"friend","consent":true}`)
	s.flagged = post(`{"name":"Di Example","email":"di@example.org","treatment":"depression","consent":true,
		"screening":{"phq9":[1,1,1,1,1,1,1,1,1]}}`)
	if _, err := h.ws.Transition(ctx, admin, s.uk, crm.StatusContacted, "", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ws.Assign(ctx, admin, s.uk, "clin@clinic.example", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ws.SetPriority(ctx, admin, s.uk, "high", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ws.AddNote(ctx, admin, s.uk, "Called; will ring back on Tuesday."); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ws.Transition(ctx, admin, s.closed, crm.StatusLost, "No answer after three calls", 0); err != nil {
		t.Fatal(err)
	}
	msgs, err := h.db.ClaimDue(ctx, time.Now(), time.Minute, 50)
	if err != nil || len(msgs) == 0 {
		t.Fatalf("claim the mail: %v (%d)", err, len(msgs))
	}
	for i, m := range msgs {
		if i%3 == 0 {
			err = h.db.MarkFailed(ctx, m.ID, "550 5.1.1 mailbox unavailable at the receiving server, try another address")
		} else {
			err = h.db.MarkSent(ctx, m.ID, time.Now())
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// pageWidth is how wide the page on screen is, and how wide its window.
func pageWidth(t *testing.T, ctx context.Context) (page, window int) {
	t.Helper()
	page = run(t, ctx, chromedp.Evaluate[int](`document.scrollingElement.scrollWidth`))
	window = run(t, ctx, chromedp.Evaluate[int](`window.innerWidth`))
	return page, window
}

// Tables in their scrolling boxes, with visually hidden text in them, must not make the page itself wider than
// a phone: each administrator's page, full of data, fits a 390 px window.
func TestBrowserAdminPagesFitAPhone(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	s := seedStaffPages(t, h)
	base := h.listen()
	ctx := newBrowser(t)
	adminSignIn(t, ctx, h, base, 390, 844)
	for _, p := range append(staffPages, "/enquiries/"+s.uk) {
		do(t, ctx, chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
		page, window := pageWidth(t, ctx)
		if window != 390 {
			t.Fatalf("%s: the window is %d px wide, want 390", p, window)
		}
		if page > window {
			t.Errorf("%s is %d px wide in a %d px window", p, page, window)
		}
	}
}

// adminSignIn signs the seeded administrator in, in a window of that size (emulated: headless Chromium's own
// window is never narrower than 500 px).
func adminSignIn(t *testing.T, ctx context.Context, h *harness, base string, width, height int64) {
	t.Helper()
	do(t, ctx, chromedp.EmulateViewport(width, height))
	do(t, ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.ID("email")))
	browserSignIn(t, ctx, h, "admin@clinic.example")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-board]`)))
}

// chartProblems measures, in the page on screen, every text of every chart drawn: its size on screen (at least
// 12 px), that it stays inside its chart, and that no two overlap.
const chartProblems = `(() => {
	const out = [];
	const charts = [...document.querySelectorAll('svg.chart')].filter(s => s.getBoundingClientRect().width > 0);
	if (charts.length < 3) out.push(charts.length + ' charts shown, want 3');
	for (const svg of charts) {
		const box = svg.getBoundingClientRect(), name = (svg.querySelector('title') || {}).id;
		const texts = [...svg.querySelectorAll('text')].map(t => ({t: t.textContent, r: t.getBoundingClientRect(),
			px: parseFloat(getComputedStyle(t).fontSize) * Math.hypot(t.getScreenCTM().a, t.getScreenCTM().b)}));
		for (const a of texts) {
			if (a.px < 12) out.push(name + ': "' + a.t + '" is drawn at ' + a.px.toFixed(1) + ' px');
			if (a.r.left < box.left - 1 || a.r.right > box.right + 1 || a.r.top < box.top - 1 || a.r.bottom > box.bottom + 1)
				out.push(name + ': "' + a.t + '" sticks out of the chart');
		}
		for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
			const a = texts[i].r, b = texts[j].r;
			if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5)
				out.push(name + ': "' + texts[i].t + '" overlaps "' + texts[j].t + '"');
		}
	}
	return out;
})()`

// The reports' charts scale to the screen: on a phone and on a laptop every label is at least 12 px and none
// overlaps another or leaves its chart, over the default range and over half a year; the export form's
// buttons stay inside it; and the page is never wider than its window.
func TestBrowserReportChartsAreReadableAtEveryWidth(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	seedStaffPages(t, h)
	base := h.listen()
	ctx := newBrowser(t)
	adminSignIn(t, ctx, h, base, 390, 844)
	today := time.Now().UTC()
	halfYear := "/admin/reports?from=" + today.AddDate(0, 0, -180).Format("2006-01-02") + "&to=" + today.Format("2006-01-02")
	for _, size := range [][2]int64{{390, 844}, {1366, 900}} {
		do(t, ctx, chromedp.EmulateViewport(size[0], size[1]))
		for _, p := range []string{"/admin/reports", halfYear} {
			do(t, ctx, chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
			for _, problem := range run(t, ctx, chromedp.Evaluate[[]string](chartProblems)) {
				t.Errorf("%dx%d %s: %s", size[0], size[1], p, problem)
			}
			outside := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#export form button')].filter(b => {
				const r = b.getBoundingClientRect(), f = b.closest('form').getBoundingClientRect();
				return r.right > f.right + 0.5 || r.left < f.left - 0.5;
			}).map(b => b.textContent)`))
			if len(outside) > 0 {
				t.Errorf("%dx%d %s: %v stick out of the export form", size[0], size[1], p, outside)
			}
			if page, window := pageWidth(t, ctx); page > window {
				t.Errorf("%dx%d %s: the page is %d px wide", size[0], size[1], p, page)
			}
		}
	}
}

var addRoleSelect = regexp.MustCompile(`(?s)<select id="role" name="role"[^>]*>(.*?)</select>`)

// "Add a member of staff" starts at the least privilege: clinician, never administrator.
func TestAddStaffFormDefaultsToTheLeastPrivilege(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	a := h.signedIn("admin@clinic.example", staffPassword)
	a.get("/admin/users")
	m := addRoleSelect.FindStringSubmatch(a.last)
	if m == nil {
		t.Fatal("no role select in the add form")
	}
	// A browser shows the first option when none is selected: the selected one, or the first, is what a
	// person who does not look gets.
	chosen := regexp.MustCompile(`<option value="([a-z]+)" selected>`).FindAllStringSubmatch(m[1], -1)
	if len(chosen) != 1 || chosen[0][1] != string(crm.RoleClinician) {
		t.Errorf("the add form's role starts at %v, want only clinician selected:\n%s", chosen, m[1])
	}
	// After a refused add, the form keeps the role that was chosen.
	a.post("/admin/users", url.Values{"name": {"Dr New"}, "email": {"bad"}, "role": {"coordinator"}, "password": {"x"}})
	m = addRoleSelect.FindStringSubmatch(a.last)
	if m == nil || !strings.Contains(m[1], `<option value="coordinator" selected>`) {
		t.Errorf("a refused add lost the chosen role")
	}
}

// rawCodes are codes Frontdesk stores that a page must never show as a whole piece of text: statuses, roles,
// priorities, outbox kinds and states, treatments, referral sources, contact preferences, audit actions.
func rawCodes() []string {
	codes := []string{"low", "normal", "high", "urgent", "queued", "sent", "failed", "email", "phone", "either",
		"confirmation", "staff_new", "staff_assigned", "staff_overdue", "staff_urgent", "staff_password_reset",
		"adhd", "depression", "anxiety", "ptsd", "addiction", "chronic_pain", "other",
		"gp", "self", "search", "social", "friend", "risk", "review"}
	for _, s := range crm.AllStatuses {
		codes = append(codes, string(s))
	}
	for _, r := range crm.Roles {
		codes = append(codes, string(r))
	}
	for _, a := range crm.AuditActions {
		codes = append(codes, a.Action)
	}
	return codes
}

// codesOnScreen lists, on the page on screen, every element whose whole visible text is one of the codes, every
// word with an underscore in it (a code such as staff_assigned or self_harm_thoughts), and every phone number in
// E.164 form (+447700900123), in the text a person reads: the page's visible text and the charts' titles.
const codesOnScreen = `((codes) => {
	const out = [];
	const known = new Set(codes);
	for (const el of document.querySelectorAll('main *')) {
		if (el.closest('svg') || !el.getClientRects().length) continue;
		const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
		if (own && known.has(own)) out.push(el.tagName.toLowerCase() + ': ' + own);
	}
	const text = document.querySelector('main').innerText + ' ' +
		[...document.querySelectorAll('main svg title, main svg desc, main svg text')].map(t => t.textContent).join(' ');
	for (const m of text.matchAll(/\b[a-z0-9]+(?:_[a-z0-9]+)+\b/g)) out.push('code: ' + m[0]);
	for (const m of text.matchAll(/\+\d{8,}/g)) out.push('phone: ' + m[0]);
	return out;
})`

// Every code a person reads gets a label: walking every staff page full of data (an administrator's), no
// stored code shows as text, phone numbers are shown as staff dial them and are links, and the campaign is
// the campaign.
func TestBrowserStaffPagesShowNoCodes(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	s := seedStaffPages(t, h)
	base := h.listen()
	ctx := newBrowser(t)
	adminSignIn(t, ctx, h, base, 1366, 900)
	codes, err := json.Marshal(rawCodes())
	if err != nil {
		t.Fatal(err)
	}
	pages := append([]string{"/board", "/enquiries"}, staffPages...)
	for _, ref := range []string{s.uk, s.abroad, s.closed, s.flagged} {
		pages = append(pages, "/enquiries/"+ref)
	}
	for _, p := range pages {
		do(t, ctx, chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
		for _, found := range run(t, ctx, chromedp.Evaluate[[]string](codesOnScreen+`(`+string(codes)+`)`)) {
			t.Errorf("%s shows a code: %s", p, found)
		}
	}
	do(t, ctx, chromedp.Navigate(base+"/enquiries/"+s.uk), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	details := run(t, ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll('dl.fields dt')].map(dt => [dt.textContent, dt.nextElementSibling.innerText]))`))
	for k, want := range map[string]string{"Phone": "07700 900123", "Priority": "High", "Campaign": "Spring open day",
		"Campaign source": "newsletter", "Campaign medium": "mailing"} {
		if details[k] != want {
			t.Errorf("the enquiry page's %s is %q, want %q", k, details[k], want)
		}
	}
	if href := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('a[href^="tel:"]').getAttribute('href')`)); href != "tel:+447700900123" {
		t.Errorf("the phone links to %q", href)
	}
	do(t, ctx, chromedp.Navigate(base+"/enquiries/"+s.flagged), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	if tl := run(t, ctx, chromedp.Text(chromedp.CSS(`.timeline`))); !strings.Contains(tl, "flagged it (risk: PHQ-9 item 9)") {
		t.Errorf("the timeline does not name the questionnaire that raised the flag:\n%s", tl)
	}
	do(t, ctx, chromedp.Navigate(base+"/enquiries/"+s.abroad), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	if got := run(t, ctx, chromedp.Text(chromedp.CSS(`a[href^="tel:"]`))); got != "+1 415-555-2671" {
		t.Errorf("a US number is shown as %q, want +1 415-555-2671", got)
	}
}

// With the file transport the outbox says where the email went and that none was sent; with SMTP it says sent.
func TestOutboxSaysTheFileTransportSendsNothing(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	for _, dir := range []string{"data/mail", ""} {
		h := newHarness(t, func(c *web.Config) { c.MailFileDir = dir })
		seedStaffPages(t, h)
		a := h.signedIn("admin@clinic.example", staffPassword)
		a.get("/admin/outbox")
		page := strings.Join(strings.Fields(a.last), " ")
		said := strings.Contains(page, "written to data/mail (not sent: the file transport is for trying Frontdesk)")
		if said != (dir != "") {
			t.Errorf("mail dir %q: the outbox says the file transport wrote the mail: %v", dir, said)
		}
		if dir != "" && (strings.Contains(page, ">Sent</span>") || !strings.Contains(page, ">Written to a file</span>")) {
			t.Error("with the file transport the outbox still calls the mail sent")
		}
		if dir == "" && !strings.Contains(page, ">Sent</span>") {
			t.Error("with SMTP the outbox does not call the mail sent")
		}
	}
}
