package db

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/jmoiron/sqlx"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return fi.Mode().Perm()
}

func TestDatabaseFilesAreReadableByTheirOwnerOnly(t *testing.T) {
	sqliteOnly(t)
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "frontdesk.db")
	d, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	insertRows(t, d, []*row{{CreatedAt: t0}})
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("data folder: %v, want 0700", m)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if m := mode(t, f); m != 0o600 {
			t.Errorf("%s: %v, want 0600", filepath.Base(f), m)
		}
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := d.Backup(context.Background(), backup); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, backup); m != 0o600 {
		t.Errorf("backup: %v, want 0600", m)
	}
	if err := d.Backup(context.Background(), backup); err == nil {
		t.Error("a backup overwrote an existing file")
	}
	d.Close()

	// Files an earlier version left readable by everyone are made the owner's only when opened again.
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(f, 0o644); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	d, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if m := mode(t, f); m != 0o600 {
			t.Errorf("reopened %s: %v, want 0600", filepath.Base(f), m)
		}
	}
}

func TestWriterDeletesSecurely(t *testing.T) {
	sqliteOnly(t) // PostgreSQL has no secure_delete: Scrub vacuums there (TestScrubEmptiesTheWAL)
	d := openTest(t)
	var on int
	if err := d.write.Get(&on, `PRAGMA secure_delete`); err != nil || on != 1 {
		t.Errorf("secure_delete = %d (%v), want 1 on the writer", on, err)
	}
}

func TestScrubEmptiesTheWAL(t *testing.T) {
	d := openTest(t)
	if onPostgres() {
		scrubVacuumsOnPostgres(t, d)
		return
	}
	insertRows(t, d, []*row{{Message: "scrubbable words", CreatedAt: t0}, {CreatedAt: t0}})
	// A reader between the writes keeps using the pool, as requests do.
	if n := count(t, d, `SELECT count(*) FROM enquiries`); n != 2 {
		t.Fatal(n)
	}
	if fi, err := os.Stat(d.Path() + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("the WAL should hold the writes before the scrub: %v %v", fi, err)
	}
	if err := d.Scrub(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(d.Path() + "-wal"); err != nil || fi.Size() != 0 {
		t.Errorf("WAL after Scrub: %v bytes, %v", fi.Size(), err)
	}
	if n := count(t, d, `SELECT count(*) FROM enquiries`); n != 2 {
		t.Errorf("%d enquiries after the scrub", n)
	}
}

func TestDoAloneRunsAfterTheWritesQueuedBeforeIt(t *testing.T) {
	sqliteOnly(t) // the writer's queue; PostgreSQL has none (TestScrubEmptiesTheWAL runs VACUUM through doAlone)
	d := openTest(t)
	ctx := context.Background()
	// Writes queued before it are committed when it runs; it runs outside a transaction (a TRUNCATE
	// checkpoint would fail inside one).
	started, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- d.writer.do(ctx, func(tx *Tx) error {
			close(started)
			<-release
			_, err := tx.Exec(`INSERT INTO staff (email, name, role, password_hash, created_at) VALUES ('a@b', 'A', 'admin', '', 0)`)
			return err
		})
	}()
	<-started
	second := make(chan int, 1)
	alone := make(chan error, 1)
	go func() {
		// Asked for while the first write is inside its transaction.
		alone <- d.writer.doAlone(ctx, func(ctx context.Context, w *sqlx.DB) error {
			var n int
			if err := w.Get(&n, `SELECT count(*) FROM staff`); err != nil {
				return err
			}
			var busy, frames, copied int
			if err := w.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &copied); err != nil || busy != 0 {
				return fmt.Errorf("checkpoint: busy %d, %v", busy, err)
			}
			second <- n
			return nil
		})
	}()
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-alone; err != nil {
		t.Fatal(err)
	}
	if n := <-second; n != 1 {
		t.Errorf("doAlone saw %d accounts: it ran before the write queued ahead of it committed", n)
	}
}

func TestRetentionFindsClosedEnquiriesByItsIndex(t *testing.T) {
	if _, err := closedSQL([]crm.Status{"new"}, t0); err == nil {
		t.Error("an active status was accepted as closing")
	}
	sqliteOnly(t) // the plan below is SQLite's (INDEXED BY); PostgreSQL's planner chooses by its statistics
	d := openTest(t)
	cond, err := closedSQL(crm.ClosedStatuses, t0)
	if err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(planOf(t, d, d.closedScan()+cond.sql+` LIMIT ?`, cond.with(10)...), "\n")
	if !strings.Contains(plan, "enquiries_closed_unerased") {
		t.Errorf("the retention scan does not use its index:\n%s", plan)
	}
}

