package main

import (
	"database/sql"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestAuditVerifySaysOKThenNamesTheTamperedEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	ref := seedEnquiry(t, path, "zoe@example.org")
	vars := map[string]string{"FRONTDESK_DB": path}
	// Seeding and erasing write audit entries.
	if code, _, stderr := runInProcess([]string{"erase", "--ref", ref}, vars); code != 0 {
		t.Fatalf("erase: exit %d %s", code, stderr)
	}
	if code, _, stderr := runInProcess([]string{"sar", "--email", "zoe@example.org", "--out", filepath.Join(t.TempDir(), "sar.json")}, vars); code != 0 {
		t.Fatalf("sar: exit %d %s", code, stderr)
	}
	code, out, stderr := runInProcess([]string{"audit", "verify"}, vars)
	if code != 0 || !strings.HasPrefix(out, "ok ") || !strings.Contains(out, " entries") {
		t.Fatalf("audit verify on an untouched log: exit %d %q %q", code, out, stderr)
	}
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// The head it prints, kept off the server, later proves nothing was cut from the end.
	head := regexp.MustCompile(`(?m)^last entry (\d+) hash ([0-9a-f]{64})$`).FindStringSubmatch(out)
	if head == nil {
		t.Fatalf("verify does not print the last entry's hash: %q", out)
	}
	if code, out, _ := runInProcess([]string{"audit", "verify", "--includes", head[2]}, vars); code != 0 || !strings.HasPrefix(out, "ok ") {
		t.Fatalf("verify --includes the head: exit %d %q", code, out)
	}
	if code, _, stderr := runInProcess([]string{"audit", "verify", "--includes", "abc"}, vars); code != 2 || !strings.Contains(stderr, "--includes") {
		t.Errorf("verify --includes abc: exit %d %q", code, stderr)
	}
	if _, err := raw.Exec(`DELETE FROM audit_log WHERE id = ?`, head[1]); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runInProcess([]string{"audit", "verify"}, vars); code != 0 {
		t.Fatalf("the chain itself cannot see a cut end: exit %d %q", code, out)
	}
	if code, out, _ := runInProcess([]string{"audit", "verify", "--includes", head[2]}, vars); code != 1 || !strings.Contains(out, "removed from the end") {
		t.Errorf("verify --includes after the last entry was removed: exit %d %q", code, out)
	}
	var id int64
	if err := raw.QueryRow(`SELECT max(id) FROM audit_log`).Scan(&id); err != nil || id == 0 {
		t.Fatalf("no audit entry left: %v", err)
	}
	if _, err := raw.Exec(`UPDATE audit_log SET actor_id = NULL, detail = 'routine' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runInProcess([]string{"audit", "verify"}, vars)
	if code != 1 || !strings.Contains(out, "entry ") || !strings.Contains(stderr, "tampered") {
		t.Fatalf("audit verify after tampering: exit %d %q %q", code, out, stderr)
	}
	if want := "broken at entry " + strconv.FormatInt(id, 10); !strings.Contains(out, want) {
		t.Errorf("verify said %q, want it to name entry %d", out, id)
	}
	if code, _, stderr := runInProcess([]string{"audit", "check"}, vars); code != 2 || !strings.Contains(stderr, "verify") {
		t.Errorf("audit check: exit %d %q", code, stderr)
	}
	if code, _, stderr := runInProcess([]string{"audit", "verify", "--bogus"}, vars); code != 2 || !strings.Contains(stderr, "bogus") {
		t.Errorf("audit verify --bogus: exit %d %q", code, stderr)
	}
}
