package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/report"
	"github.com/frontdesk/frontdesk/crm/report/xlsx"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/frontdesk/frontdesk/web"
	"github.com/xuri/excelize/v2"
)

// The report fixture. The clinic is in Berlin (UTC+1 in November), so a local day starts at 23:00 UTC the day
// before. The range asked for is 2026-11-02 to 2026-11-15 (Berlin): two weeks, commencing Monday 2 and
// Monday 9 November. The first-contact target is 24 hours. Times below are UTC.
//
//	name  created (UTC)      Berlin week  treatment   source  utm                       assignee  history                                       contact
//	E1    01 Nov 23:30       wk 2 Nov     adhd        gp      google/cpc/autumn         Lee       new→contacted(+2h)→screening→assessment_booked   2 h
//	                                                                                             →treatment_offered→in_treatment
//	E2    03 Nov 09:00       wk 2 Nov     adhd        search  google/cpc/autumn         Lee       →contacted(+4h)→screening→lost "No reply"        4 h
//	E3    04 Nov 10:00       wk 2 Nov     depression  self    -                         Kim       →contacted(+30h)→not_suitable                   30 h
//	E4    05 Nov 08:00       wk 2 Nov     ptsd        gp      newsletter/email/-        Kim       →contacted(+10h)→screening→assessment_booked    10 h
//	E5    06 Nov 12:00       wk 2 Nov     adhd        -       -                         -         new                                             -
//	E12   08 Nov 10:00       wk 2 Nov     adhd        -       -                         -         spam→new                                        -
//	E6    09 Nov 07:00       wk 9 Nov     anxiety     social  facebook/social/winter    Lee       →contacted(+1h)→screening→treatment_offered      1 h
//	                                                                                             →lost "no reply " (grouped with "No reply")
//	E7    10 Nov 15:00       wk 9 Nov     adhd        gp      google/cpc/autumn         Kim       →contacted(+24h, exactly the target)            24 h
//	E8    11 Nov 09:00       wk 9 Nov     depression  friend  -                         -         new→referred(+6h) (closing counts as contact)    6 h
//	E9    12 Nov 10:00       wk 9 Nov     adhd        search  -                         Lee       new                                             -
//	E10   15 Nov 22:30       wk 9 Nov     ptsd        gp      google/cpc/autumn         Kim       →contacted(+48h)→screening→lost→contacted        48 h
//	                         (23:30 Berlin, the last day)                                          (reopened: now contacted, furthest screening)
//	E11   07 Nov 10:00       spam                                                                  spam
//	E13   01 Nov 22:30       outside: 23:30 on 1 Nov in Berlin                            Kim       new
//	E14   15 Nov 23:30       outside: 00:30 on 16 Nov in Berlin                           -         new
var (
	berlin = mustLocation("Europe/Berlin")
	nov    = func(day, hour, min int) time.Time { return time.Date(2026, 11, day, hour, min, 0, 0, time.UTC) }
)

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

type reportFixture struct {
	t     *testing.T
	h     *harness
	refs  map[string]string
	staff map[string]crm.Actor
}

func (f *reportFixture) add(name string, at time.Time, e intake.Enquiry) {
	f.t.Helper()
	if e.Name == "" {
		e.Name = "Patient " + name
	}
	e.Email = strings.ToLower(name) + "@example.org"
	e.PreferredContact = "either"
	e.Consent = intake.Consent{GivenAt: at, Version: intake.PrivacyNoticeVersion}
	rec, err := f.h.db.CreateEnquiry(context.Background(), crm.NewEnquiry{Enquiry: e, ReceivedAt: at, Fingerprint: "fp-" + name}, crm.PlanIntake)
	if err != nil {
		f.t.Fatal(err)
	}
	f.refs[name] = rec.Reference
}

func (f *reportFixture) assign(name, who string) {
	f.t.Helper()
	id := f.staff[who].ID
	_, err := f.h.db.UpdateEnquiry(context.Background(), f.refs[name], f.staff["ada"], nov(1, 0, 0),
		func(crm.Enquiry) (crm.Change, error) { return crm.Change{Assign: &id}, nil })
	if err != nil {
		f.t.Fatal(err)
	}
}

// move changes the status as the workspace does: leaving new (but for spam) is the first contact.
func (f *reportFixture) move(name string, at time.Time, to crm.Status, reason string) {
	f.t.Helper()
	_, err := f.h.db.UpdateEnquiry(context.Background(), f.refs[name], f.staff["ada"], at, func(e crm.Enquiry) (crm.Change, error) {
		return crm.Change{Status: to, Reason: reason,
			FirstContact: e.Status == crm.StatusNew && e.FirstContactedAt == nil && to != crm.StatusSpam}, nil
	})
	if err != nil {
		f.t.Fatalf("move %s to %s: %v", name, to, err)
	}
}

