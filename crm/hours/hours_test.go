package hours_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm/hours"
)

var london = mustZone("Europe/London")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at is a wall time in London.
func at(year int, month time.Month, day, hour, min int) time.Time {
	return time.Date(year, month, day, hour, min, 0, 0, london)
}

const clinic = "Mon-Fri 09:00-17:30,Sat 10:00-13:00"

func mustParse(t *testing.T, s string) *hours.Schedule {
	t.Helper()
	h, err := hours.Parse(s, london)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return h
}

func TestParseReadsAndWritesHours(t *testing.T) {
	for _, c := range []struct{ in, canonical, human string }{
		{clinic, clinic, "Monday to Friday 9:00–17:30, Saturday 10:00–13:00"},
		{" mon-FRI 9:00-17:30 ,  sat 10:00-13:00 ", clinic, "Monday to Friday 9:00–17:30, Saturday 10:00–13:00"},
		{"Sat 10:00-13:00; Monday-Friday 09:00-17:30", clinic, "Monday to Friday 9:00–17:30, Saturday 10:00–13:00"},
		{"Mon-Fri 13:30-17:30 09:00-12:30", "Mon-Fri 09:00-12:30 13:30-17:30",
			"Monday to Friday 9:00–12:30 and 13:30–17:30"},
		{"Sat-Sun 10:00-14:00", "Sat-Sun 10:00-14:00", "Saturday and Sunday 10:00–14:00"},
		{"Fri-Mon 00:00-24:00", "Mon 00:00-24:00,Fri-Sun 00:00-24:00",
			"Monday 0:00–midnight, Friday to Sunday 0:00–midnight"},
		{"Mon 09:00-17:00,Tue 09:00-17:00,Thu 08:00-12:00", "Mon-Tue 09:00-17:00,Thu 08:00-12:00",
			"Monday and Tuesday 9:00–17:00, Thursday 8:00–12:00"},
	} {
		h := mustParse(t, c.in)
		if got := h.String(); got != c.canonical {
			t.Errorf("Parse(%q).String() = %q, want %q", c.in, got, c.canonical)
		}
		if got := h.Describe(); got != c.human {
			t.Errorf("Parse(%q).Describe() = %q, want %q", c.in, got, c.human)
		}
		if again := mustParse(t, h.String()); again.String() != h.String() {
			t.Errorf("String of %q does not parse back to itself: %q", c.in, again.String())
		}
	}
	if h, err := hours.Parse("  ", london); h != nil || err != nil {
		t.Errorf("blank hours: %v, %v; want nil (always open), no error", h, err)
	}
	if w := mustParse(t, clinic).Weekly(); w != 45*time.Hour+30*time.Minute {
		t.Errorf("weekly %v, want 45h30m", w)
	}
}

func TestParseNamesWhatIsWrong(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Mon-Fri", `"Mon-Fri": give the days, then the hours`},
		{"Mon-Fri 09:00-17:30,Sta 10:00-13:00", `"Sta 10:00-13:00": "Sta" is not a day`},
		{"Mon-Fry 09:00-17:30", `"Mon-Fry" is not a range of days`},
		{"Mon-Mon 09:00-17:30", `starts and ends on the same day`},
		{"Mon-Fri 17:30-09:00", `"17:30-09:00" ends before it starts`},
		{"Mon-Fri 09:00-09:00", `"09:00-09:00" ends before it starts`},
		{"Mon-Fri 9-17", `"9-17"`},
		{"Mon-Fri 09:00", `"09:00" is not a period`},
		{"Mon-Fri 25:00-26:00", `"25:00" in "25:00-26:00" is not a time`},
		{"Mon-Fri 09:60-17:00", `"09:60"`},
		{"Mon-Fri 24:00-24:00", `"24:00" in "24:00-24:00" is not a time`},
		{"Mon-Fri 9:00pm-10:00pm", `"9:00pm"`},
		{"Mon-Fri 09:00-17:30,Fri 18:00-20:00", `"Fri 18:00-20:00": Fri already has its hours`},
		{"Mon-Fri 09:00-13:00 12:00-17:00", `overlap`},
		{",;,", `no opening hours in the week`},
	} {
		_, err := hours.Parse(c.in, london)
		if err == nil {
			t.Errorf("Parse(%q) accepted it", c.in)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %q, want it to say %q", c.in, err, c.want)
		}
	}
}

