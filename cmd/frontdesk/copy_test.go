package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/db/pgtest"
)

// apiGet answers GET path on base with token, as JSON decoded to any (so that two answers compare as values).
func apiGet(t *testing.T, base, token, path string) any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return v
}

// The move of a clinic from SQLite to PostgreSQL: `copy --to` carries a demo database with an erasure and an
// API token into an empty PostgreSQL database; the staff API then answers the same on both engines (the list
// page by page, each enquiry and its timeline, searches, reports), the token made on SQLite opens the API on
// PostgreSQL, and the audit chain verifies there. A second copy into the now non-empty database is refused and
// changes nothing.
func TestCopyToPostgresGivesTheSameAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	target := pgtest.URL(t)
	dir := t.TempDir()
	lite := filepath.Join(dir, "frontdesk.db")
	env := []string{"FRONTDESK_DB=" + lite, "FRONTDESK_MAIL_DIR=" + filepath.Join(dir, "mail")}
	if code, _, stderr := runCLI(t, "", env, "demo"); code != 0 {
		t.Fatalf("demo: %d %s", code, stderr)
	}
	token := adminToken(t, env, "copy test")

	// An erasure before the move: its anonymous remains move too.
	srv := startServer(t, env...)
	list := apiGet(t, srv.url(""), token, "/api/v1/enquiries?limit=5").(map[string]any)
	erased := list["items"].([]any)[0].(map[string]any)["reference"].(string)
	srv.stop(t, syscall.SIGTERM, 25*time.Second)
	if code, _, stderr := runCLI(t, "", env, "erase", "--ref", erased); code != 0 {
		t.Fatalf("erase: %d %s", code, stderr)
	}

	code, out, stderr := runCLI(t, "", env, "copy", "--to", target)
	if code != 0 {
		t.Fatalf("copy: exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	if !strings.Contains(out, "verify") || !strings.Contains(out, "enquiries") {
		t.Errorf("copy's report %q does not list the tables and the audit check", out)
	}
	if u, _ := url.Parse(target); u != nil {
		if p, ok := u.User.Password(); ok && strings.Contains(out+stderr, p) {
			t.Errorf("copy printed the target's password: %q", out+stderr)
		}
	}

	// A second copy: refused, exit 1, and the target unchanged (the API below still matches).
	code, out, stderr = runCLI(t, "", env, "copy", "--to", target)
	if code != exitFailure || !strings.Contains(stderr, "not empty") {
		t.Errorf("second copy: exit %d, stderr %q; want %d and a refusal saying the target is not empty", code, stderr, exitFailure)
	}

	pgEnv := []string{"FRONTDESK_DB=" + target, "FRONTDESK_MAIL_DIR=" + filepath.Join(dir, "mail-pg")}
	if code, out, stderr := runCLI(t, "", pgEnv, "audit", "verify"); code != 0 || !strings.HasPrefix(out, "ok ") {
		t.Fatalf("audit verify on PostgreSQL: %d %q %q", code, out, stderr)
	}

	a := startServer(t, env...)
	b := startServer(t, pgEnv...)
	same := func(path string) any {
		t.Helper()
		va, vb := apiGet(t, a.url(""), token, path), apiGet(t, b.url(""), token, path)
		ja, _ := json.Marshal(va)
		jb, _ := json.Marshal(vb)
		if string(ja) != string(jb) {
			t.Errorf("GET %s differs:\nSQLite     %.600s\nPostgreSQL %.600s", path, ja, jb)
		}
		return va
	}
	var refs []string
	cursor := ""
	for page := 0; ; page++ {
		v := same("/api/v1/enquiries?limit=50&cursor=" + url.QueryEscape(cursor)).(map[string]any)
		for _, it := range v["items"].([]any) {
			refs = append(refs, it.(map[string]any)["reference"].(string))
		}
		cursor, _ = v["next_cursor"].(string)
		if cursor == "" || page > 100 {
			break
		}
	}
	if len(refs) < 20 {
		t.Fatalf("only %d enquiries listed: the demo did not fill the database", len(refs))
	}
	for i, ref := range refs {
		if i%5 != 0 && ref != erased {
			continue // every fifth is enough to compare the detail, and the erased one
		}
		same("/api/v1/enquiries/" + ref)
		same("/api/v1/enquiries/" + ref + "/timeline")
	}
	for _, q := range []string{"status=new", "flag=risk", "treatment=adhd&status=contacted", "q=example.org", "q=" + refs[1]} {
		same("/api/v1/enquiries?limit=100&" + q)
	}
	for _, r := range []string{"funnel", "first-contact", "sources", "workload"} {
		same(fmt.Sprintf("/api/v1/reports/%s", r))
	}
}

// adminToken adds an administrator through `frontdesk user add` and returns an API token made for them with
// `frontdesk token create --label label`, both run with env.
func adminToken(t *testing.T, env []string, label string) string {
	t.Helper()
	if code, _, stderr := runCLI(t, "correct horse battery staple 42\n", env, "user", "add", "--email",
		"admin@clinic.example", "--name", "Ada Admin", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %d %s", code, stderr)
	}
	code, out, stderr := runCLI(t, "", env, "token", "create", "--email", "admin@clinic.example", "--label", label)
	if code != 0 {
		t.Fatalf("token create: %d %s", code, stderr)
	}
	return strings.TrimSpace(out)
}
