// Command run is `make bench`: it builds bin/frontdesk and measures Frontdesk against the figures of
// docs/performance.md — intake under load beside a minimal same-stack server (the ceiling), memory, start-up
// on a large database, staff reads while intake goes on, exports, and the mail drain — then prints a table and
// writes the same to bench/out/.
//
//	go run -tags sqlite_fts5 ./bench/run                        # the full sizes (1,000,000 enquiries)
//	go run -tags sqlite_fts5 ./bench/run -n 100000 -seconds 10  # a quick run
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	n            int
	seconds      int
	conc         int
	readRate     int
	reads        int
	mail         int
	bigDB        string
	out          string
	only         map[string]bool
	minConns     []int
	password     string
	frontdeskBin string
	staffEmail   string
	// postgres is a PostgreSQL superuser's URL (BENCH_POSTGRES): when set, intake and the large-database phase
	// run on PostgreSQL too, in databases the bench creates there.
	postgres string
}

// The accounts bench/gen makes.
const (
	adminEmail       = "admin@bench.example"
	coordinatorEmail = "coordinator@bench.example"
	intakeInbox      = "intake@bench.example"
	dataDays         = 3 * 365
)

func main() {
	var o options
	var only, minConns string
	flag.IntVar(&o.n, "n", envInt("BENCH_N", 1_000_000), "enquiries in the large database (env BENCH_N)")
	flag.IntVar(&o.seconds, "seconds", envInt("BENCH_SECONDS", 30), "length of each intake load run (env BENCH_SECONDS)")
	flag.IntVar(&o.conc, "c", 16, "concurrent intake clients")
	flag.IntVar(&o.readRate, "read-write-rate", 100, "enquiries per second posted in the background while reads are measured")
	flag.IntVar(&o.reads, "reads", envInt("BENCH_READS", 300), "requests of each page kind")
	flag.IntVar(&o.mail, "mail", envInt("BENCH_MAIL", 20000), "about how many messages the mail drain sends")
	flag.StringVar(&o.bigDB, "db", "", "the large database (default data/bench-N.db; made with bench/gen when missing)")
	flag.StringVar(&o.out, "out", "bench/out", "where results and working files go")
	flag.StringVar(&only, "only", "", "comma-separated phases to run: intake, reads, export, mail (default all)")
	flag.StringVar(&o.postgres, "postgres", os.Getenv("BENCH_POSTGRES"), "a PostgreSQL superuser's URL: also measure intake and the large database on PostgreSQL (env BENCH_POSTGRES)")
	target := flag.String("target", "", "only run the intake load against this already running server (base URL), e.g. while profiling it")
	frontdeskBin := flag.String("frontdesk", "", "use this frontdesk binary instead of building bin/frontdesk (to compare builds)")
	sinkAddr := flag.String("sink", "", "only run an SMTP server that accepts and discards every message, at this address, until killed")
	flag.StringVar(&minConns, "minimal-conns", "0,1", "database connection limits to run the minimal server with (0: unlimited); the best is the ceiling")
	flag.Parse()
	o.password = "bench-password-1"
	o.frontdeskBin = *frontdeskBin
	o.staffEmail = coordinatorEmail
	if o.bigDB == "" {
		o.bigDB = fmt.Sprintf("data/bench-%d.db", o.n)
	}
	o.only = map[string]bool{}
	for _, p := range strings.Split(only, ",") {
		if p = strings.TrimSpace(p); p != "" {
			o.only[p] = true
		}
	}
	for _, c := range strings.Split(minConns, ",") {
		if v, err := strconv.Atoi(strings.TrimSpace(c)); err == nil {
			o.minConns = append(o.minConns, v)
		}
	}
	if *sinkAddr != "" {
		sk, err := startSink(*sinkAddr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		fmt.Println("SMTP sink on", sk.addr)
		select {}
	}
	if *target != "" {
		bodies := enquiryBodies(50_000, 30_000_000, uint64(time.Now().UnixNano()))
		r := closedLoop(strings.TrimRight(*target, "/")+intakePath, http.StatusCreated, bodies, o.conc, time.Duration(o.seconds)*time.Second)
		fmt.Printf("%.0f/s accepted, p50 %.2f ms, p99 %.2f ms, %d errors %v %s\n", r.rate(), ms(pct(r.Lat, 50)),
			ms(pct(r.Lat, 99)), r.Errors, r.Status, r.FirstError)
		return
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func (o options) phase(name string) bool { return len(o.only) == 0 || o.only[name] }

// bins are the programs a run needs.
type bins struct{ frontdesk, minimal, gen string }

func build(out string) (bins, error) {
	b := bins{frontdesk: "bin/frontdesk", minimal: filepath.Join(out, "bin", "minimal"), gen: filepath.Join(out, "bin", "gen")}
	for _, t := range []struct{ out, pkg string }{{b.frontdesk, "./cmd/frontdesk"}, {b.minimal, "./bench/minimal"}, {b.gen, "./bench/gen"}} {
		cmd := exec.Command("go", "build", "-tags", "sqlite_fts5", "-trimpath", "-o", t.out, t.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("build %s: %v\n%s", t.pkg, err, out)
		}
	}
	return b, nil
}

// report collects the figures and prints them as they come.
type report struct {
	rows  [][5]string
	notes []string
	log   io.Writer
}

func (r *report) add(figure, measured, target, ceiling string, ok *bool) {
	verdict := ""
	if ok != nil {
		verdict = "MISS"
		if *ok {
			verdict = "ok"
		}
	}
	r.rows = append(r.rows, [5]string{figure, measured, target, ceiling, verdict})
	fmt.Fprintf(r.log, "  %-44s %-26s %-16s %-30s %s\n", figure, measured, target, ceiling, verdict)
}

func (r *report) note(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	r.notes = append(r.notes, s)
	fmt.Fprintln(r.log, "  note:", s)
}

func (r *report) table() string {
	var b strings.Builder
	w := [5]int{}
	head := [5]string{"figure", "measured", "target", "ceiling / compare", "verdict"}
	for i, h := range head {
		w[i] = len(h)
	}
	for _, row := range r.rows {
		for i, c := range row {
			w[i] = max(w[i], len([]rune(c)))
		}
	}
	line := func(row [5]string) {
		for i, c := range row {
			fmt.Fprintf(&b, "%-*s", w[i]+2, c)
		}
		b.WriteString("\n")
	}
	line(head)
	sep := [5]string{}
	for i := range sep {
		sep[i] = strings.Repeat("-", w[i])
	}
	line(sep)
	for _, row := range r.rows {
		line(row)
	}
	for _, n := range r.notes {
		b.WriteString("note: " + n + "\n")
	}
	return b.String()
}

func check(ok bool) *bool { return &ok }

func run(o options) error {
	began := time.Now()
	if err := os.MkdirAll(filepath.Join(o.out, "bin"), 0o755); err != nil {
		return err
	}
	rep := &report{log: os.Stdout}
	fmt.Printf("bench: %d cores, GOMAXPROCS %d, %s; building\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	b, err := build(o.out)
	if err != nil {
		return err
	}
	if o.frontdeskBin != "" {
		b.frontdesk = o.frontdeskBin
	}
	sk, err := startSink("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer sk.close()

	if o.phase("intake") {
		if err := intakePhase(o, b, sk, rep); err != nil {
			return err
		}
	}
	if o.phase("reads") || o.phase("export") {
		if err := largePhase(o, b, sk, rep); err != nil {
			return err
		}
	}
	if o.postgres != "" && (o.phase("intake") || o.phase("reads") || o.phase("export")) {
		if err := postgresPhase(o, b, sk, rep); err != nil {
			return err
		}
	}
	if o.phase("mail") {
		if err := mailPhase(o, b, rep); err != nil {
			return err
		}
	}
	rep.note("whole run took %s", time.Since(began).Round(time.Second))

	var out bytes.Buffer
	fmt.Fprintf(&out, "Frontdesk benchmark, %s\n", time.Now().Format(time.RFC3339))
	fmt.Fprintf(&out, "machine: %d cores, %s; settings: n=%d seconds=%d c=%d read-write-rate=%d/s reads=%d mail=%d\n\n",
		runtime.NumCPU(), runtime.Version(), o.n, o.seconds, o.conc, o.readRate, o.reads, o.mail)
	out.WriteString(rep.table())
	fmt.Println()
	fmt.Print(out.String()[strings.Index(out.String(), "\n\n")+2:])
	name := filepath.Join(o.out, "bench-"+time.Now().Format("20060102-150405")+".txt")
	if err := os.WriteFile(name, out.Bytes(), 0o644); err != nil {
		return err
	}
	_ = os.WriteFile(filepath.Join(o.out, "latest.txt"), out.Bytes(), 0o644)
	fmt.Println("\nwritten to", name)
	return nil
}

// gen runs bench/gen.
func gen(b bins, args ...string) error {
	cmd := exec.Command(b.gen, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

func removeDB(path string) {
	for _, s := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(path + s)
	}
}

// settle removes a load run's database, whose dirty pages would otherwise be written back during the next
// measurement (and slow its fsyncs), flushes the rest, and lets the machine go quiet.
func settle(path string) {
	removeDB(path)
	syscall.Sync()
	time.Sleep(2 * time.Second)
}

// serveEnv is the configuration of every frontdesk serve the bench starts: no intake limit, mail sent over
// SMTP to the sink, the intake inbox told of each enquiry, sign-in with a password alone (the bench's
// coordinator has no authenticator; the second factor's cost is at sign-in, not on the pages measured), and no
// retention: bench/gen's three years of history would otherwise be anonymised and purged by the first serve
// on the file, a one-off job of many minutes at a million enquiries that every read would wait behind.
func serveEnv(dbPath, addr string, sk *sink) []string {
	host, port, _ := net.SplitHostPort(sk.addr)
	return []string{
		"FRONTDESK_DB=" + dbPath, "FRONTDESK_ADDR=" + addr, "FRONTDESK_INTAKE_PER_MINUTE=0",
		"FRONTDESK_MAIL_TRANSPORT=smtp", "FRONTDESK_SMTP_HOST=" + host, "FRONTDESK_SMTP_PORT=" + port,
		"FRONTDESK_SMTP_TLS=none", "FRONTDESK_INTAKE_INBOX=" + intakeInbox, "FRONTDESK_BASE_URL=http://localhost:8080",
		"FRONTDESK_REQUIRE_2FA=off", "FRONTDESK_RETENTION_MONTHS=0", "FRONTDESK_SPAM_RETENTION_DAYS=0",
	}
}

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
