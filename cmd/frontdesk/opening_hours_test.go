package main

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

// A bad FRONTDESK_OPENING_HOURS stops the program with one line naming the setting and the part that is wrong.
func TestBadOpeningHoursExitWithStatus2NamingThem(t *testing.T) {
	cases := []struct {
		name string
		args []string
		vars map[string]string
		want []string
	}{
		{"bad day", []string{"serve"}, map[string]string{"FRONTDESK_OPENING_HOURS": "Mon-Fri 09:00-17:30,Sta 10:00-13:00"},
			[]string{"invalid FRONTDESK_OPENING_HOURS", `"Sta" is not a day`}},
		{"ends before it starts", []string{"serve", "--opening-hours", "Mon-Fri 17:30-09:00"}, nil,
			[]string{"invalid --opening-hours", `"17:30-09:00" ends before it starts`}},
		{"a day twice", []string{"serve"}, map[string]string{"FRONTDESK_OPENING_HOURS": "Mon-Fri 09:00-17:00,Wed 18:00-20:00"},
			[]string{"FRONTDESK_OPENING_HOURS", "Wed already has its hours"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runInProcess(tc.args, tc.vars)
			if code != exitUsage {
				t.Errorf("exit %d, want 2; stderr %q", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not say %s", stderr, w)
				}
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
				t.Errorf("stderr is %d lines, want one: %q", n+1, stderr)
			}
		})
	}
}

// The hours are read in the clinic's time zone; left empty they are nil: round the clock, as before.
func TestOpeningHoursAreReadInTheClinicsTimeZone(t *testing.T) {
	load := func(vars map[string]string) *config {
		t.Helper()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c, _, err := loadConfig(fs, nil, func(k string) string { return vars[k] }, true)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := load(nil); c.OpeningHours != nil {
		t.Errorf("default opening hours %q, want none", c.OpeningHours)
	}
	c := load(map[string]string{"FRONTDESK_OPENING_HOURS": "mon-fri 09:00-17:30, sat 10:00-13:00", "FRONTDESK_TIMEZONE": "America/New_York"})
	if got := c.OpeningHours.String(); got != "Mon-Fri 09:00-17:30,Sat 10:00-13:00" {
		t.Errorf("opening hours %q", got)
	}
	// Friday 17:00 in New York (22:00 UTC) plus four clinic hours (half an hour on Friday, three on Saturday):
	// Monday 09:30 in New York.
	fri := time.Date(2026, 12, 4, 22, 0, 0, 0, time.UTC)
	if due := c.OpeningHours.Add(fri, 4*time.Hour); !due.Equal(time.Date(2026, 12, 7, 14, 30, 0, 0, time.UTC)) {
		t.Errorf("due %s, want Monday 09:30 in New York", due.In(c.Timezone))
	}
}