// scrubVacuumsOnPostgres is TestScrubEmptiesTheWAL on PostgreSQL, whose WAL is the server's: Scrub vacuums every
// table that holds patient data, so the rows an erasure deleted or replaced leave their pages. Each table gets a
// live row and a dead one; after the scrub VACUUM has counted each table's pages (relpages, 0 since the table
// was created) and marked every page all-visible, which it does only for a page with no dead row left.
func scrubVacuumsOnPostgres(t *testing.T, d *DB) {
	ctx := context.Background()
	rows := []*row{{Message: "scrubbable words", CreatedAt: t0}, {Message: "kept words", CreatedAt: t0}}
	insertRows(t, d, rows)
	for i, r := range rows {
		for _, st := range []struct {
			q    string
			args []any
		}{
			{`INSERT INTO notes (enquiry_id, body, created_at) VALUES (?, 'a note', 0)`, []any{r.ID}},
			{`INSERT INTO events (enquiry_id, at, kind, reason) VALUES (?, 0, 'status', 'a reason')`, []any{r.ID}},
			{`INSERT INTO outbox (enquiry_id, kind, recipient, message_id, next_attempt_at, queued_at, created_at)
				VALUES (?, 'confirmation', 'ann@example.org', ?, 0, 0, 0)`, []any{r.ID, fmt.Sprint("m", i)}},
			{`INSERT INTO idempotency_keys (key, fingerprint, enquiry_id, created_at) VALUES (?, 'f', ?, 0)`,
				[]any{fmt.Sprint("k", i), r.ID}},
			{`INSERT INTO screenings (enquiry_id, instrument, answers, band, source, created_at)
				VALUES (?, 'phq9', '[]', '', 'enquiry', 0)`, []any{r.ID}},
			{`INSERT INTO screening_links (enquiry_id, token_hash, expires_at) VALUES (?, ?, 0)`,
				[]any{r.ID, fmt.Sprint("h", i)}},
		} {
			d.write.MustExec(st.q, st.args...)
		}
	}
	if err := d.EraseEnquiries(ctx, []string{rows[0].Ref}, crm.Actor{}, t0,
		func(ref string) crm.AuditEntry { return crm.AuditEntry{Action: "erase", Reference: ref} }); err != nil {
		t.Fatal(err)
	}
	// A half-built copy of the search index, as an interrupted REINDEX CONCURRENTLY leaves it.
	d.write.MustExec(`CREATE INDEX ` + searchIndex + `_ccnew ON enquiry_search USING gin (document)`)
	d.write.MustExec(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = '` + searchIndex + `_ccnew'::regclass`)
	fileOf := func() (node int64) {
		if err := d.read.Get(&node, `SELECT relfilenode FROM pg_class WHERE relname = ?`, searchIndex); err != nil {
			t.Fatal(err)
		}
		return node
	}
	before := fileOf()
	if err := d.Scrub(ctx); err != nil {
		t.Fatal(err)
	}
	// The GIN index keeps every word it ever indexed as a key; only a rebuild (a new file) drops the erased ones.
	if after := fileOf(); after == before {
		t.Errorf("the search index was not rebuilt by Scrub (file %d before and after)", before)
	}
	if n := count(t, d, `SELECT count(*) FROM pg_class WHERE relname LIKE ?`, searchIndex+"_ccnew%"); n != 0 {
		t.Errorf("%d half-built copies of the search index left after Scrub", n)
	}
	var found []int64
	if err := d.read.Select(&found, `SELECT enquiry_id FROM enquiry_search WHERE document @@ to_tsquery('frontdesk_search', ?)`,
		tsQuery("words")); err != nil || len(found) != 1 || found[0] != rows[1].ID {
		t.Errorf("search after the rebuild finds %v (%v), want only the enquiry kept, %d", found, err, rows[1].ID)
	}
	for _, table := range strings.Split(patientTables, ", ") {
		var st struct {
			Pages   int `db:"relpages"`
			Visible int `db:"relallvisible"`
			Live    int `db:"live"`
		}
		if err := d.read.Get(&st, `SELECT relpages, relallvisible, (SELECT count(*) FROM `+table+`) AS live
			FROM pg_class WHERE oid = ?::regclass`, table); err != nil {
			t.Fatal(err)
		}
		if st.Live == 0 || st.Pages == 0 || st.Visible != st.Pages {
			t.Errorf("%s after Scrub: %d live rows, %d pages counted, %d all-visible: not vacuumed", table, st.Live,
				st.Pages, st.Visible)
		}
	}
	if n := count(t, d, `SELECT count(*) FROM enquiries`); n != 2 {
		t.Errorf("%d enquiries after the scrub", n)
	}
}

// Backup copies a SQLite database into a new file; a PostgreSQL database is backed up by its server, so there
// Backup refuses, saying so, and writes nothing.
func TestBackupIsFrontdesksOnSQLiteAndTheServersOnPostgres(t *testing.T) {
	d := openTest(t)
	insertRows(t, d, []*row{{CreatedAt: t0}})
	path := filepath.Join(t.TempDir(), "backup.db")
	err := d.Backup(context.Background(), path)
	if onPostgres() {
		if !errors.Is(err, ErrServerBackup) || !strings.Contains(err.Error(), "pg_dump") {
			t.Errorf("Backup on PostgreSQL: %v, want ErrServerBackup", err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("Backup on PostgreSQL left a file: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := sqlx.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var n int
	if err := b.Get(&n, `SELECT count(*) FROM enquiries`); err != nil || n != 1 {
		t.Errorf("the backup holds %d enquiries (%v), want 1", n, err)
	}
}

// A retention batch anonymises the closed enquiries and deletes the spam that are due, with one audit entry. On
// PostgreSQL, while another process applies a batch (it holds lockRetention), it does nothing at all — no audit
// entry either — and returns an empty result; once that ends, it applies the batch.
func TestRetentionBatchRunsInOneProcessAtATime(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	rows := []*row{
		{Ref: "CLOS-OLD1", Status: crm.StatusLost, Name: "Old Closed", CreatedAt: t0.AddDate(-3, 0, 0)},
		{Ref: "SPAM-OLD1", Status: crm.StatusSpam, CreatedAt: t0.AddDate(-1, 0, 0)},
		{Ref: "OPEN-OLD1", Status: crm.StatusContacted, Name: "Old Open", CreatedAt: t0.AddDate(-3, 0, 0)},
		{Ref: "CLOS-NEW1", Status: crm.StatusLost, Name: "New Closed", CreatedAt: t0.AddDate(0, -1, 0)},
	}
	insertRows(t, d, rows)
	batch := crm.RetentionBatch{Closed: crm.ClosedStatuses, ClosedBefore: t0.AddDate(-2, 0, 0),
		SpamBefore: t0.AddDate(0, -6, 0), Limit: 10}
	apply := func() crm.RetentionResult {
		t.Helper()
		res, err := d.ApplyRetention(ctx, batch, t0, func(r crm.RetentionResult) crm.AuditEntry {
			return crm.AuditEntry{At: t0, Action: "retention", References: append(r.Anonymised, r.DeletedSpam...)}
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	names := func() string {
		t.Helper()
		var got []string
		if err := d.read.Select(&got, `SELECT reference || ' ' || name FROM enquiries ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		return strings.Join(got, ", ")
	}
	if onPostgres() {
		release := holdJobLock(t, d, lockRetention)
		if res := apply(); len(res.Anonymised)+len(res.DeletedSpam) != 0 {
			t.Errorf("while another process applies retention: %+v, want nothing done", res)
		}
		if got, want := names(), "CLOS-OLD1 Old Closed, SPAM-OLD1 Patient 1, OPEN-OLD1 Old Open, CLOS-NEW1 New Closed"; got != want {
			t.Errorf("while another process applies retention: %s, want %s", got, want)
		}
		if n := count(t, d, `SELECT count(*) FROM audit_log`); n != 0 {
			t.Errorf("while another process applies retention: %d audit entries, want none", n)
		}
		release()
	}
	res := apply()
	if fmt.Sprint(res.Anonymised, res.DeletedSpam) != "[CLOS-OLD1] [SPAM-OLD1]" {
		t.Errorf("retention did %+v, want CLOS-OLD1 anonymised and SPAM-OLD1 deleted", res)
	}
	if got, want := names(), "CLOS-OLD1 "+erasedName+", OPEN-OLD1 Old Open, CLOS-NEW1 New Closed"; got != want {
		t.Errorf("after retention: %s, want %s", got, want)
	}
	if n := count(t, d, `SELECT count(*) FROM audit_log WHERE action = 'retention'`); n != 1 {
		t.Errorf("%d audit entries, want 1", n)
	}
}

// A subject access request finds every audit entry that names one of the references, as its own or among
// those a list showed, and no entry that names only a longer or shorter one.
func TestAuditOfReferencesFindsEveryEntryNamingThem(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	for _, e := range []crm.AuditEntry{
		{Action: "view", Reference: "AAAA-AAAA"},
		{Action: "list", References: []string{"BBBB-BBBB", "AAAA-AAAA", "CCCC-CCCC"}},
		{Action: "list", References: []string{"AAAA-AAAAX", "XAAAA-AAAA"}},
		{Action: "view", Reference: "CCCC-CCCC"},
	} {
		e.At = t0
		if err := d.writer.do(ctx, func(tx *Tx) error { return d.appendAudit(tx, e) }); err != nil {
			t.Fatal(err)
		}
	}
	for refs, want := range map[string]string{
		"AAAA-AAAA":           "view list",
		"CCCC-CCCC BBBB-BBBB": "list view",
		"AAAA":                "",
	} {
		got, err := d.AuditOfReferences(ctx, strings.Fields(refs))
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range got {
			actions = append(actions, e.Action)
		}
		if strings.Join(actions, " ") != want {
			t.Errorf("audit of %s: %v, want %s", refs, actions, want)
		}
	}
}
