package mailer_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/mailer"
)

// TestConfirmationOffersTheBookingLinkUnlessFlaggedRisk: with FRONTDESK_BOOKING_URL, the confirmation of an
// ordinary enquiry, written as an .eml file by the real worker, offers "Book a free introductory call" at the
// booking page with the reference added to the page's own query; the confirmation of an enquiry flagged risk
// by the words of its message never does (a person calls them), and no staff message carries it.
func TestConfirmationOffersTheBookingLinkUnlessFlaggedRisk(t *testing.T) {
	d := openDB(t)
	plain := submitAPI(t, d, `{"name":"Ann Example","email":"ann@patient.example","treatment":"adhd","consent":true}`)
	risky := submitAPI(t, d, `{"name":"Bob Example","email":"bob@patient.example","treatment":"depression",
		"message":"I keep thinking about ending my life","consent":true}`)

	r, err := mailer.NewRenderer(mailer.RenderConfig{
		Clinic:     mailer.Clinic{Name: clinicName},
		From:       &netmail.Address{Name: clinicName, Address: senderAddr},
		BaseURL:    "https://enquiries.klinik.example",
		BookingURL: "https://cal.example/klinik/intro?duration=20",
		Location:   time.UTC, FirstContactHours: 24,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "mail")
	ft, err := mailer.NewFileTransport(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := mailer.NewWorker(d, r, ft, fastConfig(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	waitOutbox(t, d, 10*time.Second, "sent", allStatus(crm.OutboxSent))
	cancel()
	<-done

	mails := map[string]parsed{} // by recipient
	for _, n := range emlFiles(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		p := parse(t, b)
		mails[p.Header.Get("To")] = p
	}
	var ann, bob parsed
	for to, p := range mails {
		switch {
		case strings.Contains(to, "ann@patient.example"):
			ann = p
		case strings.Contains(to, "bob@patient.example"):
			bob = p
		default:
			if strings.Contains(p.Text+p.HTML, "cal.example") {
				t.Errorf("a message to %s offers the booking page", to)
			}
		}
	}
	if ann.Text == "" || bob.Text == "" {
		t.Fatalf("want both confirmations, got messages to %v", keys(mails))
	}
	link := "https://cal.example/klinik/intro?duration=20&ref=" + plain.Reference
	if !strings.Contains(ann.Text, "Book a free introductory call") || !strings.Contains(ann.Text, link) {
		t.Errorf("the text confirmation does not offer %s:\n%s", link, ann.Text)
	}
	if h := html.UnescapeString(ann.HTML); !strings.Contains(h, "Book a free introductory call") || !strings.Contains(h, `href="`+link+`"`) {
		t.Errorf("the HTML confirmation does not link %s:\n%s", link, ann.HTML)
	}
	for _, body := range []string{bob.Text, bob.HTML} {
		if strings.Contains(body, "cal.example") || strings.Contains(body, "Book a free") {
			t.Errorf("the confirmation of %s, flagged risk, offers the booking page:\n%s", risky.Reference, body)
		}
	}
}

func keys(m map[string]parsed) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
