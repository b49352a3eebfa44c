package mailer

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"os"
	"path/filepath"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

//go:embed templates/*.txt templates/*.html
var embeddedTemplates embed.FS

// Kinds lists every message kind, each with a template of the same name.
var Kinds = []crm.MailKind{crm.MailConfirmation, crm.MailNewEnquiry, crm.MailAssigned, crm.MailOverdue,
	crm.MailPasswordReset, crm.MailUrgent}

// Clinic is how the clinic names itself and may be reached, as told in emails.
type Clinic struct {
	Name string
	// Phone and Email are optional; templates leave out what is empty.
	Phone string
	Email string
	// LogoURL is the absolute address of the clinic's logo, shown at the top of HTML emails; "" for none.
	LogoURL string
	// PhoneLink is Phone as a tel: link's target ("tel:+442079460018"), set by NewRenderer from Phone; ""
	// when Phone has no digits.
	PhoneLink htmltemplate.URL
}

// TemplateData is what every template is executed with. Each kind's files are `KIND.txt` (the plain text, with
// a `{{define "subject"}}` block for the subject line) and `KIND.html` (a `{{define "content"}}` block placed in
// `base.html`'s "layout"); `base.txt` and `base.html` hold what the messages share, such as the crisis note.
type TemplateData struct {
	Clinic Clinic
	// Reference is the enquiry's reference.
	Reference string
	// PatientName is the name the patient gave; empty in messages to staff.
	PatientName string
	// Treatment is the treatment asked about, as people read it ("ADHD"); empty in the patient's confirmation,
	// which may be read by others.
	Treatment string
	// ReceivedAt is when the enquiry arrived, in the clinic's time zone; Received is it written out
	// ("Friday 27 November 2026, 13:00 GMT").
	ReceivedAt time.Time
	Received   string
	// FirstContactHours is the promised time to first contact; ContactBy is ReceivedAt plus that, written out.
	// When ClinicHours is set, both count only the clinic's opening hours.
	FirstContactHours int
	ContactBy         string
	// ClinicHours is the clinic's opening hours as people read them ("Monday to Friday 9:00–17:30, Saturday
	// 10:00–13:00") when the targets count only them (FRONTDESK_OPENING_HOURS); empty when they count round the
	// clock.
	ClinicHours string
	// Assigned is true when a member of staff has the enquiry; AssigneeName is then their name.
	Assigned     bool
	AssigneeName string
	// Link is the enquiry's page for staff: BASE_URL/enquiries/REF; in a password reset, the single-use link
	// to choose a new password: BASE_URL/reset/TOKEN.
	Link string
	// ValidUntil is when a password reset's link stops working, written out in the clinic's time zone; empty
	// in other messages.
	ValidUntil string
	// Risk is true when the enquiry is flagged risk: the confirmation then leads with the crisis help, and
	// FirstContactHours and ContactBy are the urgent target's (counted from when it was flagged).
	Risk bool
	// ScreeningLink is, in the confirmation only, the single-use link to the optional questionnaires
	// (BASE_URL/enquire/screening/TOKEN); empty when there is none.
	ScreeningLink string
	// BookingLink is, in the confirmation of an enquiry without a risk flag only, the clinic's booking page
	// with the reference (FRONTDESK_BOOKING_URL?ref=REF); empty otherwise.
	BookingLink string
}

// Rendered is a message's subject and bodies.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
}

// templateFiles are the files a template folder may hold; an override folder's file replaces the embedded one
// of the same name.
func templateFiles() []string {
	names := []string{"base.txt", "base.html"}
	for _, k := range Kinds {
		names = append(names, string(k)+".txt", string(k)+".html")
	}
	return names
}

// Templates are the parsed templates of every kind. They are safe for concurrent use.
type Templates struct {
	text map[crm.MailKind]*texttemplate.Template
	html map[crm.MailKind]*htmltemplate.Template
}

// LoadTemplates parses the embedded templates, each replaced by the file of the same name in dir when dir is
// not empty, and executes every kind once with sample data. A file that does not parse or execute is an error
// naming the file and line, so a broken override stops the program at start rather than at send; so is a file
// in dir with a name that is not a template's (a typo would otherwise be silently ignored).
func LoadTemplates(dir string) (*Templates, error) {
	src := make(map[string]string)
	for _, name := range templateFiles() {
		b, err := embeddedTemplates.ReadFile("templates/" + name)
		if err != nil {
			return nil, fmt.Errorf("embedded mail template %s: %w", name, err)
		}
		src[name] = string(b)
	}
	where := "embedded mail templates"
	if dir != "" {
		where = "mail templates in " + dir
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("read mail templates: %w", err)
		}
		known := templateFiles()
		for _, e := range ents {
			ext := filepath.Ext(e.Name())
			if e.IsDir() || (ext != ".txt" && ext != ".html") {
				continue
			}
			if !slices.Contains(known, e.Name()) {
				return nil, fmt.Errorf("%s: %s is not a mail template (known: %s)", where, e.Name(),
					strings.Join(known, ", "))
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, fmt.Errorf("read mail template: %w", err)
			}
			src[e.Name()] = string(b)
		}
	}
	t, err := parseTemplates(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	for _, k := range Kinds {
		if _, err := t.Execute(k, sampleData(k)); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
	}
	return t, nil
}

