package main

import (
	"database/sql"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestAuditVerifySaysOKThenNamesTheTamperedEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	ref := seedEnquiry(t, path, "zoe@example.org")
	vars := map[string]string{"FRONTDESK_DB": path}
	// Erasing writes an audit entry; a second enquiry's erasure writes another.
	if code, _, stderr := runInProcess([]string{"erase", "--ref", ref}, vars); code != 0 {
		t.Fatalf("erase: exit %d %s", code, stderr)
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
	var id int64
	if err := raw.QueryRow(`SELECT max(id) FROM audit_log WHERE action = 'erase'`).Scan(&id); err != nil || id == 0 {
		t.Fatalf("no erase entry: %v", err)
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
