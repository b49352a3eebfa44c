package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
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
	if formulaStart(s) {
		return "'" + s
	}
	return s
}

// formulaStart reports whether s begins with a character that starts a formula (see Neutralise).
func formulaStart(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	case 0xEF: // ＝ U+FF1D, ＋ U+FF0B, － U+FF0D, ＠ U+FF20 are EF BC 9D, EF BC 8B, EF BC 8D, EF BC A0
		return len(s) >= 3 && s[1] == 0xBC && (s[2] == 0x9D || s[2] == 0x8B || s[2] == 0x8D || s[2] == 0xA0)
	}
	return false
}

// CSV is written by hand rather than with encoding/csv, a cell at a time into one reused buffer: a million rows
// through encoding/csv cost a string per cell on top of the writer's own checks. The bytes are exactly those
// encoding/csv writes with UseCRLF for the cells the earlier code gave it (see FuzzCSVCellMatchesEncodingCSV):
//
//   - a field is quoted when it holds a quote, a comma, a CR or an LF, is `\.`, or begins with a space;
//   - inside quotes a quote is doubled and a line break is written CRLF;
//   - a text cell is first neutralised, and each of its line breaks (CRLF, a lone CR or LF) is one CRLF, as
//     RFC 4180 asks — a lone carriage return would otherwise be dropped. (Intake stores messages with "\n".)

// appendCSVText appends a text cell: neutralised, with its line breaks as RFC 4180 writes them, quoted as
// needed.
func appendCSVText(dst []byte, s string) []byte {
	if formulaStart(s) { // the apostrophe first, so only the characters inside can call for quotes
		if quoteCalls.index(s) < 0 {
			return append(append(dst, '\''), s...)
		}
		dst = append(dst, '"', '\'')
		return appendQuoted(dst, s, true)
	}
	if !needsQuotes(s) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	return appendQuoted(dst, s, true)
}

// appendCSVField appends s as encoding/csv writes it, unchanged but for the quoting (a carriage return inside
// quotes is dropped, as encoding/csv does with UseCRLF).
func appendCSVField(dst []byte, s string) []byte {
	if !needsQuotes(s) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	return appendQuoted(dst, s, false)
}

// quoteCalls are the bytes that make a field quoted; escaped those written differently inside quotes.
var quoteCalls, escaped = newByteSet("\"\r\n,"), newByteSet("\"\r\n")

// byteSet is a few bytes, to find in text.
type byteSet struct {
	chars string
	in    [256]bool
}

func newByteSet(chars string) *byteSet {
	set := &byteSet{chars: chars}
	for i := range len(chars) {
		set.in[chars[i]] = true
	}
	return set
}

// index is the index of the first byte of s in set, or -1. Short text is looked through a byte at a time;
// longer text (a message) with strings.IndexByte for each byte of the set, which compares many bytes at once:
// three times as fast for a message of 150 bytes as a byte at a time, and strings.IndexAny builds its set on
// every call.
func (set *byteSet) index(s string) int {
	if len(s) < 32 {
		for i := range len(s) {
			if set.in[s[i]] {
				return i
			}
		}
		return -1
	}
	first := -1
	for i := range len(set.chars) {
		in := s
		if first >= 0 {
			in = s[:first]
		}
		if j := strings.IndexByte(in, set.chars[i]); j >= 0 {
			first = j
		}
	}
	return first
}

