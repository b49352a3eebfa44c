// Package xlsx writes Frontdesk's Excel exports: one sheet, "Enquiries", with typed dates and numbers and a
// frozen header row, streamed onto the response or file as the rows are read. It is the only package that
// imports excelize; cmd wires Write into the report service (report.Config.XLSX), so nothing else — not db, not
// web — depends on it.
package xlsx

import (
	"archive/zip"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/frontdesk/frontdesk/crm/report"
	"github.com/xuri/excelize/v2"
)

var _ report.SheetWriter = Write

// SheetName is the name of the Excel export's one sheet.
const SheetName = "Enquiries"

// screeningWidth is the Excel width of every screening column.
const screeningWidth = 11

// columnWidths are the Excel column widths (in characters) of the enquiry's own columns, the first of
// report.Columns, in order; the screening columns that follow are screeningWidth wide.
var columnWidths = []float64{
	12, 17, 18, 24, 30, 16, 12, 14,
	12, 14, 14, 18, 22, 28, 9,
	17, 12, 30, 12, 60, 17,
	12, 7,
}

// xlsxStyles are the cell styles of the export.
type xlsxStyles struct {
	header, dateTime, date, hours int
}

func newXLSXStyles(f *excelize.File) (xlsxStyles, error) {
	var st xlsxStyles
	var err error
	dateTime, date, hours := "yyyy-mm-dd hh:mm", "yyyy-mm-dd", "0.00"
	if st.header, err = f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE5EC"}},
		Border:    []excelize.Border{{Type: "bottom", Color: "55606E", Style: 1}},
		Alignment: &excelize.Alignment{Vertical: "top"},
	}); err != nil {
		return st, err
	}
	if st.dateTime, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dateTime}); err != nil {
		return st, err
	}
	if st.date, err = f.NewStyle(&excelize.Style{CustomNumFmt: &date}); err != nil {
		return st, err
	}
	if st.hours, err = f.NewStyle(&excelize.Style{CustomNumFmt: &hours}); err != nil {
		return st, err
	}
	return st, nil
}

// Write writes the export s as a workbook onto w and returns how many rows it wrote; it is a report.SheetWriter.
// It uses excelize's StreamWriter: rows go to the stream writer's buffer (spilled to a temporary file past
// 16 MB, removed at the end), and the finished workbook is zipped straight onto w — excelize's own Write would
// first build the whole zip in memory. Times are written as the clinic's wall-clock time (in loc) in date cells;
// the header names the columns as the CSV does. It fails past report.MaxXLSXRows rows, the most a sheet holds,
// and flushes w at the end when w can Flush.
func Write(w io.Writer, s *report.Sheet, loc *time.Location) (int, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetName); err != nil {
		return 0, err
	}
	st, err := newXLSXStyles(f)
	if err != nil {
		return 0, fmt.Errorf("xlsx styles: %w", err)
	}
	sw, err := f.NewStreamWriter(SheetName)
	if err != nil {
		return 0, err
	}
	columns := s.Columns()
	for i, width := range columnWidths {
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return 0, err
		}
	}
	if err := sw.SetColWidth(len(columnWidths)+1, len(columns), screeningWidth); err != nil {
		return 0, err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return 0, err
	}
	header := make([]any, len(columns))
	for i, c := range columns {
		header[i] = excelize.Cell{StyleID: st.header, Value: c}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return 0, err
	}
	values := make([]any, len(columns))
	n := 0
	for {
		row, ok, err := s.Next()
		if err != nil {
			return n, err
		}
		if !ok {
			break
		}
		if n >= report.MaxXLSXRows {
			return n, fmt.Errorf("more than %d rows: too many for an Excel sheet", report.MaxXLSXRows)
		}
		for i, c := range row {
			values[i] = xlsxValue(c, st, loc)
		}
		name, err := excelize.CoordinatesToCellName(1, n+2)
		if err != nil {
			return n, err
		}
		if err := sw.SetRow(name, values); err != nil {
			return n, err
		}
		n++
	}
	if err := sw.Flush(); err != nil {
		return n, err
	}
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(w) })
	if err := f.Write(io.Discard); err != nil {
		return n, err
	}
	if fl, ok := w.(interface{ Flush() error }); ok {
		return n, fl.Flush()
	}
	return n, nil
}

// xlsxValue is a cell as excelize writes it: text as text (never a formula), times in the clinic's wall-clock
// time (excelize writes a time's own zone's clock), dates as dates, hours as a number.
func xlsxValue(c report.Cell, st xlsxStyles, loc *time.Location) any {
	switch c.Kind {
	case report.CellText:
		if c.Text == "" {
			return nil
		}
		return c.Text
	case report.CellTime:
		return excelize.Cell{StyleID: st.dateTime, Value: c.At.In(loc)}
	case report.CellDate:
		d, err := time.Parse("2006-01-02", c.Text)
		if err != nil {
			return c.Text
		}
		return excelize.Cell{StyleID: st.date, Value: d}
	case report.CellHours:
		return excelize.Cell{StyleID: st.hours, Value: c.Hours}
	case report.CellInt:
		n, err := strconv.Atoi(c.Text)
		if err != nil {
			return c.Text
		}
		return n
	}
	return nil
}
