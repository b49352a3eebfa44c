package main

import (
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/db"
	"github.com/pquerna/otp/totp"
)

func TestUserAndTokenCommands(t *testing.T) {
	vars := map[string]string{"FRONTDESK_DB": filepath.Join(t.TempDir(), "f.db")}
	code, out, stderr := runWithStdin("correct horse battery staple\n",
		[]string{"user", "add", "--email", "Dr.Rivers@Clinic.example", "--name", "Dr Rivers", "--role", "clinician", "--treatments", "adhd,ptsd"}, vars)
	if code != 0 || !strings.Contains(out, "dr.rivers@clinic.example") {
		t.Fatalf("user add: exit %d, out %q, err %q", code, out, stderr)
	}
	code, out, _ = runInProcess([]string{"user", "list"}, vars)
	if code != 0 || !strings.Contains(out, "dr.rivers@clinic.example") || !strings.Contains(out, "adhd,ptsd") || !strings.Contains(out, "active") {
		t.Errorf("user list: exit %d\n%s", code, out)
	}
	// The token is printed alone on stdout, once; only its hash is stored.
	code, out, stderr = runInProcess([]string{"token", "create", "--email", "dr.rivers@clinic.example", "--label", "clinic website"}, vars)
	if code != 0 || !regexp.MustCompile(`^fd_[a-z2-7]{52}\n$`).MatchString(out) {
		t.Fatalf("token create: exit %d, out %q, err %q", code, out, stderr)
	}
	code, out, _ = runInProcess([]string{"user", "disable", "--email", "dr.rivers@clinic.example"}, vars)
	if code != 0 || !strings.Contains(out, "disabled") {
		t.Errorf("user disable: exit %d %q", code, out)
	}
	if _, out, _ = runInProcess([]string{"user", "list"}, vars); !strings.Contains(out, "disabled") {
		t.Errorf("list after disable:\n%s", out)
	}
}

func TestUserCommandsRefuseBadInput(t *testing.T) {
	vars := map[string]string{"FRONTDESK_DB": filepath.Join(t.TempDir(), "f.db")}
	cases := []struct {
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"a long enough password\n", []string{"user", "add", "--name", "X Y", "--role", "admin"}, 2, "--email"},
		{"a long enough password\n", []string{"user", "add", "--email", "a@b.example", "--name", "X Y", "--role", "boss"}, 2, "--role"},
		{"a long enough password\n", []string{"user", "add", "--email", "a@b.example", "--name", "X Y", "--role", "clinician", "--treatments", "flu"}, 2, "--treatments"},
		{"a long enough password\n", []string{"user", "add", "--email", "not-an-email", "--name", "X Y", "--role", "admin"}, 2, "--email"},
		{"short\n", []string{"user", "add", "--email", "a@b.example", "--name", "X Y", "--role", "admin"}, 2, "password"},
		{"", []string{"user", "add", "--email", "a@b.example", "--name", "X Y", "--role", "admin"}, 2, "stdin"},
		{"", []string{"user", "remove"}, 2, "remove"},
		{"", []string{"user"}, 2, "subcommand"},
		{"", []string{"user", "disable"}, 2, "--email"},
		{"", []string{"user", "disable", "--email", "nobody@clinic.example"}, 1, "nobody@clinic.example"},
		{"", []string{"user", "reset-2fa"}, 2, "--email"},
		{"", []string{"user", "reset-2fa", "--email", "nobody@clinic.example"}, 1, "nobody@clinic.example"},
		{"", []string{"user", "reset-2fa", "--email", "a@b.example", "extra"}, 2, "extra"},
		{"", []string{"token", "create", "--email", "nobody@clinic.example", "--label", "x"}, 1, "nobody@clinic.example"},
		{"", []string{"token", "create", "--email", "a@b.example"}, 2, "--label"},
		{"", []string{"token"}, 2, "create"},
		{"", []string{"token", "create", "--email", "a@b.example", "--label", "x", "--days", "3651"}, 2, "--days"},
		{"", []string{"token", "create", "--email", "a@b.example", "--label", "x", "--days", "-1"}, 2, "--days"},
		{"", []string{"token", "create", "--email", "a@b.example", "--label", "x", "--days", "0"}, 2, "--days"},
		{"", []string{"token", "create", "--email", "a@b.example", "--label", "x", "--days", "soon"}, 2, "-days"},
		{"", []string{"token", "revoke"}, 2, "--id"},
		{"", []string{"token", "revoke", "--id", "seven"}, 2, "-id"},
		{"", []string{"token", "revoke", "--id", "-3"}, 2, "--id"},
		{"", []string{"token", "revoke", "--id", "999"}, 1, "999"},
		{"", []string{"token", "list", "--email", "nobody@clinic.example"}, 1, "nobody@clinic.example"},
		{"", []string{"token", "forget"}, 2, "forget"},
		{"weak\n", []string{"user", "add", "--email", "a@b.example", "--name", "X Y", "--role", "admin"}, 2, "password"},
		{"passwordpassword\n", []string{"user", "add", "--email", "c@b.example", "--name", "X Y", "--role", "admin"}, 2, "too common"},
		{"", []string{"token", "list"}, 2, "FRONTDESK_TOKEN_DAYS"},
	}
	for _, tc := range cases {
		vars := vars
		if tc.want == "FRONTDESK_TOKEN_DAYS" {
			vars = map[string]string{"FRONTDESK_DB": vars["FRONTDESK_DB"], "FRONTDESK_TOKEN_DAYS": "3651"}
		}
		code, out, stderr := runWithStdin(tc.stdin, tc.args, vars)
		if code != tc.code || !strings.Contains(stderr, tc.want) || out != "" {
			t.Errorf("%v: exit %d (want %d), stderr %q (want it to name %q), stdout %q", tc.args, code, tc.code, stderr, tc.want, out)
		}
		if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: more than one line on stderr: %q", tc.args, stderr)
		}
	}
	// A duplicate is refused too.
	args := []string{"user", "add", "--email", "a@b.example", "--name", "X Y", "--role", "admin"}
	if code, _, _ := runWithStdin("a long enough password\n", args, vars); code != 0 {
		t.Fatal("first add failed")
	}
	if code, _, stderr := runWithStdin("a long enough password\n", args, vars); code != 2 || !strings.Contains(stderr, "already exists") {
		t.Errorf("duplicate: exit %d, %q", code, stderr)
	}
}