func newReportFixture(t *testing.T) *reportFixture {
	h := newHarness(t, func(c *web.Config) { c.Location = berlin })
	f := &reportFixture{t: t, h: h, refs: map[string]string{}, staff: map[string]crm.Actor{}}
	f.staff["ada"] = h.addStaff("ada@clinic.example", crm.RoleAdmin)
	f.staff["cora"] = h.addStaff("cora@clinic.example", crm.RoleCoordinator)
	// The clinicians take treatments no fixture enquiry asks for, so intake assigns nobody by itself.
	f.staff["lee"] = h.addStaff("lee@clinic.example", crm.RoleClinician, "other")
	f.staff["kim"] = h.addStaff("kim@clinic.example", crm.RoleClinician, "chronic_pain")

	google := func(e intake.Enquiry) intake.Enquiry {
		e.UTMSource, e.UTMMedium, e.UTMCampaign = "google", "cpc", "autumn"
		return e
	}
	h1 := time.Hour
	f.add("E1", nov(1, 23, 30), google(intake.Enquiry{Name: "Zoë Ångström", Treatment: "adhd", ReferralSource: "gp",
		Phone: "+447700900123", Message: "First line\nSecond \"quoted\", with a comma", DateOfBirth: "1990-04-05"}))
	f.assign("E1", "lee")
	f.move("E1", nov(1, 23, 30).Add(2*h1), crm.StatusContacted, "")
	f.move("E1", nov(3, 9, 0), crm.StatusScreening, "")
	f.move("E1", nov(4, 9, 0), crm.StatusAssessmentBooked, "")
	f.move("E1", nov(5, 9, 0), crm.StatusTreatmentOffered, "")
	f.move("E1", nov(6, 9, 0), crm.StatusInTreatment, "")

	f.add("E2", nov(3, 9, 0), google(intake.Enquiry{Name: "=HYPERLINK(\"http://evil.example\")", Treatment: "adhd",
		ReferralSource: "search", Message: "-1+1"}))
	f.assign("E2", "lee")
	f.move("E2", nov(3, 13, 0), crm.StatusContacted, "")
	f.move("E2", nov(4, 9, 0), crm.StatusScreening, "")
	f.move("E2", nov(5, 9, 0), crm.StatusLost, "No reply")

	f.add("E3", nov(4, 10, 0), intake.Enquiry{Treatment: "depression", ReferralSource: "self"})
	f.assign("E3", "kim")
	f.move("E3", nov(5, 16, 0), crm.StatusContacted, "")
	f.move("E3", nov(6, 9, 0), crm.StatusNotSuitable, "Needs inpatient care")

	f.add("E4", nov(5, 8, 0), intake.Enquiry{Treatment: "ptsd", ReferralSource: "gp", UTMSource: "newsletter", UTMMedium: "email"})
	f.assign("E4", "kim")
	f.move("E4", nov(5, 18, 0), crm.StatusContacted, "")
	f.move("E4", nov(6, 9, 0), crm.StatusScreening, "")
	f.move("E4", nov(7, 9, 0), crm.StatusAssessmentBooked, "")

	f.add("E5", nov(6, 12, 0), intake.Enquiry{Treatment: "adhd"})

	f.add("E12", nov(8, 10, 0), intake.Enquiry{Treatment: "adhd", Spam: true})
	f.move("E12", nov(8, 11, 0), crm.StatusNew, "")

	f.add("E6", nov(9, 7, 0), intake.Enquiry{Treatment: "anxiety", ReferralSource: "social", UTMSource: "facebook",
		UTMMedium: "social", UTMCampaign: "winter"})
	f.assign("E6", "lee")
	f.move("E6", nov(9, 8, 0), crm.StatusContacted, "")
	f.move("E6", nov(10, 9, 0), crm.StatusScreening, "")
	f.move("E6", nov(11, 9, 0), crm.StatusTreatmentOffered, "")
	f.move("E6", nov(12, 9, 0), crm.StatusLost, "no reply ")

	f.add("E7", nov(10, 15, 0), google(intake.Enquiry{Treatment: "adhd", ReferralSource: "gp"}))
	f.assign("E7", "kim")
	f.move("E7", nov(11, 15, 0), crm.StatusContacted, "")

	f.add("E8", nov(11, 9, 0), intake.Enquiry{Treatment: "depression", ReferralSource: "friend"})
	f.move("E8", nov(11, 15, 0), crm.StatusReferred, "NHS community team")

	f.add("E9", nov(12, 10, 0), intake.Enquiry{Treatment: "adhd", ReferralSource: "search"})
	f.assign("E9", "lee")

	f.add("E10", nov(15, 22, 30), google(intake.Enquiry{Treatment: "ptsd", ReferralSource: "gp"}))
	f.assign("E10", "kim")
	f.move("E10", nov(17, 22, 30), crm.StatusContacted, "")
	f.move("E10", nov(18, 9, 0), crm.StatusScreening, "")
	f.move("E10", nov(19, 9, 0), crm.StatusLost, "Moved away")
	f.move("E10", nov(20, 9, 0), crm.StatusContacted, "")

	f.add("E11", nov(7, 10, 0), intake.Enquiry{Treatment: "adhd", Spam: true})
	f.add("E13", nov(1, 22, 30), intake.Enquiry{Treatment: "adhd"})
	f.assign("E13", "kim")
	f.add("E14", nov(15, 23, 30), intake.Enquiry{Treatment: "adhd"})
	return f
}