func TestAddCountsOpeningHoursOnly(t *testing.T) {
	h := mustParse(t, clinic)
	for _, c := range []struct {
		name  string
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		{"open all along", at(2026, 12, 1, 10, 0), 2 * time.Hour, at(2026, 12, 1, 12, 0)},
		{"up to the closing minute", at(2026, 12, 1, 9, 0), 8*time.Hour + 30*time.Minute, at(2026, 12, 1, 17, 30)},
		{"an evening", at(2026, 12, 1, 17, 0), time.Hour, at(2026, 12, 2, 9, 30)},
		{"sent after closing", at(2026, 12, 1, 20, 15), time.Hour, at(2026, 12, 2, 10, 0)},
		{"sent before opening", at(2026, 12, 2, 6, 0), time.Hour, at(2026, 12, 2, 10, 0)},
		// Friday 18:00: Saturday 3 h, Monday 8.5 h, Tuesday 8.5 h, then 4 h on Wednesday.
		{"across the weekend", at(2026, 12, 4, 18, 0), 24 * time.Hour, at(2026, 12, 9, 13, 0)},
		{"Saturday morning, Sunday closed", at(2026, 12, 5, 12, 0), 4 * time.Hour, at(2026, 12, 7, 12, 0)},
		{"sent on the closed day", at(2026, 12, 6, 11, 0), 4 * time.Hour, at(2026, 12, 7, 13, 0)},
		{"whole weeks", at(2026, 12, 1, 12, 0), 2*(45*time.Hour+30*time.Minute) + time.Hour, at(2026, 12, 15, 13, 0)},
		{"nothing to count", at(2026, 12, 6, 11, 0), 0, at(2026, 12, 6, 11, 0)},
	} {
		if got := h.Add(c.start, c.d); !got.Equal(c.want) {
			t.Errorf("%s: Add(%s, %v) = %s, want %s", c.name, c.start, c.d, got.In(london), c.want)
		}
		if c.d > 0 {
			if got := h.Elapsed(c.start, c.want); got != c.d {
				t.Errorf("%s: Elapsed(%s, %s) = %v, want %v", c.name, c.start, c.want, got, c.d)
			}
		}
	}
}

// The clinic opens at 09:00 on the local clock on both sides of a change of the clocks.
func TestAddAcrossDaylightSaving(t *testing.T) {
	h := mustParse(t, "Mon-Fri 09:00-17:30")
	// Clocks go forward on Sunday 29 March 2026 and back on Sunday 25 October 2026.
	spring := h.Add(at(2026, 3, 27, 17, 0), time.Hour)
	if want := time.Date(2026, 3, 30, 8, 30, 0, 0, time.UTC); !spring.Equal(want) {
		t.Errorf("spring: due %s (%s UTC), want Monday 09:30 BST (08:30 UTC)", spring.In(london), spring.UTC())
	}
	autumn := h.Add(at(2026, 10, 23, 17, 0), time.Hour)
	if want := time.Date(2026, 10, 26, 9, 30, 0, 0, time.UTC); !autumn.Equal(want) {
		t.Errorf("autumn: due %s (%s UTC), want Monday 09:30 GMT", autumn.In(london), autumn.UTC())
	}
	if cut := h.Cutoff(time.Date(2026, 3, 30, 8, 30, 0, 0, time.UTC), time.Hour); !cut.Equal(at(2026, 3, 27, 17, 0)) {
		t.Errorf("spring cutoff %s, want Friday 17:00 GMT", cut.In(london))
	}
	if e := h.Elapsed(at(2026, 10, 23, 17, 0), at(2026, 10, 26, 9, 30)); e != time.Hour {
		t.Errorf("autumn elapsed %v, want 1h", e)
	}
}