// TestUserReset2FA: the command removes an account's authenticator and recovery codes, audited, so it enrols
// again; an account without one is told so.
func TestUserReset2FA(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	vars := map[string]string{"FRONTDESK_DB": path}
	if code, _, stderr := runWithStdin("correct horse battery staple\n", []string{"user", "add", "--email", "rivers@clinic.example",
		"--name", "Dr Rivers", "--role", "clinician"}, vars); code != 0 {
		t.Fatal(stderr)
	}
	d, err := db.Open(path, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acc := crm.NewAccounts(d, d, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s, _, err := d.StaffByEmail(t.Context(), "rivers@clinic.example")
	if err != nil {
		t.Fatal(err)
	}
	actor := crm.Actor{ID: s.ID, Email: s.Email, Name: s.Name, Role: s.Role}
	e, _ := acc.NewEnrolment(actor, "Harbour Clinic")
	otpCode, _ := totp.GenerateCode(e.Secret, time.Now())
	if _, err := acc.Enrol(t.Context(), actor, e.Secret, otpCode); err != nil {
		t.Fatal(err)
	}
	// Whoever has the lost phone may be signed in, or hold a token: both end with the reset.
	if err := acc.StartSession(t.Context(), actor, "session-on-the-lost-phone", "192.0.2.7", "Phone"); err != nil {
		t.Fatal(err)
	}
	if _, err := acc.CreateToken(t.Context(), actor, actor.Email, "phone app"); err != nil {
		t.Fatal(err)
	}
	d.Close()

	code, out, stderr := runInProcess([]string{"user", "reset-2fa", "--email", "Rivers@Clinic.example"}, vars)
	if code != 0 || !strings.Contains(out, "removed the second factor") || stderr != "" {
		t.Fatalf("reset-2fa: exit %d, out %q, err %q", code, out, stderr)
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM staff_totp`:           0,
		`SELECT count(*) FROM staff_recovery_codes`: 0,
		`SELECT count(*) FROM audit_log WHERE action = '2fa_reset' AND detail LIKE '%rivers@clinic.example%'`: 1,
		`SELECT count(*) FROM staff_sessions WHERE ended_at IS NULL`:                                          0,
		`SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL`:                                            0,
		`SELECT count(*) FROM api_tokens`:                                                                     1,
	} {
		if n := countIn(t, path, q); n != want {
			t.Errorf("%s = %d, want %d", q, n, want)
		}
	}
	if code, out, _ := runInProcess([]string{"user", "reset-2fa", "--email", "rivers@clinic.example"}, vars); code != 0 || !strings.Contains(out, "nothing to reset") {
		t.Errorf("second reset: exit %d, %q", code, out)
	}
}
