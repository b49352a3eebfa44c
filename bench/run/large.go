package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The large-database phase: start-up, idle memory, staff reads under a steady intake, and the exports, on a
// database of o.n enquiries made once by bench/gen.

// ensureBigDB makes the large database with bench/gen unless a complete one is there (bench/gen writes PATH.done
// when it finishes).
func ensureBigDB(o options, b bins, rep *report) error {
	done := o.bigDB + ".done"
	if _, err := os.Stat(done); err == nil {
		if _, err := os.Stat(o.bigDB); err == nil {
			return nil
		}
	}
	fmt.Printf("\n== generating %d enquiries into %s (kept for later runs)\n", o.n, o.bigDB)
	removeDB(o.bigDB)
	if err := os.MkdirAll(filepath.Dir(o.bigDB), 0o755); err != nil {
		return err
	}
	t0 := time.Now()
	if err := gen(b, "-db", o.bigDB, "-n", strconv.Itoa(o.n), "-days", strconv.Itoa(dataDays), "-password", o.password); err != nil {
		return err
	}
	rep.add(fmt.Sprintf("bench/gen %d enquiries", o.n), time.Since(t0).Round(time.Second).String(), "", "", nil)
	return os.WriteFile(done, []byte(time.Now().Format(time.RFC3339)+"\n"), 0o644)
}

// largePhase starts serve on the large database: start-up time, idle memory, staff reads under a steady
// intake, and the exports.
func largePhase(o options, b bins, sk *sink, rep *report) error {
	if err := ensureBigDB(o, b, rep); err != nil {
		return err
	}
	return largeOn(o, b, sk, rep, o.bigDB, "")
}

