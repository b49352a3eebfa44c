package mailer_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/mailer"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current templates")

// sampleMessage is a claimed message of kind about a fixed enquiry.
func sampleMessage(kind crm.MailKind) crm.OutboxMessage {
	return crm.OutboxMessage{
		ID: 7, Kind: kind, Recipient: "zoe@patient.example", MessageID: "0123456789abcdef0123456789abcdef",
		Attempts: 1, CreatedAt: time.Date(2026, 11, 27, 13, 0, 54, 123e6, time.UTC),
		QueuedAt: time.Date(2026, 11, 27, 13, 0, 54, 123e6, time.UTC),
		Enquiry: crm.OutboxSummary{
			Reference: "FD-7K3M-Q9XP", PatientName: "Zoë Åberg", Treatment: "adhd",
			ReceivedAt: time.Date(2026, 11, 27, 13, 0, 54, 0, time.UTC),
		},
	}
}

// withLink gives a confirmation its screening link's token.
func withLink(m crm.OutboxMessage) crm.OutboxMessage {
	m.LinkToken = "sampleScreeningToken"
	return m
}

// flaggedRisk flags the message's enquiry risk an hour after it arrived.
func flaggedRisk(m crm.OutboxMessage) crm.OutboxMessage {
	m.Enquiry.RiskAt = m.Enquiry.ReceivedAt.Add(time.Hour)
	return m
}

// passwordReset is a claimed password reset message: no enquiry, only the link's token.
func passwordReset() crm.OutboxMessage {
	m := sampleMessage(crm.MailPasswordReset)
	m.Enquiry = crm.OutboxSummary{}
	m.LinkToken = "fd_sampletoken"
	return m
}

func TestRenderedTemplatesMatchGoldenFiles(t *testing.T) {
	r := newRenderer(t, "")
	noContact, err := mailer.NewRenderer(mailer.RenderConfig{
		Clinic: mailer.Clinic{Name: "Frontdesk Clinic"}, From: mustAddress(t, "Frontdesk <no-reply@localhost>"),
		BaseURL: "http://localhost:8080", FirstContactHours: 48, Location: time.UTC,
	})
	if err != nil {
		t.Fatal(err)
	}
	withLogo, err := mailer.NewRenderer(mailer.RenderConfig{
		Clinic: mailer.Clinic{Name: "Harbour Clinic", Phone: "+44 20 7946 0018",
			LogoURL: "https://enquiries.harbour.example/logo?v=0123456789ab"},
		From: mustAddress(t, "Harbour Clinic <no-reply@harbour.example>"), BaseURL: "https://enquiries.harbour.example",
		FirstContactHours: 24, Location: time.UTC,
	})
	if err != nil {
		t.Fatal(err)
	}
	assigned := func(kind crm.MailKind) crm.OutboxMessage {
		m := sampleMessage(kind)
		m.Enquiry.Assigned, m.Enquiry.AssigneeName = true, "Dr Siân O'Brien"
		// A summer date: the clinic's zone is on BST.
		m.Enquiry.ReceivedAt = time.Date(2026, 7, 3, 8, 15, 0, 0, time.UTC)
		return m
	}
	cases := []struct {
		name string
		r    *mailer.Renderer
		m    crm.OutboxMessage
	}{
		{"confirmation", r, sampleMessage(crm.MailConfirmation)},
		{"confirmation_no_contact_details", noContact, sampleMessage(crm.MailConfirmation)},
		{"confirmation_with_logo", withLogo, sampleMessage(crm.MailConfirmation)},
		{"staff_new_unassigned", r, sampleMessage(crm.MailNewEnquiry)},
		{"staff_new_assigned", r, assigned(crm.MailNewEnquiry)},
		{"staff_assigned", r, assigned(crm.MailAssigned)},
		{"staff_overdue_unassigned", r, sampleMessage(crm.MailOverdue)},
		{"staff_overdue_assigned", r, assigned(crm.MailOverdue)},
		{"staff_password_reset", r, passwordReset()},
		{"confirmation_with_screening_link", r, withLink(sampleMessage(crm.MailConfirmation))},
		{"confirmation_risk", r, flaggedRisk(withLink(sampleMessage(crm.MailConfirmation)))},
		{"staff_urgent", r, flaggedRisk(assigned(crm.MailUrgent))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := c.r.Render(c.m)
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("Subject: %s\n\n--- text/plain ---\n%s\n--- text/html ---\n%s", out.Subject, out.Text, out.HTML)
			for _, never := range []string{patientMessage, patientDOB} {
				if strings.Contains(got, never) {
					t.Errorf("rendered %q", never)
				}
			}
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./crm/mailer -run Golden -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the rendering (run with -update if the change is intended):\n%s", path, got)
			}
		})
	}
}

