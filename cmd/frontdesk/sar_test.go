package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
)

func TestSarWritesTheSubjectAccessDocument(t *testing.T) {
	c := newClinic(t)
	first := c.submit(intake.Submission{Name: "Sara Access", Email: "sara.access@example.org", Treatment: "adhd",
		Message: "first of two"}, "")
	second := c.submit(intake.Submission{Name: "Sara Access", Email: "Sara.Access@Example.org", Treatment: "ptsd",
		Message: "second of two"}, "")
	c.submit(intake.Submission{Name: "Someone Else", Email: "else@example.org", Treatment: "adhd"}, "")
	if _, err := c.ws.AddNote(context.Background(), crm.System, first, "rang back"); err != nil {
		t.Fatal(err)
	}
	c.sendMail()

	code, out, stderr := runInProcess([]string{"sar", "--email", "SARA.access@example.org"}, c.vars)
	if code != 0 || !strings.Contains(stderr, "2 enquiries") {
		t.Fatalf("sar: exit %d, stderr %q", code, stderr)
	}
	var doc crm.SubjectAccessDocument
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not the JSON document: %v\n%s", err, out)
	}
	if doc.Email != "sara.access@example.org" || len(doc.Enquiries) != 2 || doc.Enquiries[0].Reference != first ||
		doc.Enquiries[1].Reference != second || len(doc.Enquiries[0].Notes) != 1 || len(doc.Enquiries[0].Emails) == 0 {
		t.Errorf("document %+v", doc)
	}

	// --out: a file only its owner may read, and nothing else left in the folder.
	dir := t.TempDir()
	file := filepath.Join(dir, "sara.json")
	code, out, stderr = runInProcess([]string{"sar", "--email", "sara.access@example.org", "--out", file}, c.vars)
	if code != 0 || out != "" || !strings.Contains(stderr, file) {
		t.Fatalf("sar --out: exit %d, %q, %q", code, out, stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil || json.Unmarshal(b, &doc) != nil || len(doc.Enquiries) != 2 {
		t.Errorf("the file is not the document: %v", err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("--out file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("left in the folder: %v", ents)
	}

	// An address nobody used: an empty list, not an error.
	code, out, _ = runInProcess([]string{"sar", "--email", "nobody@example.org"}, c.vars)
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || doc.Enquiries == nil || len(doc.Enquiries) != 0 {
		t.Errorf("unknown address: exit %d %q", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sar"}, "--email"},
		{[]string{"sar", "--email", "nope"}, "--email"},
		{[]string{"sar", "--email", "a@b.example", "extra"}, "extra"},
	} {
		if code, _, stderr := runInProcess(tc.args, c.vars); code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want 2 naming %s", tc.args, code, stderr, tc.want)
		}
	}
	if code, _, stderr := runInProcess([]string{"sar", "--email", "a@b.example", "--out", filepath.Join(dir, "no", "such", "x.json")}, c.vars); code != 1 || stderr == "" {
		t.Errorf("unwritable --out: exit %d %q", code, stderr)
	}
	// Every request is audited with the references, never the address.
	entries, _, err := c.db.ListAudit(context.Background(), crm.AuditQuery{Action: "subject_access"})
	if err != nil || len(entries) != 3 {
		t.Fatalf("subject access entries: %+v %v", entries, err)
	}
	for _, e := range entries {
		if strings.Contains(strings.ToLower(e.Detail), "sara") || strings.Contains(e.Detail, "nobody") {
			t.Errorf("the address is in the audit log: %+v", e)
		}
	}
	if e := entries[len(entries)-1]; strings.Join(e.Refs(), " ") != first+" "+second || e.Detail != "2 enquiries" {
		t.Errorf("first request's entry %+v", e)
	}
}

func TestRetentionSettings(t *testing.T) {
	get := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	c, _, err := loadConfig(flag.NewFlagSet("t", flag.ContinueOnError), nil, get(nil), true)
	if err != nil || c.RetentionMonths != 24 || c.SpamRetentionDays != 30 {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, _, err = loadConfig(flag.NewFlagSet("t", flag.ContinueOnError), []string{"--spam-retention-days", "7"},
		get(map[string]string{"FRONTDESK_RETENTION_MONTHS": "0"}), true)
	if err != nil || c.RetentionMonths != 0 || c.SpamRetentionDays != 7 {
		t.Fatalf("0 and a flag: %+v %v", c, err)
	}
	for _, tc := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{[]string{"serve"}, map[string]string{"FRONTDESK_RETENTION_MONTHS": "two years"}, "FRONTDESK_RETENTION_MONTHS"},
		{[]string{"serve"}, map[string]string{"FRONTDESK_RETENTION_MONTHS": "-1"}, "FRONTDESK_RETENTION_MONTHS"},
		{[]string{"serve"}, map[string]string{"FRONTDESK_SPAM_RETENTION_DAYS": "1.5"}, "FRONTDESK_SPAM_RETENTION_DAYS"},
		{[]string{"serve", "--retention-months", "99999"}, nil, "--retention-months"},
	} {
		code, _, stderr := runInProcess(tc.args, tc.vars)
		if code != 2 || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v %v: exit %d %q, want 2 naming %s", tc.args, tc.vars, code, stderr, tc.want)
		}
	}
}

// TestServeAppliesRetentionAtStart starts serve on a database with a closed enquiry past the retention period
// and old spam, and finds both dealt with and the run in the audit log, with nothing more done.
func TestServeAppliesRetentionAtStart(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	c := newClinic(t)
	ctx := context.Background()
	long := time.Now().AddDate(-3, 0, 0)
	c.intake.SetClock(func() time.Time { return long })
	c.ws.SetClock(func() time.Time { return long.Add(time.Hour) })
	closed := c.submit(intake.Submission{Name: "Old Closed", Email: "old@example.org", Treatment: "adhd"}, "")
	if _, err := c.ws.Transition(ctx, crm.System, closed, crm.StatusReferred, "referred to the NHS", 0); err != nil {
		t.Fatal(err)
	}
	spam := c.submit(intake.Submission{Name: "Old Spam", Email: "spam@example.org", Treatment: "adhd", Website: "x"}, "")
	c.intake.SetClock(time.Now)
	kept := c.submit(intake.Submission{Name: "New One", Email: "new@example.org", Treatment: "adhd"}, "")
	c.db.Close()

	srv := startServer(t, "FRONTDESK_DB="+c.vars["FRONTDESK_DB"], "FRONTDESK_MAIL_DIR="+c.vars["FRONTDESK_MAIL_DIR"])
	raw, err := sql.Open("sqlite3", "file:"+c.vars["FRONTDESK_DB"]+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var detail, refs string
	deadline := time.Now().Add(15 * time.Second)
	for raw.QueryRow(`SELECT detail, refs FROM audit_log WHERE action = 'retention'`).Scan(&detail, &refs) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("serve recorded no retention run:\n%s", srv.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if detail != "anonymised 1, deleted spam 1" || !strings.Contains(refs, closed) || !strings.Contains(refs, spam) {
		t.Errorf("retention entry %q %q", detail, refs)
	}
	var n int
	raw.QueryRow(`SELECT count(*) FROM enquiries WHERE reference = ? AND erased_at IS NOT NULL AND email = ''`, closed).Scan(&n)
	if n != 1 {
		t.Error("the closed enquiry was not anonymised")
	}
	raw.QueryRow(`SELECT count(*) FROM enquiries WHERE reference = ?`, spam).Scan(&n)
	if n != 0 {
		t.Error("the old spam was not deleted")
	}
	raw.QueryRow(`SELECT count(*) FROM enquiries WHERE reference = ? AND erased_at IS NULL AND email = 'new@example.org'`, kept).Scan(&n)
	if n != 1 {
		t.Error("a new enquiry was touched")
	}
	if strings.Contains(srv.logs.String(), "old@example.org") {
		t.Error("the log names a patient")
	}
}
