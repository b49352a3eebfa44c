package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

func TestExportFilterMessages(t *testing.T) {
	s, _ := newTestService(&fakeStore{})
	ctx := context.Background()
	for _, c := range []struct {
		f    Filter
		want crm.InputError
	}{
		{Filter{From: "2026-13-01", To: " soon", Status: "pending", Treatment: "yoga", Assignee: "nobody@clinic.example", Answers: "maybe"},
			crm.InputError{
				"from":      `Give the start date as YYYY-MM-DD, for example 2026-11-01 (not "2026-13-01").`,
				"to":        `Give the end date as YYYY-MM-DD, for example 2026-11-30 (not "soon").`,
				"status":    `Unknown status "pending": use one of ` + statusList() + ".",
				"treatment": `Unknown treatment "yoga": use adhd, depression, anxiety, ptsd, addiction, chronic_pain or other.`,
				"assignee":  `No member of staff has the email "nobody@clinic.example".`,
				"answers":   `answers must be true or false, not "maybe".`}},
		{Filter{From: "2026-11-30", To: "2026-11-01"}, crm.InputError{"to": "The end date must not be before the start date."}},
	} {
		_, err := s.OpenExport(ctx, crm.System, c.f, CSV)
		var ie crm.InputError
		if !errors.As(err, &ie) || len(ie) != len(c.want) {
			t.Errorf("%+v: %v (%v)", c.f, err, ie)
			continue
		}
		for field, msg := range c.want {
			if ie[field] != msg {
				t.Errorf("%s: %q, want %q", field, ie[field], msg)
			}
		}
	}
	_, err := s.Report(ctx, crm.System, Range{From: "2026-11-01"})
	var ie crm.InputError
	if !errors.As(err, &ie) || ie["to"] != "Give the end date as YYYY-MM-DD." || len(ie) != 1 {
		t.Errorf("a report without its end: %v", ie)
	}
	_, err = s.Report(ctx, crm.System, Range{From: "2026-11-01", To: "2026-11-31"})
	if !errors.As(err, &ie) || ie["to"] != `Give the end date as YYYY-MM-DD, for example 2026-11-30 (not "2026-11-31").` {
		t.Errorf("a report to 31 November: %v", ie)
	}
}

func TestExportFiltersAreCheckedAndTranslated(t *testing.T) {
	store := &fakeStore{}
	s, _ := newTestService(store)
	ctx := context.Background()
	admin := crm.Actor{ID: 1, Role: crm.RoleAdmin}
	bad := []struct {
		f     Filter
		field string
	}{
		{Filter{From: "2026-13-01"}, "from"},
		{Filter{From: "1/11/2026"}, "from"},
		{Filter{To: "yesterday"}, "to"},
		{Filter{From: "2026-11-30", To: "2026-11-01"}, "to"},
		{Filter{Status: "new,pending"}, "status"},
		{Filter{Treatment: "yoga"}, "treatment"},
		{Filter{Assignee: "nobody@clinic.example"}, "assignee"},
	}
	for _, b := range bad {
		_, err := s.OpenExport(ctx, admin, b.f, CSV)
		var ie crm.InputError
		if !errors.As(err, &ie) || ie[b.field] == "" {
			t.Errorf("%+v: %v, want an InputError naming %s", b.f, err, b.field)
		}
	}
	if _, err := s.OpenExport(ctx, admin, Filter{}, Format("pdf")); err == nil {
		t.Error("format pdf accepted")
	}
	if store.open != 0 {
		t.Errorf("%d queries opened for refused exports", store.open)
	}

	exp, err := s.OpenExport(ctx, admin, Filter{From: "2026-03-29", To: "2026-03-29", Status: "new, lost",
		Treatment: "adhd", Assignee: "Lee@Clinic.example"}, CSV)
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Close()
	q := store.lastQuery
	// 29 March 2026 is the day the clocks go forward in London: 23 hours long, 00:00 GMT to 23:00 UTC.
	if !q.From.Equal(time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)) || !q.To.Equal(time.Date(2026, 3, 29, 23, 0, 0, 0, time.UTC)) ||
		len(q.Statuses) != 2 || q.Statuses[1] != crm.StatusLost || q.Treatment != "adhd" || q.AssigneeID != 7 {
		t.Errorf("query %+v", q)
	}
	if exp.Filename() != "enquiries-2026-03-29-to-2026-03-29.csv" {
		t.Errorf("filename %q", exp.Filename())
	}
	if exp2, _ := s.OpenExport(ctx, admin, Filter{Assignee: "none"}, XLSX); exp2 == nil || !store.lastQuery.Unassigned ||
		exp2.Filename() != "enquiries-all-2026-11-20.xlsx" {
		t.Errorf("unassigned: %+v", store.lastQuery)
	} else {
		exp2.Close()
	}
}

