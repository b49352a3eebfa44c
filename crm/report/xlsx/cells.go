package xlsx

import (
	"bytes"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// The cells' values as the sheet's XML writes them: numbers, Excel's serial dates, and text escaped and cut to
// what a cell holds.

// appendNumber appends v as excelize wrote a number: in decimal, cut (not rounded) to the 15 significant
// digits Excel keeps.
func appendNumber(dst []byte, v float64) []byte {
	start := len(dst)
	dst = strconv.AppendFloat(dst, v, 'f', -1, 64)
	if math.Abs(v) == math.MaxFloat64 {
		return dst
	}
	s := dst[start:]
	decimal := bytes.IndexByte(s, '.')
	significant := 0
	for i, c := range s {
		if c < '0' || c > '9' || significant == 0 && c == '0' {
			continue
		}
		if significant++; significant <= 15 {
			continue
		}
		if decimal >= 0 && i > decimal {
			return bytes.TrimSuffix(dst[:start+i], []byte("."))
		}
		if decimal < 0 {
			decimal = len(s)
		}
		for ; i < decimal; i++ {
			s[i] = '0'
		}
		return dst[:start+decimal]
	}
	return dst
}

// excelSerial is t (a wall-clock time, in UTC) as an Excel date serial number, computed as excelize computes
// it, so a time is the same number it always was; false before 31 December 1899.
func excelSerial(t time.Time) (float64, bool) {
	if t.Before(excelEpoch) {
		return 0, false
	}
	const day = 24 * time.Hour
	diff := t.Sub(excelEpoch) // at most 292 years: every date a sheet can show
	rem := diff % day
	serial := float64(diff-rem)/float64(day) + float64(rem)/float64(day)
	// Excel counts a 29 February 1900 that never was (as Lotus 1-2-3 did), so later days are one higher.
	if t.After(excelLeapBug) {
		serial++
	}
	return serial, serial > 0
}

var (
	excelEpoch   = time.Date(1899, time.December, 31, 0, 0, 0, 0, time.UTC)
	excelLeapBug = time.Date(1900, time.March, 1, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond)
)

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// truncateUTF16 cuts s after n UTF-16 units, at a character boundary.
func truncateUTF16(s string, n int) string {
	units := 0
	for i, r := range s {
		if units += utf16.RuneLen(r); units > n {
			return s[:i]
		}
	}
	return s
}

// appendEscaped appends s as XML character data: &, <, >, quotes, tab and carriage return escaped (a line feed
// is kept as it is), any character XML cannot hold, or byte that is not UTF-8, as U+FFFD; and text that
// Excel would read as an escaped character (_x0041_) escaped itself, so it comes back as it was written.
func appendEscaped(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		for i < len(s) && plainXML[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c >= utf8.RuneSelf {
			r, width := utf8.DecodeRuneInString(s[i:])
			if (r == utf8.RuneError && width == 1) || !inCharacterRange(r) {
				dst = append(dst, s[last:i]...)
				dst = append(dst, "\uFFFD"...)
				last = i + width
			}
			i += width
			continue
		}
		var esc string
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '"':
			esc = "&#34;"
		case c == '\'':
			esc = "&#39;"
		case c == '\t':
			esc = "&#x9;"
		case c == '\r':
			esc = "&#xD;"
		case c == '\n':
		case c < 0x20:
			esc = "\uFFFD"
		case c == '_' && escapeLike(s[i:]):
			esc = "_x005F"
		default:
			i++
			continue
		}
		if esc == "" {
			i++
			continue
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		if esc == "_x005F" { // the underscore is kept, after the escape of itself
			last = i
		} else {
			last = i + 1
		}
		i++
	}
	return append(dst, s[last:]...)
}

// plainXML are the bytes appendEscaped copies as they are: printable ASCII but for & < > " ' and _.
var plainXML = func() (set [256]bool) {
	for c := 0x20; c < 0x7F; c++ {
		set[c] = true
	}
	for _, c := range []byte("&<>\"'_") {
		set[c] = false
	}
	set['\n'] = true
	return set
}()

// escapeLike reports whether s starts with _xHHHH_, which Excel reads as the character U+HHHH.
func escapeLike(s string) bool {
	if len(s) < 7 || s[1] != 'x' || s[6] != '_' {
		return false
	}
	for _, c := range []byte(s[2:6]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// inCharacterRange reports whether XML 1.0 allows r in character data.
func inCharacterRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
