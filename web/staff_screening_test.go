package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/report"
)

// submitScreened sends an enquiry with extra JSON fields (a screening object, a message) through the public
// API and returns its reference.
func (h *harness) submitScreened(t testing.TB, name, extra string) string {
	t.Helper()
	js := `{"name":"` + name + `","email":"` + strings.ToLower(strings.ReplaceAll(name, " ", ".")) + `@example.org",
		"treatment":"depression","consent":true` + extra + `}`
	resp := h.postJSON("/api/v1/enquiries", js)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("submit %s: %d %s", name, resp.StatusCode, body(t, resp))
	}
	ref, _ := decode(t, resp)["reference"].(string)
	return ref
}

// refsOf returns the references of an API list's items.
func refsOf(t testing.TB, list map[string]any) []string {
	t.Helper()
	items, ok := list["items"].([]any)
	if !ok {
		t.Fatalf("not a list: %v", list)
	}
	var refs []string
	for _, it := range items {
		refs = append(refs, it.(map[string]any)["reference"].(string))
	}
	return refs
}

// auditCount counts the audit entries of an action naming ref (as its reference or among its references).
func (h *harness) auditCount(action, ref string) int {
	h.t.Helper()
	entries, _, err := h.ws.Audit(context.Background(), crm.System, crm.AuditQuery{Action: action, Limit: 200})
	if err != nil {
		h.t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if slices.Contains(e.Refs(), ref) {
			n++
		}
	}
	return n
}

func TestFlagFilters(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	tok := h.token("coord@clinic.example")
	risk := h.submitScreened(t, "Rita Risk", `,"screening":{"phq9":[0,0,0,0,0,0,0,0,1]}`)
	review := h.submitScreened(t, "Rex Review", `,"screening":{"safety":{"liver_disease":true}}`)
	both := h.submitScreened(t, "Bea Both", `,"message":"I want to end my life","screening":{"safety":{"pregnant_or_breastfeeding":true}}`)
	plain := h.submitScreened(t, "Pat Plain", `,"screening":{"phq9":[1,1,1,1,1,1,1,1,0]}`)

	for _, tc := range []struct {
		flag string
		want []string
	}{
		{"risk", []string{both, risk}},
		{"review", []string{both, review}},
		{"", []string{plain, both, review, risk}},
	} {
		got := refsOf(t, decode(t, h.apiCall(http.MethodGet, "/api/v1/enquiries?flag="+tc.flag, tok, "")))
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("API flag=%q: %v, want %v", tc.flag, got, tc.want)
		}
	}
	resp := h.apiCall(http.MethodGet, "/api/v1/enquiries?flag=urgent", tok, "")
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("flag=urgent: %d, want 422", resp.StatusCode)
	}
	if got := decode(t, resp); got["fields"] == nil || got["fields"].(map[string]any)["flag"] == nil {
		t.Errorf("flag=urgent: %v does not name the flag field", got)
	}
	// The list item carries its flags, always as a list.
	for _, it := range decode(t, h.apiCall(http.MethodGet, "/api/v1/enquiries", tok, ""))["items"].([]any) {
		m := it.(map[string]any)
		flags, ok := m["flags"].([]any)
		if !ok {
			t.Fatalf("%s: flags %v is not a list", m["reference"], m["flags"])
		}
		var fs []string
		for _, f := range flags {
			fs = append(fs, f.(string))
		}
		want := map[string]string{risk: "risk", review: "review", both: "risk,review", plain: ""}[m["reference"].(string)]
		if strings.Join(fs, ",") != want {
			t.Errorf("%s: flags %v, want %q", m["reference"], fs, want)
		}
	}

	// The pages: the list and the board, filtered by flag, with the select in their filter forms.
	a := h.signedIn("coord@clinic.example", staffPassword)
	a.get("/enquiries?flag=review")
	for _, ref := range []string{review, both} {
		if !strings.Contains(a.last, ref) {
			t.Errorf("list flag=review lacks %s", ref)
		}
	}
	for _, ref := range []string{risk, plain} {
		if strings.Contains(a.last, ref) {
			t.Errorf("list flag=review shows %s", ref)
		}
	}
	if !strings.Contains(a.last, `<select id="flag" name="flag"`) || !strings.Contains(a.last, `<option value="review" selected>`) {
		t.Error("the list's filter form has no flag select showing the filter")
	}
	a.get("/board?flag=risk")
	for _, ref := range []string{risk, both} {
		if !strings.Contains(a.last, ref) {
			t.Errorf("board flag=risk lacks %s", ref)
		}
	}
	for _, ref := range []string{review, plain} {
		if strings.Contains(a.last, ref) {
			t.Errorf("board flag=risk shows %s", ref)
		}
	}
	if !strings.Contains(a.last, `<option value="risk" selected>`) {
		t.Error("the board's filter form has no flag select showing the filter")
	}
	if resp := a.get("/enquiries?flag=bogus"); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(a.last, "Unknown flag") {
		t.Errorf("list flag=bogus: %d", resp.StatusCode)
	}
	// Counts follow the filter: the board's new column counts the flagged ones only.
	cols, err := h.ws.Board(context.Background(), crm.System, crm.ListFilter{Flag: "review"})
	if err != nil {
		t.Fatal(err)
	}
	if cols[0].Status != crm.StatusNew || cols[0].Count != 2 {
		t.Errorf("board flag=review: new column count %d, want 2", cols[0].Count)
	}
}

