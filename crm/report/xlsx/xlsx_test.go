package xlsx_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/report"
	"github.com/frontdesk/frontdesk/crm/report/xlsx"
	"github.com/xuri/excelize/v2"
)

// enquiryList serves enquiries from memory: the report service's store for a writer's test.
type enquiryList struct {
	enquiries  []crm.Enquiry
	screenings map[int][]crm.Screening // by the enquiry's index
	// made, when set, makes n enquiries as they are read instead: made(i) is the i-th.
	made func(i int) crm.Enquiry
	n    int
}

func (l *enquiryList) ExportEnquiries(context.Context, report.Query) (report.Rows, error) {
	return &listRows{l: l, i: -1}, nil
}
func (l *enquiryList) CountExport(context.Context, report.Query) (int, error) {
	return l.count(), nil
}

func (l *enquiryList) count() int {
	if l.made != nil {
		return l.n
	}
	return len(l.enquiries)
}
func (l *enquiryList) ReportFacts(context.Context, time.Time, time.Time, func(*report.Fact) error) error {
	return nil
}
func (l *enquiryList) Workload(context.Context, time.Time) ([]report.WorkloadCount, error) {
	return nil, nil
}

type listRows struct {
	l *enquiryList
	i int
}

func (r *listRows) Next() bool { r.i++; return r.i < r.l.count() }
func (r *listRows) Scan(e *crm.Enquiry) error {
	if r.l.made != nil {
		*e = r.l.made(r.i)
	} else {
		*e = r.l.enquiries[r.i]
	}
	return nil
}
func (r *listRows) Err() error                 { return nil }
func (r *listRows) Screening() []crm.Screening { return r.l.screenings[r.i] }
func (r *listRows) Close() error               { return nil }

// auditLog keeps what was recorded.
type auditLog struct {
	crm.AuditStore
	entries []crm.AuditEntry
}

func (a *auditLog) RecordAudit(_ context.Context, e crm.AuditEntry) error {
	a.entries = append(a.entries, e)
	return nil
}

// newService is the report service over enquiries, in London, writing Excel exports with xlsx.Write as cmd
// wires it.
func newService(enquiries []crm.Enquiry) *report.Service {
	return newServiceOf(&enquiryList{enquiries: enquiries}, xlsx.Write)
}

// newServiceOf is the report service over l, in London, writing Excel exports with w.
func newServiceOf(l *enquiryList, w report.SheetWriter) *report.Service {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return report.New(l, nil, &auditLog{}, report.Config{FirstContact: 24 * time.Hour, Location: london, XLSX: w},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// summer is 1 July 2026, 09:30 UTC: 10:30 in London (BST, +01:00).
var summer = time.Date(2026, 7, 1, 9, 30, 0, 0, time.UTC)

func sampleEnquiries() []crm.Enquiry {
	contacted := summer.Add(5*time.Hour + 30*time.Minute)
	return []crm.Enquiry{
		{Reference: "ABCD-2345", Status: crm.StatusContacted, Name: "Zoë Ångström", Email: "zoe@example.org",
			Phone: "+447700900123", PreferredContact: "phone", Treatment: "adhd", ReferralSource: "gp",
			UTMSource: "google", UTMMedium: "cpc", UTMCampaign: "autumn, \"quoted\"",
			Message: "First line\nSecond line with \"quotes\", and a comma", DateOfBirth: "1990-04-05",
			Priority: "high", Assignee: &crm.StaffRef{ID: 7, Name: "Lee Clinician", Email: "lee@clinic.example"},
			CreatedAt: summer, FirstContactedAt: &contacted, ConsentAt: summer, ConsentVersion: "2026-11-01"},
		{Reference: "EFGH-6789", Status: crm.StatusNew, Name: "=HYPERLINK(\"http://evil.example\",\"click\")",
			Email: "@evil.example", PreferredContact: "either", Treatment: "ptsd", UTMSource: "+cmd|' /C calc'!A0",
			Priority: "normal", CreatedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
			ConsentAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), ConsentVersion: "2026-11-01"},
		{Reference: "JKLM-2345", Status: crm.StatusLost, Name: "Still Here", Email: "still@example.org",
			Phone: "+447700900999", Message: "should not leave", DateOfBirth: "1980-01-01", CloseReason: "Moved away",
			Treatment: "anxiety", Priority: "normal", CreatedAt: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC),
			ConsentAt: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), ConsentVersion: "2026-11-01", Erased: true},
	}
}

