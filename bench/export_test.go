// Package bench holds Frontdesk's benchmarks. This file measures exports: run
//
//	go test -tags sqlite_fts5 -run '^$' -bench Export -benchmem ./bench/
//
// Each iteration exports every enquiry of a database through the real path (db → report service → writer) to
// io.Discard. Besides ns/op, B/op and allocs/op it reports rows/s, MB/s of output, cpu-µs/row (the process's
// user and system CPU time per row: steadier than rows/s on a machine shared with other work), and
// peak-live-MB: the largest growth of the live heap seen while exporting, sampled every few milliseconds. Constant memory shows
// as a peak-live-MB that stays the same from 10,000 to 100,000 rows (B/op grows with the rows: it counts every
// short-lived allocation, not what is held). A third of the enquiries come with screening answers (PHQ-9,
// GAD-7 and the safety questions), as those sent with the enquiry form.
//
// BENCH_EXPORT_DB=data/bench-200000.db runs the same export on that database (made by bench/gen) instead, as
// BenchmarkExport/csv/file and /xlsx/file.
package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/report"
	"github.com/frontdesk/frontdesk/crm/report/xlsx"
	"github.com/frontdesk/frontdesk/db"
	_ "github.com/mattn/go-sqlite3"
)

var (
	dbOnce sync.Once
	dbDir  string
	dbs    = map[int]string{}
	dbErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if dbDir != "" {
		os.RemoveAll(dbDir)
	}
	os.Exit(code)
}

// sizes are the database sizes the export benchmarks run at.
var sizes = []int{10_000, 100_000}

// exportDB returns a migrated database of n realistic enquiries, made once per run. Rows go in with plain SQL
// in one transaction: the benchmark is of reading them, and intake's per-enquiry work would take minutes.
func exportDB(b *testing.B, n int) string {
	b.Helper()
	dbOnce.Do(func() {
		if dbDir, dbErr = os.MkdirTemp("", "frontdesk-bench-"); dbErr != nil {
			return
		}
		for _, size := range sizes {
			path := filepath.Join(dbDir, fmt.Sprintf("export-%d.db", size))
			if dbErr = fill(path, size); dbErr != nil {
				return
			}
			dbs[size] = path
		}
	})
	if dbErr != nil {
		b.Fatal(dbErr)
	}
	return dbs[n]
}

func fill(path string, n int) error {
	d, err := db.Open(path, db.Options{})
	if err != nil {
		return err
	}
	if _, err := d.Migrate(context.Background()); err != nil {
		d.Close()
		return err
	}
	d.Close()
	raw, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=OFF")
	if err != nil {
		return err
	}
	defer raw.Close()
	tx, err := raw.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Exports never read the search index; filling it is most of the cost of making the database.
	if _, err := tx.Exec(`DROP TRIGGER enquiries_search_insert`); err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO staff (email, name, role, password_hash, created_at)
		VALUES ('lee@clinic.example', 'Lee Clinician', 'clinician', 'x', 0)`); err != nil {
		return err
	}
	st, err := tx.Prepare(`INSERT INTO enquiries (reference, status, name, email, phone, preferred_contact, treatment,
			message, date_of_birth, referral_source, utm_source, utm_medium, utm_campaign, consent_at, consent_version,
			assignee_id, created_at, updated_at, first_contacted_at)
		VALUES (?, ?, ?, ?, ?, 'either', ?, ?, '1985-06-15', 'gp', 'google', 'cpc', 'autumn', ?, '2026-11-01', ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	statuses := []string{"new", "contacted", "screening", "assessment_booked", "in_treatment", "lost"}
	treatments := []string{"adhd", "depression", "anxiety", "ptsd", "addiction", "chronic_pain"}
	message := "I have been struggling for a long time and my GP suggested I get in touch.\nCould you call me " +
		"in the afternoon? \"Thank you\", and sorry, it is hard to write this."
	for i := range n {
		at := start + int64(i)*60_000
		var contacted, assignee any
		if i%3 != 0 {
			contacted, assignee = at+int64(i%48)*3_600_000, 1
		}
		if _, err := st.Exec(fmt.Sprintf("B%03d-%05d", i/100000, i%100000), statuses[i%len(statuses)],
			fmt.Sprintf("Zoë Ångström %d", i), fmt.Sprintf("patient%d@example.org", i), "+447700900123",
			treatments[i%len(treatments)], message, at, assignee, at, at, contacted); err != nil {
			return err
		}
	}
	// Screening answers for a third of them, as the enquiry form sends them.
	for _, sc := range []struct{ instrument, answers, total, band string }{
		{"phq9", "[1,2,0,3,1,2,0,1,0]", "10", "moderate"},
		{"gad7", "[1,2,0,3,1,2,0]", "9", "mild"},
		{"safety", `{"self_harm_thoughts":false,"pregnant_or_breastfeeding":false,"high_blood_pressure":true}`, "NULL", ""},
	} {
		if _, err := tx.Exec(`INSERT INTO screenings (enquiry_id, instrument, answers, total, band, source, created_at)
			SELECT id, ?, ?, `+sc.total+`, ?, 'enquiry', created_at FROM enquiries WHERE id % 3 = 0`,
			sc.instrument, sc.answers, sc.band); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapLive samples the live heap (bytes in use by objects) until stop, and returns the peak.
func heapLive(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

func BenchmarkExport(b *testing.B) {
	file := os.Getenv("BENCH_EXPORT_DB")
	for _, format := range []report.Format{report.CSV, report.XLSX} {
		for _, n := range sizes {
			name := fmt.Sprintf("%s/%d", format, n)
			if file != "" {
				if n != sizes[0] {
					continue
				}
				name = string(format) + "/file"
			}
			b.Run(name, func(b *testing.B) {
				path := file
				if path == "" {
					path = exportDB(b, n)
				}
				d, err := db.Open(path, db.Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer d.Close()
				svc := report.New(d, d, d, report.Config{Location: time.UTC, XLSX: xlsx.Write}, slog.New(slog.NewTextHandler(io.Discard, nil)))
				ctx := context.Background()
				runtime.GC()
				s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
				metrics.Read(s)
				base := s[0].Value.Uint64()
				stop := make(chan struct{})
				peak := heapLive(stop)
				var written int64
				rows := -1
				b.ReportAllocs()
				cpu0 := cpuTime()
				b.ResetTimer()
				for b.Loop() {
					exp, err := svc.OpenExport(ctx, crm.System, report.Filter{}, format)
					if err != nil {
						b.Fatal(err)
					}
					if written, err = exp.WriteTo(io.Discard); err != nil {
						b.Fatal(err)
					}
					if file == "" && exp.Rows() != n || rows >= 0 && exp.Rows() != rows {
						b.Fatalf("exported %d rows, then %d (%d enquiries)", rows, exp.Rows(), n)
					}
					rows = exp.Rows()
				}
				b.StopTimer()
				cpu := cpuTime() - cpu0
				close(stop)
				b.SetBytes(written)
				b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(rows*b.N), "cpu-µs/row")
				b.ReportMetric(float64(int64(<-peak)-int64(base))/(1<<20), "peak-live-MB")
			})
		}
	}
}