func TestRiskBadgeAndSortedFirst(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	older := h.submitScreened(t, "Olive Older", "")
	risk := h.submitScreened(t, "Rita Risk", `,"message":"I want to end my life"`)
	newer := h.submitScreened(t, "Ned Newer", `,"screening":{"safety":{"liver_disease":true}}`)

	a := h.signedIn("coord@clinic.example", staffPassword)
	// The board's new column: the risk card first, although it is not the oldest; badges in words.
	a.get("/board")
	col := a.last[strings.Index(a.last, `data-status="new"`):]
	col = col[:strings.Index(col, "</section>")]
	ri, oi, ni := strings.Index(col, risk), strings.Index(col, older), strings.Index(col, newer)
	if ri < 0 || oi < 0 || ni < 0 || !(ri < oi && oi < ni) {
		t.Errorf("board's new column order: risk %d, older %d, newer %d; want risk first, then oldest first", ri, oi, ni)
	}
	if !strings.Contains(col, `class="badge flag-risk"`) || !strings.Contains(col, ">Risk<") || !strings.Contains(col, ">Review<") {
		t.Error("board cards lack the Risk and Review badges in words")
	}

	// The list page: the pinned block above the list names the risk enquiry with its urgent target.
	a.get("/enquiries")
	pin := strings.Index(a.last, "Risk — contact within 4 hours")
	table := strings.Index(a.last, `<table class="enquiries">`)
	if pin < 0 || table < 0 || pin > table {
		t.Fatalf("no pinned risk block above the list (block at %d, table at %d)", pin, table)
	}
	block := a.last[pin:table]
	if !strings.Contains(block, risk) || strings.Contains(block, older) || strings.Contains(block, newer) {
		t.Errorf("pinned block holds the wrong enquiries:\n%s", block)
	}
	if !strings.Contains(a.last[table:], ">Risk<") || !strings.Contains(a.last[table:], ">Review<") {
		t.Error("list rows lack the Risk and Review badges")
	}
	// Not on a filtered listing by flag, nor on later pages.
	a.get("/enquiries?flag=review")
	if strings.Contains(a.last, "Risk — contact within") {
		t.Error("the pinned block shows on a listing filtered by flag")
	}
	// Once contacted, it is no longer pinned.
	if _, err := h.ws.Transition(context.Background(), crm.System, risk, crm.StatusContacted, "", 0); err != nil {
		t.Fatal(err)
	}
	a.get("/enquiries")
	if strings.Contains(a.last, "Risk — contact within") {
		t.Error("the pinned block still shows an enquiry already contacted")
	}

	// The enquiry page: the badge and the box with the urgent target at the top.
	a.get("/enquiries/" + newer)
	if !strings.Contains(a.last, ">Review<") || strings.Contains(a.last, "Risk: contact this person urgently") {
		t.Error("the review enquiry's page lacks its badge or shows a risk box")
	}
	r2 := h.submitScreened(t, "Ray Risk", `,"screening":{"phq9":[0,0,0,0,0,0,0,0,2]}`)
	a.get("/enquiries/" + r2)
	if !strings.Contains(a.last, "Risk: contact this person urgently") || !strings.Contains(a.last, "first contact within 4 hours") ||
		!strings.Contains(a.last, `class="badge flag-risk"`) {
		t.Errorf("the risk enquiry's page lacks the risk box or badge")
	}
}

