package main

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/db"
	"github.com/frontdesk/frontdesk/intake"
)

// seedEnquiry stores one enquiry with a note through the real services and returns its reference.
func seedEnquiry(t *testing.T, path, email string) string {
	t.Helper()
	d, err := db.Open(path, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	in := crm.NewIntakeService(d, intake.NewValidator(nil, time.UTC), "intake@clinic.example", log)
	rec, err := in.Submit(context.Background(), intake.Submission{Name: "Zoë Erasable", Email: email, Phone: "07700 900123",
		Treatment: "ptsd", Message: "Nightmares since the accident", DateOfBirth: "1980-01-02", Consent: true}, "key-"+email)
	if err != nil {
		t.Fatal(err)
	}
	ws := crm.NewWorkspace(d, d, d, crm.WorkspaceConfig{Location: time.UTC}, log)
	if _, err := ws.AddNote(context.Background(), crm.System, rec.Reference, "Zoë's partner called"); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Transition(context.Background(), crm.System, rec.Reference, crm.StatusLost, "Zoë moved abroad", 0); err != nil {
		t.Fatal(err)
	}
	return rec.Reference
}

func TestEraseRemovesPersonalDataAndKeepsCounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	ref := seedEnquiry(t, path, "zoe@example.org")
	keep := seedEnquiry(t, path, "other@example.org")
	vars := map[string]string{"FRONTDESK_DB": path}
	code, out, stderr := runInProcess([]string{"erase", "--ref", strings.ToLower(ref)}, vars)
	if code != 0 || !strings.Contains(out, ref) {
		t.Fatalf("erase: exit %d %q %q", code, out, stderr)
	}
	count := func(q string, args ...any) int { return countIn(t, path, q, args...) }
	if n := count(`SELECT count(*) FROM enquiries WHERE reference = ? AND name = '(erased)' AND email = '' AND phone = ''
		AND message = '' AND date_of_birth = '' AND erased_at IS NOT NULL AND treatment = 'ptsd' AND status = 'lost'`, ref); n != 1 {
		t.Error("personal fields not erased, or the anonymous fields not kept")
	}
	// Nothing of the patient is left anywhere in the file's tables.
	for _, q := range []string{
		`SELECT count(*) FROM notes n JOIN enquiries e ON e.id = n.enquiry_id WHERE e.reference = ?`,
		`SELECT count(*) FROM events v JOIN enquiries e ON e.id = v.enquiry_id WHERE e.reference = ? AND v.reason <> ''`,
		`SELECT count(*) FROM outbox o JOIN enquiries e ON e.id = o.enquiry_id WHERE e.reference = ? AND o.recipient <> ''`,
		`SELECT count(*) FROM idempotency_keys k JOIN enquiries e ON e.id = k.enquiry_id WHERE e.reference = ?`,
	} {
		if n := count(q, ref); n != 0 {
			t.Errorf("%s: %d rows left", q, n)
		}
	}
	for _, term := range []string{"zoe", "Erasable", "Nightmares", "partner", "447700900123"} {
		if n := count(`SELECT count(*) FROM enquiry_search s JOIN enquiries e ON e.id = s.rowid WHERE enquiry_search MATCH ? AND e.reference = ?`, term, ref); n != 0 {
			t.Errorf("search still finds the erased enquiry by %q", term)
		}
	}
	if n := count(`SELECT count(*) FROM events v JOIN enquiries e ON e.id = v.enquiry_id WHERE e.reference = ? AND v.kind = 'erased'`, ref); n != 1 {
		t.Error("no erased event")
	}
	if n := count(`SELECT count(*) FROM audit_log a JOIN enquiries e ON e.id = a.enquiry_id WHERE e.reference = ? AND a.action = 'erase'`, ref); n != 1 {
		t.Error("erasure not in the audit log")
	}
	if n := count(`SELECT count(*) FROM enquiries WHERE reference = ? AND name = 'Zoë Erasable' AND email = 'other@example.org'`, keep); n != 1 {
		t.Error("another patient's enquiry was touched")
	}
	if n := count(`SELECT count(*) FROM enquiries`); n != 2 {
		t.Errorf("%d enquiries: the erased one must stay for the counts", n)
	}
	// Erasing again is harmless; an unknown or malformed reference is refused.
	if code, _, _ := runInProcess([]string{"erase", "--ref", ref}, vars); code != 0 {
		t.Errorf("second erase: exit %d", code)
	}
	if code, _, stderr := runInProcess([]string{"erase", "--ref", "ZZZZ-ZZZZ"}, vars); code != 1 || !strings.Contains(stderr, "ZZZZ-ZZZZ") {
		t.Errorf("unknown ref: exit %d %q", code, stderr)
	}
	if code, _, stderr := runInProcess([]string{"erase", "--ref", "nope"}, vars); code != 2 || !strings.Contains(stderr, "--ref") {
		t.Errorf("malformed ref: exit %d %q", code, stderr)
	}
	if code, _, stderr := runInProcess([]string{"erase"}, vars); code != 2 || !strings.Contains(stderr, "--ref") {
		t.Errorf("missing ref: exit %d %q", code, stderr)
	}
}

func TestBackupIsAConsistentCopy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.db")
	seedEnquiry(t, path, "a@example.org")
	seedEnquiry(t, path, "b@example.org")
	out := filepath.Join(dir, "backup.db")
	vars := map[string]string{"FRONTDESK_DB": path}
	if code, stdout, stderr := runInProcess([]string{"backup", "--out", out}, vars); code != 0 || !strings.Contains(stdout, "backup.db") {
		t.Fatalf("backup: exit %d %q %q", code, stdout, stderr)
	}
	raw, err := sql.Open("sqlite3", "file:"+out+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	var integrity string
	raw.QueryRow(`SELECT count(*) FROM enquiries`).Scan(&n)
	raw.QueryRow(`PRAGMA integrity_check`).Scan(&integrity)
	if n != 2 || integrity != "ok" {
		t.Errorf("backup has %d enquiries, integrity %q", n, integrity)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the backup (health data) is readable by others: %v %v", fi.Mode(), err)
	}
	if code, _, stderr := runInProcess([]string{"backup", "--out", out}, vars); code != 2 || !strings.Contains(stderr, "exists") {
		t.Errorf("existing --out: exit %d %q", code, stderr)
	}
	if code, _, stderr := runInProcess([]string{"backup"}, vars); code != 2 || !strings.Contains(stderr, "--out") {
		t.Errorf("missing --out: exit %d %q", code, stderr)
	}
	bad := filepath.Join(dir, "no", "such", "folder", "b.db")
	if code, _, stderr := runInProcess([]string{"backup", "--out", bad}, vars); code != 1 || stderr == "" {
		t.Errorf("unwritable --out: exit %d %q", code, stderr)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "partial") {
			t.Errorf("a partial file was left behind: %s", e.Name())
		}
	}
}
