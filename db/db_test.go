package db

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/db/pgtest"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/jmoiron/sqlx"
)

// testEngine is the engine the store tests run on: SQLite, or PostgreSQL when FRONTDESK_TEST_ENGINE is
// "postgres" (`make test` runs this package's tests once for each; see docs/postgres.md).
var testEngine = os.Getenv("FRONTDESK_TEST_ENGINE")

// onPostgres reports whether the store tests run on PostgreSQL.
func onPostgres() bool { return testEngine == "postgres" }

// sqliteOnly skips a test of SQLite's own machinery (its files, pragmas, WAL, query plans) in the PostgreSQL
// run of the store tests.
func sqliteOnly(t testing.TB) {
	t.Helper()
	if onPostgres() {
		t.Skip("tests SQLite's own machinery; it runs in the SQLite run of the store tests")
	}
}

// postgresOnly skips a test of what only PostgreSQL does (its transactions, its settings) in the SQLite run
// of the store tests.
func postgresOnly(t testing.TB) {
	t.Helper()
	if !onPostgres() {
		t.Skip("tests PostgreSQL's own behaviour; it runs in the PostgreSQL run of the store tests")
	}
}

// opensPostgresItself skips, in the PostgreSQL run, a test that opens its PostgreSQL database itself (one
// comparing the engines, or one of the PostgreSQL schema alone): it does the same in both runs, so it runs
// once, in the SQLite run (and in `make test-postgres`, which runs the tests named *Postgres*).
func opensPostgresItself(t testing.TB) {
	t.Helper()
	if onPostgres() {
		t.Skip("opens PostgreSQL itself, whatever the engine: it runs in the SQLite run of the store tests")
	}
}

// testSource is where a test's database is: a new SQLite file's path, or in the PostgreSQL run the URL of a
// new, empty PostgreSQL database.
func testSource(t testing.TB) string {
	t.Helper()
	if onPostgres() {
		return pgtest.URL(t)
	}
	return filepath.Join(t.TempDir(), "sub", "frontdesk.db")
}

// openTest opens a migrated database for one test: a fresh SQLite file, or a fresh PostgreSQL database in
// the PostgreSQL run.
func openTest(t testing.TB) *DB {
	t.Helper()
	d, err := Open(testSource(t), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return d
}

func TestEveryConnectionHasTheDurabilityPragmas(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	if onPostgres() {
		// PostgreSQL's durability is the server's, but for synchronous_commit, which a session may turn off:
		// every connection of the pool commits with it on, whatever the server's default.
		var held []*sqlx.Conn
		for i := 0; i < 4; i++ {
			c, err := d.write.Connx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			held = append(held, c)
		}
		for i, c := range held {
			var got string
			if err := c.GetContext(ctx, &got, "SHOW synchronous_commit"); err != nil || got != "on" {
				t.Errorf("conn %d: synchronous_commit = %q (%v), want on", i, got, err)
			}
		}
		if n := d.write.Stats().MaxOpenConnections; n != postgresConns {
			t.Errorf("the pool allows %d connections, want %d", n, postgresConns)
		}
		return
	}
	check := func(name string, db *sqlx.DB, conns int, want map[string]string) {
		// Hold several connections at once so the pool must open distinct ones.
		var held []*sqlx.Conn
		for i := 0; i < conns; i++ {
			c, err := db.Connx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
		for i, c := range held {
			for pragma, w := range want {
				var got string
				if err := c.GetContext(ctx, &got, "PRAGMA "+pragma); err != nil {
					t.Fatalf("%s conn %d: PRAGMA %s: %v", name, i, pragma, err)
				}
				if got != w {
					t.Errorf("%s conn %d: %s = %s, want %s", name, i, pragma, got, w)
				}
			}
		}
		for _, c := range held {
			c.Close()
		}
	}
	common := map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "5000",
		"journal_size_limit": fmt.Sprint(walLimit)}
	writer := map[string]string{"synchronous": "2"} // FULL
	for k, v := range common {
		writer[k] = v
	}
	check("writer", d.write.DB, 1, writer)
	reader := map[string]string{"query_only": "1"}
	for k, v := range common {
		reader[k] = v
	}
	check("reader", d.read.DB, 4, reader)
	if n := d.write.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("writer pool allows %d connections, want 1", n)
	}
}

func TestReadersCannotWrite(t *testing.T) {
	sqliteOnly(t) // PostgreSQL has one pool for reads and writes
	d := openTest(t)
	if _, err := d.read.Exec(`DELETE FROM enquiries`); err == nil {
		t.Error("a reader connection could write")
	}
}

func TestMigrationsAreRecorded(t *testing.T) {
	d := openTest(t)
	ms, err := d.Migrations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no migrations listed")
	}
	for _, m := range ms {
		if !m.Applied {
			t.Errorf("migration %d %s not applied", m.Version, m.Name)
		}
	}
	// Running again applies nothing.
	if n, err := d.Migrate(context.Background()); err != nil || n != 0 {
		t.Errorf("second Migrate applied %d, err %v", n, err)
	}
}

