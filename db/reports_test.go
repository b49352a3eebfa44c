package db

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/report"
	"github.com/frontdesk/frontdesk/intake"
)

// reportEnquiry stores an enquiry through intake at a chosen time and returns its reference.
func reportEnquiry(t *testing.T, d *DB, at time.Time, edit func(*crm.NewEnquiry)) string {
	t.Helper()
	e := crm.NewEnquiry{
		Enquiry: intake.Enquiry{Name: "Zoë Ångström", Email: fmt.Sprintf("p%d@example.org", at.UnixNano()),
			Phone: "+447700900123", PreferredContact: "phone", Treatment: "adhd", Message: "line one\nline \"two\"",
			DateOfBirth: "1990-04-05", ReferralSource: "gp", UTMSource: "google", UTMMedium: "cpc",
			Consent: intake.Consent{GivenAt: at, Version: intake.PrivacyNoticeVersion}},
		ReceivedAt:  at,
		Fingerprint: fmt.Sprint("fp-", at.UnixNano()),
	}
	if edit != nil {
		edit(&e)
	}
	rec, err := d.CreateEnquiry(context.Background(), e, crm.PlanIntake)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Reference
}

// move changes an enquiry's status at a chosen time, as the workspace would.
func move(t *testing.T, d *DB, ref string, to crm.Status, at time.Time, reason string) {
	t.Helper()
	_, err := d.UpdateEnquiry(context.Background(), ref, crm.System, at, func(e crm.Enquiry) (crm.Change, error) {
		return crm.Change{Status: to, Reason: reason, FirstContact: e.Status == crm.StatusNew && e.FirstContactedAt == nil && to != crm.StatusSpam}, nil
	})
	if err != nil {
		t.Fatalf("move %s to %s: %v", ref, to, err)
	}
}

func exportRefs(t *testing.T, d *DB, q report.Query) []string {
	t.Helper()
	rows, err := d.ExportEnquiries(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var refs []string
	var e crm.Enquiry
	for rows.Next() {
		if err := rows.Scan(&e); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, e.Reference)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	n, err := d.CountExport(context.Background(), q)
	if err != nil || n != len(refs) {
		t.Errorf("CountExport = %d, %v; the export read %d", n, err, len(refs))
	}
	return refs
}

func TestExportReadsEveryFieldOldestFirstWithFilters(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	clin := addStaff(t, d, "clin@clinic.example", crm.RoleClinician, "adhd")
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	a := reportEnquiry(t, d, base, nil)                                                             // adhd → clin
	b := reportEnquiry(t, d, base.Add(time.Hour), func(e *crm.NewEnquiry) { e.Treatment = "ptsd" }) // nobody treats ptsd
	c := reportEnquiry(t, d, base.Add(-time.Hour), func(e *crm.NewEnquiry) { e.Spam = true })
	dd := reportEnquiry(t, d, base.Add(48*time.Hour), nil)
	move(t, d, a, crm.StatusContacted, base.Add(90*time.Minute), "")
	if _, err := d.write.Exec(`UPDATE enquiries SET erased_at = ? WHERE reference = ?`, ms(base), dd); err != nil {
		t.Fatal(err)
	}

	check := func(name string, q report.Query, want ...string) {
		t.Helper()
		if got := exportRefs(t, d, q); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	check("all but spam, oldest first", report.Query{}, a, b, dd)
	check("spam asked for", report.Query{Statuses: []crm.Status{crm.StatusSpam}}, c)
	check("two statuses", report.Query{Statuses: []crm.Status{crm.StatusNew, crm.StatusContacted}}, a, b, dd)
	check("from", report.Query{From: base.Add(time.Minute)}, b, dd)
	check("to (exclusive)", report.Query{To: base.Add(time.Hour)}, a)
	check("treatment", report.Query{Treatment: "ptsd"}, b)
	check("assignee", report.Query{AssigneeID: clin.ID}, a, dd)
	check("unassigned", report.Query{Unassigned: true}, b)

	rows, err := d.ExportEnquiries(ctx, report.Query{})
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var e crm.Enquiry
	if !rows.Next() || rows.Scan(&e) != nil {
		t.Fatal("no first row")
	}
	contacted := base.Add(90 * time.Minute)
	if e.Reference != a || e.Status != crm.StatusContacted || e.Name != "Zoë Ångström" || e.Phone != "+447700900123" ||
		e.Message != "line one\nline \"two\"" || e.DateOfBirth != "1990-04-05" || e.ReferralSource != "gp" ||
		e.UTMSource != "google" || e.UTMMedium != "cpc" || e.UTMCampaign != "" || e.PreferredContact != "phone" ||
		e.Assignee == nil || e.Assignee.Email != "clin@clinic.example" || e.Priority != "normal" ||
		!e.CreatedAt.Equal(base) || e.FirstContactedAt == nil || !e.FirstContactedAt.Equal(contacted) ||
		!e.ConsentAt.Equal(base) || e.ConsentVersion != intake.PrivacyNoticeVersion || e.Erased {
		t.Errorf("first row %+v", e)
	}
	if !rows.Next() || rows.Scan(&e) != nil || e.Reference != b || e.Assignee != nil || e.FirstContactedAt != nil {
		t.Errorf("second row %+v (a reused Enquiry must be overwritten whole)", e)
	}
	if !rows.Next() || rows.Scan(&e) != nil || !e.Erased {
		t.Errorf("third row %+v, want erased", e)
	}
}

func TestExportAndFactQueriesNeverSort(t *testing.T) {
	sqliteOnly(t)
	d := openTest(t)
	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, q := range []report.Query{
		{},
		{From: from, To: to},
		{Statuses: []crm.Status{crm.StatusNew}},
		{Statuses: []crm.Status{crm.StatusNew, crm.StatusLost}, Treatment: "adhd"},
		{Treatment: "adhd", AssigneeID: 3},
		{Unassigned: true, From: from},
		{Answers: true, From: from},
	} {
		b := exportWhere(q)
		plan := strings.Join(planOf(t, d, d.exportSelect(q.Answers)+` WHERE `+b.where()+` ORDER BY e.created_at, e.id`, b.args...), "; ")
		if strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, "enquiries_created") {
			t.Errorf("%+v: plan %s", q, plan)
		}
	}
	// The screenings beside them: one pass in index order, and a lookup for an enquiry out of order.
	for _, answers := range []bool{false, true} {
		m := &screeningMerge{answers: answers}
		for _, q := range []string{`SELECT enquiry_id, ` + m.screeningColumns() + ` FROM screenings WHERE enquiry_id >= ? ORDER BY enquiry_id, instrument`,
			`SELECT ?, ` + m.screeningColumns() + ` FROM screenings WHERE enquiry_id = ? ORDER BY instrument`} {
			plan := strings.Join(planOf(t, d, q, 1, 1), "; ")
			if strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, "sqlite_autoindex_screenings_1") {
				t.Errorf("screenings plan %s", plan)
			}
		}
	}
	plan := strings.Join(planOf(t, d, d.factsSelect(), ms(from), ms(to)), "; ")
	if strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, "enquiries_created") || !strings.Contains(plan, "events_enquiry") {
		t.Errorf("facts plan %s", plan)
	}
}