// largeOn measures the large database dbSetting (the SQLite file, or a PostgreSQL copy of it); label, when not
// empty, names the engine in each figure.
func largeOn(o options, b bins, sk *sink, rep *report, dbSetting, label string) error {
	fmt.Printf("\n== %d enquiries%s: start-up, staff reads while %d enquiries/s arrive, exports\n", o.n, label, o.readRate)
	// The API token is made before serve starts: beside serve draining the generated mail, a second process's
	// write can wait past its busy timeout.
	tc := exec.Command(b.frontdesk, "token", "create", "--email", adminEmail, "--label", "bench")
	tc.Env = append(os.Environ(), "FRONTDESK_DB="+dbSetting)
	tc.Stderr = os.Stderr
	tok, err := tc.Output()
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	token := strings.TrimSpace(string(tok))
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	p, err := startProc("frontdesk serve", b.frontdesk, []string{"serve"}, serveEnv(dbSetting, addr, sk), addr)
	if err != nil {
		return err
	}
	defer p.stop(60 * time.Second)
	startup, err := p.waitReady("/readyz", 60*time.Second)
	if err != nil {
		return err
	}
	rep.add(fmt.Sprintf("start-up to ready (%d enquiries)%s", o.n, label), fmt.Sprintf("%.0f ms", ms(startup)), "<= 1 s", "", check(startup <= time.Second))
	time.Sleep(time.Second)
	idle, _ := p.mem()
	rep.add(fmt.Sprintf("RSS idle after start-up (%d)%s", o.n, label), fmt.Sprintf("%.1f MB", mb(idle)), "<= 40 MB", "", check(idle <= 40<<20))

	r := rand.New(rand.NewPCG(1, 2))

	if o.phase("reads") {
		refs, err := sampleReferences(p.base, token, dataDays, 500, r)
		if err != nil {
			return err
		}
		st, err := signIn(p.base, o.staffEmail, o.password)
		if err != nil {
			return err
		}
		kinds := pageKinds(refs, dataDays)
		measureReads(st, kinds, 10, r) // warm-up
		ctx, stop := context.WithCancel(context.Background())
		bodies := enquiryBodies(20_000, 20_000_000, uint64(time.Now().UnixNano()))
		bg := steady(ctx, p.base+"/api/v1/enquiries", bodies, o.readRate)
		stopRSS := make(chan struct{})
		peak := p.sampleRSS(100*time.Millisecond, stopRSS)
		t0 := time.Now()
		res := measureReads(st, kinds, o.reads, r)
		took := time.Since(t0)
		stop()
		close(stopRSS)
		w := <-bg
		targets := map[string]time.Duration{"board": 25 * time.Millisecond, "list (filtered)": 25 * time.Millisecond,
			"search (FTS)": 50 * time.Millisecond, "enquiry page": 15 * time.Millisecond}
		for _, k := range res {
			p50, p99 := pct(k.lat, 50), pct(k.lat, 99)
			target := targets[k.name]
			rep.add("read "+k.name+label+" p50 / p99", fmt.Sprintf("%.1f / %.1f ms", ms(p50), ms(p99)),
				fmt.Sprintf("p99 <= %d ms", target.Milliseconds()), fmt.Sprintf("max %.1f ms", ms(pct(k.lat, 100))),
				check(p99 <= target && k.errors == 0))
			if k.errors > 0 {
				rep.note("%s: %d errors, first: %s", k.name, k.errors, k.first)
			}
		}
		rep.add("intake beside the reads"+label, fmt.Sprintf("%.0f/s, p99 %.1f ms", w.rate(), ms(pct(w.Lat, 99))),
			fmt.Sprintf("%d/s, 0 errors", o.readRate), fmt.Sprintf("%d errors", w.Errors), check(w.Errors == 0))
		if w.Errors > 0 {
			rep.note("intake beside the reads: errors by status %v (-1: more than 16 waiting); first: %s", w.Status, w.FirstError)
		}
		rep.add("RSS during reads (peak VmRSS)"+label, fmt.Sprintf("%.1f MB", mb(<-peak)), "<= 150 MB", "", nil)
		rep.note("reads: %d requests of each page kind in turn, one signed-in coordinator (session cookie and CSRF, "+
			"through /login), over %.0fs, while a background client posted enquiries at %d/s", o.reads, took.Seconds(), o.readRate)
	}

	if o.phase("export") {
		for _, format := range []string{"csv", "xlsx"} {
			e := download(p, token, format)
			limit := 5 * time.Second
			if format == "xlsx" {
				limit = 30 * time.Second
			}
			switch {
			case e.missing:
				rep.add("export "+format+label, "route answers 404", fmt.Sprintf("<= %s", limit), "", check(false))
				rep.note("GET /api/v1/exports/enquiries.%s is not there yet: re-run `make bench` (or -only export) once it lands", format)
				continue
			case e.err != nil:
				rep.add("export "+format+label, "failed", fmt.Sprintf("<= %s", limit), "", check(false))
				rep.note("export %s: %v", format, e.err)
				continue
			}
			rep.add("export "+format+" (all enquiries)"+label, e.measured(), fmt.Sprintf("<= %s", limit), "", check(e.elapsed <= limit))
			rep.add("export "+format+" RSS growth"+label, fmt.Sprintf("%.1f MB", mb(e.rssGrow)), "<= 50 MB", "", check(e.rssGrow <= 50<<20))
		}
	}
	if o.phase("reads") {
		// Intake at full speed into the large database, as into the empty one: its cost must not grow with the
		// number of enquiries already stored. (These enquiries stay in the file, a few tens of thousands a run.)
		// It runs last: the mail it queues, three messages an enquiry, keeps the mail worker busy for a minute
		// after, which would weigh on the reads and the exports.
		bodies := enquiryBodies(50_000, 40_000_000, uint64(time.Now().UnixNano()))
		closedLoop(p.base+intakePath, 201, bodies, o.conc, 2*time.Second) // warm-up
		big := closedLoop(p.base+intakePath, 201, bodies, o.conc, time.Duration(o.seconds)*time.Second)
		target, compare, ok := "", "", (*bool)(nil)
		if emptyIntakeRate > 0 {
			target = fmt.Sprintf(">= %.0f/s (0.9 x empty db)", 0.9*emptyIntakeRate)
			compare = fmt.Sprintf("empty db %.0f/s", emptyIntakeRate)
			ok = check(big.rate() >= 0.9*emptyIntakeRate && big.Errors == 0)
		}
		rep.add(fmt.Sprintf("intake into %d enquiries, %d clients%s", o.n, o.conc, label),
			fmt.Sprintf("%.0f/s, p99 %.1f ms, %d errors", big.rate(), ms(pct(big.Lat, 99)), big.Errors), target, compare, ok)
	}

	return nil
}