// Clinicians (and admins) see the answers; coordinators see flags, totals and bands only — in the API and on
// the enquiry page.
func TestAnswersVisibleByRole(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	h.addStaff("clin@clinic.example", crm.RoleClinician)
	ref := h.submitScreened(t, "Mia Mild", `,"screening":{"phq9":[1,1,1,1,1,1,1,1,0],"gad7":[0,0,0,0,0,0,0],
		"safety":{"liver_disease":true,"self_harm_thoughts":false}}`)

	coordTok, clinTok := h.token("coord@clinic.example"), h.token("clin@clinic.example")
	for _, path := range []string{"/api/v1/enquiries/" + ref, "/api/v1/enquiries"} {
		for _, tc := range []struct {
			tok     string
			answers bool
		}{{coordTok, false}, {clinTok, true}} {
			got := decode(t, h.apiCall(http.MethodGet, path, tc.tok, ""))
			if items, ok := got["items"].([]any); ok {
				got = items[0].(map[string]any)
			}
			scr, ok := got["screening"].(map[string]any)
			if !ok {
				t.Fatalf("%s: screening %v", path, got["screening"])
			}
			phq := scr["phq9"].(map[string]any)
			if phq["total"] != float64(8) || phq["band"] != "mild" {
				t.Errorf("%s: phq9 %v, want total 8, band mild", path, phq)
			}
			if gad := scr["gad7"].(map[string]any); gad["total"] != float64(0) || gad["band"] != "minimal" {
				t.Errorf("%s: gad7 %v", path, gad)
			}
			_, hasAnswers := phq["answers"]
			_, hasSafety := scr["safety"]
			if hasAnswers != tc.answers || hasSafety != tc.answers {
				t.Errorf("%s answers=%v: phq9 answers %v, safety %v", path, tc.answers, hasAnswers, hasSafety)
			}
			if tc.answers {
				if a := phq["answers"].([]any); len(a) != 9 || a[0] != float64(1) || a[8] != float64(0) {
					t.Errorf("%s: answers %v", path, a)
				}
				safety := scr["safety"].(map[string]any)["answers"].(map[string]any)
				if safety["liver_disease"] != true || safety["self_harm_thoughts"] != false {
					t.Errorf("%s: safety %v", path, safety)
				}
			}
			if flags := got["flags"].([]any); len(flags) != 1 || flags[0] != "review" {
				t.Errorf("%s: flags %v", path, flags)
			}
		}
	}

	itemText := "Little interest or pleasure in doing things"
	coord := h.signedIn("coord@clinic.example", staffPassword)
	coord.get("/enquiries/" + ref)
	page := coord.last
	for _, want := range []string{"Screening", "PHQ-9", "8 / 27", "Mild", "a clinician must review the safety answers"} {
		if !strings.Contains(page, want) {
			t.Errorf("coordinator's page lacks %q", want)
		}
	}
	for _, leak := range []string{itemText, "Liver disease", "Safety questions"} {
		if strings.Contains(page, leak) {
			t.Errorf("coordinator's page shows %q", leak)
		}
	}
	clin := h.signedIn("clin@clinic.example", staffPassword)
	clin.get("/enquiries/" + ref)
	for _, want := range []string{"8 / 27", "Mild", itemText, "Several days", "Liver disease", "Safety questions",
		"Answered yes, for a clinician to review before treatment"} {
		if !strings.Contains(clin.last, want) {
			t.Errorf("clinician's page lacks %q", want)
		}
	}
	// The flag event's reason names the contraindication: not for the coordinator, in the API either.
	tl := body(t, h.apiCall(http.MethodGet, "/api/v1/enquiries/"+ref+"/timeline", coordTok, ""))
	if strings.Contains(tl, "liver_disease") {
		t.Errorf("coordinator's timeline names the contraindication: %s", tl)
	}
	if tl := body(t, h.apiCall(http.MethodGet, "/api/v1/enquiries/"+ref+"/timeline", clinTok, "")); !strings.Contains(tl, "liver_disease") {
		t.Errorf("clinician's timeline lacks the flag's reason: %s", tl)
	}
}

