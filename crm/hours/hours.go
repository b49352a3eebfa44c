// Package hours is a clinic's weekly opening hours (FRONTDESK_OPENING_HOURS) and the arithmetic of targets that
// count only them: when a target of so many hours is met (Add), since when an enquiry has waited past it
// (Cutoff), and how much opening time lies between two instants (Elapsed).
//
// Hours are read on the clinic's wall clock in its time zone: a clinic that opens at 09:00 opens at 09:00 local
// time on both sides of a daylight-saving change. The nil *Schedule is always open, so a clinic without opening
// hours counts round the clock with the same calls (Add is then start.Add(d)).
package hours

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Schedule is a week of opening hours in one time zone. Build it with Parse; it is immutable and safe for
// concurrent use. The nil *Schedule means always open.
//
// Opening time is measured on the wall clock, so a period open while the clocks change (01:00–02:00 on a
// Sunday in the UK) counts the hour the clock skips, and the hour it repeats once.
type Schedule struct {
	loc *time.Location
	// days holds each weekday's opening periods (index time.Weekday), sorted and not overlapping.
	days [7][]period
	// weekly is the opening time of any seven consecutive days on the wall clock; never zero.
	weekly time.Duration
}

// period is one opening period of a day, in minutes after local midnight (end ≤ 24*60, start < end).
type period struct{ start, end int }

const day = 24 * time.Hour

// weekOrder is the order days are written in: the week starts on Monday.
var weekOrder = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday,
	time.Saturday, time.Sunday}

var dayNames = map[string]time.Weekday{
	"mon": time.Monday, "monday": time.Monday, "tue": time.Tuesday, "tues": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday, "thu": time.Thursday, "thur": time.Thursday,
	"thurs": time.Thursday, "thursday": time.Thursday, "fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday, "sun": time.Sunday, "sunday": time.Sunday,
}

var shortNames = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// Parse reads opening hours such as "Mon-Fri 09:00-17:30,Sat 10:00-13:00" in the time zone loc (nil: UTC).
// Groups are separated by commas or semicolons; each is a day ("Sat") or a range of days ("Mon-Fri", which may
// run over the weekend: "Fri-Mon"), then one or more periods HH:MM-HH:MM separated by spaces (24-hour clock,
// "24:00" for midnight at the end of the day), each ending after it starts and not overlapping the others.
// Day names are the first three letters or the whole name, in any case. A day may appear in one group only.
// An empty or blank s returns nil, no error: always open. A bad value returns an error naming the group and
// the part that is wrong.
func Parse(s string, loc *time.Location) (*Schedule, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	sc := &Schedule{loc: loc}
	var seen [7]bool
	for _, group := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		fields := strings.Fields(group)
		if len(fields) == 0 {
			continue
		}
		quoted := strconv.Quote(strings.Join(fields, " "))
		if len(fields) < 2 {
			return nil, fmt.Errorf("%s: give the days, then the hours, such as Mon-Fri 09:00-17:30", quoted)
		}
		days, err := parseDays(fields[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", quoted, err)
		}
		var periods []period
		for _, f := range fields[1:] {
			p, err := parsePeriod(f)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", quoted, err)
			}
			periods = append(periods, p)
		}
		slices.SortFunc(periods, func(a, b period) int { return a.start - b.start })
		for i := 1; i < len(periods); i++ {
			if periods[i].start < periods[i-1].end {
				return nil, fmt.Errorf("%s: the periods %s and %s overlap", quoted, periods[i-1], periods[i])
			}
		}
		for _, d := range days {
			if seen[d] {
				return nil, fmt.Errorf("%s: %s already has its hours in another group; give each day once", quoted, shortNames[d])
			}
			seen[d] = true
			sc.days[d] = periods
			for _, p := range periods {
				sc.weekly += time.Duration(p.end-p.start) * time.Minute
			}
		}
	}
	if sc.weekly == 0 {
		return nil, fmt.Errorf("%q: no opening hours in the week", strings.TrimSpace(s))
	}
	return sc, nil
}

