// Command gen fills a Frontdesk database with N realistic, fictional enquiries for the benchmarks: staff (an
// administrator, a coordinator and a few clinicians), enquiries spread over the last years in created_at order,
// worked along the pipeline the way a clinic would (assignment, status changes, notes, reminders, closing
// reasons), with their timeline events and outbox rows, nearly all of them sent. Everything goes through the
// real db package (db.BulkLoad: the intake, change and reminder SQL, with every trigger), many enquiries per
// transaction.
//
//	go run -tags sqlite_fts5 ./bench/gen -db data/bench.db -n 1000000
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/demo"
	"github.com/frontdesk/frontdesk/db"
	"github.com/frontdesk/frontdesk/intake"
)

// Accounts the benchmark signs in with; every one has the password given by -password.
const (
	AdminEmail       = "admin@bench.example"
	CoordinatorEmail = "coordinator@bench.example"
	IntakeInbox      = "intake@bench.example"
)

var clinicians = []crm.NewStaff{
	{Email: "priya.shah@bench.example", Name: "Dr Priya Shah", Treatments: []string{"adhd", "depression"}},
	{Email: "tom.evans@bench.example", Name: "Dr Tom Evans", Treatments: []string{"ptsd", "addiction", "anxiety"}},
	{Email: "alice.morgan@bench.example", Name: "Dr Alice Morgan", Treatments: []string{"chronic_pain", "depression"}},
	{Email: "kwame.mensah@bench.example", Name: "Dr Kwame Mensah", Treatments: []string{"adhd", "anxiety"}},
	{Email: "niamh.fraser@bench.example", Name: "Dr Niamh Fraser", Treatments: []string{"addiction", "chronic_pain", "ptsd"}},
}

func main() {
	path := flag.String("db", "", "database file to fill (created; must hold no enquiries yet)")
	n := flag.Int("n", 1_000_000, "how many enquiries")
	days := flag.Int("days", 3*365, "spread the enquiries over this many days up to now")
	batch := flag.Int("batch", 2000, "enquiries per transaction")
	seed := flag.Uint64("seed", 1, "random seed (the same seed makes the same data, references aside)")
	password := flag.String("password", "bench-password-1", "password of every staff account")
	queued := flag.Int("queued", 20, "how many of the newest enquiries keep their mail queued (the rest is sent)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *path == "" || *n < 0 || *days <= 0 || *batch <= 0 || *queued < 0 {
		fmt.Fprintln(os.Stderr, "gen: -db is required; -days and -batch must be positive, -n and -queued not negative")
		os.Exit(2)
	}
	start := time.Now()
	if err := run(*path, *n, *days, *batch, *seed, *password, *queued); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	fi, _ := os.Stat(*path)
	var size int64
	if fi != nil {
		size = fi.Size()
	}
	fmt.Printf("gen: %d enquiries in %s (%.0f/s), database %s is %d MB\n", *n, time.Since(start).Round(time.Second),
		float64(*n)/time.Since(start).Seconds(), *path, size>>20)
}

