package mailer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/hours"
	"github.com/frontdesk/frontdesk/crm/mailer"
)

// With opening hours, every email states the due time in clinic hours and says which hours those are: an
// enquiry sent on Friday evening is not promised an answer on Saturday evening.
func TestEmailsStateTheDeadlineInClinicHours(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	oh, err := hours.Parse("Mon-Fri 09:00-17:30,Sat 10:00-13:00", london)
	if err != nil {
		t.Fatal(err)
	}
	r, err := mailer.NewRenderer(mailer.RenderConfig{
		Clinic: mailer.Clinic{Name: clinicName}, From: mustAddress(t, "Klinik <no-reply@klinik.example>"),
		BaseURL: "https://enquiries.klinik.example", FirstContactHours: 24, UrgentContactHours: 4,
		OpeningHours: oh, Location: london,
	})
	if err != nil {
		t.Fatal(err)
	}
	friday := func(kind crm.MailKind) crm.OutboxMessage {
		m := sampleMessage(kind)
		m.Enquiry.ReceivedAt = time.Date(2026, 12, 4, 18, 0, 0, 0, london)
		return m
	}
	const described = "Monday to Friday 9:00–17:30, Saturday 10:00–13:00"
	// Saturday 3 h, Monday 8.5 h, Tuesday 8.5 h, Wednesday 4 h: 24 clinic hours.
	const due = "Wednesday 9 December 2026, 13:00 GMT"

	conf, err := r.Render(friday(crm.MailConfirmation))
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{conf.Text, conf.HTML} {
		flat := strings.Join(strings.Fields(body), " ")
		for _, want := range []string{due, "We count only our clinic hours: " + described + "."} {
			if !strings.Contains(flat, want) {
				t.Errorf("confirmation does not say %q:\n%s", want, flat)
			}
		}
		if strings.Contains(flat, "within 24 hours") || strings.Contains(flat, "Saturday 5 December") {
			t.Errorf("confirmation still counts round the clock:\n%s", flat)
		}
	}

	// Flagged risk at 18:30: the urgent 4 hours are Saturday's 3 and Monday's first.
	risk := friday(crm.MailConfirmation)
	risk.Enquiry.RiskAt = risk.Enquiry.ReceivedAt.Add(30 * time.Minute)
	rc, err := r.Render(risk)
	if err != nil {
		t.Fatal(err)
	}
	if flat := strings.Join(strings.Fields(rc.Text), " "); !strings.Contains(flat, "contact you by Monday 7 December 2026, 10:00 GMT.") ||
		!strings.Contains(flat, "116 123") {
		t.Errorf("risk confirmation lost its urgent due time or its crisis help:\n%s", flat)
	}

	overdue, err := r.Render(friday(crm.MailOverdue))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(overdue.Text, "within 24 clinic hours") || !strings.Contains(overdue.Text, "Target was: "+due) {
		t.Errorf("overdue reminder:\n%s", overdue.Text)
	}
	staff, err := r.Render(friday(crm.MailNewEnquiry))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(staff.Text, "Contact by: "+due+" (24 clinic hours after it arrived)") {
		t.Errorf("new enquiry notice:\n%s", staff.Text)
	}
}
