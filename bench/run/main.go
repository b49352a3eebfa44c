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
