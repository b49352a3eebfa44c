package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClinicLogoAndICONumberSettings: FRONTDESK_CLINIC_LOGO takes an https URL or an image file (read at start)
// and FRONTDESK_CLINIC_ICO_NUMBER a registration number; anything else stops the command with status 2 and a
// one-line error naming the setting.
func TestClinicLogoAndICONumberSettings(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "logo.png")
	// The 8-byte PNG signature and the start of an IHDR chunk are enough for content sniffing.
	if err := os.WriteFile(png, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "logo.txt")
	if err := os.WriteFile(text, []byte("not an image"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.png")
	if err := os.WriteFile(big, append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 600<<10)...), 0o600); err != nil {
		t.Fatal(err)
	}
	load := func(vars map[string]string) (*config, error) {
		c, _, err := loadConfig(flag.NewFlagSet("t", flag.ContinueOnError), nil, func(k string) string { return vars[k] }, true)
		return c, err
	}
	c, err := load(map[string]string{"FRONTDESK_CLINIC_LOGO": png, "FRONTDESK_CLINIC_ICO_NUMBER": " za123456 "})
	if err != nil || c.ClinicLogo.ContentType != "image/png" || c.ClinicLogo.Src() == "" || c.ClinicICONumber != "ZA123456" {
		t.Fatalf("a PNG file and an ICO number: %+v, %v", c, err)
	}
	if got := c.ClinicLogo.EmailSrc("https://enquiries.clinic.example"); !strings.HasPrefix(got, "https://enquiries.clinic.example/logo?v=") {
		t.Errorf("the email's logo address is %q, want an absolute /logo address", got)
	}
	c, err = load(map[string]string{"FRONTDESK_CLINIC_LOGO": "https://www.clinic.example/logo.svg"})
	if err != nil || c.ClinicLogo.Src() != "https://www.clinic.example/logo.svg" {
		t.Fatalf("an https URL: %+v, %v", c.ClinicLogo, err)
	}
	for _, tc := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{[]string{"serve"}, map[string]string{"FRONTDESK_CLINIC_LOGO": "/no/such/logo.png"}, "FRONTDESK_CLINIC_LOGO"},
		{[]string{"serve"}, map[string]string{"FRONTDESK_CLINIC_LOGO": text}, "FRONTDESK_CLINIC_LOGO"},
		{[]string{"serve"}, map[string]string{"FRONTDESK_CLINIC_LOGO": big}, "FRONTDESK_CLINIC_LOGO"},
		{[]string{"serve"}, map[string]string{"FRONTDESK_CLINIC_LOGO": dir}, "FRONTDESK_CLINIC_LOGO"},
		{[]string{"serve"}, map[string]string{"FRONTDESK_CLINIC_LOGO": "http://www.clinic.example/logo.png"}, "FRONTDESK_CLINIC_LOGO"},
		{[]string{"serve", "--clinic-logo", "ftp://x/logo.png"}, nil, "--clinic-logo"},
		{[]string{"serve"}, map[string]string{"FRONTDESK_CLINIC_ICO_NUMBER": "ZA-123 456"}, "FRONTDESK_CLINIC_ICO_NUMBER"},
	} {
		code, _, stderr := runInProcess(tc.args, tc.vars)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v %v: exit %d, stderr %q; want 2 and one line naming %s", tc.args, tc.vars, code, stderr, tc.want)
		}
	}
}

// TestMailFromLeftAtItsDefaultIsNamedAfterTheClinic: the sender's address stays no-reply@localhost, but its
// name is the clinic's, unless FRONTDESK_MAIL_FROM is set.
func TestMailFromLeftAtItsDefaultIsNamedAfterTheClinic(t *testing.T) {
	get := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	c, _, err := loadConfig(flag.NewFlagSet("t", flag.ContinueOnError), nil,
		get(map[string]string{"FRONTDESK_CLINIC_NAME": "Harbour Clinic"}), true)
	if err != nil || c.MailFrom.Name != "Harbour Clinic" || c.MailFrom.Address != "no-reply@localhost" {
		t.Fatalf("default sender: %v, %v", c.MailFrom, err)
	}
	c, _, err = loadConfig(flag.NewFlagSet("t", flag.ContinueOnError), nil, get(map[string]string{
		"FRONTDESK_CLINIC_NAME": "Harbour Clinic", "FRONTDESK_MAIL_FROM": "Reception <hello@harbour.example>"}), true)
	if err != nil || c.MailFrom.Name != "Reception" || c.MailFrom.Address != "hello@harbour.example" {
		t.Fatalf("a sender set: %v, %v", c.MailFrom, err)
	}
}
