package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// bom is the UTF-8 byte-order mark: without it Excel reads a CSV file in the computer's legacy code page and
// "Zoë Ångström" comes out as "ZoÃ« Ã…ngstrÃ¶m".
const bom = "\uFEFF"

// Neutralise returns s safe to put in a spreadsheet cell (OWASP "CSV injection", CWE-1236): when it begins with a
// character that Excel or LibreOffice read as the start of a formula — =, +, -, @, a tab or a carriage return,
// or the full-width ＝ ＋ － ＠ that some locales convert — it gets a leading apostrophe, and is otherwise kept
// exactly. There are no exceptions, so the rule can be undone mechanically: a cell that starts with ' followed
// by one of those characters had the apostrophe added.
//
// Phone numbers are stored in E.164 ("+447700900123") and so always get the apostrophe: "'+447700900123".
// Without it Excel would read the number as the formula =+447700900123 and show 4.477E+11, losing the plus;
// with it the cell is text and every digit is kept. (The Excel export needs none of this: its cells are typed
// text, never formulas.)
func Neutralise(s string) string {
	if s == "" {
		return s
	}
	r, _ := utf8.DecodeRuneInString(s)
	switch r {
	case '=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠':
		return "'" + s
	}
	return s
}

// lineBreaks makes every line break in s a "\n", which encoding/csv (UseCRLF) writes as CRLF, as RFC 4180
// asks; a lone carriage return would otherwise be dropped. (Intake stores messages with "\n" already.)
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// csvText is a text cell as CSV holds it: neutralised, with its line breaks as RFC 4180 writes them.
func csvText(s string) string {
	s = Neutralise(s)
	if strings.IndexByte(s, '\r') >= 0 {
		s = lineBreaks.Replace(s)
	}
	return s
}

// csvRecord formats one row of cells for CSV into rec.
func csvRecord(row []Cell, rec []string, loc *time.Location) {
	for i, c := range row {
		switch c.Kind {
		case CellText, CellDate:
			rec[i] = csvText(c.Text)
		case CellTime:
			rec[i] = c.At.In(loc).Format(isoLayout)
		case CellHours:
			rec[i] = Neutralise(formatHours(c.Hours))
		case CellInt:
			rec[i] = c.Text
		default:
			rec[i] = ""
		}
	}
}

// newCSV starts a CSV file on w: the byte-order mark, then RFC 4180 records with CRLF line ends.
func newCSV(w io.Writer) (*csv.Writer, error) {
	if _, err := io.WriteString(w, bom); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return cw, nil
}

// flushCSV pushes the CSV writer's buffer to w, and w's own buffer to the client when it has one.
func flushCSV(cw *csv.Writer, w io.Writer) error {
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	if f, ok := w.(flusher); ok {
		return f.Flush()
	}
	return nil
}

// csvFlushEvery is how many rows go out between flushes, so a slow reader still sees steady progress.
const csvFlushEvery = 4096

// writeCSV writes the header and every enquiry from src; it returns the rows written.
func writeCSV(w io.Writer, src *source, loc *time.Location) (int, error) {
	cw, err := newCSV(w)
	if err != nil {
		return 0, err
	}
	columns := src.columns()
	if err := cw.Write(columns); err != nil {
		return 0, err
	}
	if err := flushCSV(cw, w); err != nil { // the download starts now, before the first row is read
		return 0, err
	}
	row := make([]Cell, len(columns))
	rec := make([]string, len(columns))
	n := 0
	for {
		_, ok, err := src.next()
		if err != nil {
			return n, err
		}
		if !ok {
			break
		}
		cells(src, row)
		csvRecord(row, rec, loc)
		if err := cw.Write(rec); err != nil {
			return n, err
		}
		n++
		if n%csvFlushEvery == 0 {
			if err := flushCSV(cw, w); err != nil {
				return n, err
			}
		}
	}
	return n, flushCSV(cw, w)
}

// WriteTableCSV writes a report table as a CSV file (byte-order mark, header row, RFC 4180, neutralised cells).
func WriteTableCSV(w io.Writer, t Table) error {
	cw, err := newCSV(w)
	if err != nil {
		return err
	}
	rec := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		rec[i] = csvText(c)
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	rows := t.Rows
	if t.Footer != nil {
		rows = append(rows[:len(rows):len(rows)], t.Footer)
	}
	for _, r := range rows {
		if len(r) != len(t.Columns) {
			return fmt.Errorf("table %s: a row of %d cells under %d columns", t.Name, len(r), len(t.Columns))
		}
		for i, c := range r {
			rec[i] = csvText(c)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	return flushCSV(cw, w)
}