func TestConfirmationNeverCarriesTheTreatmentEvenFromAnOverride(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "confirmation.txt", `{{define "subject"}}About {{.Treatment}}{{end}}Treatment: [{{.Treatment}}]`)
	write(t, dir, "staff_new.txt", `{{define "subject"}}New {{.Reference}}{{end}}Patient: [{{.PatientName}}]`)
	r := newRenderer(t, dir)
	conf, err := r.Render(sampleMessage(crm.MailConfirmation))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(conf.Text, "ADHD") || !strings.Contains(conf.Text, "Treatment: []") {
		t.Errorf("confirmation text %q", conf.Text)
	}
	staff, err := r.Render(sampleMessage(crm.MailNewEnquiry))
	if err != nil {
		t.Fatal(err)
	}
	if staff.Subject != "New FD-7K3M-Q9XP" || !strings.Contains(staff.Text, "Patient: []") {
		t.Errorf("override not used, or the patient's name given to staff: %q / %q", staff.Subject, staff.Text)
	}
	// The files not overridden are still the embedded ones.
	if html := staff.HTML; !strings.Contains(html, "Open enquiry FD-7K3M-Q9XP") {
		t.Errorf("embedded HTML not used: %s", html)
	}
}

func TestBrokenOverrideFailsAtLoadWithFileAndLine(t *testing.T) {
	cases := []struct {
		name, file, body string
		want             *regexp.Regexp
	}{
		{"parse error", "staff_new.txt", "{{define \"subject\"}}x{{end}}\nline two\n{{.Reference}\n",
			regexp.MustCompile(`staff_new\.txt:3`)},
		{"unknown field", "confirmation.html", "{{define \"content\"}}\n<p>{{.Reference}}</p>\n<p>{{.Diagnosis}}</p>{{end}}",
			regexp.MustCompile(`confirmation\.html:3:.*Diagnosis`)},
		{"html parse error", "base.html", "{{define \"layout\"}}{{template \"content\" .}}{{end}}\n{{if}}",
			regexp.MustCompile(`base\.html:2`)},
		{"empty subject", "staff_overdue.txt", "{{define \"subject\"}} {{end}}body",
			regexp.MustCompile(`staff_overdue\.txt: the subject block is empty`)},
		{"unknown file", "confirmaton.txt", "typo in the name",
			regexp.MustCompile(`confirmaton\.txt is not a mail template`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, c.file, c.body)
			_, err := mailer.LoadTemplates(dir)
			if err == nil {
				t.Fatal("loaded a broken override")
			}
			if !c.want.MatchString(err.Error()) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name the folder and %s", err, c.want)
			}
		})
	}
	if _, err := mailer.LoadTemplates(""); err != nil {
		t.Errorf("embedded templates: %v", err)
	}
}

func TestFileTransportWritesParseableEMLFilesInTimeOrder(t *testing.T) {
	d := openDB(t)
	dir := filepath.Join(t.TempDir(), "mail", "out")
	ft, err := mailer.NewFileTransport(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref1 := enquire(t, d, "Ann Example", "ann@patient.example", true)
	ref2 := enquire(t, d, "Bob Example", "bob@patient.example", false)
	startWorker(t, d, ft, fastConfig())
	waitOutbox(t, d, 5*time.Second, "sent", allStatus(crm.OutboxSent))

	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 3 {
		t.Fatalf("files %v, want 3 .eml files and nothing else", names)
	}
	// Time first (so names sort by time), the outbox id, then the enquiry's reference (so an erasure finds them).
	pattern := regexp.MustCompile(`^\d{8}T\d{6}\.\d{3}Z-\d{6}-[0-9A-Z-]+\.eml$`)
	for _, n := range names {
		if !pattern.MatchString(n) {
			t.Errorf("file name %q does not sort by time or name its enquiry", n)
		}
		if !strings.HasSuffix(n, "-"+ref1+".eml") && !strings.HasSuffix(n, "-"+ref2+".eml") {
			t.Errorf("file name %q names neither enquiry", n)
		}
		// The messages name patients: readable by the owner only, in a folder only the owner may open.
		if fi, err := os.Stat(filepath.Join(dir, n)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600 (%v)", n, fi.Mode().Perm(), err)
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("mail folder: mode %v, want 0700 (%v)", fi.Mode().Perm(), err)
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("names not in order: %v", names)
	}
	var refs []string
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("\r\n")) {
			t.Errorf("%s: lines do not end in CRLF", n)
		}
		p := parse(t, b)
		if !messageIDPattern.MatchString(p.Header.Get("Message-Id")) || p.Header.Get("Date") == "" {
			t.Errorf("%s: headers %v", n, p.Header)
		}
		for _, r := range []string{ref1, ref2} {
			if strings.Contains(p.Subject, r) {
				refs = append(refs, r)
			}
		}
	}
	// Oldest first: the first enquiry's two messages, then the second's.
	if strings.Join(refs, " ") != strings.Join([]string{ref1, ref1, ref2}, " ") {
		t.Errorf("messages in file order are about %v", refs)
	}
}

