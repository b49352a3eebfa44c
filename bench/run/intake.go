package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"
)

// The intake phase: Frontdesk, the minimal server and PocketBase under the same closed-loop load, at 16 and at
// 64 clients.

// intakeResult is one server's intake run.
type intakeResult struct {
	load      loadResult
	p50, p99  time.Duration
	idle      int64 // VmRSS a second after ready
	peak, hwm int64 // largest VmRSS sampled under load, and VmHWM after
}

// intakePath is where Frontdesk and the minimal server take an enquiry, answering 201.
const intakePath = "/api/v1/enquiries"

// loadServer runs the warm-up and the measured intake load against a started server, posting to path and
// counting the answers with status want.
func loadServer(p *proc, path string, want int, bodies [][]byte, o options) intakeResult {
	var r intakeResult
	time.Sleep(time.Second)
	r.idle, _ = p.mem()
	closedLoop(p.base+path, want, bodies, o.conc, 2*time.Second) // warm-up
	stop := make(chan struct{})
	peak := p.sampleRSS(100*time.Millisecond, stop)
	r.load = closedLoop(p.base+path, want, bodies, o.conc, time.Duration(o.seconds)*time.Second)
	close(stop)
	r.peak = <-peak
	_, r.hwm = p.mem()
	r.p50, r.p99 = pct(r.load.Lat, 50), pct(r.load.Lat, 99)
	return r
}

// serveIntake starts frontdesk serve on the database dbSetting (a file or a PostgreSQL URL), runs the intake
// load against it and stops it; it returns the result and how many messages the mail worker sent meanwhile.
func serveIntake(o options, b bins, sk *sink, dbSetting string, bodies [][]byte) (intakeResult, int64, error) {
	addr, err := freeAddr()
	if err != nil {
		return intakeResult{}, 0, err
	}
	before := sk.received.Load()
	p, err := startProc("frontdesk serve", b.frontdesk, []string{"serve"}, serveEnv(dbSetting, addr, sk), addr)
	if err != nil {
		return intakeResult{}, 0, err
	}
	if _, err := p.waitReady("/readyz", 30*time.Second); err != nil {
		p.stop(10 * time.Second)
		return intakeResult{}, 0, err
	}
	fd := loadServer(p, intakePath, http.StatusCreated, bodies, o)
	p.stop(60 * time.Second)
	return fd, sk.received.Load() - before, nil
}

// intakeRound is one concurrency's intake figures: Frontdesk, the better minimal server, and PocketBase.
type intakeRound struct {
	fd, ceiling, pb  intakeResult
	ceilingName      string
	minimals         []string
	mails            int64
	pbErr            error
	ceilingConns     int
	fdRate, ceilRate float64
	ratio, pbRatio   float64
	pbMeasured       bool
}

// runIntakeRound measures intake at o.conc clients: Frontdesk on a fresh database with the bench staff, then
// the minimal server with each of conns (the better is the ceiling), then PocketBase (pbBin, when built).
func runIntakeRound(o options, b bins, sk *sink, bodies [][]byte, conns []int, pbBin string) (intakeRound, error) {
	var r intakeRound
	path := filepath.Join(o.out, "intake.db")
	removeDB(path)
	if err := gen(b, "-db", path, "-n", "0", "-password", o.password); err != nil {
		return r, err
	}
	var err error
	r.fd, r.mails, err = serveIntake(o, b, sk, path, bodies)
	if err != nil {
		return r, err
	}
	settle(path)
	for _, c := range conns {
		mpath := filepath.Join(o.out, "minimal.db")
		removeDB(mpath)
		maddr, err := freeAddr()
		if err != nil {
			return r, err
		}
		m, err := startProc("minimal", b.minimal, []string{"-addr", maddr, "-db", mpath, "-conns", strconv.Itoa(c)}, nil, maddr)
		if err != nil {
			return r, err
		}
		if _, err := m.waitReady("/healthz", 30*time.Second); err != nil {
			m.stop(10 * time.Second)
			return r, err
		}
		res := loadServer(m, intakePath, http.StatusCreated, bodies, o)
		m.stop(30 * time.Second)
		settle(mpath)
		name := "minimal (pool unlimited)"
		if c > 0 {
			name = fmt.Sprintf("minimal (pool %d)", c)
		}
		r.minimals = append(r.minimals, fmt.Sprintf("%d clients: %s %.0f/s p50 %.2f p99 %.2f ms, %d errors", o.conc, name,
			res.load.rate(), ms(res.p50), ms(res.p99), res.load.Errors))
		if res.load.rate() > r.ceiling.load.rate() {
			r.ceiling, r.ceilingName, r.ceilingConns = res, name, c
		}
	}
	if pbBin != "" {
		r.pb, r.pbErr = pocketbaseIntake(o, pbBin, bodies)
	}
	r.fdRate, r.ceilRate = r.fd.load.rate(), r.ceiling.load.rate()
	if r.ceilRate > 0 {
		r.ratio = r.fdRate / r.ceilRate
	}
	if r.pbErr == nil && r.pb.load.rate() > 0 {
		r.pbMeasured = true
		r.pbRatio = r.fdRate / r.pb.load.rate()
	}
	return r, nil
}

