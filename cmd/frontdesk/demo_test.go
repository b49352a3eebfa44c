package main

import (
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/db"
)

func TestDemoFillsADatabaseWithoutEnquiries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	vars := map[string]string{"FRONTDESK_DB": path}
	// As after /setup: one administrator exists, no enquiries yet.
	if code, _, stderr := runWithStdin("a long enough password\n", []string{"user", "add", "--email", "boss@clinic.example",
		"--name", "The Boss", "--role", "admin"}, vars); code != 0 {
		t.Fatalf("user add: %s", stderr)
	}
	code, out, stderr := runInProcess([]string{"demo"}, vars)
	if code != 0 {
		t.Fatalf("demo: exit %d: %s", code, stderr)
	}
	pw := regexp.MustCompile(`password (demo-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})`).FindStringSubmatch(out)
	if pw == nil || !strings.Contains(out, "http://localhost:8080/login") || !strings.Contains(out, "sam.coordinator@frontdesk.example") {
		t.Fatalf("demo output does not say how to sign in:\n%s", out)
	}
	if !strings.Contains(out, "authenticator app") || !strings.Contains(out, "FRONTDESK_REQUIRE_2FA=off") {
		t.Errorf("demo output does not say what to do about two-factor sign-in:\n%s", out)
	}
	count := func(q string) int { return countIn(t, path, q) }
	if n := count(`SELECT count(*) FROM enquiries`); n != demoEnquiries {
		t.Errorf("%d enquiries, want %d", n, demoEnquiries)
	}
	if n := count(`SELECT count(DISTINCT status) FROM enquiries`); n < 7 {
		t.Errorf("only %d different statuses: the board would look empty", n)
	}
	if n := count(`SELECT count(*) FROM enquiries WHERE status = 'new'`); n < 3 {
		t.Errorf("only %d new enquiries to work", n)
	}
	if n := count(`SELECT count(*) FROM notes`); n == 0 {
		t.Error("no notes")
	}
	if n := count(`SELECT count(*) FROM outbox WHERE status = 'queued'`); n != 0 {
		t.Errorf("%d emails queued to fictional patients", n)
	}
	if n := count(`SELECT count(*) FROM enquiries WHERE status = 'in_treatment' AND first_contacted_at IS NULL`); n != 0 {
		t.Error("enquiries in treatment without a first contact")
	}
	// The printed password signs in.
	d, err := db.Open(path, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acc := crm.NewAccounts(d, d, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := acc.Authenticate(t.Context(), "priya.shah@frontdesk.example", pw[1]); err != nil {
		t.Errorf("the printed password does not sign in: %v", err)
	}
	d.Close()
	if code, _, stderr := runInProcess([]string{"demo"}, vars); code != 1 || !strings.Contains(stderr, "without enquiries") {
		t.Errorf("second demo: exit %d %q", code, stderr)
	}
}