func TestXLSXRoundTripsThroughExcelize(t *testing.T) {
	s := newService(sampleEnquiries())
	exp, err := s.OpenExport(context.Background(), crm.System, report.Filter{}, report.XLSX)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := exp.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); len(sheets) != 1 || sheets[0] != xlsx.SheetName {
		t.Fatalf("sheets %v", sheets)
	}
	panes, err := f.GetPanes(xlsx.SheetName)
	if err != nil || !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
		t.Errorf("panes %+v, %v: want the header row frozen", panes, err)
	}
	if w, _ := f.GetColWidth(xlsx.SheetName, "T"); w != 60 {
		t.Errorf("message column width %v", w)
	}
	rows, err := f.GetRows(xlsx.SheetName)
	if err != nil || len(rows) != 4 || strings.Join(rows[0], ",") != strings.Join(report.Columns, ",") {
		t.Fatalf("rows %v, %v", rows, err)
	}
	cell := func(row int, name string) string {
		for i, c := range report.Columns {
			if c == name {
				return cellName(t, i+1, row)
			}
		}
		t.Fatalf("no column %s", name)
		return ""
	}
	get := func(row int, name string) string {
		v, err := f.GetCellValue(xlsx.SheetName, cell(row, name))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	raw := func(row int, name string) string {
		v, err := f.GetCellValue(xlsx.SheetName, cell(row, name), excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Typed dates: a serial number with a date format, in the clinic's wall-clock time.
	for _, c := range []struct {
		col  string
		want time.Time
		text string
	}{
		{"created_at", time.Date(2026, 7, 1, 10, 30, 0, 0, time.UTC), "2026-07-01 10:30"},
		{"first_contacted_at", time.Date(2026, 7, 1, 16, 0, 0, 0, time.UTC), "2026-07-01 16:00"},
		{"date_of_birth", time.Date(1990, 4, 5, 0, 0, 0, 0, time.UTC), "1990-04-05"},
	} {
		serial, err := strconv.ParseFloat(raw(2, c.col), 64)
		if err != nil {
			t.Errorf("%s is not a number: %q", c.col, raw(2, c.col))
			continue
		}
		got, err := excelize.ExcelDateToTime(serial, false)
		if err != nil || got.Sub(c.want).Abs() > time.Second {
			t.Errorf("%s = %v (%v), want %v", c.col, got, err, c.want)
		}
		if text := get(2, c.col); text != c.text {
			t.Errorf("%s shows %q, want %q", c.col, text, c.text)
		}
	}
	if typ, _ := f.GetCellType(xlsx.SheetName, cell(2, "hours_to_first_contact")); typ == excelize.CellTypeInlineString ||
		raw(2, "hours_to_first_contact") != "5.5" {
		t.Errorf("hours: type %v, raw %q; want the number 5.5", typ, raw(2, "hours_to_first_contact"))
	}
	for name, want := range map[string]string{"name": "Zoë Ångström", "phone": "+447700900123",
		"message": "First line\nSecond line with \"quotes\", and a comma"} {
		if got := get(2, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// Text is text: a formula-looking name is kept as it was and is never a formula.
	if got := get(3, "name"); got != "=HYPERLINK(\"http://evil.example\",\"click\")" {
		t.Errorf("name %q", got)
	}
	if formula, _ := f.GetCellFormula(xlsx.SheetName, cell(3, "name")); formula != "" {
		t.Errorf("a name became the formula %q", formula)
	}
	if get(4, "name") != "" || get(4, "message") != "" || get(4, "erased") != "yes" {
		t.Error("an erased enquiry's details were exported")
	}
}

func cellName(t *testing.T, col, row int) string {
	t.Helper()
	n, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