func TestReportFactsFurthestStageAndWorkload(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	clin := addStaff(t, d, "clin@clinic.example", crm.RoleClinician, "adhd")
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	// screening, then closed as lost: the furthest stage is screening.
	lost := reportEnquiry(t, d, base, nil)
	move(t, d, lost, crm.StatusContacted, base.Add(time.Hour), "")
	move(t, d, lost, crm.StatusScreening, base.Add(2*time.Hour), "")
	move(t, d, lost, crm.StatusLost, base.Add(3*time.Hour), "No reply")
	// new, unassigned, old enough to be overdue.
	reportEnquiry(t, d, base.Add(-72*time.Hour), func(e *crm.NewEnquiry) { e.Treatment = "ptsd" })
	// spam, never active.
	reportEnquiry(t, d, base.Add(time.Minute), func(e *crm.NewEnquiry) { e.Spam = true })

	facts := map[crm.Status]report.Fact{}
	err := d.ReportFacts(ctx, base.Add(-time.Hour), base.Add(time.Hour), func(f *report.Fact) error {
		facts[f.Status] = *f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(facts) != 2 {
		t.Fatalf("facts %+v, want the lost one and the spam (the old one is outside the range)", facts)
	}
	f := facts[crm.StatusLost]
	if f.Furthest != crm.StatusScreening || f.CloseReason != "No reply" || !f.FirstContactedAt.Equal(base.Add(time.Hour)) ||
		f.Assignee.ID != clin.ID || f.Assignee.Name != clin.Name || f.UTMSource != "google" || f.ReferralSource != "gp" {
		t.Errorf("lost fact %+v", f)
	}
	if s := facts[crm.StatusSpam]; s.Furthest != "" || s.Assignee.ID != 0 {
		t.Errorf("spam fact %+v", s)
	}

	wl, err := d.Workload(ctx, base.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(wl) != 1 || wl[0].Assignee.ID != 0 || wl[0].Status != crm.StatusNew || wl[0].Count != 1 || wl[0].Overdue != 1 {
		t.Errorf("workload %+v, want one unassigned overdue new enquiry", wl)
	}
}

// TestExportReadsEachEnquirysOwnScreenings: on SQLite the export reads the screenings in one pass in enquiry id
// order beside the enquiries in created_at order; an enquiry stored out of turn, one left out by a filter, and
// an export that starts past an earlier id must each still get exactly their own answers (on PostgreSQL the
// rows carry them).
func TestExportReadsEachEnquirysOwnScreenings(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	// Stored in the order a, b, c, dd, e; created in the order a, c, b, dd, e: c's id is after b's.
	a := reportEnquiry(t, d, base, nil)
	b := reportEnquiry(t, d, base.Add(2*time.Hour), nil)
	c := reportEnquiry(t, d, base.Add(time.Hour), nil)
	dd := reportEnquiry(t, d, base.Add(3*time.Hour), func(e *crm.NewEnquiry) { e.Treatment = "ptsd" })
	e := reportEnquiry(t, d, base.Add(4*time.Hour), nil)
	answer := func(ref, instrument, answers string, total any, band string) {
		t.Helper()
		if _, err := d.write.Exec(`INSERT INTO screenings (enquiry_id, instrument, answers, total, band, source, created_at)
			SELECT id, ?, ?, ?, ?, 'enquiry', created_at FROM enquiries WHERE reference = ?`,
			instrument, answers, total, band, ref); err != nil {
			t.Fatal(err)
		}
	}
	answer(a, "phq9", "[1,1,1,1,1,1,1,1,0]", 8, "mild")
	answer(a, "gad7", "[3,3,3,3,3,3,3]", 21, "severe")
	answer(b, crm.SafetyInstrument, `{"self_harm_thoughts":false,"ketamine_reaction":true}`, nil, "")
	answer(c, "phq9", "[0,0,0,0,0,0,0,0,0]", 0, "minimal")
	answer(dd, "gad7", "[1,0,0,0,0,0,0]", 1, "minimal")

	// describe is each exported enquiry's screenings, e.g. "a: gad7 21 severe [3 3 3 3 3 3 3], phq9 8 mild […]".
	names := map[string]string{a: "a", b: "b", c: "c", dd: "dd", e: "e"}
	describe := func(q report.Query) string {
		t.Helper()
		rows, err := d.ExportEnquiries(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		var en crm.Enquiry
		for rows.Next() {
			if err := rows.Scan(&en); err != nil {
				t.Fatal(err)
			}
			var list []string
			for _, s := range rows.Screening() {
				item := fmt.Sprintf("%s %d %s", s.Instrument, s.Total, s.Band)
				if s.Answers != nil {
					item += fmt.Sprint(" ", s.Answers)
				}
				if s.Safety != nil {
					item += fmt.Sprint(" ", s.Safety)
				}
				list = append(list, item)
			}
			out = append(out, names[en.Reference]+": "+strings.Join(list, ", "))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return strings.Join(out, "; ")
	}
	for _, c := range []struct {
		name string
		q    report.Query
		want string
	}{
		{"all, with answers", report.Query{Answers: true},
			"a: gad7 21 severe [3 3 3 3 3 3 3], phq9 8 mild [1 1 1 1 1 1 1 1 0]; c: phq9 0 minimal [0 0 0 0 0 0 0 0 0]; " +
				"b: safety 0  map[ketamine_reaction:true self_harm_thoughts:false]; dd: gad7 1 minimal [1 0 0 0 0 0 0]; e: "},
		{"all, totals only", report.Query{},
			"a: gad7 21 severe, phq9 8 mild; c: phq9 0 minimal; b: safety 0 ; dd: gad7 1 minimal; e: "},
		{"one left out by a filter", report.Query{Treatment: "adhd"},
			"a: gad7 21 severe, phq9 8 mild; c: phq9 0 minimal; b: safety 0 ; e: "},
		{"starting past an earlier id", report.Query{From: base.Add(time.Hour), Answers: true},
			"c: phq9 0 minimal [0 0 0 0 0 0 0 0 0]; b: safety 0  map[ketamine_reaction:true self_harm_thoughts:false]; " +
				"dd: gad7 1 minimal [1 0 0 0 0 0 0]; e: "},
		{"only the late one", report.Query{From: base.Add(4 * time.Hour)}, "e: "},
	} {
		if got := describe(c.q); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}