// needsQuotes is encoding/csv's rule for a comma-separated field.
func needsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` || quoteCalls.index(s) >= 0 {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// appendQuoted appends the rest of a quoted field after its opening quote: s with quotes doubled and LF as
// CRLF, then the closing quote. With text a CR, or CRLF, is one CRLF too; without it a CR is dropped.
func appendQuoted(dst []byte, s string, text bool) []byte {
	for len(s) > 0 {
		i := escaped.index(s)
		if i < 0 {
			dst = append(dst, s...)
			break
		}
		dst = append(dst, s[:i]...)
		switch s[i] {
		case '"':
			dst = append(dst, '"', '"')
		case '\n':
			dst = append(dst, '\r', '\n')
		case '\r':
			if text {
				dst = append(dst, '\r', '\n')
				if i+1 < len(s) && s[i+1] == '\n' {
					i++
				}
			}
		}
		s = s[i+1:]
	}
	return append(dst, '"')
}

// appendCSVRow appends one row of cells and its CRLF; times are written in z's zone.
func appendCSVRow(dst []byte, row []Cell, z *zoneCache) []byte {
	for i, c := range row {
		if i > 0 {
			dst = append(dst, ',')
		}
		switch c.Kind {
		case CellText, CellDate:
			dst = appendCSVText(dst, c.Text)
		case CellTime:
			dst = z.appendISO(dst, c.At)
		case CellHours:
			var num [32]byte
			b := strconv.AppendFloat(num[:0], c.Hours, 'f', 2, 64)
			if b[0] == '-' { // neutralised, as every cell that could start a formula
				dst = append(dst, '\'')
			}
			dst = append(dst, b...)
		case CellInt:
			dst = appendCSVField(dst, c.Text)
		}
	}
	return append(dst, '\r', '\n')
}

// zoneCache finds the clinic's offset from UTC for a time, remembering the span of time the last one holds
// for: the rows come in created_at order, so their times nearly always fall in the span of the row before, and
// finding it in the zone's table of transitions every time (for the date, the clock and the offset) was 4 % of
// an export's CPU.
type zoneCache struct {
	loc        *time.Location
	start, end int64 // the span, in Unix seconds, [start, end)
	offset     int   // seconds east of UTC in it
}

func newZoneCache(loc *time.Location) *zoneCache { return &zoneCache{loc: loc, start: 1, end: 0} }

// offset is loc's offset from UTC at t, in seconds.
func (z *zoneCache) offsetAt(t time.Time) int {
	if sec := t.Unix(); sec < z.start || sec >= z.end {
		t = t.In(z.loc)
		_, z.offset = t.Zone()
		start, end := t.ZoneBounds()
		z.start, z.end = math.MinInt64, math.MaxInt64
		if !start.IsZero() {
			z.start = start.Unix()
		}
		if !end.IsZero() {
			z.end = end.Unix()
		}
	}
	return z.offset
}

// appendISO appends t in z's zone as t.In(loc).Format(isoLayout) does, without parsing the layout for every
// cell.
func (z *zoneCache) appendISO(dst []byte, t time.Time) []byte {
	offset := z.offsetAt(t)
	wall := t.UTC().Add(time.Duration(offset) * time.Second) // the clinic's clock, read as UTC
	year, month, day := wall.Date()
	if year < 0 || year > 9999 {
		return t.In(z.loc).AppendFormat(dst, isoLayout)
	}
	hour, minute, sec := wall.Clock()
	dst = append(dst, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-')
	dst = append2(dst, int(month))
	dst = append(dst, '-')
	dst = append2(dst, day)
	dst = append(dst, 'T')
	dst = append2(dst, hour)
	dst = append(dst, ':')
	dst = append2(dst, minute)
	dst = append(dst, ':')
	dst = append2(dst, sec)
	zone := offset / 60 // whole minutes, as Format writes -07:00
	if zone < 0 {
		dst = append(dst, '-')
		zone = -zone
	} else {
		dst = append(dst, '+')
	}
	dst = append2(dst, zone/60)
	dst = append(dst, ':')
	return append2(dst, zone%60)
}

// append2 appends n (0–99) as two digits.
func append2(dst []byte, n int) []byte { return append(dst, byte('0'+n/10), byte('0'+n%10)) }

// csvBuffer is how many bytes of rows are gathered before they are written on.
const csvBuffer = 64 << 10

// csvFlushEvery is how many rows go out between flushes, so a slow reader still sees steady progress.
const csvFlushEvery = 4096

// flushTo writes buf to w, and pushes w's own buffer to the client when it has one and flush is set.
func flushTo(w io.Writer, buf []byte, flush bool) error {
	if len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	if f, ok := w.(flusher); ok && flush {
		return f.Flush()
	}
	return nil
}

// csvHeader appends the byte-order mark and the header row: the column names as they are, or as text cells.
func csvHeader(dst []byte, columns []string, text bool) []byte {
	dst = append(dst, bom...)
	for i, c := range columns {
		if i > 0 {
			dst = append(dst, ',')
		}
		if text {
			dst = appendCSVText(dst, c)
		} else {
			dst = appendCSVField(dst, c)
		}
	}
	return append(dst, '\r', '\n')
}

// writeCSV writes the header and every enquiry from src; it returns the rows written.
func writeCSV(w io.Writer, src *source, loc *time.Location) (int, error) {
	columns := src.columns()
	buf := csvHeader(make([]byte, 0, csvBuffer+4096), columns, false)
	if err := flushTo(w, buf, true); err != nil { // the download starts now, before the first row is read
		return 0, err
	}
	buf = buf[:0]
	row := make([]Cell, len(columns))
	zone := newZoneCache(loc)
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
		buf = appendCSVRow(buf, row, zone)
		n++
		if flush := n%csvFlushEvery == 0; flush || len(buf) >= csvBuffer {
			if err := flushTo(w, buf, flush); err != nil {
				return n, err
			}
			buf = buf[:0]
		}
	}
	return n, flushTo(w, buf, true)
}

// WriteTableCSV writes a report table as a CSV file (byte-order mark, header row, RFC 4180, neutralised cells).
func WriteTableCSV(w io.Writer, t Table) error {
	buf := csvHeader(nil, t.Columns, true)
	rows := t.Rows
	if t.Footer != nil {
		rows = append(rows[:len(rows):len(rows)], t.Footer)
	}
	for _, r := range rows {
		if len(r) != len(t.Columns) {
			return fmt.Errorf("table %s: a row of %d cells under %d columns", t.Name, len(r), len(t.Columns))
		}
		for i, c := range r {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendCSVText(buf, c)
		}
		buf = append(buf, '\r', '\n')
	}
	return flushTo(w, buf, true)
}
