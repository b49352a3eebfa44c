package pgtest

import (
	"database/sql"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// childEnv marks the test binary run by TestPostgresWithoutServer as the child that asks for a database.
const childEnv = "FRONTDESK_PGTEST_CHILD"

// runChild runs TestPostgresWithoutServer in a child process without a server, with the given CI value, and returns its
// output and whether it passed.
func runChild(t *testing.T, ci string) (string, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPostgresWithoutServer$", "-test.v", "-test.count=1")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, EnvURL+"=") && !strings.HasPrefix(kv, "CI=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, childEnv+"=1", "CI="+ci)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run child: %v", err)
	}
	return string(out), err == nil
}

func TestPostgresWithoutServer(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		URL(t)
		t.Fatal("URL returned without a server")
	}
	out, passed := runChild(t, "")
	if !passed || !strings.Contains(out, "--- SKIP") || !strings.Contains(out, HowToRun) {
		t.Errorf("without CI: want a skip that says how to run the tests; passed %v, output:\n%s", passed, out)
	}
	out, passed = runChild(t, "true")
	if passed || !strings.Contains(out, "--- FAIL") || !strings.Contains(out, "CI=true but "+EnvURL+" is not set") {
		t.Errorf("in CI: want a failure; passed %v, output:\n%s", passed, out)
	}
}

func TestPostgresURLIsANewDatabaseDroppedAfterTheTest(t *testing.T) {
	server := ServerURL(t)
	var names []string
	for i := 0; i < 2; i++ {
		t.Run("test", func(t *testing.T) {
			u := URL(t)
			parsed, err := url.Parse(u)
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimPrefix(parsed.Path, "/")
			names = append(names, name)
			conn, err := sql.Open(DriverName, u)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var current string
			var tables int
			if err := conn.QueryRow(`SELECT current_database(), (SELECT count(*) FROM pg_tables
				WHERE schemaname NOT IN ('pg_catalog', 'information_schema'))`).Scan(&current, &tables); err != nil {
				t.Fatal(err)
			}
			if current != name || tables != 0 {
				t.Errorf("connected to %q with %d tables; want the new, empty %q", current, tables, name)
			}
			// A connection left open does not stop the drop.
			if _, err := conn.Exec(`CREATE TABLE t (id BIGINT)`); err != nil {
				t.Fatal(err)
			}
		})
	}
	if len(names) != 2 || names[0] == names[1] || !strings.HasPrefix(names[0], "frontdesk_test_testpostgresurlis") {
		t.Fatalf("database names %q: want two different frontdesk_test_… names", names)
	}
	admin, err := sql.Open(DriverName, server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var left int
	if err := admin.QueryRow(`SELECT count(*) FROM pg_database WHERE datname = ANY($1)`, names).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d of the test databases %q are still there", left, names)
	}
}

func TestPostgresDatabaseNameFits(t *testing.T) {
	long := databaseName("TestSomething/with spaces and ünïcode/" + strings.Repeat("x", 100))
	if len(long) > 63 || strings.Trim(long, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		t.Errorf("%q: want at most 63 lower-case letters, digits and underscores", long)
	}
}
