package main

import (
	"database/sql"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

func TestTokenCreateListRevoke(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	vars := map[string]string{"FRONTDESK_DB": path, "FRONTDESK_TOKEN_DAYS": "45", "FRONTDESK_TIMEZONE": "UTC"}
	for _, email := range []string{"ann@clinic.example", "bob@clinic.example"} {
		if code, _, stderr := runWithStdin("correct horse battery staple\n",
			[]string{"user", "add", "--email", email, "--name", "Staff", "--role", "coordinator"}, vars); code != 0 {
			t.Fatalf("user add: %s", stderr)
		}
	}
	var tokens []string
	for _, args := range [][]string{
		{"token", "create", "--email", "ann@clinic.example", "--label", "website"},
		{"token", "create", "--email", "ann@clinic.example", "--label", "reports", "--days", "1"},
		{"token", "create", "--email", "bob@clinic.example", "--label", "laptop", "--days", "3650"},
	} {
		code, out, stderr := runInProcess(args, vars)
		if code != 0 || !regexp.MustCompile(`^fd_[a-z2-7]{52}\n$`).MatchString(out) {
			t.Fatalf("%v: exit %d, out %q, err %q", args, code, out, stderr)
		}
		tokens = append(tokens, strings.TrimSpace(out))
	}
	raw, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	days := func(label string) int {
		var d int
		if err := raw.QueryRow(`SELECT (expires_at - created_at) / 86400000 FROM api_tokens WHERE label = ?`, label).Scan(&d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := days("website"); d != 45 {
		t.Errorf("default lifetime %d days, want FRONTDESK_TOKEN_DAYS (45)", d)
	}
	if d := days("reports"); d != 1 {
		t.Errorf("--days 1 gave %d days", d)
	}

	code, out, _ := runInProcess([]string{"token", "list"}, vars)
	if code != 0 {
		t.Fatalf("token list: exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !regexp.MustCompile(`^ID\s+OWNER\s+LABEL\s+CREATED\s+LAST USED\s+EXPIRES\s+REVOKED$`).MatchString(lines[0]) {
		t.Fatalf("token list:\n%s", out)
	}
	hashes, err := raw.Query(`SELECT token_hash FROM api_tokens`)
	if err != nil {
		t.Fatal(err)
	}
	for hashes.Next() {
		var hash string
		if err := hashes.Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out, hash[:16]) {
			t.Error("token list shows a token's hash")
		}
	}
	hashes.Close()
	for _, tok := range tokens {
		if strings.Contains(out, tok[3:20]) {
			t.Error("token list shows a token")
		}
	}
	if !regexp.MustCompile(`laptop\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+-\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+-`).MatchString(out) {
		t.Errorf("the laptop token's line does not show created, never used, expiry, not revoked:\n%s", out)
	}
	_, out, _ = runInProcess([]string{"token", "list", "--email", "bob@clinic.example"}, vars)
	if strings.Contains(out, "ann@clinic.example") || !strings.Contains(out, "laptop") {
		t.Errorf("token list --email:\n%s", out)
	}

	// An expired token says so.
	rw, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if _, err := rw.Exec(`UPDATE api_tokens SET expires_at = created_at - 1 WHERE label = 'reports'`); err != nil {
		t.Fatal(err)
	}
	if _, out, _ = runInProcess([]string{"token", "list"}, vars); !regexp.MustCompile(`reports\s+.*\(expired\)`).MatchString(out) {
		t.Errorf("the expired token is not marked expired:\n%s", out)
	}

	var id string
	if err := raw.QueryRow(`SELECT id FROM api_tokens WHERE label = 'website'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runInProcess([]string{"token", "revoke", "--id", id}, vars)
	if code != 0 || !strings.Contains(out, "revoked token "+id) {
		t.Fatalf("token revoke: exit %d %q %q", code, out, stderr)
	}
	var revoked int
	raw.QueryRow(`SELECT count(*) FROM api_tokens WHERE id = ? AND revoked_at IS NOT NULL`, id).Scan(&revoked)
	if revoked != 1 {
		t.Error("the token was not revoked")
	}
	_, out, _ = runInProcess([]string{"token", "list", "--email", "ann@clinic.example"}, vars)
	if !regexp.MustCompile(`website\s+.*\d\d:\d\d\s*\n`).MatchString(out) {
		t.Errorf("the revoked token does not show when it was revoked:\n%s", out)
	}
	var audited int
	raw.QueryRow(`SELECT count(*) FROM audit_log WHERE action IN ('token_create', 'token_revoke')`).Scan(&audited)
	if audited != 4 {
		t.Errorf("%d token audit entries, want 4", audited)
	}
}