func run(path string, n, days, batchSize int, seed uint64, password string, queued int) error {
	ctx := context.Background()
	d, err := db.Open(path, db.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		return err
	}
	if have, err := d.CountEnquiries(ctx, crm.ListQuery{IncludeSpam: true}, 1); err != nil {
		return err
	} else if have > 0 {
		return fmt.Errorf("%s already has enquiries; give a new file", path)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	accounts := crm.NewAccounts(d, d, quiet)
	var staff []crm.Staff
	all := append([]crm.NewStaff{
		{Email: AdminEmail, Name: "Bench Admin", Role: crm.RoleAdmin},
		{Email: CoordinatorEmail, Name: "Sam Okafor", Role: crm.RoleCoordinator},
	}, clinicians...)
	for _, s := range all {
		if s.Role == "" {
			s.Role = crm.RoleClinician
		}
		s.Password = password
		made, err := accounts.Create(ctx, crm.System, s)
		if err != nil {
			return fmt.Errorf("account %s: %w", s.Email, err)
		}
		staff = append(staff, made)
	}
	coordinator := crm.Actor{ID: staff[1].ID, Email: staff[1].Email, Name: staff[1].Name, Role: staff[1].Role}

	now := time.Now().UTC()
	p := &planner{
		g:           demo.New(seed),
		v:           intake.NewValidator(func() time.Time { return now }, time.UTC),
		now:         now,
		first:       now.Add(-time.Duration(days) * 24 * time.Hour),
		step:        time.Duration(days) * 24 * time.Hour / time.Duration(max(n, 1)),
		coordinator: coordinator,
		clinicians:  staff[2:],
		sentBefore:  n - queued,
	}
	if n == 0 {
		fmt.Printf("gen: staff %s (admin), %s (coordinator) and %d clinicians, password %q; no enquiries\n",
			AdminEmail, CoordinatorEmail, len(clinicians), password)
		return nil
	}
	// Making and validating enquiries runs beside the inserts, one batch ahead.
	batches := make(chan []db.BulkEnquiry, 2)
	errc := make(chan error, 1)
	go func() {
		defer close(batches)
		for i := 0; i < n; i += batchSize {
			b := make([]db.BulkEnquiry, 0, min(batchSize, n-i))
			for j := i; j < min(i+batchSize, n); j++ {
				e, err := p.enquiry(j)
				if err != nil {
					errc <- err
					return
				}
				b = append(b, e)
			}
			batches <- b
		}
	}()
	done, last := 0, time.Now()
	began := time.Now()
	for b := range batches {
		if _, err := d.BulkLoad(ctx, b); err != nil {
			return err
		}
		done += len(b)
		if time.Since(last) > 10*time.Second || done == n {
			last = time.Now()
			fmt.Printf("gen: %d/%d enquiries, %.0f/s\n", done, n, float64(done)/time.Since(began).Seconds())
		}
	}
	select {
	case err := <-errc:
		return err
	default:
	}
	counts := map[crm.Status]int{}
	for _, st := range crm.AllStatuses {
		c, err := d.CountEnquiries(ctx, crm.ListQuery{Statuses: []crm.Status{st}, IncludeSpam: true}, n+1)
		if err != nil {
			return err
		}
		counts[st] = c
	}
	var parts []string
	for _, st := range crm.AllStatuses {
		parts = append(parts, fmt.Sprintf("%s %d", st, counts[st]))
	}
	sort.Strings(parts)
	fmt.Println("gen: by status:", strings.Join(parts, ", "))
	fmt.Printf("gen: staff %s (admin), %s (coordinator) and %d clinicians, password %q\n", AdminEmail, CoordinatorEmail,
		len(clinicians), password)
	return nil
}

// planner decides what each enquiry is and what happened to it.
type planner struct {
	g           *demo.Generator
	v           *intake.Validator
	now, first  time.Time
	step        time.Duration
	coordinator crm.Actor
	clinicians  []crm.Staff
	sentBefore  int // enquiries before this index have their mail sent
}

var stages = []crm.Status{crm.StatusContacted, crm.StatusScreening, crm.StatusAssessmentBooked,
	crm.StatusTreatmentOffered, crm.StatusInTreatment}

var closing = []crm.Status{crm.StatusLost, crm.StatusLost, crm.StatusLost, crm.StatusNotSuitable, crm.StatusReferred}

// enquiry makes the i-th enquiry: created at first + i*step (plus less than a step of jitter, so created_at
// rises with i), then worked according to its age.
func (p *planner) enquiry(i int) (db.BulkEnquiry, error) {
	g := p.g
	created := p.first.Add(time.Duration(i)*p.step + time.Duration(g.Intn(int(max(p.step/time.Millisecond, 1))))*time.Millisecond)
	sub := g.Submission(i)
	if g.Intn(100) < 4 {
		sub.Website = "http://cheap-pills.example" // a bot caught by the honeypot
	}
	if i > 10 && g.Intn(100) < 3 {
		// The same person again a little later: linked as related.
		prev := g.Submission(i - 1 - g.Intn(10))
		sub.Email = prev.Email
	}
	e, err := p.v.Check(sub)
	if err != nil {
		return db.BulkEnquiry{}, fmt.Errorf("enquiry %d: %w", i, err)
	}
	e.Consent.GivenAt = created
	b := db.BulkEnquiry{NewEnquiry: crm.NewEnquiry{Enquiry: e, ReceivedAt: created, Fingerprint: crm.Fingerprint(e),
		IntakeInbox: IntakeInbox}}
	if g.Intn(3) == 0 {
		b.IdempotencyKey = fmt.Sprintf("api:bench-%d", i)
	}
	// The newest few messages are still in the outbox; the rest went out within seconds.
	if i < p.sentBefore {
		b.MailSentAt = created.Add(time.Duration(1+g.Intn(5000)) * time.Millisecond)
	}
	if e.Spam {
		return b, nil
	}
	age := p.now.Sub(created)
	at := created
	later := func(d time.Duration) time.Time {
		at = at.Add(d)
		if at.After(p.now) {
			at = p.now
		}
		return at
	}
	reach := 0 // how many stages it went through
	switch {
	case age < time.Hour:
	case age < 24*time.Hour:
		reach = g.Intn(2)
	case g.Intn(100) < 2:
		// Never contacted: reminded once it passed the first-contact target.
	default:
		reach = 1 + g.Intn(min(len(stages), 1+int(age/(7*24*time.Hour))))
	}
	if reach == 0 {
		if age > 24*time.Hour {
			b.RemindedAt = created.Add(24*time.Hour + time.Duration(g.Intn(60))*time.Minute)
		}
		return b, nil
	}
	// Enquiries about a treatment no clinician covers arrive unassigned; the coordinator gives them to someone
	// when first in touch.
	if e.Treatment == "other" {
		c := p.clinicians[g.Intn(len(p.clinicians))]
		id := c.ID
		b.Changes = append(b.Changes, db.BulkChange{At: later(time.Duration(10+g.Intn(120)) * time.Minute),
			Actor: p.coordinator, Change: crm.Change{Assign: &id, Mail: []crm.Mail{{Kind: crm.MailAssigned, Recipient: c.Email}}}})
	}
	prev := crm.StatusNew
	for _, st := range stages[:reach] {
		b.Changes = append(b.Changes, db.BulkChange{At: later(time.Duration(1+g.Intn(72)) * time.Hour), Actor: p.coordinator,
			Change: crm.Change{Status: st, FirstContact: prev == crm.StatusNew}})
		prev = st
		if g.Intn(100) < 35 {
			b.Changes = append(b.Changes, db.BulkChange{At: later(time.Duration(5+g.Intn(50)) * time.Minute),
				Actor: p.coordinator, Change: crm.Change{Note: g.Note()}})
		}
	}
	closeChance := 20
	if age > 90*24*time.Hour {
		closeChance = 85
	} else if age > 30*24*time.Hour {
		closeChance = 60
	}
	if prev != crm.StatusInTreatment && g.Intn(100) < closeChance {
		st := closing[g.Intn(len(closing))]
		b.Changes = append(b.Changes, db.BulkChange{At: later(time.Duration(1+g.Intn(14*24)) * time.Hour), Actor: p.coordinator,
			Change: crm.Change{Status: st, Reason: g.CloseReason(string(st))}})
	}
	return b, nil
}
