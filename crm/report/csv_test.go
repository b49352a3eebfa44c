package report

import (
	"bytes"
	"encoding/csv"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// The CSV writer writes by hand what encoding/csv wrote before; these tests hold it to encoding/csv's bytes.

// lineBreaks and referenceText are the earlier code's text cell: neutralised, then every line break made "\n"
// for encoding/csv to write as CRLF.
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

func referenceText(s string) string {
	s = Neutralise(s)
	if strings.IndexByte(s, '\r') >= 0 {
		s = lineBreaks.Replace(s)
	}
	return s
}

// referenceCSV is what encoding/csv (UseCRLF) writes for one record.
func referenceCSV(t testing.TB, rec []string) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	return b.String()
}

// csvSeeds are cells worth checking: quotes, commas, each line break, leading spaces of several kinds, \.,
// formula starts, full-width signs, and text that is not UTF-8.
var csvSeeds = []string{
	"", "plain", "Zoë Ångström", "a,b", `say "hi"`, "\"", "line\nbreak", "cr\ronly", "crlf\r\nend", "\r\n", "\n",
	"\r", " lead", "\tTabbed", "\u00a0nbsp", "\u3000ideographic", "\u2028sep", `\.`, `\.x`, "=1+1", "+447700900123",
	"-2", "@SUM(A1)", "＝1", "＋1", "－1", "＠x", "\xef\xbc", "\xef\xbc\x9d", "\xff\xfe", "'quoted", "trailing ",
	"x\r\r\ny", "\"\r\n\",", "last\r",
}

func checkCSVCell(t *testing.T, s string) {
	t.Helper()
	if got, want := string(appendCSVText(nil, s))+"\r\n", referenceCSV(t, []string{referenceText(s)}); got != want {
		t.Errorf("text %q: %q, encoding/csv %q", s, got, want)
	}
	if got, want := string(appendCSVField(nil, s))+"\r\n", referenceCSV(t, []string{s}); got != want {
		t.Errorf("field %q: %q, encoding/csv %q", s, got, want)
	}
}

func TestCSVCellsAreWrittenAsEncodingCSVWritesThem(t *testing.T) {
	for _, s := range csvSeeds {
		checkCSVCell(t, s)
	}
	// A whole row, every kind of cell, against the earlier record of strings.
	at := time.Date(2026, 3, 29, 0, 59, 59, 0, time.UTC)
	row := []Cell{text("A,B"), moment(at), {Kind: CellHours, Hours: -0.001}, {Kind: CellHours, Hours: 5.5},
		{Kind: CellInt, Text: "12"}, {Kind: CellEmpty}, {Kind: CellDate, Text: "1990-04-05"}, text("=cmd\r\nx"),
		moment(at.Add(time.Hour))}
	want := referenceCSV(t, []string{"A,B", "2026-03-29T00:59:59+00:00", "'-0.00", "5.50", "12", "", "1990-04-05",
		"'=cmd\nx", "2026-03-29T02:59:59+01:00"})
	if got := string(appendCSVRow(nil, row, newZoneCache(london))); got != want {
		t.Errorf("row:\n%q\nwant\n%q", got, want)
	}
}

func FuzzCSVCellMatchesEncodingCSV(f *testing.F) {
	for _, s := range csvSeeds {
		f.Add(s)
	}
	f.Fuzz(checkCSVCell)
}

func TestISOTimesAreWrittenAsFormatWritesThem(t *testing.T) {
	var zones []*time.Location
	for _, name := range []string{"UTC", "Europe/London", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns",
		"Pacific/Chatham", "Australia/Adelaide", "America/Los_Angeles"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, loc)
	}
	// Local mean time before 1847 in London was 1 minute 15 seconds behind GMT: Format drops the seconds.
	r := rand.New(rand.NewPCG(13, 1))
	times := []time.Time{time.Date(1800, 1, 1, 12, 0, 0, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC)}
	// London's and Berlin's clocks change at 01:00 UTC: the second before, the moment, and just after.
	for _, change := range []time.Time{time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC)} {
		times = append(times, change.Add(-time.Millisecond), change.Add(-time.Second), change, change.Add(time.Millisecond))
	}
	for range 2000 {
		times = append(times, time.UnixMilli(r.Int64N(4_000_000_000_000)-1_000_000_000_000))
	}
	// Sorted, as an export's rows come, and then shuffled: the cache of the zone's span must not matter.
	sorted := slices.Clone(times)
	slices.SortFunc(sorted, func(a, b time.Time) int { return a.Compare(b) })
	r.Shuffle(len(times), func(i, j int) { times[i], times[j] = times[j], times[i] })
	for _, loc := range zones {
		for _, order := range [][]time.Time{sorted, times} {
			z := newZoneCache(loc)
			for _, at := range order {
				if got, want := string(z.appendISO(nil, at)), at.In(loc).Format(isoLayout); got != want {
					t.Errorf("%v in %v: %s, want %s", at.UTC(), loc, got, want)
				}
			}
		}
	}
}

func TestIndexFindsTheFirstSpecialByte(t *testing.T) {
	for _, s := range append(csvSeeds, "0123456789abcdef\"", "01234567,", "0123456\n89", "é012345678901234\r",
		strings.Repeat("x", 64)+",", strings.Repeat("y", 63), strings.Repeat("z", 40)+"\n,\"\r",
		strings.Repeat("w", 40)+"\r\"", "\"\n"+strings.Repeat("v", 40)) {
		for _, set := range []*byteSet{quoteCalls, escaped} {
			want := -1
			for i := range len(s) {
				if set.in[s[i]] {
					want = i
					break
				}
			}
			if got := set.index(s); got != want {
				t.Errorf("index(%q) = %d, want %d", s, got, want)
			}
		}
	}
}
