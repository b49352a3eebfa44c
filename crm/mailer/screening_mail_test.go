package mailer_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/mailer/mailertest"
	"github.com/frontdesk/frontdesk/db"
	"github.com/frontdesk/frontdesk/intake"
	_ "github.com/mattn/go-sqlite3"
)

// submitAPI sends an enquiry as the JSON API would, through the intake service into d, telling intakeInbox.
func submitAPI(t *testing.T, d *db.DB, body string) crm.Receipt {
	t.Helper()
	sub, err := intake.DecodeJSON([]byte(body))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	v := intake.NewValidator(time.Now, time.UTC)
	svc := crm.NewIntakeService(d, v, intakeInbox, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec, err := svc.Submit(context.Background(), sub, "")
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return rec
}

// riskEnquiry is an enquiry flagged risk three ways at once, with answers no email may repeat.
const riskEnquiry = `{"name":"Zoë Åberg","email":"zoe@patient.example","phone":"07700 900123","treatment":"ptsd",
	"message":"I keep thinking about ending my life since the accident","consent":true,
	"screening":{"phq9":[3,3,2,2,1,1,1,2,2],"pc_ptsd5":[1,1,1,1,0],
		"safety":{"self_harm_thoughts":true,"liver_disease":true}}}`

func TestStaffUrgentCarriesNoClinicalContent(t *testing.T) {
	d, _ := openDBFile(t)
	srv := mailertest.Start(t, mailertest.Options{})
	rec := submitAPI(t, d, riskEnquiry)
	startWorker(t, d, smtpTransport(t, srv.Addr, nil), fastConfig())
	got := srv.Wait(t, 2, 10*time.Second)

	var urgent *parsed
	for _, r := range got {
		if r.To[0] == intakeInbox {
			p := parse(t, r.Data)
			urgent = &p
		}
	}
	if urgent == nil {
		t.Fatalf("no notice to the intake inbox among %d messages", len(got))
	}
	if want := "Urgent: " + rec.Reference + " needs review today"; urgent.Subject != want {
		t.Errorf("urgent subject %q, want %q", urgent.Subject, want)
	}
	link := "https://enquiries.klinik.example/enquiries/" + rec.Reference
	for _, body := range []string{urgent.Text, urgent.HTML} {
		if !strings.Contains(body, link) || !strings.Contains(body, "4 hours") {
			t.Errorf("urgent notice lacks the link or the urgent target:\n%s", body)
		}
		lower := strings.ToLower(body)
		for _, never := range []string{"zoë", "åberg", "zoe@patient.example", "7700", "ending my life", "accident",
			"ptsd", "phq", "pc-ptsd", "self-harm", "self_harm", "suicid", "liver", "risk:", "item 9"} {
			if strings.Contains(lower, never) {
				t.Errorf("the urgent notice carries %q:\n%s", never, body)
			}
		}
	}
	// The outbox holds the urgent notice, not the ordinary one, for the inbox.
	kinds := outboxKinds(t, d)
	if kinds[string(crm.MailUrgent)] != 1 || kinds[string(crm.MailNewEnquiry)] != 0 {
		t.Errorf("outbox kinds %v: want one staff_urgent and no staff_new", kinds)
	}
}

func TestConfirmationLeadsWithCrisisHelpWhenRisk(t *testing.T) {
	d, file := openDBFile(t)
	srv := mailertest.Start(t, mailertest.Options{})
	risky := submitAPI(t, d, riskEnquiry)
	plain := submitAPI(t, d, `{"name":"Sam Lee","email":"sam@patient.example","treatment":"adhd","consent":true,
		"message":"My back pain is killing me"}`)
	startWorker(t, d, smtpTransport(t, srv.Addr, nil), fastConfig())
	got := srv.Wait(t, 4, 10*time.Second)
	conf := map[string]parsed{}
	for _, r := range got {
		if strings.HasSuffix(r.To[0], "@patient.example") {
			conf[r.To[0]] = parse(t, r.Data)
		}
	}
	help := []string{"999", "NHS 111", "option 2", "116 123", "SHOUT", "85258"}
	r, p := conf["zoe@patient.example"], conf["sam@patient.example"]
	for _, body := range []string{r.Text, r.HTML} {
		first := strings.Index(body, "If you need help now")
		thanks := strings.Index(body, "Thank you for getting in touch")
		if first < 0 || thanks < 0 || first > thanks {
			t.Errorf("the risk confirmation does not lead with the crisis help (help at %d, thanks at %d):\n%s", first, thanks, body)
		}
		for _, w := range append(help, risky.Reference, "4 hours", "/enquire/screening/") {
			if !strings.Contains(body, w) {
				t.Errorf("the risk confirmation lacks %q", w)
			}
		}
		for _, never := range []string{"ending my life", "PHQ", "liver"} {
			if strings.Contains(body, never) {
				t.Errorf("the confirmation repeats %q", never)
			}
		}
	}
	for _, body := range []string{p.Text, p.HTML} {
		first := strings.Index(body, "If you need help now")
		thanks := strings.Index(body, "Thank you for getting in touch")
		if thanks < 0 || first < thanks {
			t.Errorf("a plain confirmation leads with the crisis help, or lacks it at the end:\n%s", body)
		}
		for _, w := range append(help, plain.Reference, "24 hours", "Help us prepare for your call", "/enquire/screening/") {
			if !strings.Contains(body, w) {
				t.Errorf("the plain confirmation lacks %q", w)
			}
		}
	}
	// The link's token is in the email, and only its hash in the database.
	tok := p.Text[strings.Index(p.Text, "/enquire/screening/")+len("/enquire/screening/"):]
	tok = strings.Fields(tok)[0]
	if n := countRows(t, file, `SELECT count(*) FROM screening_links WHERE token_hash = ?`, crm.ScreeningTokenHash(tok)); n != 1 {
		t.Errorf("the emailed link's token matches %d stored hashes, want 1", n)
	}
	waitOutbox(t, d, 5*time.Second, "all sent", allStatus(crm.OutboxSent))
	if n := countRows(t, file, `SELECT count(*) FROM outbox WHERE link_token IS NOT NULL`); n != 0 {
		t.Errorf("%d sent messages still hold their link's token", n)
	}
}

func outboxKinds(t *testing.T, d *db.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	list, err := d.List(context.Background(), crm.OutboxFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list {
		out[string(e.Kind)]++
	}
	return out
}

// countRows counts in the database file through a connection of its own.
func countRows(t *testing.T, file, q string, args ...any) int {
	t.Helper()
	c, err := sql.Open("sqlite3", "file:"+file+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var n int
	if err := c.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// openDBFile is openDB, also returning the database file's path.
func openDBFile(t *testing.T) (*db.DB, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "frontdesk.db")
	d, err := db.Open(file, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d, file
}