const fixtureRange = "from=2026-11-02&to=2026-11-15"

func getJSON(t *testing.T, h *harness, path, token string, dst any) {
	t.Helper()
	resp := h.apiCall(http.MethodGet, path, token, "")
	b := body(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal([]byte(b), dst); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, b)
	}
}

func near(got *float64, want float64) bool { return got != nil && math.Abs(*got-want) < 1e-9 }

func TestReportFiguresMatchTheHandComputedFixture(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	f := newReportFixture(t)
	h := f.h
	token := h.token("ada@clinic.example")

	// Funnel.
	var funnel struct {
		From, To  string
		Enquiries int
		Spam      int
		Stages    []report.Stage
		Current   []report.StatusCount
		Closed    []report.Outcome
	}
	getJSON(t, h, "/api/v1/reports/funnel?"+fixtureRange, token, &funnel)
	// In range: E1–E10 and E12 = 11 enquiries (E12 was spam, is new now); E11 is the 1 spam; E13 and E14 fall
	// outside the Berlin dates.
	if funnel.From != "2026-11-02" || funnel.To != "2026-11-15" || funnel.Enquiries != 11 || funnel.Spam != 1 {
		t.Fatalf("range %s–%s, %d enquiries, %d spam; want 11 and 1", funnel.From, funnel.To, funnel.Enquiries, funnel.Spam)
	}
	// Furthest stage (rank): E1 in_treatment 5, E2 screening 2, E3 contacted 1, E4 assessment_booked 3, E5 new 0,
	// E6 treatment_offered 4, E7 contacted 1, E8 new 0 (new→referred), E9 0, E10 screening 2 (now contacted),
	// E12 0. Reached rank >= k:
	wantStages := []struct {
		reached    int
		conversion float64 // reached / previous stage's reached
	}{
		{11, math.NaN()}, // everyone reached new
		{7, 7.0 / 11},    // E1 E2 E3 E4 E6 E7 E10
		{5, 5.0 / 7},     // E1 E2 E4 E6 E10
		{3, 3.0 / 5},     // E1 E4 E6
		{2, 2.0 / 3},     // E1 E6
		{1, 1.0 / 2},     // E1
	}
	if len(funnel.Stages) != len(wantStages) {
		t.Fatalf("%d stages", len(funnel.Stages))
	}
	for i, w := range wantStages {
		s := funnel.Stages[i]
		if s.Status != crm.ActiveStatuses[i] || s.Reached != w.reached || !near(s.Share, float64(w.reached)/11) {
			t.Errorf("stage %s: reached %d share %v, want %d and %d/11", s.Status, s.Reached, s.Share, w.reached, w.reached)
		}
		if i == 0 && s.Conversion != nil || i > 0 && !near(s.Conversion, w.conversion) {
			t.Errorf("stage %s: conversion %v, want %v", s.Status, s.Conversion, w.conversion)
		}
	}
	// Now: new E5 E9 E12 = 3; contacted E7 E10 = 2; assessment_booked E4; in_treatment E1; not_suitable E3;
	// lost E2 E6 = 2; referred E8. 3+2+0+1+0+1+1+2+1 = 11.
	current := map[crm.Status]int{}
	for _, c := range funnel.Current {
		current[c.Status] = c.Count
	}
	wantCurrent := map[crm.Status]int{"new": 3, "contacted": 2, "screening": 0, "assessment_booked": 1,
		"treatment_offered": 0, "in_treatment": 1, "not_suitable": 1, "lost": 2, "referred": 1}
	if fmt.Sprint(current) != fmt.Sprint(wantCurrent) {
		t.Errorf("current %v, want %v", current, wantCurrent)
	}
	// Closed by reason: "No reply" (E2) and "no reply " (E6) are one reason; E10's "Moved away" went when it
	// was reopened.
	closed := fmt.Sprint(funnel.Closed)
	if want := "[{not_suitable Not suitable 1 [{Needs inpatient care 1}]} {lost Lost 2 [{No reply 2}]} {referred Referred elsewhere 1 [{NHS community team 1}]}]"; closed != want {
		t.Errorf("closed %s\nwant   %s", closed, want)
	}

	// Time to first contact (hours, target 24).
	var fc struct {
		TargetHours float64 `json:"target_hours"`
		Overall     report.ContactStats
		Weeks       []report.WeekContact
		Clinicians  []report.ClinicianContact
	}
	getJSON(t, h, "/api/v1/reports/first-contact?"+fixtureRange, token, &fc)
	type want struct {
		enquiries, contacted, notContacted, within int
		median, p90, share                         float64
	}
	check := func(name string, got report.ContactStats, w want) {
		t.Helper()
		if got.Enquiries != w.enquiries || got.Contacted != w.contacted || got.NotContacted != w.notContacted ||
			got.WithinTarget != w.within || !near(got.MedianHours, w.median) || !near(got.P90Hours, w.p90) ||
			!near(got.ShareWithinTarget, w.share) {
			t.Errorf("%s: %d/%d/%d within %d, median %v p90 %v share %v; want %+v", name, got.Enquiries, got.Contacted,
				got.NotContacted, got.WithinTarget, deref(got.MedianHours), deref(got.P90Hours), deref(got.ShareWithinTarget), w)
		}
	}
	// Percentiles interpolate: with n sorted values the rank is h = (n-1)·p, value x[⌊h⌋] + frac(h)·(x[⌊h⌋+1]-x[⌊h⌋]).
	// Overall: 1 2 4 6 10 24 30 48 (n=8). Median h=3.5: 6+0.5·(10-6) = 8. P90 h=6.3: 30+0.3·(48-30) = 35.4.
	// Within 24 h (inclusive): 1 2 4 6 10 24 = 6 of 8 = 0.75. Not contacted: E5 E9 E12 = 3.
	if fc.TargetHours != 24 {
		t.Errorf("target %v", fc.TargetHours)
	}
	check("overall", fc.Overall, want{11, 8, 3, 6, 8, 35.4, 0.75})
	if len(fc.Weeks) != 2 || fc.Weeks[0].Week != "2026-11-02" || fc.Weeks[1].Week != "2026-11-09" {
		t.Fatalf("weeks %+v", fc.Weeks)
	}
	// Week of 2 Nov: E1 2, E2 4, E3 30, E4 10; E5 and E12 not contacted. Sorted 2 4 10 30: median h=1.5: 4+0.5·6 = 7;
	// p90 h=2.7: 10+0.7·20 = 24; within: 2 4 10 = 3 of 4.
	check("week of 2 Nov", fc.Weeks[0].ContactStats, want{6, 4, 2, 3, 7, 24, 0.75})
	// Week of 9 Nov: E6 1, E7 24, E8 6, E10 48; E9 not contacted. Sorted 1 6 24 48: median 6+0.5·18 = 15;
	// p90 24+0.7·24 = 40.8; within: 1 6 24 = 3 of 4.
	check("week of 9 Nov", fc.Weeks[1].ContactStats, want{5, 4, 1, 3, 15, 40.8, 0.75})
	if len(fc.Clinicians) != 3 || fc.Clinicians[0].Assignee == nil || fc.Clinicians[0].Assignee.Email != "kim@clinic.example" ||
		fc.Clinicians[1].Assignee == nil || fc.Clinicians[1].Assignee.Email != "lee@clinic.example" || fc.Clinicians[2].Assignee != nil {
		t.Fatalf("clinicians %+v", fc.Clinicians)
	}
	// Kim: E3 30, E4 10, E7 24, E10 48 → 10 24 30 48: median 24+0.5·6 = 27; p90 30+0.7·18 = 42.6; within 10 24 = 2 of 4.
	check("Kim", fc.Clinicians[0].ContactStats, want{4, 4, 0, 2, 27, 42.6, 0.5})
	// Lee: E1 2, E2 4, E6 1; E9 not contacted → 1 2 4: median h=1: 2; p90 h=1.8: 2+0.8·2 = 3.6; all 3 within.
	check("Lee", fc.Clinicians[1].ContactStats, want{4, 3, 1, 3, 2, 3.6, 1})
	// Unassigned: E8 6; E5 and E12 not contacted.
	check("unassigned", fc.Clinicians[2].ContactStats, want{3, 1, 2, 1, 6, 6, 1})

	// Sources.
	var src struct {
		Weeks           []string
		Treatments      report.Breakdown
		ReferralSources report.Breakdown `json:"referral_sources"`
		UTM             []report.UTMRow
	}
	getJSON(t, h, "/api/v1/reports/sources?"+fixtureRange, token, &src)
	// Treatments (adhd, depression, anxiety, ptsd, addiction, chronic_pain, other):
	// week of 2 Nov: adhd E1 E2 E5 E12 = 4, depression E3, ptsd E4 → 6; week of 9 Nov: adhd E7 E9 = 2,
	// depression E8, anxiety E6, ptsd E10 → 5.
	tr := src.Treatments
	if fmt.Sprint(tr.Weeks[0].Counts, tr.Weeks[1].Counts, tr.Totals, tr.Weeks[0].Total, tr.Weeks[1].Total, tr.Total) !=
		"[4 1 0 1 0 0 0] [2 1 1 1 0 0 0] [6 2 1 2 0 0 0] 6 5 11" || tr.Keys[0].Value != "adhd" {
		t.Errorf("treatments %+v", tr)
	}
	// Sources (gp, self, search, social, friend, other, not given):
	// week of 2 Nov: gp E1 E4, self E3, search E2, not given E5 E12; week of 9 Nov: gp E7 E10, search E9,
	// social E6, friend E8.
	rs := src.ReferralSources
	if fmt.Sprint(rs.Weeks[0].Counts, rs.Weeks[1].Counts, rs.Totals, rs.Total) !=
		"[2 1 1 0 0 0 2] [2 0 1 1 1 0 0] [4 1 2 1 1 0 2] 11" || rs.Keys[6].Value != "" {
		t.Errorf("referral sources %+v", rs)
	}
	// UTM: none E3 E5 E12 | E8 E9 = 5 (3, 2); google/cpc/autumn E1 E2 | E7 E10 = 4 (2, 2);
	// facebook/social/winter E6 = 1 (0, 1); newsletter/email/- E4 = 1 (1, 0). Most first, then by source.
	var utm []string
	for _, u := range src.UTM {
		utm = append(utm, fmt.Sprintf("%s/%s/%s=%d%v", u.Source, u.Medium, u.Campaign, u.Total, u.Weeks))
	}
	if got := strings.Join(utm, " "); got != "//=5[3 2] google/cpc/autumn=4[2 2] facebook/social/winter=1[0 1] newsletter/email/=1[1 0]" {
		t.Errorf("utm %s", got)
	}

	// Workload now, whatever the range. Active: Kim E13 new, E7 E10 contacted, E4 assessment_booked; Lee E9 new,
	// E1 in_treatment; unassigned E5 E12 E14 new. Every new one is weeks old, so overdue.
	var wl struct {
		Statuses []crm.Status
		Rows     []report.WorkloadRow
		Total    report.WorkloadRow
	}
	getJSON(t, h, "/api/v1/reports/workload", token, &wl)
	var rows []string
	for _, r := range wl.Rows {
		who := "unassigned"
		if r.Assignee != nil {
			who = r.Assignee.Email
		}
		rows = append(rows, fmt.Sprintf("%s %v open %d overdue %d", who, r.ByStatus, r.Open, r.Overdue))
	}
	if got := strings.Join(rows, "; "); got != "kim@clinic.example [1 2 0 1 0 0] open 4 overdue 1; "+
		"lee@clinic.example [1 0 0 0 0 1] open 2 overdue 1; unassigned [3 0 0 0 0 0] open 3 overdue 3" {
		t.Errorf("workload %s", got)
	}
	if fmt.Sprint(wl.Total.ByStatus, wl.Total.Open, wl.Total.Overdue) != "[5 2 0 1 0 1] 9 5" {
		t.Errorf("workload total %+v", wl.Total)
	}

	// The same figures as CSV tables from the reports page.
	a := h.agent()
	a.signIn("ada@clinic.example", staffPassword)
	resp := a.get("/admin/reports/funnel.csv?" + fixtureRange)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "funnel-2026-11-02-to-2026-11-15.csv") {
		t.Fatalf("funnel.csv: %d %v", resp.StatusCode, resp.Header)
	}
	recs := readCSV(t, a.last)
	if got := fmt.Sprint(recs); got != "[[Stage Reached Share of enquiries Conversion from the stage before] "+
		"[New 11 100.0% ] [Contacted 7 63.6% 63.6%] [Screening 5 45.5% 71.4%] [Assessment booked 3 27.3% 60.0%] "+
		"[Treatment offered 2 18.2% 66.7%] [In treatment 1 9.1% 50.0%]]" {
		t.Errorf("funnel.csv %s", got)
	}
	a.get("/admin/reports/first-contact-weeks.csv?" + fixtureRange)
	if got := fmt.Sprint(readCSV(t, a.last)[1:]); got != "[[2026-11-02 6 4 7.0 24.0 3 75.0% 2] "+
		"[2026-11-09 5 4 15.0 40.8 3 75.0% 1] [All weeks 11 8 8.0 35.4 6 75.0% 3]]" {
		t.Errorf("first-contact-weeks.csv %s", got)
	}
	if resp := a.get("/admin/reports/nothing.csv?" + fixtureRange); resp.StatusCode != 404 {
		t.Errorf("unknown table: %d", resp.StatusCode)
	}
}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	if !strings.HasPrefix(s, "\uFEFF") {
		t.Fatalf("no byte-order mark: %q", s[:min(20, len(s))])
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(s, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	return recs
}

func exportCSV(t *testing.T, h *harness, token, query string) [][]string {
	t.Helper()
	resp := h.apiCall(http.MethodGet, "/api/v1/exports/enquiries.csv?"+query, token, "")
	b := body(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("export %s: %d %s", query, resp.StatusCode, b)
	}
	return readCSV(t, b)
}

func column(t *testing.T, recs [][]string, name string) []string {
	t.Helper()
	i := slices.Index(recs[0], name)
	if i < 0 {
		t.Fatalf("no column %s in %v", name, recs[0])
	}
	var out []string
	for _, r := range recs[1:] {
		out = append(out, r[i])
	}
	return out
}

func TestExportOverTheAPI(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	f := newReportFixture(t)
	h := f.h
	token := h.token("ada@clinic.example")
	refs := func(names ...string) string {
		var out []string
		for _, n := range names {
			out = append(out, f.refs[n])
		}
		return strings.Join(out, " ")
	}

	resp := h.apiCall(http.MethodGet, "/api/v1/exports/enquiries.csv?"+fixtureRange, token, "")
	if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); ct != "text/csv; charset=utf-8" ||
		cd != "attachment; filename=enquiries-2026-11-02-to-2026-11-15.csv" {
		t.Errorf("Content-Type %q, Content-Disposition %q", ct, cd)
	}
	recs := readCSV(t, body(t, resp))
	if strings.Join(recs[0], ",") != strings.Join(report.Columns, ",") {
		t.Errorf("header %v", recs[0])
	}
	// Oldest first, spam and the two enquiries outside the Berlin dates left out.
	if got := strings.Join(column(t, recs, "reference"), " "); got != refs("E1", "E2", "E3", "E4", "E5", "E12", "E6", "E7", "E8", "E9", "E10") {
		t.Errorf("references %s", got)
	}
	e1 := map[string]string{}
	for i, c := range recs[0] {
		e1[c] = recs[1][i]
	}
	for k, want := range map[string]string{
		"created_at": "2026-11-02T00:30:00+01:00", "name": "Zoë Ångström", "phone": "'+447700900123",
		"message": "First line\nSecond \"quoted\", with a comma", "status": "in_treatment", "treatment": "adhd",
		"utm_campaign": "autumn", "assignee_email": "lee@clinic.example", "assignee_name": "Staff lee",
		"first_contacted_at": "2026-11-02T02:30:00+01:00", "hours_to_first_contact": "2.00",
		"date_of_birth": "1990-04-05", "consent_version": intake.PrivacyNoticeVersion,
	} {
		if e1[k] != want {
			t.Errorf("E1 %s = %q, want %q", k, e1[k], want)
		}
	}
	if name, msg := column(t, recs, "name")[1], column(t, recs, "message")[1]; name != "'=HYPERLINK(\"http://evil.example\")" || msg != "'-1+1" {
		t.Errorf("E2 not neutralised: name %q message %q", name, msg)
	}

	for _, c := range []struct{ query, want string }{
		{fixtureRange + "&status=lost", refs("E2", "E6")},
		{fixtureRange + "&status=lost,referred", refs("E2", "E6", "E8")},
		{fixtureRange + "&treatment=ptsd", refs("E4", "E10")},
		{fixtureRange + "&assignee=kim@clinic.example", refs("E3", "E4", "E7", "E10")},
		{fixtureRange + "&assignee=none", refs("E5", "E12", "E8")},
		{"status=spam", refs("E11")},
		{"to=2026-11-01", refs("E13")},
		{"from=2026-11-16", refs("E14")},
	} {
		if got := strings.Join(column(t, exportCSV(t, h, token, c.query), "reference"), " "); got != c.want {
			t.Errorf("%s: %s, want %s", c.query, got, c.want)
		}
	}

	// Bad input: 422 naming the field, JSON, and nothing exported or recorded.
	before := h.count(`SELECT count(*) FROM audit_log WHERE action = 'export'`)
	for query, field := range map[string]string{"from=2026-02-30": "from", "to=soon": "to", "status=pending": "status",
		"treatment=yoga": "treatment", "assignee=nobody@clinic.example": "assignee", "from=2026-11-10&to=2026-11-01": "to"} {
		resp := h.apiCall(http.MethodGet, "/api/v1/exports/enquiries.csv?"+query, token, "")
		m := decode(t, resp)
		fields, _ := m["fields"].(map[string]any)
		if resp.StatusCode != 422 || m["error"] != "validation" || fields[field] == nil {
			t.Errorf("%s: %d %v", query, resp.StatusCode, m)
		}
	}
	if after := h.count(`SELECT count(*) FROM audit_log WHERE action = 'export'`); after != before {
		t.Errorf("refused exports were recorded: %d → %d", before, after)
	}

	// Excel.
	resp = h.apiCall(http.MethodGet, "/api/v1/exports/enquiries.xlsx?"+fixtureRange, token, "")
	b := body(t, resp)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != report.XLSX.ContentType() ||
		!strings.HasSuffix(resp.Header.Get("Content-Disposition"), "enquiries-2026-11-02-to-2026-11-15.xlsx") {
		t.Fatalf("xlsx: %d %v", resp.StatusCode, resp.Header)
	}
	x, err := excelize.OpenReader(strings.NewReader(b))
	if err != nil {
		t.Fatalf("xlsx does not open: %v", err)
	}
	defer x.Close()
	rows, err := x.GetRows(xlsx.SheetName)
	if err != nil || len(rows) != 12 || rows[1][0] != f.refs["E1"] || rows[1][3] != "Zoë Ångström" || rows[1][1] != "2026-11-02 00:30" {
		t.Errorf("xlsx rows %v, %v", rows[:min(len(rows), 2)], err)
	}
	if p, _ := x.GetPanes(xlsx.SheetName); !p.Freeze || p.YSplit != 1 {
		t.Errorf("xlsx panes %+v", p)
	}
	if typ, _ := x.GetCellType(xlsx.SheetName, "B2"); typ == excelize.CellTypeInlineString || typ == excelize.CellTypeSharedString {
		t.Errorf("created_at is text, not a date")
	}

	// Every export is in the audit log, with who, the format, the filters and the row count.
	var detail string
	if err := h.raw.QueryRow(`SELECT l.detail FROM audit_log l JOIN staff s ON s.id = l.actor_id
		WHERE l.action = 'export' AND s.email = 'ada@clinic.example' ORDER BY l.id DESC LIMIT 1`).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if detail != "xlsx; from 2026-11-02, to 2026-11-15; 11 rows" {
		t.Errorf("audit detail %q", detail)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'export'`); n != 10 {
		t.Errorf("%d exports recorded, want 10 (1 + 8 filtered + 1 xlsx)", n)
	}
	a := h.agent()
	a.signIn("ada@clinic.example", staffPassword)
	if a.get("/admin/audit?action=export"); !strings.Contains(a.last, "xlsx; from 2026-11-02, to 2026-11-15; 11 rows") {
		t.Error("the export is not shown on /admin/audit")
	}

	// Over a real socket the body is streamed (chunked, no length known in advance), and a HEAD exports nothing.
	base := h.listen()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/exports/enquiries.csv?"+fixtureRange, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	live, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if live.StatusCode != 200 || live.ContentLength != -1 || !slices.Contains(live.TransferEncoding, "chunked") {
		t.Errorf("streamed export: %d, length %d, transfer encoding %v", live.StatusCode, live.ContentLength, live.TransferEncoding)
	}
	if recs := readCSV(t, body(t, live)); len(recs) != 12 {
		t.Errorf("streamed export has %d records, want 12", len(recs))
	}
	req.Method = http.MethodHead
	if head, err := http.DefaultClient.Do(req); err != nil || head.StatusCode != 200 {
		t.Errorf("HEAD: %v %v", head, err)
	} else {
		head.Body.Close()
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'export'`); n != 11 {
		t.Errorf("%d exports recorded, want 11 (the HEAD exported nothing)", n)
	}
}