func TestAnswerViewsAudited(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	h.addStaff("clin@clinic.example", crm.RoleClinician)
	ref := h.submitScreened(t, "Ann Answers", `,"screening":{"phq9":[1,1,1,1,1,1,1,1,0]}`)
	bare := h.submitScreened(t, "Ben Bare", "")

	clinTok, coordTok := h.token("clin@clinic.example"), h.token("coord@clinic.example")
	h.apiCall(http.MethodGet, "/api/v1/enquiries/"+ref, clinTok, "")
	if n := h.auditCount(crm.AuditScreeningView, ref); n != 1 {
		t.Errorf("API read with answers: %d screening_view entries, want 1", n)
	}
	if n := h.auditCount("view", ref); n != 1 {
		t.Errorf("API read: %d view entries, want 1 (the usual one as well)", n)
	}
	h.apiCall(http.MethodGet, "/api/v1/enquiries", clinTok, "")
	if n := h.auditCount(crm.AuditScreeningView, ref); n != 2 {
		t.Errorf("API list with answers: %d screening_view entries, want 2", n)
	}
	clin := h.signedIn("clin@clinic.example", staffPassword)
	clin.get("/enquiries/" + ref)
	if n := h.auditCount(crm.AuditScreeningView, ref); n != 3 {
		t.Errorf("enquiry page with answers: %d screening_view entries, want 3", n)
	}
	// No answers shown, nothing recorded as such: an enquiry without answers, and a coordinator.
	clin.get("/enquiries/" + bare)
	h.apiCall(http.MethodGet, "/api/v1/enquiries/"+ref, coordTok, "")
	coord := h.signedIn("coord@clinic.example", staffPassword)
	coord.get("/enquiries/" + ref)
	if n := h.auditCount(crm.AuditScreeningView, ref); n != 3 {
		t.Errorf("after reads without answers: %d screening_view entries, want still 3", n)
	}
	if n := h.auditCount(crm.AuditScreeningView, bare); n != 0 {
		t.Errorf("enquiry without answers: %d screening_view entries", n)
	}
	if crm.AuditActionLabel(crm.AuditScreeningView) != "Viewed screening answers" {
		t.Error("the action has no label on the audit page")
	}
}

