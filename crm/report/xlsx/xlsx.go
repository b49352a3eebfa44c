// Package xlsx writes Frontdesk's Excel exports: one sheet, "Enquiries", with typed dates and numbers and a
// frozen header row, streamed onto the response or file as the rows are read. cmd wires Write into the report
// service (report.Config.XLSX), so nothing else — not db, not web — depends on it.
//
// The workbook is written here rather than with a spreadsheet library, because an export must stream: the
// package is a zip file whose sheet is XML, and the sheet is written a row at a time straight into its
// compressed zip entry, which goes out as it fills. Text is written as inline strings, so there is no shared
// strings table to hold (a million patients' names and messages are nearly all different); the other parts —
// workbook, styles, relationships — are small and fixed. What is held is one row's XML, the compressor's
// window and the zip writer's buffer: well under a megabyte, whatever the number of rows. The tests read the
// files back with excelize, the library the exports were written with before.
package xlsx

import (
	"archive/zip"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/frontdesk/frontdesk/crm/report"
	"github.com/klauspost/compress/flate"
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
	12, 7, 8,
}

// The cell styles, as indexes into styles.xml's cellXfs.
const (
	styleHeader   = 1 // bold, shaded, a line below, top-aligned
	styleDateTime = 2 // yyyy-mm-dd hh:mm
	styleDate     = 3 // yyyy-mm-dd
	styleHours    = 4 // 0.00
)

// maxCellChars is the most UTF-16 units a cell holds; longer text is cut there.
const maxCellChars = 32767

// rowFlush is how many bytes of sheet XML are gathered before they go to the compressor.
const rowFlush = 64 << 10

// Write writes the export s as a workbook onto w and returns how many rows it wrote; it is a report.SheetWriter.
// Times are written as the clinic's wall-clock time (in loc) in date cells; the header names the columns as the
// CSV does. It fails past report.MaxXLSXRows rows, the most a sheet holds, and flushes w at the end when w can
// Flush.
func Write(w io.Writer, s *report.Sheet, loc *time.Location) (int, error) {
	zw := zip.NewWriter(w)
	// Deflating the sheet's XML (≈ 1.2 KB a row) is the largest part of an export's work: klauspost/compress's
	// deflate at its fastest level does it about three times as fast as compress/flate's BestSpeed, to the same
	// size (measured on an export's sheet: 60 MB to 8 MB, 130–150 MB/s against 40 MB/s). The XML repeats itself
	// enough (tags, cell references, statuses) that the fastest level loses nothing worth the time.
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	modified := time.Now()
	for _, p := range fixedParts {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: p.name, Method: zip.Deflate, Modified: modified})
		if err != nil {
			return 0, err
		}
		if _, err := io.WriteString(f, p.body); err != nil {
			return 0, err
		}
	}
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate, Modified: modified})
	if err != nil {
		return 0, err
	}
	columns := s.Columns()
	sw := &sheetWriter{out: f, loc: loc, buf: make([]byte, 0, rowFlush+8192), refs: columnRefs(len(columns))}
	sw.start(len(columns))
	sw.header(columns)
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
		sw.row(n+2, row)
		n++
		if len(sw.buf) >= rowFlush {
			if err := sw.flush(); err != nil {
				return n, err
			}
		}
	}
	sw.buf = append(sw.buf, `</sheetData></worksheet>`...)
	if err := sw.flush(); err != nil {
		return n, err
	}
	if err := zw.Close(); err != nil {
		return n, err
	}
	if fl, ok := w.(interface{ Flush() error }); ok {
		return n, fl.Flush()
	}
	return n, nil
}

// sheetWriter writes the sheet's XML: rows are appended to buf, which goes to out (the zip entry) in pieces of
// about rowFlush bytes.
type sheetWriter struct {
	out  io.Writer
	loc  *time.Location
	buf  []byte
	refs [][]byte // each column's letters
}

func (sw *sheetWriter) flush() error {
	_, err := sw.out.Write(sw.buf)
	sw.buf = sw.buf[:0]
	return err
}

// start appends the worksheet's opening: the frozen header row, the column widths, and the start of the data.
func (sw *sheetWriter) start(columns int) {
	b := append(sw.buf, xmlHeader+`<worksheet xmlns="`+nsMain+`" xmlns:r="`+nsRelationships+`">`+
		`<sheetViews><sheetView workbookViewId="0">`+
		`<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>`+
		`<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>`+
		`</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>`...)
	for i := range columns {
		width := float64(screeningWidth)
		if i < len(columnWidths) {
			width = columnWidths[i]
		}
		b = append(b, `<col min="`...)
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, `" max="`...)
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, `" width="`...)
		b = strconv.AppendFloat(b, width, 'f', -1, 64)
		b = append(b, `" customWidth="1"/>`...)
	}
	sw.buf = append(b, `</cols><sheetData>`...)
}

// header appends the header row: the column names, styled.
func (sw *sheetWriter) header(columns []string) {
	sw.buf = append(sw.buf, `<row r="1">`...)
	for i, c := range columns {
		sw.text(i, 1, styleHeader, c)
	}
	sw.buf = append(sw.buf, `</row>`...)
}

