package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/db"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/xuri/excelize/v2"
)

// exportDB makes a database with three enquiries received on 2 November 2026 (London) and one spam, and
// returns the environment that points the commands at it.
func exportDB(t *testing.T) map[string]string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.db")
	d, err := db.Open(path, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"Zoë Ångström", "=1+2", "Ann Example", "Spam Bot"} {
		at := time.Date(2026, 11, 2, 9+i, 0, 0, 0, time.UTC)
		_, err := d.CreateEnquiry(ctx, crm.NewEnquiry{Enquiry: intake.Enquiry{Name: name,
			Email: strings.ToLower(strings.Fields(name)[0]) + "@example.org", Phone: "+447700900123",
			PreferredContact: "either", Treatment: []string{"adhd", "ptsd", "adhd", "adhd"}[i], Spam: i == 3,
			Message: "Line one\nLine \"two\"", Consent: intake.Consent{GivenAt: at, Version: intake.PrivacyNoticeVersion}},
			ReceivedAt: at, Fingerprint: name}, crm.PlanIntake)
		if err != nil {
			t.Fatal(err)
		}
	}
	return map[string]string{"FRONTDESK_DB": path, "FRONTDESK_TIMEZONE": "Europe/London"}
}

// leftovers lists what is in dir besides the database.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "f.db") {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestExportCommandWritesCSVToStdoutAndFiles(t *testing.T) {
	vars := exportDB(t)
	code, out, stderr := runInProcess([]string{"export", "enquiries", "--from", "2026-11-02", "--to", "2026-11-02"}, vars)
	if code != 0 || stderr != "wrote 3 enquiries to stdout (it contains patients' health data; the export is in the audit log)\n" {
		t.Fatalf("exit %d: %q", code, stderr)
	}
	if !strings.HasPrefix(out, "\uFEFFreference,created_at,status,name,") {
		t.Fatalf("stdout %q", out[:min(len(out), 60)])
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\uFEFF"))).ReadAll()
	if err != nil || len(recs) != 4 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if recs[1][3] != "Zoë Ångström" || recs[2][3] != "'=1+2" || recs[1][5] != "'+447700900123" ||
		recs[1][1] != "2026-11-02T09:00:00+00:00" || recs[1][19] != "Line one\nLine \"two\"" {
		t.Errorf("rows %q", recs[1:3])
	}

	dir := filepath.Dir(vars["FRONTDESK_DB"])
	file := filepath.Join(dir, "november.csv")
	code, out, stderr = runInProcess([]string{"export", "enquiries", "--status", "new", "--treatment", "adhd", "--out", file}, vars)
	if code != 0 || out != "" || !strings.Contains(stderr, "wrote 2 enquiries to "+file) {
		t.Fatalf("--out: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil || strings.Count(string(b), "\r\n") != 3+2 { // header, two rows, each with one line break in its message
		t.Errorf("file: %v\n%q", err, b)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("the export (health data) is readable by others: %v", fi.Mode())
	}
	if got := leftovers(t, dir); strings.Join(got, ",") != "november.csv" {
		t.Errorf("left in the folder: %v", got)
	}

	// Recorded as done by Frontdesk itself, with the filters and the count.
	raw, err := sql.Open("sqlite3", "file:"+vars["FRONTDESK_DB"]+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var detail string
	var actor sql.NullInt64
	if err := raw.QueryRow(`SELECT detail, actor_id FROM audit_log WHERE action = 'export' ORDER BY id DESC LIMIT 1`).Scan(&detail, &actor); err != nil {
		t.Fatal(err)
	}
	if detail != "csv; status new, treatment adhd; 2 rows" || actor.Valid {
		t.Errorf("audit %q by %v", detail, actor)
	}
}

func TestExportCommandWritesExcel(t *testing.T) {
	vars := exportDB(t)
	file := filepath.Join(t.TempDir(), "november.xlsx")
	code, _, stderr := runInProcess([]string{"export", "enquiries", "--format", "xlsx", "--out", file}, vars)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := excelize.OpenFile(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Enquiries")
	if err != nil || len(rows) != 4 || rows[1][3] != "Zoë Ångström" || rows[2][3] != "=1+2" {
		t.Errorf("rows %v %v", rows, err)
	}
}

func TestExportCommandRefusesBadInput(t *testing.T) {
	vars := exportDB(t)
	dir := filepath.Dir(vars["FRONTDESK_DB"])
	blocker := filepath.Join(dir, "blocker")
	if err := os.Mkdir(blocker, 0o700); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export"}, 2, "enquiries"},
		{[]string{"export", "patients"}, 2, "enquiries"},
		{[]string{"export", "enquiries", "--from", "2026-11-31"}, 2, "--from"},
		{[]string{"export", "enquiries", "--to", "yesterday"}, 2, "--to"},
		{[]string{"export", "enquiries", "--from", "2026-11-30", "--to", "2026-11-01"}, 2, "--to"},
		{[]string{"export", "enquiries", "--status", "pending"}, 2, "--status"},
		{[]string{"export", "enquiries", "--treatment", "yoga"}, 2, "--treatment"},
		{[]string{"export", "enquiries", "--assignee", "nobody@clinic.example"}, 2, "--assignee"},
		{[]string{"export", "enquiries", "--format", "pdf"}, 2, "--format"},
		{[]string{"export", "enquiries", "--colour", "blue"}, 2, "colour"},
		{[]string{"export", "enquiries", "extra"}, 2, "extra"},
		// A folder that does not exist: a failure at run time, nothing created.
		{[]string{"export", "enquiries", "--out", filepath.Join(dir, "no", "such", "folder", "x.csv")}, 1, "--out"},
		// A folder in the way of the file: everything is written, the rename fails, the temporary file goes.
		{[]string{"export", "enquiries", "--out", blocker}, 1, "it is a folder"},
	}
	for _, tc := range cases {
		code, out, stderr := runInProcess(tc.args, vars)
		if code != tc.code || !strings.Contains(stderr, tc.want) || out != "" {
			t.Errorf("%v: exit %d (want %d), stderr %q (want it to name %q), stdout %q", tc.args, code, tc.code, stderr, tc.want, out)
		}
		if strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: stderr is more than one line: %q", tc.args, stderr)
		}
	}
	if got := leftovers(t, dir); strings.Join(got, ",") != "blocker" {
		t.Errorf("left behind: %v", got)
	}
}

// A bad filter gets the same one line as ever, whether the command checks it before opening the database or the
// export service checks it after.
func TestExportCommandWordsBadFilters(t *testing.T) {
	vars := exportDB(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--from", " 2026-11-31"}, `invalid --from "2026-11-31": give a date as YYYY-MM-DD`},
		{[]string{"--to", "yesterday"}, `invalid --to "yesterday": give a date as YYYY-MM-DD`},
		{[]string{"--from", "2026-11-30", "--to", "2026-11-01"}, "invalid --to: The end date must not be before the start date."},
		{[]string{"--status", "new,pending"}, `invalid --status "pending": use new, contacted, screening, assessment_booked, treatment_offered, in_treatment, not_suitable, lost, referred or spam`},
		{[]string{"--treatment", "yoga"}, `invalid --treatment "yoga": use adhd, depression, anxiety, ptsd, addiction, chronic_pain or other`},
		{[]string{"--assignee", "nobody@clinic.example"}, `invalid --assignee: No member of staff has the email "nobody@clinic.example".`},
	} {
		code, out, stderr := runInProcess(append([]string{"export", "enquiries"}, c.args...), vars)
		if code != 2 || out != "" || !strings.HasSuffix(stderr, c.want+"\n") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// The screening columns are always there; the answers only with --answers, and such an export says so in the
// audit log.
func TestExportCommandScreeningColumns(t *testing.T) {
	vars := exportDB(t)
	code, out, stderr := runInProcess([]string{"export", "enquiries"}, vars)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	header := strings.SplitN(strings.TrimPrefix(out, "\uFEFF"), "\r\n", 2)[0]
	if !strings.Contains(header, ",flags,phq9_total,phq9_band,") || strings.Contains(header, "phq9_1") {
		t.Errorf("header without --answers: %s", header)
	}
	code, out, stderr = runInProcess([]string{"export", "enquiries", "--answers"}, vars)
	if code != 0 {
		t.Fatalf("--answers: exit %d: %s", code, stderr)
	}
	header = strings.SplitN(strings.TrimPrefix(out, "\uFEFF"), "\r\n", 2)[0]
	if !strings.Contains(header, ",phq9_1,") || !strings.HasSuffix(header, ",safety_current_heavy_substance_use") {
		t.Errorf("header with --answers: %s", header)
	}
	raw, err := sql.Open("sqlite3", "file:"+vars["FRONTDESK_DB"]+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var detail string
	if err := raw.QueryRow(`SELECT detail FROM audit_log WHERE action = 'export' ORDER BY id DESC LIMIT 1`).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(detail, "with screening answers") {
		t.Errorf("audit detail %q", detail)
	}
	if code, _, stderr := runInProcess([]string{"export", "enquiries", "--answers=maybe"}, vars); code != 2 || !strings.Contains(stderr, "answers") {
		t.Errorf("--answers=maybe: exit %d, %q", code, stderr)
	}
}