func TestExportScreeningColumns(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	adminTok := h.token("admin@clinic.example")
	ref := h.submitScreened(t, "Eve Export", `,"message":"I want to end my life","screening":{"phq9":[1,1,1,1,1,1,1,1,0],
		"safety":{"liver_disease":true}}`)
	plain := h.submitScreened(t, "Paul Plain", "")

	read := func(path string) (map[string]map[string]string, []string) {
		t.Helper()
		resp := h.apiCall(http.MethodGet, path, adminTok, "")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body(t, resp))
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body(t, resp), "\uFEFF"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		rows := map[string]map[string]string{}
		for _, rec := range recs[1:] {
			row := map[string]string{}
			for i, c := range recs[0] {
				row[c] = rec[i]
			}
			rows[row["reference"]] = row
		}
		return rows, recs[0]
	}

	rows, header := read("/api/v1/exports/enquiries.csv")
	if strings.Join(header, ",") != strings.Join(report.Columns, ",") {
		t.Errorf("header %v", header)
	}
	for _, c := range []string{"flags", "phq9_total", "phq9_band", "gad7_total", "gad7_band", "asrs_a_total", "audit_c_band", "pc_ptsd5_total"} {
		if !slices.Contains(header, c) {
			t.Errorf("no column %s", c)
		}
	}
	for _, c := range []string{"phq9_1", "safety_liver_disease"} {
		if slices.Contains(header, c) {
			t.Errorf("column %s without answers=true", c)
		}
	}
	e := rows[ref]
	if e["flags"] != "risk,review" || e["phq9_total"] != "8" || e["phq9_band"] != "mild" || e["gad7_total"] != "" {
		t.Errorf("screened row: flags %q phq9 %q %q gad7 %q", e["flags"], e["phq9_total"], e["phq9_band"], e["gad7_total"])
	}
	if p := rows[plain]; p["flags"] != "" || p["phq9_total"] != "" {
		t.Errorf("plain row: %v", p)
	}

	rows, header = read("/api/v1/exports/enquiries.csv?answers=true")
	if len(header) != len(report.Columns)+len(report.AnswerColumns) || !slices.Contains(header, "phq9_9") ||
		!slices.Contains(header, "safety_self_harm_thoughts") {
		t.Errorf("header with answers %v", header)
	}
	e = rows[ref]
	if e["phq9_1"] != "1" || e["phq9_9"] != "0" || e["safety_liver_disease"] != "yes" || e["safety_self_harm_thoughts"] != "" || e["gad7_1"] != "" {
		t.Errorf("answers: phq9_1 %q phq9_9 %q liver %q self-harm %q gad7_1 %q", e["phq9_1"], e["phq9_9"],
			e["safety_liver_disease"], e["safety_self_harm_thoughts"], e["gad7_1"])
	}
	entries, _, _ := h.ws.Audit(context.Background(), crm.System, crm.AuditQuery{Action: "export", Limit: 1})
	if len(entries) != 1 || !strings.Contains(entries[0].Detail, "with screening answers") {
		t.Errorf("the export with answers is not recorded as such: %+v", entries)
	}
	if resp := h.apiCall(http.MethodGet, "/api/v1/exports/enquiries.csv?answers=maybe", adminTok, ""); resp.StatusCode != 422 ||
		!strings.Contains(body(t, resp), "answers") {
		t.Errorf("answers=maybe: %d", resp.StatusCode)
	}
	if resp := h.apiCall(http.MethodGet, "/api/v1/exports/enquiries.csv?answers=true", h.token("coord@clinic.example"), ""); resp.StatusCode != 403 {
		t.Errorf("a coordinator asking for answers: %d, want 403", resp.StatusCode)
	}
	// The reports page shows the urgent first-contact figure, and offers the answers in its export form.
	admin := h.signedIn("admin@clinic.example", staffPassword)
	admin.get("/admin/reports")
	for _, want := range []string{"Risk-flagged enquiries: time to first contact against the urgent target",
		"/admin/reports/urgent-first-contact.csv", `name="answers"`} {
		if !strings.Contains(admin.last, want) {
			t.Errorf("reports page lacks %q", want)
		}
	}
	// The Excel export has the same columns.
	resp := h.apiCall(http.MethodGet, "/api/v1/exports/enquiries.xlsx?answers=true", adminTok, "")
	if resp.StatusCode != 200 {
		t.Fatalf("xlsx: %d", resp.StatusCode)
	}
}