func TestSchemaRefusesValuesOutsideTheEnumerations(t *testing.T) {
	d := openTest(t)
	base := `INSERT INTO enquiries (reference, status, name, email, preferred_contact, treatment, referral_source,
		consent_at, consent_version, created_at, updated_at) VALUES (?, ?, 'A', 'a@b', ?, ?, ?, 0, 'v', 0, 0)`
	cases := map[string][]any{
		"status":            {"AAAA-AAA1", "pending", "either", "adhd", ""},
		"preferred_contact": {"AAAA-AAA2", "new", "fax", "adhd", ""},
		"treatment":         {"AAAA-AAA3", "new", "either", "flu", ""},
		"referral_source":   {"AAAA-AAA4", "new", "either", "adhd", "tv"},
	}
	for field, args := range cases {
		if _, err := d.write.Exec(base, args...); err == nil {
			t.Errorf("%s: an out-of-range value was stored", field)
		}
	}
	if _, err := d.write.Exec(base, "AAAA-AAA5", "new", "either", "adhd", ""); err != nil {
		t.Errorf("a valid row was refused: %v", err)
	}
	if _, err := d.write.Exec(`INSERT INTO staff (email, name, role, password_hash, created_at) VALUES ('x@y', 'X', 'owner', '', 0)`); err == nil {
		t.Error("an unknown role was stored")
	}
	if _, err := d.write.Exec(`INSERT INTO notes (enquiry_id, body, created_at) VALUES (999999, 'x', 0)`); err == nil {
		t.Error("a note for a missing enquiry was stored: foreign keys are off")
	}
}

func TestPipelineQueriesUseIndexes(t *testing.T) {
	sqliteOnly(t)
	d := openTest(t)
	for _, q := range []string{
		`SELECT id FROM enquiries WHERE status = 'new' ORDER BY created_at DESC LIMIT 50`,
		`SELECT id FROM enquiries WHERE assignee_id = 1 AND status = 'new' ORDER BY created_at DESC LIMIT 50`,
		`SELECT id FROM enquiries WHERE created_at BETWEEN 0 AND 1 ORDER BY created_at`,
	} {
		var plan []struct {
			ID      int    `db:"id"`
			Parent  int    `db:"parent"`
			NotUsed int    `db:"notused"`
			Detail  string `db:"detail"`
		}
		if err := d.read.Select(&plan, "EXPLAIN QUERY PLAN "+q); err != nil {
			t.Fatal(err)
		}
		for _, p := range plan {
			if p.Detail == "SCAN enquiries" {
				t.Errorf("%s: full table scan", q)
			}
		}
	}
}

func newEnquiry(email string) crm.NewEnquiry {
	return crm.NewEnquiry{
		Enquiry: intake.Enquiry{Name: "Ann Example", Email: email, PreferredContact: "either", Treatment: "adhd",
			Message: "hello", Consent: intake.Consent{GivenAt: time.Now(), Version: intake.PrivacyNoticeVersion}},
		ReceivedAt:  time.Now(),
		Fingerprint: "fp-" + email,
	}
}

// TestGroupCommitIsolatesAFailingWrite: writes that share a transaction are rolled back alone.
func TestGroupCommitIsolatesAFailingWrite(t *testing.T) {
	sqliteOnly(t) // group commit is SQLite's; see TestEachPostgresWriteIsItsOwnTransaction
	failingWritesRollBackAlone(t, openTest(t), nil)
}

// TestEachPostgresWriteIsItsOwnTransaction: on PostgreSQL there is no group commit; writes run at once, each in
// a transaction of its own, and one that fails or panics is rolled back alone while the others commit.
func TestEachPostgresWriteIsItsOwnTransaction(t *testing.T) {
	postgresOnly(t)
	d := openTest(t)
	var mu sync.Mutex
	txids := map[int64]int{}
	failingWritesRollBackAlone(t, d, func(i int, tx *Tx) error {
		var id int64
		if err := tx.Get(&id, `SELECT txid_current()`); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if j, ok := txids[id]; ok {
			t.Errorf("writes %d and %d ran in one transaction (%d)", j, i, id)
		}
		txids[id] = i
		return nil
	})
}

// failingWritesRollBackAlone runs 64 writes at once, each inserting a row and then calling also (when not
// nil); one in four then fails or panics. Every other write must commit its row, and no failed one's row
// may be stored.
func failingWritesRollBackAlone(t *testing.T, d *DB, also func(i int, tx *Tx) error) {
	t.Helper()
	ctx := context.Background()
	const n = 64
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			errs[i] = d.writer.do(ctx, func(tx *Tx) error {
				if _, err := tx.Exec(`INSERT INTO audit_log (id, at, action, detail) VALUES (?, ?, 'test', ?)`,
					i+1, i, fmt.Sprint(i)); err != nil {
					return err
				}
				if also != nil {
					if err := also(i, tx); err != nil {
						return err
					}
				}
				switch i % 8 {
				case 3:
					return errors.New("this write fails after writing")
				case 5:
					panic("this write panics")
				}
				return nil
			})
		}(i)
	}
	close(start)
	wg.Wait()
	var rows []int
	if err := d.read.Select(&rows, `SELECT at FROM audit_log ORDER BY at`); err != nil {
		t.Fatal(err)
	}
	want := 0
	for i := 0; i < n; i++ {
		failed := i%8 == 3 || i%8 == 5
		if failed != (errs[i] != nil) {
			t.Errorf("write %d: err = %v", i, errs[i])
		}
		if !failed {
			want++
		}
	}
	if len(rows) != want {
		t.Errorf("%d rows committed, want %d (the failing writes' rows must be rolled back alone)", len(rows), want)
	}
	for _, at := range rows {
		if at%8 == 3 || at%8 == 5 {
			t.Errorf("row of failed write %d was committed", at)
		}
	}
}

func TestClosedDatabaseRefusesWrites(t *testing.T) {
	d, err := Open(testSource(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	d.Migrate(context.Background())
	d.Close()
	if _, err := d.CreateEnquiry(context.Background(), newEnquiry("a@b.org"), crm.PlanIntake); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: %v, want ErrClosed", err)
	}
}