// emptyIntakeRate is Frontdesk's intake rate into an empty database, which the large phase compares with.
var emptyIntakeRate float64

// highConc is the second, larger number of intake clients measured.
const highConc = 64

func intakePhase(o options, b bins, sk *sink, rep *report) error {
	fmt.Printf("\n== intake: %d then %d clients for %ds each: frontdesk serve, the minimal server, PocketBase\n",
		o.conc, highConc, o.seconds)
	bodies := enquiryBodies(50_000, 10_000_000, uint64(time.Now().UnixNano()))
	pbBin, pbBuildErr := buildPocketBase(o.out)
	if pbBuildErr != nil {
		pbBin = ""
	}
	lo, err := runIntakeRound(o, b, sk, bodies, o.minConns, pbBin)
	if err != nil {
		return err
	}
	emptyIntakeRate = lo.fdRate
	oHigh := o
	oHigh.conc = highConc
	hi, err := runIntakeRound(oHigh, b, sk, bodies, []int{lo.ceilingConns}, pbBin)
	if err != nil {
		return err
	}

	for _, x := range []struct {
		r      intakeRound
		conc   int
		maxLat time.Duration
	}{{lo, o.conc, 10 * time.Millisecond}, {hi, highConc, 25 * time.Millisecond}} {
		r := x.r
		label := func(s string) string { return fmt.Sprintf("intake %s, %d clients", s, x.conc) }
		rep.add(label("accepted/s"), fmt.Sprintf("%.0f/s", r.fdRate), "ratio >= 1.0",
			fmt.Sprintf("%.0f/s (%s)", r.ceilRate, r.ceilingName), check(r.ratio >= 1.0))
		rep.add(label("ratio to minimal"), fmt.Sprintf("%.2f", r.ratio), ">= 1.0", "", check(r.ratio >= 1.0))
		if r.pbMeasured {
			rep.add(label("ratio to PocketBase"), fmt.Sprintf("%.2f", r.pbRatio), ">= 2.0",
				fmt.Sprintf("PocketBase %.0f/s p50 %.2f p99 %.2f ms, %d errors", r.pb.load.rate(), ms(r.pb.p50), ms(r.pb.p99),
					r.pb.load.Errors), check(r.pbRatio >= 2.0))
		} else {
			err := r.pbErr
			if pbBuildErr != nil {
				err = pbBuildErr
			}
			rep.add(label("ratio to PocketBase"), "not measured", ">= 2.0", "", check(false))
			rep.note("PocketBase: %v", err)
		}
		rep.add(label("latency p50"), fmt.Sprintf("%.2f ms", ms(r.fd.p50)), "", fmt.Sprintf("%.2f ms", ms(r.ceiling.p50)), nil)
		rep.add(label("latency p99"), fmt.Sprintf("%.2f ms", ms(r.fd.p99)), fmt.Sprintf("<= %d ms", x.maxLat.Milliseconds()),
			fmt.Sprintf("%.2f ms", ms(r.ceiling.p99)), check(r.fd.p99 <= x.maxLat))
		rep.add(label("errors"), fmt.Sprintf("%d of %d", r.fd.load.Errors, r.fd.load.Errors+r.fd.load.OK), "0",
			fmt.Sprintf("%d", r.ceiling.load.Errors), check(r.fd.load.Errors == 0))
	}
	fd, ceiling := lo.fd, lo.ceiling
	rep.add("RSS idle after start-up (empty db)", fmt.Sprintf("%.1f MB", mb(fd.idle)), "<= 40 MB", fmt.Sprintf("%.1f MB", mb(ceiling.idle)), check(fd.idle <= 40<<20))
	rep.add("RSS under intake load (peak VmRSS)", fmt.Sprintf("%.1f MB (HWM %.1f)", mb(max(fd.peak, hi.fd.peak)), mb(max(fd.hwm, hi.fd.hwm))),
		"<= 150 MB", fmt.Sprintf("%.1f MB", mb(ceiling.peak)), check(max(fd.peak, fd.hwm, hi.fd.peak, hi.fd.hwm) <= 150<<20))
	if lo.pbMeasured {
		rep.note("PocketBase (%s, synchronous=NORMAL, a public collection with the enquiry's fields): RSS idle %.1f MB, under load %.1f MB",
			pocketbaseModule, mb(lo.pb.idle), mb(max(lo.pb.peak, lo.pb.hwm)))
	}
	for _, s := range append(lo.minimals, hi.minimals...) {
		rep.note("%s", s)
	}
	for _, x := range []intakeRound{lo, hi} {
		rep.note("intake run: %d enquiries accepted in %.1fs; the mail worker sent %d messages meanwhile (SMTP to a loopback sink)",
			x.fd.load.OK, x.fd.load.Elapsed.Seconds(), x.mails)
		if x.fd.load.Errors > 0 {
			rep.note("intake errors by status: %v; first: %s", x.fd.load.Status, x.fd.load.FirstError)
		}
	}
	return nil
}
