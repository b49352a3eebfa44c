package main

import (
	"bytes"
	"database/sql"
	"strings"
	"testing"
)

// runInProcess runs a command in this process with only the given environment.
func runInProcess(args []string, vars map[string]string) (int, string, string) {
	return runWithStdin("", args, vars)
}

// runWithStdin is runInProcess with something to read on stdin.
func runWithStdin(stdin string, args []string, vars map[string]string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }})
	return code, out.String(), errb.String()
}

// countIn runs q, a query for one count, on the SQLite file at path, opened read-only for it alone.
func countIn(t *testing.T, path, q string, args ...any) int {
	t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s in %s: %v", q, path, err)
	}
	return n
}

func TestBadSettingsExitWithStatus2NamingThem(t *testing.T) {
	cases := []struct {
		name string
		args []string
		vars map[string]string
		want string
	}{
		{"bad port in env", []string{"serve"}, map[string]string{"FRONTDESK_SMTP_PORT": "seventy"}, "FRONTDESK_SMTP_PORT"},
		{"bad port as flag", []string{"serve", "--smtp-port", "0"}, nil, "--smtp-port"},
		{"bad addr", []string{"serve"}, map[string]string{"FRONTDESK_ADDR": "localhost"}, "FRONTDESK_ADDR"},
		{"bad base url", []string{"serve", "--base-url", "enquiries.example"}, nil, "--base-url"},
		{"bad transport", []string{"serve"}, map[string]string{"FRONTDESK_MAIL_TRANSPORT": "pigeon"}, "FRONTDESK_MAIL_TRANSPORT"},
		{"bad tls", []string{"serve"}, map[string]string{"FRONTDESK_SMTP_TLS": "maybe"}, "FRONTDESK_SMTP_TLS"},
		{"bad hours", []string{"serve"}, map[string]string{"FRONTDESK_FIRST_CONTACT_HOURS": "-1"}, "FRONTDESK_FIRST_CONTACT_HOURS"},
		{"bad per minute", []string{"serve", "--intake-per-minute", "ten"}, nil, "--intake-per-minute"},
		{"bad origin", []string{"serve"}, map[string]string{"FRONTDESK_ALLOWED_ORIGINS": "https://ok.example,ftp://x"}, "FRONTDESK_ALLOWED_ORIGINS"},
		{"bad proxy", []string{"serve"}, map[string]string{"FRONTDESK_TRUSTED_PROXIES": "10.0.0.0/33"}, "FRONTDESK_TRUSTED_PROXIES"},
		{"bad from", []string{"serve"}, map[string]string{"FRONTDESK_MAIL_FROM": "not an address"}, "FRONTDESK_MAIL_FROM"},
		{"bad inbox", []string{"serve"}, map[string]string{"FRONTDESK_INTAKE_INBOX": "@@"}, "FRONTDESK_INTAKE_INBOX"},
		{"bad timezone", []string{"serve"}, map[string]string{"FRONTDESK_TIMEZONE": "Mars/Olympus"}, "FRONTDESK_TIMEZONE"},
		{"missing templates folder", []string{"serve"}, map[string]string{"FRONTDESK_MAIL_TEMPLATES": "/no/such/folder"}, "FRONTDESK_MAIL_TEMPLATES"},
		{"bad 2fa policy", []string{"serve"}, map[string]string{"FRONTDESK_REQUIRE_2FA": "sometimes"}, "FRONTDESK_REQUIRE_2FA"},
		{"bad 2fa policy flag", []string{"serve", "--require-2fa", "nobody"}, nil, "--require-2fa"},
		{"bad token days", []string{"serve"}, map[string]string{"FRONTDESK_TOKEN_DAYS": "0"}, "FRONTDESK_TOKEN_DAYS"},
		{"bad token days flag", []string{"serve", "--token-days", "3651"}, nil, "--token-days"},
		{"unknown flag", []string{"serve", "--colour", "blue"}, nil, "-colour"},
		{"unknown command", []string{"launch"}, nil, "launch"},
		{"migrate with junk", []string{"migrate", "sideways"}, nil, "sideways"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runInProcess(tc.args, tc.vars)
			if code != exitUsage {
				t.Errorf("exit %d, want 2; stderr %q", code, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not name %s", stderr, tc.want)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
				t.Errorf("stderr is %d lines, want one: %q", n+1, stderr)
			}
		})
	}
}

func TestNoCommandPrintsUsage(t *testing.T) {
	code, _, stderr := runInProcess(nil, nil)
	if code != exitUsage || !strings.Contains(stderr, "Usage: frontdesk") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	code, stdout, _ := runInProcess([]string{"help"}, nil)
	if code != 0 || !strings.Contains(stdout, "serve") {
		t.Errorf("help: exit %d", code)
	}
	code, stdout, _ = runInProcess([]string{"serve", "--help"}, nil)
	if code != 0 || !strings.Contains(stdout, "FRONTDESK_ADDR") {
		t.Errorf("serve --help: exit %d, stdout %q", code, stdout)
	}
}

func TestMigrateAndStatus(t *testing.T) {
	dbPath := t.TempDir() + "/new/folder/frontdesk.db"
	vars := map[string]string{"FRONTDESK_DB": dbPath}
	if code, _, stderr := runInProcess([]string{"migrate"}, vars); code != 0 {
		t.Fatalf("migrate: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runInProcess([]string{"migrate", "status"}, vars)
	if code != 0 {
		t.Fatalf("migrate status: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "00001") || !strings.Contains(stdout, "applied") || strings.Contains(stdout, "pending") {
		t.Errorf("migrate status:\n%s", stdout)
	}
	// --db as a flag works for every command.
	code, stdout, _ = runInProcess([]string{"migrate", "--db", dbPath, "status"}, nil)
	if code != 0 || !strings.Contains(stdout, "applied") {
		t.Errorf("migrate --db status: exit %d\n%s", code, stdout)
	}
}

func TestUnusableDatabaseIsARuntimeFailure(t *testing.T) {
	code, _, stderr := runInProcess([]string{"migrate"}, map[string]string{"FRONTDESK_DB": "/proc/frontdesk/x.db"})
	if code != exitFailure || stderr == "" {
		t.Errorf("exit %d, stderr %q; want 1 with a message", code, stderr)
	}
}