// row appends row r: each cell as its kind, empty cells left out.
func (sw *sheetWriter) row(r int, cells []report.Cell) {
	sw.buf = append(sw.buf, `<row r="`...)
	sw.buf = strconv.AppendInt(sw.buf, int64(r), 10)
	sw.buf = append(sw.buf, `">`...)
	for i, c := range cells {
		switch c.Kind {
		case report.CellText:
			if c.Text != "" {
				sw.text(i, r, 0, c.Text)
			}
		case report.CellTime:
			sw.moment(i, r, styleDateTime, c.At.In(sw.loc))
		case report.CellDate:
			if d, err := time.Parse("2006-01-02", c.Text); err == nil {
				sw.moment(i, r, styleDate, d)
			} else {
				sw.text(i, r, 0, c.Text)
			}
		case report.CellHours:
			if math.IsNaN(c.Hours) || math.IsInf(c.Hours, 0) {
				sw.text(i, r, styleHours, fmt.Sprint(c.Hours))
				break
			}
			sw.number(i, r, styleHours)
			sw.buf = appendNumber(sw.buf, c.Hours)
			sw.buf = append(sw.buf, `</v></c>`...)
		case report.CellInt:
			if _, err := strconv.Atoi(c.Text); err == nil {
				sw.number(i, r, 0)
				sw.buf = append(sw.buf, c.Text...)
				sw.buf = append(sw.buf, `</v></c>`...)
			} else {
				sw.text(i, r, 0, c.Text)
			}
		}
	}
	sw.buf = append(sw.buf, `</row>`...)
}

// open appends a cell's start tag up to its type: <c r="B7" s="2".
func (sw *sheetWriter) open(col, r, style int) {
	b := append(sw.buf, `<c r="`...)
	b = append(b, sw.refs[col]...)
	b = strconv.AppendInt(b, int64(r), 10)
	b = append(b, '"')
	if style != 0 {
		b = append(b, ` s="`...)
		b = strconv.AppendInt(b, int64(style), 10)
		b = append(b, '"')
	}
	sw.buf = b
}

// number appends a number cell's start, up to its value; the caller appends the value and </v></c>.
func (sw *sheetWriter) number(col, r, style int) {
	sw.open(col, r, style)
	sw.buf = append(sw.buf, `><v>`...)
}

// text appends a text cell: an inline string, so never a formula whatever it starts with, cut to the most a cell
// holds. Leading or trailing white space is kept (xml:space="preserve").
func (sw *sheetWriter) text(col, r, style int, s string) {
	if len(s) > maxCellChars { // a byte never makes more than one UTF-16 unit, so only long text can be too long
		s = truncateUTF16(s, maxCellChars)
	}
	sw.open(col, r, style)
	sw.buf = append(sw.buf, ` t="inlineStr"><is><t`...)
	if s != "" && (isSpaceByte(s[0]) || isSpaceByte(s[len(s)-1])) {
		sw.buf = append(sw.buf, ` xml:space="preserve"`...)
	}
	sw.buf = append(sw.buf, '>')
	sw.buf = appendEscaped(sw.buf, s)
	sw.buf = append(sw.buf, `</t></is></c>`...)
}

// moment appends t's wall-clock time as an Excel date: days since the start of 1900, as Excel counts them.
func (sw *sheetWriter) moment(col, r, style int, t time.Time) {
	_, offset := t.Zone()
	wall := t.Add(time.Duration(offset) * time.Second).UTC()
	serial, ok := excelSerial(wall)
	if !ok { // before Excel's first day: written as text, as excelize did
		sw.text(col, r, style, wall.Format(time.RFC3339Nano))
		return
	}
	sw.number(col, r, style)
	sw.buf = strconv.AppendFloat(sw.buf, serial, 'f', -1, 64)
	sw.buf = append(sw.buf, `</v></c>`...)
}

// columnRefs are the letters of the first n columns: A … Z, AA, AB, …
func columnRefs(n int) [][]byte {
	refs := make([][]byte, n)
	for i := range refs {
		var name []byte
		for c := i + 1; c > 0; c = (c - 1) / 26 {
			name = append([]byte{byte('A' + (c-1)%26)}, name...)
		}
		refs[i] = name
	}
	return refs
}

// The package's fixed parts.
const (
	xmlHeader       = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	nsMain          = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
	nsRelationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	nsPackageRels   = "http://schemas.openxmlformats.org/package/2006/relationships"
)

var fixedParts = []struct{ name, body string }{
	{"[Content_Types].xml", xmlHeader + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
		`<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>` +
		`</Types>`},
	{"_rels/.rels", xmlHeader + `<Relationships xmlns="` + nsPackageRels + `">` +
		`<Relationship Id="rId1" Type="` + nsRelationships + `/officeDocument" Target="xl/workbook.xml"/>` +
		`<Relationship Id="rId2" Type="` + nsRelationships + `/extended-properties" Target="docProps/app.xml"/>` +
		`</Relationships>`},
	{"docProps/app.xml", xmlHeader + `<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">` +
		`<Application>Frontdesk</Application></Properties>`},
	{"xl/workbook.xml", xmlHeader + `<workbook xmlns="` + nsMain + `" xmlns:r="` + nsRelationships + `">` +
		`<bookViews><workbookView/></bookViews>` +
		`<sheets><sheet name="` + SheetName + `" sheetId="1" r:id="rId1"/></sheets></workbook>`},
	{"xl/_rels/workbook.xml.rels", xmlHeader + `<Relationships xmlns="` + nsPackageRels + `">` +
		`<Relationship Id="rId1" Type="` + nsRelationships + `/worksheet" Target="worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId2" Type="` + nsRelationships + `/styles" Target="styles.xml"/>` +
		`</Relationships>`},
	{"xl/styles.xml", xmlHeader + `<styleSheet xmlns="` + nsMain + `">` +
		`<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/><numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts>` +
		`<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>` +
		`<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>` +
		`<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>` +
		`<fill><patternFill patternType="solid"><fgColor rgb="FFDDE5EC"/><bgColor indexed="64"/></patternFill></fill></fills>` +
		`<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>` +
		`<border><left/><right/><top/><bottom style="thin"><color rgb="FF55606E"/></bottom><diagonal/></border></borders>` +
		`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
		`<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
		`<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
		`<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
		`<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
		`<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>` +
		`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`},
}
