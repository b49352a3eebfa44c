package main

import (
	"os"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/db"
	"github.com/frontdesk/frontdesk/db/pgtest"
)

// A FRONTDESK_DB that starts postgres:// but is not a usable URL is a bad setting: one line naming it, exit 2,
// the URL (and its password) not repeated, and nothing made on disk (a SQLite path "postgres://…" would make a
// folder "postgres:").
func TestBadPostgresURLIsABadSetting(t *testing.T) {
	const secret = "s3cret-pass"
	cases := []struct {
		name string
		args []string
		vars map[string]string
		want string
	}{
		{"serve, variable, no host", []string{"serve"}, map[string]string{"FRONTDESK_DB": "postgres://fd:" + secret + "@/frontdesk"}, "invalid FRONTDESK_DB"},
		{"serve, flag, bad port", []string{"serve", "--db", "postgresql://fd:" + secret + "@db.example:port/frontdesk"}, nil, "invalid --db"},
		{"migrate, upper case, bad escape", []string{"migrate", "status"}, map[string]string{"FRONTDESK_DB": " POSTGRES://fd:" + secret + "%zz@db.example/fd"}, "invalid FRONTDESK_DB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runInProcess(c.args, c.vars)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			msg := strings.TrimSuffix(stderr, "\n")
			if strings.Contains(msg, "\n") || !strings.Contains(msg, c.want) || !strings.Contains(msg, "PostgreSQL URL") {
				t.Errorf("stderr %q: want one line with %q saying what a PostgreSQL URL looks like", stderr, c.want)
			}
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("the URL's password was printed: %q", stdout+stderr)
			}
			for _, p := range []string{"postgres:", "postgresql:", " POSTGRES:"} {
				if _, err := os.Stat(p); err == nil {
					os.RemoveAll(p)
					t.Errorf("%q was made on disk", p)
				}
			}
		})
	}
	// A SQLite path that merely mentions postgres is still a path.
	path := t.TempDir() + "/postgres-notes.db"
	if code, _, stderr := runInProcess([]string{"migrate"}, map[string]string{"FRONTDESK_DB": path}); code != 0 {
		t.Errorf("FRONTDESK_DB=%s: exit %d: %s", path, code, stderr)
	}
}

// A server that cannot be reached is a run-time failure (exit 1) that names the database without its password.
func TestUnreachablePostgresFailsWithoutShowingThePassword(t *testing.T) {
	const secret = "s3cret-pass"
	// Port 1 on loopback: nothing listens there, so the connection is refused at once.
	code, stdout, stderr := runInProcess([]string{"migrate"},
		map[string]string{"FRONTDESK_DB": "postgres://fd:" + secret + "@127.0.0.1:1/frontdesk?connect_timeout=2"})
	if code != exitFailure {
		t.Errorf("exit %d, want %d: %s", code, exitFailure, stderr)
	}
	if strings.Contains(stdout+stderr, secret) {
		t.Errorf("the URL's password was printed: %q", stdout+stderr)
	}
	if !strings.Contains(stderr, "127.0.0.1:1") {
		t.Errorf("stderr %q does not say which server", stderr)
	}
}

// migrate on a PostgreSQL URL applies PostgreSQL's migrations, and a second run applies none.
func TestMigrateOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	vars := map[string]string{"FRONTDESK_DB": url}
	for i, want := range []string{"applied=", "applied=0"} {
		code, _, stderr := runInProcess([]string{"migrate"}, vars)
		if code != 0 || !strings.Contains(stderr, want) {
			t.Fatalf("migrate run %d: exit %d, stderr %q, want %q", i+1, code, stderr, want)
		}
		if strings.Contains(stderr, url) {
			t.Errorf("the URL with its password was logged: %q", stderr)
		}
	}
	code, stdout, stderr := runInProcess([]string{"migrate", "status"}, vars)
	if code != 0 || !strings.Contains(stdout, "00010") {
		t.Errorf("migrate status: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// backup is SQLite's: on PostgreSQL it exits 1 saying to use the server's backups, and writes no file.
func TestBackupOnPostgresPointsAtTheServersBackups(t *testing.T) {
	out := t.TempDir() + "/copy.db"
	code, _, stderr := runInProcess([]string{"backup", "--out", out}, map[string]string{"FRONTDESK_DB": pgtest.URL(t)})
	if code != exitFailure || !strings.Contains(stderr, "pg_dump") || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Errorf("backup on PostgreSQL: exit %d, stderr %q; want 1 and one line pointing at pg_dump", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("backup on PostgreSQL wrote %s", out)
	}
}

// copy's bad input: one line naming the flag or setting, exit 2 (or 1 for a source that is not there), the
// target's password never shown, and nothing created.
func TestCopyRefusesBadInput(t *testing.T) {
	const secret = "s3cret-pass"
	dir := t.TempDir()
	missing := dir + "/none.db"
	cases := []struct {
		args []string
		db   string
		code int
		want string
	}{
		{[]string{"copy"}, missing, exitUsage, "missing --to"},
		{[]string{"copy", "--to", "/tmp/other.db"}, missing, exitUsage, "invalid --to"},
		{[]string{"copy", "--to", "postgres://fd:" + secret + "@/nohost"}, missing, exitUsage, "invalid --to"},
		{[]string{"copy", "--to", "postgres://fd:" + secret + "@db.example/fd", "extra"}, missing, exitUsage, "no arguments"},
		{[]string{"copy", "--to", "postgres://fd:" + secret + "@db.example/fd"}, "postgres://a:" + secret + "@db.example/a", exitUsage, "invalid FRONTDESK_DB"},
		{[]string{"copy", "--to", "postgres://fd:" + secret + "@db.example/fd"}, missing, exitFailure, "no SQLite database"},
	}
	for _, c := range cases {
		code, stdout, stderr := runInProcess(c.args, map[string]string{"FRONTDESK_DB": c.db})
		msg := strings.TrimSuffix(stderr, "\n")
		if code != c.code || !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
			t.Errorf("%v with FRONTDESK_DB=%s: exit %d, stderr %q; want %d and one line with %q", c.args, db.RedactURL(c.db), code, stderr, c.code, c.want)
		}
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("%v printed a password: %q", c.args, stdout+stderr)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("copy created the missing source %s", missing)
	}
}