func TestCSVRoundTripsThroughEncodingCSV(t *testing.T) {
	store := &fakeStore{enquiries: sampleEnquiries()}
	s, audit := newTestService(store)
	exp, err := s.OpenExport(context.Background(), crm.Actor{ID: 1, Name: "Ada Admin", Role: crm.RoleAdmin},
		Filter{From: "2026-07-01"}, CSV)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := exp.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, %v (wrote %d)", n, err, buf.Len())
	}
	raw := buf.String()
	if !strings.HasPrefix(raw, "\uFEFFreference,created_at,") || !strings.Contains(raw, "\r\n") {
		t.Fatalf("no BOM, header or CRLF: %q", raw[:min(len(raw), 80)])
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(raw, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || strings.Join(recs[0], ",") != strings.Join(Columns, ",") {
		t.Fatalf("%d records, header %v", len(recs), recs[0])
	}
	col := func(rec []string, name string) string {
		for i, c := range Columns {
			if c == name {
				return rec[i]
			}
		}
		t.Fatalf("no column %s", name)
		return ""
	}
	first := recs[1]
	for name, want := range map[string]string{
		"reference":              "ABCD-2345",
		"created_at":             "2026-07-01T10:30:00+01:00", // BST
		"name":                   "Zoë Ångström",
		"phone":                  "'+447700900123",
		"ok_to_leave_message":    "yes",
		"message":                "First line\nSecond line with \"quotes\", and a comma",
		"utm_campaign":           "autumn, \"quoted\"",
		"assignee_name":          "Lee Clinician",
		"assignee_email":         "lee@clinic.example",
		"first_contacted_at":     "2026-07-01T16:00:00+01:00",
		"hours_to_first_contact": "5.50",
		"date_of_birth":          "1990-04-05",
		"consent_at":             "2026-07-01T10:30:00+01:00",
		"erased":                 "",
	} {
		if got := col(first, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	second := recs[2]
	for name, want := range map[string]string{
		"created_at":          "2026-12-01T09:00:00+00:00", // GMT: still an offset, never Z
		"name":                "'=HYPERLINK(\"http://evil.example\",\"click\")",
		"email":               "'@evil.example",
		"utm_source":          "'+cmd|' /C calc'!A0",
		"utm_medium":          "'-2+3",
		"utm_campaign":        "'\tTabbed",
		"message":             "'\nCarriage", // the CR is a line break, written CRLF
		"close_reason":        "'＝1+1",
		"first_contacted_at":  "",
		"assignee_name":       "",
		"ok_to_leave_message": "no",
	} {
		if got := col(second, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	erased := recs[3]
	for _, name := range []string{"name", "email", "phone", "ok_to_leave_message", "message", "date_of_birth", "close_reason"} {
		if got := col(erased, name); got != "" {
			t.Errorf("erased enquiry exported %s %q", name, got)
		}
	}
	if col(erased, "erased") != "yes" || col(erased, "treatment") != "anxiety" || col(erased, "status") != "lost" {
		t.Errorf("erased row %v", erased)
	}
	if store.open != 0 {
		t.Error("the query was not closed")
	}
	if len(audit.entries) != 1 || audit.entries[0].Actor == nil || audit.entries[0].Actor.ID != 1 ||
		audit.entries[0].Detail != "csv; from 2026-07-01; 3 rows" {
		t.Errorf("audit %+v", audit.entries)
	}
}

func TestExportCutShortIsRecordedAsIncomplete(t *testing.T) {
	store := &fakeStore{enquiries: sampleEnquiries(), failAt: 2}
	s, audit := newTestService(store)
	exp, err := s.OpenExport(context.Background(), crm.System, Filter{}, CSV)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exp.WriteTo(io.Discard); err == nil || !strings.Contains(err.Error(), "disk I/O") {
		t.Errorf("WriteTo: %v, want the read error", err)
	}
	if len(audit.entries) != 1 || audit.entries[0].Detail != "csv; all enquiries; 2 rows; interrupted, not complete" {
		t.Errorf("audit %+v", audit.entries)
	}
	if store.open != 0 {
		t.Error("the query was not closed")
	}
	if _, err := exp.WriteTo(io.Discard); err == nil {
		t.Error("an export written twice")
	}
}

// failingWriter fails every write after the first ok.
type failingWriter struct{ ok int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.ok == 0 {
		return 0, errors.New("broken pipe")
	}
	f.ok--
	return len(p), nil
}

// The rows are read ahead on a goroutine of their own: a client that goes away must stop it, and the query
// must be closed only after it has stopped; a panic while reading must end the export, not the server.
func TestExportReadingAheadStopsWithTheExport(t *testing.T) {
	many := make([]crm.Enquiry, 50_000)
	for i := range many {
		many[i] = sampleEnquiries()[i%3]
	}
	store := &fakeStore{enquiries: many}
	s, audit := newTestService(store)
	exp, err := s.OpenExport(context.Background(), crm.System, Filter{}, CSV)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exp.WriteTo(&failingWriter{ok: 1}); err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("WriteTo = %v, want the write's error", err)
	}
	if store.open != 0 || store.read >= len(many) {
		t.Errorf("%d queries open, %d of %d rows read: the reading went on", store.open, store.read, len(many))
	}
	time.Sleep(10 * time.Millisecond) // a reading goroutine left running would read on by now
	if store.usedAfterClose() {
		t.Error("the rows were read after they were closed")
	}
	if len(audit.entries) != 1 || !strings.HasSuffix(audit.entries[0].Detail, "interrupted, not complete") {
		t.Errorf("audit %+v", audit.entries)
	}

	store = &fakeStore{enquiries: many, panicAt: 1000}
	s, audit = newTestService(store)
	if exp, err = s.OpenExport(context.Background(), crm.System, Filter{}, CSV); err != nil {
		t.Fatal(err)
	}
	if _, err := exp.WriteTo(io.Discard); err == nil || !strings.Contains(err.Error(), "corrupt row") {
		t.Errorf("WriteTo = %v, want the panic as an error", err)
	}
	if store.open != 0 || len(audit.entries) != 1 || !strings.Contains(audit.entries[0].Detail, "interrupted") {
		t.Errorf("after a panic: %d open, audit %+v", store.open, audit.entries)
	}
}

// textSheet is an Excel writer for these tests: each row's cells as tab-separated kind:"text", one line each.
func textSheet(w io.Writer, sh *Sheet, _ *time.Location) (int, error) {
	fmt.Fprintln(w, strings.Join(sh.Columns(), "\t"))
	n := 0
	for {
		row, ok, err := sh.Next()
		if err != nil || !ok {
			return n, err
		}
		texts := make([]string, len(row))
		for i, c := range row {
			texts[i] = fmt.Sprintf("%d:%q", c.Kind, c.Text)
		}
		fmt.Fprintln(w, strings.Join(texts, "\t"))
		n++
	}
}

func TestExcelExportNeedsAnExcelWriter(t *testing.T) {
	store := &fakeStore{enquiries: sampleEnquiries()}
	s := New(store, fakeStaff{}, &fakeAudit{}, Config{Location: london}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	_, err := s.OpenExport(context.Background(), crm.System, Filter{}, XLSX)
	var ie crm.InputError
	if !errors.As(err, &ie) || ie["format"] == "" || store.open != 0 {
		t.Errorf("%v, want an InputError naming format and no query opened", err)
	}
	if exp, err := s.OpenExport(context.Background(), crm.System, Filter{}, CSV); err != nil {
		t.Errorf("CSV without an Excel writer: %v", err)
	} else {
		exp.Close()
	}
}

func TestSheetHandsTheWriterTypedCellsWithoutErasedDetails(t *testing.T) {
	store := &fakeStore{enquiries: sampleEnquiries()}
	s, _ := newTestService(store)
	exp, err := s.OpenExport(context.Background(), crm.System, Filter{}, XLSX)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := exp.WriteTo(&buf); err != nil || exp.Rows() != 3 {
		t.Fatalf("%d rows, %v", exp.Rows(), err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 4 || lines[0] != strings.Join(Columns, "\t") {
		t.Fatalf("sheet:\n%s", buf.String())
	}
	if !strings.HasPrefix(lines[1], `0:"ABCD-2345"`+"\t"+`1:""`+"\t"+`0:"contacted"`+"\t"+`0:"Zoë Ångström"`+"\t") ||
		!strings.Contains(lines[1], `2:"1990-04-05"`) {
		t.Errorf("first row %q", lines[1])
	}
	if strings.Contains(lines[3], "Still Here") || strings.Contains(lines[3], "should not leave") {
		t.Errorf("an erased enquiry's details reached the writer: %q", lines[3])
	}
}

func TestExcelExportRefusesMoreRowsThanASheetHolds(t *testing.T) {
	store := &fakeStore{enquiries: make([]crm.Enquiry, MaxXLSXRows+1)}
	s, _ := newTestService(store)
	_, err := s.OpenExport(context.Background(), crm.System, Filter{}, XLSX)
	var ie crm.InputError
	if !errors.As(err, &ie) || ie["format"] == "" {
		t.Errorf("%v, want an InputError naming format", err)
	}
	if store.open != 0 {
		t.Error("a query was opened")
	}
}

// flushRecorder is a client connection: it notes how much had been written at each Flush.
type flushRecorder struct {
	bytes.Buffer
	flushes []int
}

func (f *flushRecorder) Flush() error { f.flushes = append(f.flushes, f.Len()); return nil }

func TestCSVHeaderIsFlushedBeforeTheRows(t *testing.T) {
	store := &fakeStore{enquiries: sampleEnquiries()}
	s, _ := newTestService(store)
	exp, err := s.OpenExport(context.Background(), crm.System, Filter{}, CSV)
	if err != nil {
		t.Fatal(err)
	}
	var w flushRecorder
	if _, err := exp.WriteTo(&w); err != nil {
		t.Fatal(err)
	}
	header := len(bom) + len(strings.Join(Columns, ",")) + 2
	if len(w.flushes) < 2 || w.flushes[0] != header || w.flushes[len(w.flushes)-1] != w.Len() {
		t.Errorf("flushed at %v (header %d, total %d): the header must reach the client first", w.flushes, header, w.Len())
	}
}
