package main

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestFrameAncestorsAndBookingURLSettings: FRONTDESK_FRAME_ANCESTORS takes http(s) origins separated by spaces
// or commas (kept as browsers send them), FRONTDESK_BOOKING_URL an https URL; anything else stops the command
// with status 2 and one line naming the setting.
func TestFrameAncestorsAndBookingURLSettings(t *testing.T) {
	load := func(vars map[string]string) (*config, error) {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c, _, err := loadConfig(fs, nil, func(k string) string { return vars[k] }, true)
		return c, err
	}
	c, err := load(map[string]string{
		"FRONTDESK_FRAME_ANCESTORS": " https://WWW.Clinic.example, https://clinic.example/  http://localhost:8000",
		"FRONTDESK_BOOKING_URL":     "https://cal.com/harbour/intro?duration=20",
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"https://www.clinic.example", "https://clinic.example", "http://localhost:8000"}; !slices.Equal(c.FrameAncestors, want) {
		t.Errorf("frame ancestors %q, want %q", c.FrameAncestors, want)
	}
	if c.BookingURL != "https://cal.com/harbour/intro?duration=20" {
		t.Errorf("booking URL %q", c.BookingURL)
	}
	for _, tc := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{[]string{"serve"}, map[string]string{"FRONTDESK_FRAME_ANCESTORS": "https://www.clinic.example/contact"}, "FRONTDESK_FRAME_ANCESTORS"},
		{[]string{"serve"}, map[string]string{"FRONTDESK_FRAME_ANCESTORS": "*"}, "FRONTDESK_FRAME_ANCESTORS"},
		{[]string{"serve"}, map[string]string{"FRONTDESK_FRAME_ANCESTORS": "https://*.clinic.example"}, "FRONTDESK_FRAME_ANCESTORS"},
		{[]string{"serve"}, map[string]string{"FRONTDESK_FRAME_ANCESTORS": "'self'"}, "FRONTDESK_FRAME_ANCESTORS"},
		{[]string{"serve"}, map[string]string{"FRONTDESK_FRAME_ANCESTORS": "www.clinic.example"}, "FRONTDESK_FRAME_ANCESTORS"},
		{[]string{"serve", "--frame-ancestors", "https://clinic.example?x=1"}, nil, "--frame-ancestors"},
		{[]string{"serve"}, map[string]string{"FRONTDESK_BOOKING_URL": "http://cal.com/harbour"}, "FRONTDESK_BOOKING_URL"},
		{[]string{"serve"}, map[string]string{"FRONTDESK_BOOKING_URL": "cal.com/harbour"}, "FRONTDESK_BOOKING_URL"},
		{[]string{"serve", "--booking-url", "javascript:alert(1)"}, nil, "--booking-url"},
	} {
		code, _, stderr := runInProcess(tc.args, tc.vars)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v %v: exit %d, stderr %q; want 2 and one line naming %s", tc.args, tc.vars, code, stderr, tc.want)
		}
	}
}