func TestBackoffGrowsFromSecondsToHourly(t *testing.T) {
	base, max := mailer.DefaultRetryBase, mailer.DefaultRetryMax
	for i := 0; i < 200; i++ {
		if d := mailer.Backoff(1, base, max); d < 8*time.Second || d > 10*time.Second {
			t.Fatalf("first retry after %s, want 8-10 s (within 15 s)", d)
		}
		if d := mailer.Backoff(2, base, max); d < 16*time.Second || d > 20*time.Second {
			t.Fatalf("second retry after %s", d)
		}
		if d := mailer.Backoff(40, base, max); d < 48*time.Minute || d > time.Hour {
			t.Fatalf("late retry after %s, want 48-60 min", d)
		}
	}
	distinct := map[time.Duration]bool{}
	for i := 0; i < 20; i++ {
		distinct[mailer.Backoff(3, base, max)] = true
	}
	if len(distinct) < 5 {
		t.Errorf("no jitter: %v", distinct)
	}
	// Attempts within 5 days: hourly at the end, so about a hundred or more, and not thousands.
	var total time.Duration
	n := 0
	for n = 1; total < mailer.DefaultGiveUpAfter; n++ {
		total += mailer.Backoff(n, base, max)
	}
	if n < 100 || n > 200 {
		t.Errorf("%d attempts in 5 days", n)
	}
}

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Anyone can type any address into the form: the confirmation must not carry text of their choosing.
func TestConfirmationGreetsOnlyWithAPlainName(t *testing.T) {
	r := newRenderer(t, "")
	for name, greeted := range map[string]bool{
		"Zoë Åberg": true,
		"Your account is suspended – visit https://evil.example/login": false,
		"Call 0800 123 4567 now": false,
	} {
		m := sampleMessage(crm.MailConfirmation)
		m.Enquiry.PatientName = name
		out, err := r.Render(m)
		if err != nil {
			t.Fatal(err)
		}
		for part, body := range map[string]string{"subject": out.Subject, "text": out.Text, "html": out.HTML} {
			if got := strings.Contains(body, name); got != greeted && part != "subject" {
				t.Errorf("%s of the confirmation for %q: contains the name %v, want %v", part, name, got, greeted)
			}
			if strings.Contains(body, "evil.example") || strings.Contains(body, "0800") {
				t.Errorf("%s of the confirmation carries the sender's text:\n%s", part, body)
			}
		}
		if !greeted && !strings.Contains(out.Text, "Hello,") {
			t.Errorf("without a plain name the confirmation should greet with Hello:\n%s", out.Text)
		}
	}
}

func TestAPasswordResetWithoutItsTokenIsNotSent(t *testing.T) {
	r := newRenderer(t, "")
	m := passwordReset()
	m.LinkToken = ""
	if _, err := r.Compose(m); !errors.Is(err, mailer.ErrLinkGone) {
		t.Errorf("compose without the token: %v, want ErrLinkGone", err)
	}
}

// TestHTMLEmailShowsTheLogoAndTappableNumbers: with a logo, every HTML email opens with it (alt text: the
// clinic's name); the clinic's number and the crisis lines are links a phone can call; the plain text stays
// plain.
func TestHTMLEmailShowsTheLogoAndTappableNumbers(t *testing.T) {
	r, err := mailer.NewRenderer(mailer.RenderConfig{
		Clinic: mailer.Clinic{Name: "Harbour Clinic", Phone: "+44 (20) 7946 0018",
			LogoURL: "https://enquiries.harbour.example/logo?v=1"},
		From: mustAddress(t, "Harbour Clinic <no-reply@harbour.example>"), BaseURL: "https://enquiries.harbour.example",
		FirstContactHours: 24, Location: time.UTC,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []crm.MailKind{crm.MailConfirmation, crm.MailNewEnquiry} {
		out, err := r.Render(sampleMessage(kind))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.HTML, `<img src="https://enquiries.harbour.example/logo?v=1" alt="Harbour Clinic"`) {
			t.Errorf("%s: no logo with the clinic's name as its alt text", kind)
		}
		if strings.Contains(out.Text, "logo") {
			t.Errorf("%s: the plain text mentions the logo", kind)
		}
	}
	out, err := r.Render(sampleMessage(crm.MailConfirmation))
	if err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{`<a href="tel:&#43;442079460018">&#43;44 (20) 7946 0018</a>`, `<a href="tel:116123">`, `<a href="tel:111">`, `<a href="tel:999">`} {
		if !strings.Contains(out.HTML, link) {
			t.Errorf("the confirmation lacks %s", link)
		}
	}
}
