package main

import (
	"os"
	"strings"
	"testing"
)

// Until PostgreSQL is wired in, a postgres:// FRONTDESK_DB is a bad setting: one line naming it, exit 2, the URL
// (and its password) not repeated, and nothing made on disk (a SQLite path "postgres://…" would make a folder
// "postgres:").
func TestPostgresURLIsRefusedUntilSupported(t *testing.T) {
	const secret = "s3cret-pass"
	cases := []struct {
		name string
		args []string
		vars map[string]string
		want string
	}{
		{"serve, variable", []string{"serve"}, map[string]string{"FRONTDESK_DB": "postgres://fd:" + secret + "@db.example:5432/frontdesk"}, "invalid FRONTDESK_DB"},
		{"serve, flag", []string{"serve", "--db", "postgresql://fd:" + secret + "@db.example/frontdesk?sslmode=require"}, nil, "invalid --db"},
		{"migrate, upper case", []string{"migrate", "status"}, map[string]string{"FRONTDESK_DB": " POSTGRES://fd:" + secret + "@db.example/fd"}, "invalid FRONTDESK_DB"},
		{"migrate, flag", []string{"migrate", "--db", "postgres://fd:" + secret + "@db.example/fd", "status"}, nil, "invalid --db"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A bad setting checked after FRONTDESK_DB: should the URL pass, the command stops there
			// rather than serve.
			vars := map[string]string{"FRONTDESK_TIMEZONE": "Mars/Olympus"}
			for k, v := range c.vars {
				vars[k] = v
			}
			code, stdout, stderr := runInProcess(c.args, vars)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			msg := strings.TrimSuffix(stderr, "\n")
			if strings.Contains(msg, "\n") || !strings.Contains(msg, c.want) ||
				!strings.Contains(msg, "PostgreSQL is not supported yet by this build") {
				t.Errorf("stderr %q: want one line with %q saying PostgreSQL is not supported yet", stderr, c.want)
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
