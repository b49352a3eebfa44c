package xlsx_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/report"
	"github.com/frontdesk/frontdesk/crm/report/xlsx"
	"github.com/xuri/excelize/v2"
)

// excelizeWrite is the Excel writer as it was before it streamed: excelize's StreamWriter, which holds the
// sheet until the end. The writer is held to it cell by cell: the same values, of the same types, shown the
// same way.
func excelizeWrite(w io.Writer, s *report.Sheet, loc *time.Location) (int, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", xlsx.SheetName); err != nil {
		return 0, err
	}
	var header, dateTime, date, hours int
	var err error
	dtFmt, dFmt, hFmt := "yyyy-mm-dd hh:mm", "yyyy-mm-dd", "0.00"
	if header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		return 0, err
	}
	if dateTime, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dtFmt}); err != nil {
		return 0, err
	}
	if date, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dFmt}); err != nil {
		return 0, err
	}
	if hours, err = f.NewStyle(&excelize.Style{CustomNumFmt: &hFmt}); err != nil {
		return 0, err
	}
	sw, err := f.NewStreamWriter(xlsx.SheetName)
	if err != nil {
		return 0, err
	}
	columns := s.Columns()
	values := make([]any, len(columns))
	for i, c := range columns {
		values[i] = excelize.Cell{StyleID: header, Value: c}
	}
	if err := sw.SetRow("A1", values); err != nil {
		return 0, err
	}
	n := 0
	for {
		row, ok, err := s.Next()
		if err != nil || !ok {
			if err != nil {
				return n, err
			}
			break
		}
		for i, c := range row {
			values[i] = nil
			switch c.Kind {
			case report.CellText:
				if c.Text != "" {
					values[i] = c.Text
				}
			case report.CellTime:
				values[i] = excelize.Cell{StyleID: dateTime, Value: c.At.In(loc)}
			case report.CellDate:
				if d, err := time.Parse("2006-01-02", c.Text); err == nil {
					values[i] = excelize.Cell{StyleID: date, Value: d}
				} else {
					values[i] = c.Text
				}
			case report.CellHours:
				values[i] = excelize.Cell{StyleID: hours, Value: c.Hours}
			case report.CellInt:
				if v, err := strconv.Atoi(c.Text); err == nil {
					values[i] = v
				} else {
					values[i] = c.Text
				}
			}
		}
		name, _ := excelize.CoordinatesToCellName(1, n+2)
		if err := sw.SetRow(name, values); err != nil {
			return n, err
		}
		n++
	}
	if err := sw.Flush(); err != nil {
		return n, err
	}
	return n, f.Write(w)
}

// awkwardEnquiries have what is hard to put in XML or a spreadsheet cell.
func awkwardEnquiries() ([]crm.Enquiry, map[int][]crm.Screening) {
	at := time.Date(2026, 3, 29, 0, 59, 59, 123_000_000, time.UTC)        // the last second of GMT that day
	long := strings.Repeat("ab", maxCell/2) + "🙂" + "tail past the limit" // 32,766 units, then one of two
	es := []crm.Enquiry{
		{Reference: "AAAA-0001", Status: crm.StatusNew, Name: "<a & b> \"q\" 'a'", Email: " padded ",
			Phone: "\tTabbed", Message: "line\r\nCRLF\rCR\nLF", UTMSource: "bell\x01ring", UTMMedium: "_x0041_ and _x005F_x0042_",
			UTMCampaign: "bad \xff utf-8", CloseReason: "🙂 astral", DateOfBirth: "1850-02-03", CreatedAt: at,
			ConsentAt: at.Add(time.Hour), FirstContactedAt: ptr(at.Add(-75 * time.Minute))},
		{Reference: "AAAA-0002", Status: crm.StatusLost, Name: "=HYPERLINK(\"http://evil.example\",\"x\")", Email: "@evil",
			Phone: "+447700900123", Message: long, DateOfBirth: "1900-02-28", CreatedAt: at.Add(time.Hour),
			ConsentAt: at, FirstContactedAt: ptr(at.Add(time.Hour + 1234*time.Millisecond)), Priority: "urgent",
			Assignee: &crm.StaffRef{ID: 3, Name: "Zoë Ångström", Email: "zoe@clinic.example"}},
		{Reference: "AAAA-0003", Status: crm.StatusContacted, Name: "-1+1", DateOfBirth: "1900-03-01",
			CreatedAt: time.Date(2026, 12, 31, 23, 59, 59, 999_000_000, time.UTC), ConsentAt: at},
		{Reference: "AAAA-0004", Status: crm.StatusContacted, DateOfBirth: "not a date", Erased: true,
			CreatedAt: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), ConsentAt: at},
	}
	scr := map[int][]crm.Screening{
		0: {{Instrument: "phq9", Total: 27, Band: "severe"}, {Instrument: "gad7", Total: 0, Band: "minimal"}},
		2: {{Instrument: "phq9", Total: 4, Band: "minimal"}},
	}
	return es, scr
}

// maxCell is the most UTF-16 units an Excel cell holds.
const maxCell = 32767

func ptr[T any](v T) *T { return &v }

// workbook exports l with w and opens the file with excelize.
func workbook(t *testing.T, l *enquiryList, w report.SheetWriter) (*excelize.File, []byte) {
	t.Helper()
	exp, err := newServiceOf(l, w).OpenExport(context.Background(), crm.System, report.Filter{}, report.XLSX)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := exp.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f, buf.Bytes()
}