// parseDays reads "Mon", "Mon-Fri" or "Fri-Mon" (wrapping past Sunday).
func parseDays(s string) ([]time.Weekday, error) {
	from, to, isRange := strings.Cut(s, "-")
	first, ok := dayNames[strings.ToLower(from)]
	if !ok {
		return nil, fmt.Errorf("%q is not a day: use Mon, Tue, Wed, Thu, Fri, Sat, Sun or a range such as Mon-Fri", s)
	}
	if !isRange {
		return []time.Weekday{first}, nil
	}
	last, ok := dayNames[strings.ToLower(to)]
	if !ok {
		return nil, fmt.Errorf("%q is not a range of days such as Mon-Fri", s)
	}
	if last == first {
		return nil, fmt.Errorf("%q starts and ends on the same day: write it once, such as %s", s, shortNames[first])
	}
	var out []time.Weekday
	for d := first; ; d = (d + 1) % 7 {
		out = append(out, d)
		if d == last {
			return out, nil
		}
	}
}

// parsePeriod reads "09:00-17:30".
func parsePeriod(s string) (period, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return period{}, fmt.Errorf("%q is not a period such as 09:00-17:30", s)
	}
	start, ok := parseClock(from, false)
	if !ok {
		return period{}, fmt.Errorf("%q in %q is not a time such as 09:00 (24-hour clock)", from, s)
	}
	end, ok := parseClock(to, true)
	if !ok {
		return period{}, fmt.Errorf("%q in %q is not a time such as 17:30 (24-hour clock)", to, s)
	}
	if end <= start {
		return period{}, fmt.Errorf("%q ends before it starts: the closing time must be after the opening time on the same day", s)
	}
	return period{start, end}, nil
}

// parseClock reads H:MM or HH:MM as minutes after midnight; 24:00 only when end is true.
func parseClock(s string, end bool) (int, bool) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 {
		return 0, false
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || strings.ContainsAny(s, "+-") {
		return 0, false
	}
	switch {
	case h < 24:
		return h*60 + m, true
	case h == 24 && m == 0 && end:
		return 24 * 60, true
	}
	return 0, false
}

func (p period) String() string { return clock(p.start, "%02d:%02d") + "-" + clock(p.end, "%02d:%02d") }

func clock(min int, format string) string { return fmt.Sprintf(format, min/60, min%60) }

// Location is the time zone the hours are read in (UTC for the nil Schedule).
func (s *Schedule) Location() *time.Location {
	if s == nil {
		return time.UTC
	}
	return s.loc
}

// Weekly is the opening time in a week (a whole week for the nil Schedule).
func (s *Schedule) Weekly() time.Duration {
	if s == nil {
		return 7 * day
	}
	return s.weekly
}

// String is the hours in the form Parse reads, days in week order ("Mon-Fri 09:00-17:30,Sat 10:00-13:00");
// "" for the nil Schedule.
func (s *Schedule) String() string {
	return s.write(func(first, last time.Weekday, n int) string {
		if n == 1 {
			return shortNames[first]
		}
		return shortNames[first] + "-" + shortNames[last]
	}, func(p period) string { return p.String() }, " ", ",")
}

// Describe is the hours as a person reads them: "Monday to Friday 9:00–17:30, Saturday 10:00–13:00"; "" for
// the nil Schedule.
func (s *Schedule) Describe() string {
	return s.write(func(first, last time.Weekday, n int) string {
		switch n {
		case 1:
			return first.String()
		case 2:
			return first.String() + " and " + last.String()
		}
		return first.String() + " to " + last.String()
	}, func(p period) string {
		end := clock(p.end, "%d:%02d")
		if p.end == 24*60 {
			end = "midnight"
		}
		return clock(p.start, "%d:%02d") + "–" + end
	}, " and ", ", ")
}

// write lists the days in week order, consecutive days with the same periods together.
func (s *Schedule) write(days func(first, last time.Weekday, n int) string, per func(period) string, and, sep string) string {
	if s == nil {
		return ""
	}
	var groups []string
	for i := 0; i < len(weekOrder); {
		d := weekOrder[i]
		j := i + 1
		for j < len(weekOrder) && slices.Equal(s.days[weekOrder[j]], s.days[d]) {
			j++
		}
		if len(s.days[d]) > 0 {
			ps := make([]string, len(s.days[d]))
			for k, p := range s.days[d] {
				ps[k] = per(p)
			}
			groups = append(groups, days(d, weekOrder[j-1], j-i)+" "+strings.Join(ps, and))
		}
		i = j
	}
	return strings.Join(groups, sep)
}

