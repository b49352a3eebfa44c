package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
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

// clinic is a running Frontdesk in this process, as serve runs it: the database held open (so its WAL stays
// between commands, as it does while serve runs), intake, the workspace and the file mail transport.
type clinic struct {
	t      *testing.T
	dir    string
	vars   map[string]string
	db     *db.DB
	intake *crm.IntakeService
	ws     *crm.Workspace
}

func newClinic(t *testing.T) *clinic {
	t.Helper()
	dir := t.TempDir()
	c := &clinic{t: t, dir: dir, vars: map[string]string{
		"FRONTDESK_DB": filepath.Join(dir, "data", "frontdesk.db"), "FRONTDESK_MAIL_DIR": filepath.Join(dir, "data", "mail"),
		"FRONTDESK_INTAKE_INBOX": "intake@clinic.example",
	}}
	d, err := db.Open(c.vars["FRONTDESK_DB"], db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c.db = d
	c.intake = crm.NewIntakeService(d, intake.NewValidator(nil, time.UTC), "intake@clinic.example", log)
	c.ws = crm.NewWorkspace(d, d, d, crm.WorkspaceConfig{Location: time.UTC}, log)
	return c
}

// submit stores an enquiry and returns its reference.
func (c *clinic) submit(s intake.Submission, key string) string {
	c.t.Helper()
	s.Consent = true
	rec, err := c.intake.Submit(context.Background(), s, key)
	if err != nil {
		c.t.Fatal(err)
	}
	return rec.Reference
}

// sendMail runs serve's mail worker (file transport, as configured) until every queued email is written.
func (c *clinic) sendMail() {
	c.t.Helper()
	cfg, _, err := loadConfig(flag.NewFlagSet("test", flag.ContinueOnError), nil, func(k string) string { return c.vars[k] }, false)
	if err != nil {
		c.t.Fatal(err)
	}
	w, err := newMailWorker(cfg, c.db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { stop(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		queued, err := c.db.List(context.Background(), crm.OutboxFilter{Status: crm.OutboxQueued})
		if err != nil {
			c.t.Fatal(err)
		}
		if len(queued) == 0 {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%d emails still queued", len(queued))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// filesHolding returns, of the files given and every file under the folders given, those whose bytes contain
// needle in any letter case.
func filesHolding(t *testing.T, needle string, paths ...string) []string {
	t.Helper()
	var hits []string
	want := bytes.ToLower([]byte(needle))
	check := func(path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			if os.IsNotExist(err) {
				return
			}
			t.Fatal(err)
		}
		if bytes.Contains(bytes.ToLower(b), want) {
			hits = append(hits, filepath.Base(path))
		}
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if !fi.IsDir() {
			check(p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			check(filepath.Join(p, e.Name()))
		}
	}
	return hits
}

// TestEraseByEmailLeavesNoByteBehind is the right to erasure checked where it matters: the raw bytes of the
// database file, its WAL (kept open by a running Frontdesk), a backup taken afterwards and the mail folder.
func TestEraseByEmailLeavesNoByteBehind(t *testing.T) {
	c := newClinic(t)
	ctx := context.Background()
	dbPath, mailDir := c.vars["FRONTDESK_DB"], c.vars["FRONTDESK_MAIL_DIR"]
	// Other patients first, between and after, so the erased rows share pages with rows that stay.
	others := func(from, to int) {
		for i := from; i < to; i++ {
			c.submit(intake.Submission{Name: fmt.Sprintf("Other Patient %d", i), Email: fmt.Sprintf("other%d@example.org", i),
				Phone: fmt.Sprintf("07700 9%05d", i), Treatment: "anxiety", Message: fmt.Sprintf("ordinary worries number %d", i)}, "")
		}
	}
	others(0, 20)
	first := c.submit(intake.Submission{Name: "Wilhelmina Quarrendon", Email: "w.quarrendon@patient.example",
		Phone: "07700 900461", Treatment: "ptsd", Message: "Zanthoxylum palpitations since the velocipede accident",
		DateOfBirth: "1979-03-14", UTMCampaign: "hollyhockcampaign"}, "idemkey-quarrendon")
	others(20, 30)
	keep := c.submit(intake.Submission{Name: "Marmaduke Keepsake", Email: "keepsake@example.org", Treatment: "adhd",
		Message: "marmalade concentration troubles"}, "")
	second := c.submit(intake.Submission{Name: "Wilhelmina Quarrendon", Email: "W.Quarrendon@Patient.Example",
		Phone: "+44 7700 900461", Treatment: "depression", Message: "xylographic insomnia returns"}, "")
	others(30, 40)
	if _, err := c.ws.AddNote(ctx, crm.System, first, "Borborygmus noted on the phone call"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ws.AddNote(ctx, crm.System, keep, "Keepsake prefers mornings"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ws.Transition(ctx, crm.System, second, crm.StatusLost, "Perambulation abroad indefinitely", 0); err != nil {
		t.Fatal(err)
	}
	c.sendMail()

	needles := []string{"Wilhelmina", "Quarrendon", "w.quarrendon@patient.example", "Zanthoxylum", "palpitations",
		"velocipede", "xylographic", "insomnia", "Borborygmus", "Perambulation", "1979-03-14", "hollyhockcampaign",
		"idemkey-quarrendon", "+447700900461", "447700900461", "07700900461", "7700900461"}
	// The test proves something only if the data was there to find: in the database or its WAL, and the
	// address and name in the mail folder.
	for _, n := range needles {
		if n == "07700900461" {
			continue // stored in E.164 only
		}
		if hits := filesHolding(t, n, dbPath, dbPath+"-wal"); len(hits) == 0 {
			t.Fatalf("%q is not in the database before the erasure: the test would prove nothing", n)
		}
	}
	for _, n := range []string{"w.quarrendon@patient.example", "Wilhelmina"} {
		if hits := filesHolding(t, n, mailDir); len(hits) == 0 {
			t.Fatalf("%q is in no email before the erasure", n)
		}
	}

	code, out, stderr := runInProcess([]string{"erase", "--email", "W.QUARRENDON@patient.example"}, c.vars)
	if code != 0 || !strings.Contains(out, first) || !strings.Contains(out, second) || !strings.Contains(out, "2 enquiries") {
		t.Fatalf("erase --email: exit %d\n%s\n%s", code, out, stderr)
	}
	backup := filepath.Join(c.dir, "after-erasure.db")
	if code, _, stderr := runInProcess([]string{"backup", "--out", backup}, c.vars); code != 0 {
		t.Fatalf("backup: exit %d %s", code, stderr)
	}
	if fi, err := os.Stat(dbPath + "-wal"); err != nil {
		t.Fatalf("the WAL of the open database is gone, so it was not checked: %v", err)
	} else {
		t.Logf("WAL after the erasure: %d bytes", fi.Size())
	}
	for _, n := range needles {
		if hits := filesHolding(t, n, dbPath, dbPath+"-wal", dbPath+"-shm", backup, mailDir); len(hits) > 0 {
			t.Errorf("%q is still in %v after the erasure", n, hits)
		}
	}
	if names, _ := os.ReadDir(mailDir); len(names) == 0 {
		t.Error("the other patients' emails were deleted too")
	}
	for _, f := range []string{dbPath, backup} {
		raw, err := sql.Open("sqlite3", "file:"+f+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		var res string
		if err := raw.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
			t.Errorf("%s: integrity_check %q %v", filepath.Base(f), res, err)
		}
		raw.Close()
	}

	// The others are intact and still found by search, on the running database and in the backup.
	page, err := c.ws.List(ctx, crm.System, crm.ListFilter{Q: "marmalade"})
	if err != nil || len(page.Items) != 1 || page.Items[0].Reference != keep || page.Items[0].Name != "Marmaduke Keepsake" {
		t.Errorf("search for another patient: %+v %v", page.Items, err)
	}
	if page, _ := c.ws.List(ctx, crm.System, crm.ListFilter{Q: "Keepsake mornings"}); len(page.Items) != 1 {
		t.Errorf("another patient's note is no longer found: %+v", page.Items)
	}
	if page, _ := c.ws.List(ctx, crm.System, crm.ListFilter{Q: "ordinary worries"}); len(page.Items) != 40 {
		t.Errorf("search finds %d of the 40 other enquiries", len(page.Items))
	}
	for _, word := range []string{"Quarrendon", "Zanthoxylum", "Borborygmus", "447700900461"} {
		if page, _ := c.ws.List(ctx, crm.System, crm.ListFilter{Q: word, Status: "lost,new"}); len(page.Items) != 0 {
			t.Errorf("search still finds %q", word)
		}
	}
	bk, err := db.Open(backup, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bk.Close()
	bws := crm.NewWorkspace(bk, bk, bk, crm.WorkspaceConfig{Location: time.UTC}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if page, err := bws.List(ctx, crm.System, crm.ListFilter{Q: "marmalade"}); err != nil || len(page.Items) != 1 {
		t.Errorf("the backup does not find another patient: %+v %v", page.Items, err)
	}
	// Each erasure is audited, without the address; the chain still verifies.
	entries, _, err := c.db.ListAudit(ctx, crm.AuditQuery{Action: "erase"})
	if err != nil || len(entries) != 2 {
		t.Fatalf("erase entries: %+v %v", entries, err)
	}
	for _, e := range entries {
		if e.Reference != first && e.Reference != second || strings.Contains(strings.ToLower(e.Detail), "quarrendon") {
			t.Errorf("erase entry %+v", e)
		}
	}
	if n, err := crm.VerifyAudit(ctx, c.db); err != nil || n == 0 {
		t.Errorf("audit chain after erasure: %d %v", n, err)
	}
}

func TestEraseFlags(t *testing.T) {
	c := newClinic(t)
	ref := c.submit(intake.Submission{Name: "Ada Flag", Email: "ada@example.org", Treatment: "adhd"}, "")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"erase", "--ref", ref, "--email", "ada@example.org"}, 2, "not both"},
		{[]string{"erase", "--email", "not-an-address"}, 2, "--email"},
		{[]string{"erase", "--email", ""}, 2, "--email"},
		{[]string{"erase"}, 2, "--ref"},
		{[]string{"erase", "--email", "nobody@example.org"}, 1, "no enquiry has"},
	} {
		code, _, stderr := runInProcess(tc.args, c.vars)
		if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want %d naming %q on one line", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	if e, err := c.db.GetEnquiry(context.Background(), ref); err != nil || e.Erased || e.Name != "Ada Flag" {
		t.Errorf("a refused command changed the enquiry: %+v %v", e, err)
	}
	// One enquiry by --ref: erased, audited, and the message says so.
	code, out, stderr := runInProcess([]string{"erase", "--ref", ref}, c.vars)
	if code != 0 || !strings.Contains(out, ref) {
		t.Fatalf("erase --ref: exit %d %q %q", code, out, stderr)
	}
	if e, _ := c.db.GetEnquiry(context.Background(), ref); !e.Erased || e.Email != "" {
		t.Errorf("not erased: %+v", e)
	}
}
