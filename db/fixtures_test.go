package db

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// nullID is an unbounded end of an ID range.
var nullID sql.NullInt64

// t0 is the clock the workspace tests build their enquiries around.
var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// addStaff creates an account through the store.
func addStaff(t testing.TB, d *DB, email string, role crm.Role, treatments ...string) crm.Staff {
	t.Helper()
	s, err := d.CreateStaff(context.Background(), crm.NewStaff{Email: email, Name: "Staff " + email, Role: role,
		Treatments: treatments}, "hash-of-"+email, crm.StaffChange{At: t0})
	if err != nil {
		t.Fatalf("CreateStaff %s: %v", email, err)
	}
	return s
}

// row is an enquiry as a test stores it directly, with full control of status, assignee and time.
type row struct {
	ID        int64
	Ref       string
	Status    crm.Status
	Name      string
	Email     string
	Phone     string
	Treatment string
	Message   string
	Assignee  int64 // 0: unassigned
	CreatedAt time.Time
	Erased    bool
}

// insertRows stores rows in one write, in the order given (so IDs follow that order), filling their IDs and
// references.
func insertRows(t testing.TB, d *DB, rows []*row) {
	t.Helper()
	err := d.writer.do(context.Background(), func(tx *Tx) error {
		for i, r := range rows {
			if r.Status == "" {
				r.Status = crm.StatusNew
			}
			if r.Treatment == "" {
				r.Treatment = "adhd"
			}
			if r.Name == "" {
				r.Name = fmt.Sprintf("Patient %d", i)
			}
			if r.Email == "" {
				r.Email = fmt.Sprintf("patient%d@example.org", i)
			}
			if r.Ref == "" {
				r.Ref = fmt.Sprintf("T%03d-%04d", i/10000, i%10000)
			}
			var erased sql.NullInt64
			if r.Erased {
				erased = sql.NullInt64{Int64: ms(r.CreatedAt), Valid: true}
			}
			err := tx.Get(&r.ID, `INSERT INTO enquiries (reference, status, name, email, phone, treatment, message,
					consent_at, consent_version, assignee_id, created_at, updated_at, erased_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'v1', ?, ?, ?, ?) RETURNING id`,
				r.Ref, r.Status, r.Name, r.Email, r.Phone, r.Treatment, r.Message, ms(r.CreatedAt),
				sql.NullInt64{Int64: r.Assignee, Valid: r.Assignee != 0}, ms(r.CreatedAt), ms(r.CreatedAt), erased)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("insert rows: %v", err)
	}
}

// count runs a count query on the read pool.
func count(t testing.TB, d *DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.read.Get(&n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// planOf returns the EXPLAIN QUERY PLAN lines of a query.
func planOf(t testing.TB, d *DB, query string, args ...any) []string {
	t.Helper()
	var plan []struct {
		ID      int    `db:"id"`
		Parent  int    `db:"parent"`
		NotUsed int    `db:"notused"`
		Detail  string `db:"detail"`
	}
	if err := d.read.Select(&plan, "EXPLAIN QUERY PLAN "+query, args...); err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	out := make([]string, len(plan))
	for i, p := range plan {
		out[i] = p.Detail
	}
	return out
}

// setVar sets a tuning variable for one test.
func setVar[T any](t *testing.T, v *T, val T) {
	old := *v
	*v = val
	t.Cleanup(func() { *v = old })
}

// otherProcess opens a second handle on d's database, as a second process would have: its own writer and
// connections. It is closed when the test ends.
func otherProcess(t testing.TB, d *DB) *DB {
	t.Helper()
	o, err := Open(d.source, Options{})
	if err != nil {
		t.Fatalf("open a second handle: %v", err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

// openAtVersion opens a fresh SQLite database migrated up to version and no further, for a test of a later
// migration. It is closed when the test ends.
func openAtVersion(t *testing.T, version int64) *DB {
	t.Helper()
	d, err := Open(t.TempDir()+"/frontdesk.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	p, err := d.provider()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return d
}