func TestReportsAndExportsAreForAdministratorsOnly(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("ada@clinic.example", crm.RoleAdmin)
	h.addStaff("cora@clinic.example", crm.RoleCoordinator)
	h.addStaff("lee@clinic.example", crm.RoleClinician, "adhd")
	h.submit(t, "adhd")
	paths := []string{"/api/v1/exports/enquiries.csv", "/api/v1/exports/enquiries.xlsx", "/api/v1/reports/funnel",
		"/api/v1/reports/first-contact", "/api/v1/reports/sources", "/api/v1/reports/workload"}
	for _, p := range paths {
		if resp := h.apiCall(http.MethodGet, p, "", ""); resp.StatusCode != 401 || !strings.Contains(body(t, resp), `"error"`) {
			t.Errorf("%s without a token: %d", p, resp.StatusCode)
		}
		for _, who := range []string{"cora@clinic.example", "lee@clinic.example"} {
			resp := h.apiCall(http.MethodGet, p, h.token(who), "")
			if b := body(t, resp); resp.StatusCode != 403 || !strings.Contains(b, `"error"`) {
				t.Errorf("%s as %s: %d %s", p, who, resp.StatusCode, b)
			}
		}
		if resp := h.apiCall(http.MethodGet, p, h.token("ada@clinic.example"), ""); resp.StatusCode != 200 {
			t.Errorf("%s as admin: %d", p, resp.StatusCode)
		}
	}
	resp := h.apiCall(http.MethodGet, "/api/v1/reports/funnel?from=2026-11-01&to=2026-13-01", h.token("ada@clinic.example"), "")
	if m := decode(t, resp); resp.StatusCode != 422 || m["fields"].(map[string]any)["to"] == nil {
		t.Errorf("bad report range: %d %v", resp.StatusCode, m)
	}
	// With next to nothing to show, the page and its charts still draw.
	admin := h.agent()
	admin.signIn("ada@clinic.example", staffPassword)
	if resp := admin.get("/admin/reports"); resp.StatusCode != 200 || strings.Count(admin.last, "<svg") != 6 { // each chart drawn for a phone and for a wider screen
		t.Errorf("reports page with one enquiry: %d", resp.StatusCode)
	}
	pages := []string{"/admin/reports", "/admin/reports/funnel.csv", "/admin/exports/enquiries.csv", "/admin/exports/enquiries.xlsx"}
	for _, who := range []string{"cora@clinic.example", "lee@clinic.example"} {
		a := h.agent()
		a.signIn(who, staffPassword)
		for _, p := range pages {
			if resp := a.get(p); resp.StatusCode != 403 || strings.Contains(a.last, "reference,") {
				t.Errorf("%s as %s: %d", p, who, resp.StatusCode)
			}
		}
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'export'`); n != 2 {
		t.Errorf("%d exports recorded, want the admin's 2", n)
	}
	for _, p := range pages {
		if resp := h.get(p); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s signed out: %d", p, resp.StatusCode)
		}
	}
}

func TestReportsPageAndBrowserExports(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	f := newReportFixture(t)
	a := f.h.agent()
	a.signIn("ada@clinic.example", staffPassword)

	resp := a.get("/admin/reports?" + fixtureRange)
	if resp.StatusCode != 200 {
		t.Fatalf("reports page: %d\n%s", resp.StatusCode, a.last)
	}
	page := a.last
	for _, want := range []string{
		`<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-wide"`, `class="chart chart-narrow"`, `aria-labelledby="chart-funnel-title chart-funnel-desc"`,
		`<title id="chart-funnel-title">Funnel: enquiries reaching each stage</title>`,
		"Contacted 7 (64% of the stage before)", // the funnel chart's description
		`id="chart-first-contact-title"`, "week of 2 Nov: median 7.0 hours, 90th percentile 24.0 hours",
		`id="chart-treatments-title"`, "Number of enquiries", "Hours to first contact", "Week commencing",
		`<strong>11</strong> enquiries from 2 Nov 2026 to 15 Nov 2026 (1 spam left out)`,
		`href="/admin/reports/funnel.csv?from=2026-11-02&amp;to=2026-11-15"`,
		`href="/admin/reports/workload.csv?from=2026-11-02&amp;to=2026-11-15"`,
		`value="2026-11-02"`, `formaction="/admin/exports/enquiries.xlsx"`, `hx-boost="false"`,
		"contain patients' personal and health data", "No reply",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the reports page lacks %q", want)
		}
	}
	// The Content-Security-Policy allows no inline styles: the charts use presentation attributes only.
	if strings.Contains(page, "style=") || strings.Contains(page, "<style") {
		t.Error("the reports page has inline style")
	}

	// The default range is the last 30 days, today included, in the clinic's time zone.
	a.get("/admin/reports")
	today := time.Now().In(berlin)
	if !strings.Contains(a.last, `value="`+today.AddDate(0, 0, -29).Format("2006-01-02")+`"`) || !strings.Contains(a.last, `value="`+today.Format("2006-01-02")+`"`) {
		t.Error("the default range is not the last 30 days")
	}
	if resp := a.get("/admin/reports?from=2026-11-31&to=2026-11-01"); resp.StatusCode != 422 || !strings.Contains(a.last, "YYYY-MM-DD") {
		t.Errorf("bad range: %d", resp.StatusCode)
	}

	// The browser's export, with the session.
	resp = a.get("/admin/exports/enquiries.csv?" + fixtureRange + "&status=lost")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Disposition") != "attachment; filename=enquiries-2026-11-02-to-2026-11-15.csv" {
		t.Fatalf("browser export: %d %v", resp.StatusCode, resp.Header)
	}
	if got := column(t, readCSV(t, a.last), "reference"); strings.Join(got, " ") != f.refs["E2"]+" "+f.refs["E6"] {
		t.Errorf("browser export %v", got)
	}
	resp = a.get("/admin/exports/enquiries.xlsx?" + fixtureRange)
	if x, err := excelize.OpenReader(bytes.NewReader([]byte(a.last))); resp.StatusCode != 200 || err != nil {
		t.Errorf("browser xlsx: %d %v", resp.StatusCode, err)
	} else {
		x.Close()
	}
	// A bad filter shows the page again with the error beside the export form, and nothing is sent.
	resp = a.get("/admin/exports/enquiries.csv?" + url.Values{"from": {"2026-11-02"}, "status": {"pending"}}.Encode())
	if resp.StatusCode != 422 || !strings.Contains(a.last, `id="export-status-error"`) || !strings.Contains(a.last, "Unknown status") ||
		!strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("bad export filter: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