func parseTemplates(src map[string]string) (*Templates, error) {
	t := &Templates{text: map[crm.MailKind]*texttemplate.Template{}, html: map[crm.MailKind]*htmltemplate.Template{}}
	for _, k := range Kinds {
		name := string(k)
		// The set is named after base.*, parsed first: a later New of the set's own name would replace it.
		tt := texttemplate.New("base.txt").Option("missingkey=error")
		if _, err := tt.Parse(src["base.txt"]); err != nil {
			return nil, err
		}
		if _, err := tt.New(name + ".txt").Parse(src[name+".txt"]); err != nil {
			return nil, err
		}
		ht := htmltemplate.New("base.html").Option("missingkey=error")
		if _, err := ht.Parse(src["base.html"]); err != nil {
			return nil, err
		}
		if _, err := ht.New(name + ".html").Parse(src[name+".html"]); err != nil {
			return nil, err
		}
		t.text[k], t.html[k] = tt, ht
	}
	return t, nil
}

// Execute renders one kind with d. The subject is one line, its white space collapsed; an empty subject is an
// error.
func (t *Templates) Execute(kind crm.MailKind, d TemplateData) (Rendered, error) {
	tt, ok := t.text[kind]
	if !ok {
		return Rendered{}, fmt.Errorf("no template for mail kind %q", kind)
	}
	var subj, text, html bytes.Buffer
	if err := tt.ExecuteTemplate(&subj, "subject", d); err != nil {
		return Rendered{}, fmt.Errorf("%s.txt: subject: %w", kind, err)
	}
	if err := tt.ExecuteTemplate(&text, string(kind)+".txt", d); err != nil {
		return Rendered{}, err
	}
	if err := t.html[kind].ExecuteTemplate(&html, "layout", d); err != nil {
		return Rendered{}, fmt.Errorf("%s.html with base.html: %w", kind, err)
	}
	r := Rendered{
		Subject: strings.Join(strings.Fields(subj.String()), " "),
		Text:    tidyText(text.String()),
		HTML:    html.String(),
	}
	if r.Subject == "" {
		return Rendered{}, fmt.Errorf("%s.txt: the subject block is empty", kind)
	}
	return r, nil
}

// tidyText trims trailing spaces from each line and runs of more than one blank line, which conditional blocks
// in a text template leave behind, and ends the text with one newline.
func tidyText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := make([]string, 0, len(lines))
	blank := true // drops leading blank lines
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n") + "\n"
}

// sampleData is what LoadTemplates executes each kind with, so that an override referring to a field that does
// not exist fails at start. Optional fields are filled so every branch that uses them runs.
func sampleData(kind crm.MailKind) TemplateData {
	at := time.Date(2026, 11, 27, 13, 0, 54, 0, time.UTC)
	d := TemplateData{
		Clinic: Clinic{Name: "Sample Clinic", Phone: "020 7946 0000", Email: "hello@clinic.example",
			LogoURL: "https://clinic.example/logo", PhoneLink: "tel:02079460000"},
		Reference: "FD-SAMPLE", PatientName: "Sam Sample", Treatment: "ADHD",
		ReceivedAt: at, Received: formatTime(at), FirstContactHours: 24, ContactBy: formatTime(at.Add(24 * time.Hour)),
		ClinicHours: "Monday to Friday 9:00–17:30",
		Assigned:    true, AssigneeName: "Dr Example", Link: "https://clinic.example/enquiries/FD-SAMPLE",
		Risk: true, ScreeningLink: "https://clinic.example/enquire/screening/SAMPLE",
		BookingLink: "https://booking.clinic.example/introduction?ref=FD-SAMPLE",
	}
	if kind == crm.MailPasswordReset {
		return TemplateData{Clinic: d.Clinic, Link: "https://clinic.example/reset/SAMPLE", ValidUntil: formatTime(at.Add(time.Hour))}
	}
	return limitData(kind, d)
}

// limitData blanks what a kind of message must not carry: the treatment in the patient's confirmation (an
// email may be read by others) and any name that is not plainly a name (crm.GreetingName), the patient's name
// in messages to staff (the link leads to the rest).
func limitData(kind crm.MailKind, d TemplateData) TemplateData {
	if kind == crm.MailConfirmation {
		d.Treatment = ""
		d.PatientName = crm.GreetingName(d.PatientName)
	} else {
		d.PatientName = ""
		d.ScreeningLink = ""
		d.BookingLink = ""
	}
	if kind == crm.MailUrgent {
		// The urgent notice says only that an enquiry needs review, and where.
		d.Treatment, d.AssigneeName = "", ""
	}
	return d
}

// formatTime writes a time as people read it in an email.
func formatTime(t time.Time) string { return t.Format("Monday 2 January 2006, 15:04 MST") }