func TestCutoffIsWhenTheTargetWasMissed(t *testing.T) {
	h := mustParse(t, clinic)
	for _, c := range []struct {
		name string
		now  time.Time
		d    time.Duration
		want time.Time
	}{
		{"open now", at(2026, 12, 2, 12, 0), 2 * time.Hour, at(2026, 12, 2, 10, 0)},
		{"back over the night", at(2026, 12, 2, 10, 0), 2 * time.Hour, at(2026, 12, 1, 16, 30)},
		{"closed now", at(2026, 12, 1, 22, 0), time.Hour, at(2026, 12, 1, 16, 30)},
		{"Monday morning, over the weekend", at(2026, 12, 7, 10, 0), 4 * time.Hour, at(2026, 12, 5, 10, 0)},
		{"a whole week back", at(2026, 12, 7, 10, 0), 45*time.Hour + 30*time.Minute, at(2026, 11, 30, 10, 0)},
	} {
		if got := h.Cutoff(c.now, c.d); !got.Equal(c.want) {
			t.Errorf("%s: Cutoff(%s, %v) = %s, want %s", c.name, c.now, c.d, got.In(london), c.want)
		}
	}
}

// For any start, target and moment: created before the cutoff ⟺ the due time has passed, and Add, Cutoff and
// Elapsed agree. (A clinic open in the small hours of a Sunday when the clocks change would see the hour the
// clock skips or repeats counted by its wall clock: none of these is open then.)
func TestAddCutoffAndElapsedAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 2026))
	for _, spec := range []string{clinic, "Mon-Fri 09:00-12:30 13:30-17:30", "Sun 03:00-24:00,Mon-Sat 00:00-24:00", "Wed 10:00-10:05"} {
		h := mustParse(t, spec)
		base := at(2026, 1, 1, 0, 0)
		for range 3000 {
			start := base.Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour))))
			d := time.Duration(1+r.Int64N(int64(200*time.Hour))/int64(time.Minute)) * time.Minute
			due := h.Add(start, d)
			if e := h.Elapsed(start, due); e != d {
				t.Fatalf("%s: Elapsed(%s, Add(…, %v) = %s) = %v", spec, start, d, due, e)
			}
			if e := h.Elapsed(due, start); e != -d {
				t.Fatalf("%s: Elapsed backwards %v, want %v", spec, e, -d)
			}
			now := start.Add(time.Duration(r.Int64N(int64(60 * 24 * time.Hour))))
			cut := h.Cutoff(now, d)
			if e := h.Elapsed(cut, now); e != d {
				t.Fatalf("%s: Elapsed(Cutoff(%s, %v) = %s, now) = %v", spec, now, d, cut, e)
			}
			if overdue, before := due.Before(now), start.Before(cut); overdue != before && !start.Equal(cut) {
				t.Fatalf("%s: start %s, target %v, now %s: due %s (passed %v) but cutoff %s (before %v)",
					spec, start, d, now, due, overdue, cut, before)
			}
		}
	}
}

// A long target over few opening hours is still quick: whole weeks are skipped, not walked.
func TestLongTargetOverSparseHours(t *testing.T) {
	h := mustParse(t, "Sat 10:00-10:01")
	start := at(2026, 1, 5, 12, 0) // a Monday
	due := h.Add(start, 720*time.Hour)
	// 720 h is 43,200 Saturday minutes: the last falls in the Saturday 43,199 weeks after the first (10 January).
	want := at(2026, 1, 10, 10, 1).AddDate(0, 0, 7*43199)
	if !due.Equal(want) {
		t.Errorf("due %s, want %s", due.In(london), want)
	}
	if cut := h.Cutoff(due, 720*time.Hour); !cut.Equal(at(2026, 1, 10, 10, 0)) {
		t.Errorf("cutoff %s, want the first Saturday's opening", cut.In(london))
	}
}

// The nil Schedule is always open: today's round-the-clock targets.
func TestNilScheduleIsAlwaysOpen(t *testing.T) {
	var h *hours.Schedule
	start := at(2026, 12, 4, 18, 0)
	if got := h.Add(start, 24*time.Hour); !got.Equal(start.Add(24 * time.Hour)) {
		t.Errorf("Add %s", got)
	}
	if got := h.Cutoff(start, 24*time.Hour); !got.Equal(start.Add(-24 * time.Hour)) {
		t.Errorf("Cutoff %s", got)
	}
	if got := h.Elapsed(start, start.Add(90*time.Minute)); got != 90*time.Minute {
		t.Errorf("Elapsed %v", got)
	}
	if h.Describe() != "" || h.String() != "" || h.Location() != time.UTC {
		t.Errorf("nil schedule describes itself as %q / %q", h.Describe(), h.String())
	}
}