// wall is t's local date and clock in the schedule's zone, as a UTC time: arithmetic on it is on the wall clock.
func (s *Schedule) wall(t time.Time) time.Time {
	l := t.In(s.loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// instant is the moment the wall clock shows w (for a time skipped by a daylight-saving change, the moment just
// after it; for a time shown twice, one of the two).
func (s *Schedule) instant(w time.Time) time.Time {
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), s.loc)
}

// opening lists the day's periods of the wall date of midnight as [open, close) wall times.
func (s *Schedule) opening(midnight time.Time, visit func(open, close time.Time) bool) bool {
	for _, p := range s.days[midnight.Weekday()] {
		if !visit(midnight.Add(time.Duration(p.start)*time.Minute), midnight.Add(time.Duration(p.end)*time.Minute)) {
			return false
		}
	}
	return true
}

// Add is the instant when d of opening time has passed after start: counted from start when it is open, from
// the next opening when it is closed. For d ≤ 0 it is start. The nil Schedule returns start.Add(d).
func (s *Schedule) Add(start time.Time, d time.Duration) time.Time {
	if s == nil {
		return start.Add(d)
	}
	if d <= 0 {
		return start
	}
	w := s.wall(start)
	// Any seven days hold exactly one week of opening time on the wall clock: skip the whole weeks first, so
	// the walk below covers at most eight days whatever d is.
	weeks := (d - 1) / s.weekly
	d -= weeks * s.weekly
	w = w.AddDate(0, 0, 7*int(weeks))
	var due time.Time
	for midnight := truncDay(w); due.IsZero(); midnight = midnight.AddDate(0, 0, 1) {
		s.opening(midnight, func(open, close time.Time) bool {
			if !close.After(w) {
				return true
			}
			from := later(open, w)
			if left := close.Sub(from); d > left {
				d -= left
				return true
			}
			due = from.Add(d)
			return false
		})
	}
	return s.instant(due)
}

// Cutoff is the latest instant T such that the opening time between T and now is at least d: an enquiry
// created before Cutoff(now, d) has passed a target of d at now, so a store can select the overdue ones with
// "created before the cutoff". The nil Schedule returns now.Add(-d).
func (s *Schedule) Cutoff(now time.Time, d time.Duration) time.Time {
	if s == nil {
		return now.Add(-d)
	}
	if d <= 0 {
		return now
	}
	w := s.wall(now)
	weeks := (d - 1) / s.weekly
	d -= weeks * s.weekly
	w = w.AddDate(0, 0, -7*int(weeks))
	var cut time.Time
	for midnight := truncDay(w); cut.IsZero(); midnight = midnight.AddDate(0, 0, -1) {
		ps := s.days[midnight.Weekday()]
		for i := len(ps) - 1; i >= 0 && cut.IsZero(); i-- {
			open := midnight.Add(time.Duration(ps[i].start) * time.Minute)
			close := midnight.Add(time.Duration(ps[i].end) * time.Minute)
			if !open.Before(w) {
				continue
			}
			to := earlier(close, w)
			if left := to.Sub(open); d > left {
				d -= left
				continue
			}
			cut = to.Add(-d)
		}
	}
	return s.instant(cut)
}

// Elapsed is the opening time from a to b, negative when b is before a. The nil Schedule returns b.Sub(a).
func (s *Schedule) Elapsed(a, b time.Time) time.Duration {
	if s == nil {
		return b.Sub(a)
	}
	if b.Before(a) {
		return -s.Elapsed(b, a)
	}
	wa, wb := s.wall(a), s.wall(b)
	weeks := int(wb.Sub(wa) / (7 * day))
	total := time.Duration(weeks) * s.weekly
	wa = wa.AddDate(0, 0, 7*weeks)
	for midnight := truncDay(wa); midnight.Before(wb); midnight = midnight.AddDate(0, 0, 1) {
		s.opening(midnight, func(open, close time.Time) bool {
			if from, to := later(open, wa), earlier(close, wb); to.After(from) {
				total += to.Sub(from)
			}
			return true
		})
	}
	return total
}

// truncDay is the midnight that starts w's day (w a wall time in UTC).
func truncDay(w time.Time) time.Time {
	return time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, time.UTC)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