func TestXLSXCellsAreThoseTheExcelizeWriterWrote(t *testing.T) {
	es, scr := awkwardEnquiries()
	es = append(es, sampleEnquiries()...)
	got, _ := workbook(t, &enquiryList{enquiries: es, screenings: scr}, xlsx.Write)
	want, _ := workbook(t, &enquiryList{enquiries: es, screenings: scr}, excelizeWrite)
	rows, err := want.GetRows(xlsx.SheetName)
	if err != nil || len(rows) != len(es)+1 {
		t.Fatalf("reference rows %d, %v", len(rows), err)
	}
	for r := 1; r <= len(es)+1; r++ {
		for c := 1; c <= len(report.Columns); c++ {
			cell, _ := excelize.CoordinatesToCellName(c, r)
			for _, raw := range []bool{false, true} {
				g, gerr := got.GetCellValue(xlsx.SheetName, cell, excelize.Options{RawCellValue: raw})
				w, werr := want.GetCellValue(xlsx.SheetName, cell, excelize.Options{RawCellValue: raw})
				if g != w || gerr != nil || werr != nil {
					t.Errorf("%s (%s, raw %v) = %q (%v), excelize wrote %q (%v)", cell, report.Columns[c-1], raw,
						shorten(g), gerr, shorten(w), werr)
				}
			}
			gt, _ := got.GetCellType(xlsx.SheetName, cell)
			wt, _ := want.GetCellType(xlsx.SheetName, cell)
			if gt != wt {
				t.Errorf("%s (%s) is of type %v, excelize wrote %v", cell, report.Columns[c-1], gt, wt)
			}
		}
	}
	// What the awkward cells hold, read back.
	get := func(cell string) string {
		v, err := got.GetCellValue(xlsx.SheetName, cell)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for cell, want := range map[string]string{
		"D2": "<a & b> \"q\" 'a'", "E2": " padded ", "F2": "\tTabbed", "T2": "line\r\nCRLF\rCR\nLF",
		"J2": "bell\uFFFDring", "K2": "_x0041_ and _x005F_x0042_", "L2": "bad \uFFFD utf-8", "R2": "🙂 astral",
		"D3": "=HYPERLINK(\"http://evil.example\",\"x\")", "F3": "+447700900123", "M3": "Zoë Ångström",
		"D4": "-1+1", "Q2": "-1.25", "Q3": "0.00",
	} {
		if got := get(cell); got != want {
			t.Errorf("%s = %q, want %q", cell, got, want)
		}
	}
	if formula, _ := got.GetCellFormula(xlsx.SheetName, "D3"); formula != "" {
		t.Errorf("a name became the formula %q", formula)
	}
	if msg := get("T3"); len(msg) != maxCell-1 || !strings.HasSuffix(msg, "ab") {
		t.Errorf("a long message kept %d bytes, ending %q: want it cut after %d UTF-16 units", len(msg),
			msg[max(0, len(msg)-8):], maxCell)
	}
}

func shorten(s string) string {
	if len(s) > 60 {
		return s[:30] + "…" + s[len(s)-30:]
	}
	return s
}

// The parts a workbook must have for Excel and LibreOffice, and nothing the writer did not mean to write.
func TestXLSXPackageParts(t *testing.T) {
	_, raw := workbook(t, &enquiryList{enquiries: sampleEnquiries()}, xlsx.Write)
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Method != zip.Deflate {
			t.Errorf("%s is not compressed", f.Name)
		}
	}
	if got := strings.Join(names, " "); got != "[Content_Types].xml _rels/.rels docProps/app.xml xl/workbook.xml "+
		"xl/_rels/workbook.xml.rels xl/styles.xml xl/worksheets/sheet1.xml" {
		t.Errorf("parts %s", got)
	}
}

// countingWriter counts what the export has written so far; it is read while the export runs.
type countingWriter struct{ n atomic.Int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n.Add(int64(len(p))); return len(p), nil }

func TestXLSXIsWrittenOutWhileTheRowsAreRead(t *testing.T) {
	const rows = 30_000
	var out countingWriter
	var atRow atomic.Int64 // bytes written by the time the 25,000th enquiry was read
	base := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	l := &enquiryList{n: rows, made: func(i int) crm.Enquiry {
		if i == 25_000 {
			atRow.Store(out.n.Load())
		}
		at := base.Add(time.Duration(i) * time.Minute)
		return crm.Enquiry{Reference: fmt.Sprintf("ROW-%05d", i), Status: crm.StatusNew, Name: fmt.Sprintf("Patient %d", i),
			Email: fmt.Sprintf("p%d@example.org", i), Message: "A message long enough to look like one, about " + strconv.Itoa(i),
			CreatedAt: at, ConsentAt: at}
	}}
	exp, err := newServiceOf(l, xlsx.Write).OpenExport(context.Background(), crm.System, report.Filter{}, report.XLSX)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exp.WriteTo(&out); err != nil || exp.Rows() != rows {
		t.Fatalf("%d rows, %v", exp.Rows(), err)
	}
	// Five sixths of the rows read: most of the file must have gone out already, not be held for the end.
	if total, early := out.n.Load(), atRow.Load(); early < total/2 {
		t.Errorf("%d of %d bytes written when the 25,000th of %d rows was read: the sheet is held, not streamed",
			early, total, rows)
	}
}
