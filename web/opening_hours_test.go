package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/hours"
	"github.com/frontdesk/frontdesk/web"
)

// With opening hours, the form's intro names them, and the thanks page, the confirmation email and the staff's
// enquiry page give the same due time in clinic hours. The clinic here opens one morning a week, starting two
// days from today, so the due time does not depend on the minute the test runs: 24 clinic hours at 3 a week
// end at 13:00 on the eighth of those mornings.
func TestDeadlinesCountClinicHours(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	open := time.Now().In(london).AddDate(0, 0, 2)
	day := open.Weekday().String()
	oh, err := hours.Parse(day[:3]+" 10:00-13:00", london)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *web.Config) {
		c.OpeningHours, c.Location, c.FirstContactHours = oh, london, 24
	})
	due := time.Date(open.Year(), open.Month(), open.Day(), 13, 0, 0, 0, london).AddDate(0, 0, 7*7)
	box := h.mailbox(t)
	described := day + " 10:00–13:00"

	form := h.agent()
	form.get("/enquire")
	if flat := strings.Join(strings.Fields(form.last), " "); !strings.Contains(flat, "within 24 clinic hours") ||
		!strings.Contains(flat, "We read enquiries in clinic hours: "+described+".") {
		t.Errorf("the form's intro does not name the clinic hours:\n%s", flat)
	}

	a, ref, _ := enquire(t, h, nil)
	if resp := a.get("/enquire/thanks?ref=" + ref); resp.StatusCode != http.StatusOK {
		t.Fatalf("thanks page: %d", resp.StatusCode)
	}
	page := strings.Join(strings.Fields(a.last), " ")
	want := `We will contact you by <strong><time datetime="` + due.UTC().Format(time.RFC3339) + `">` +
		due.Format("Monday 2 January, 15:04") + `</time></strong>. We count clinic hours only: ` + described + `.`
	if !strings.Contains(page, want) {
		t.Errorf("the thanks page does not say %q:\n%s", want, page)
	}
	if strings.Contains(page, "within 24 hours") {
		t.Errorf("the thanks page still promises 24 hours round the clock")
	}

	to, text := box.next()
	if !strings.Contains(to, "ann@example.org") {
		t.Fatalf("first email to %s, want the patient's confirmation", to)
	}
	text = strings.Join(strings.Fields(text), " ")
	// The mailbox writes times in UTC.
	if by := due.In(time.UTC).Format("Monday 2 January 2006, 15:04 MST"); !strings.Contains(text, "contact you by "+by+", in the way you asked us to. We count only our clinic hours: "+described+".") {
		t.Errorf("the confirmation does not give the due time %s in clinic hours:\n%s", by, text)
	}

	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	staff := h.signedIn("coord@clinic.example", staffPassword)
	staff.get("/enquiries/" + ref)
	if !strings.Contains(staff.last, "First contact due by "+due.Format("2 Jan 2006, 15:04")) {
		t.Errorf("the enquiry page does not show the clinic-hours due time %s", due.Format("2 Jan 2006, 15:04"))
	}

	// Flagged risk: the crisis help still leads the page, and the urgent 4 clinic hours end on the second
	// morning at 11:00.
	r, riskRef, _ := enquire(t, h, func(v url.Values) { v.Set("message", "I keep thinking about ending my life") })
	r.get("/enquire/thanks?ref=" + riskRef)
	urgent := time.Date(open.Year(), open.Month(), open.Day(), 11, 0, 0, 0, london).AddDate(0, 0, 7)
	riskPage := strings.Join(strings.Fields(r.last), " ")
	first := strings.Index(riskPage, `id="crisis-first"`)
	if first < 0 || !strings.Contains(riskPage[first:], "116 123") {
		t.Fatalf("the risk thanks page lost its crisis help:\n%s", riskPage)
	}
	if by := "will contact you by <time datetime=\"" + urgent.UTC().Format(time.RFC3339) + "\">" + urgent.Format("Monday 2 January, 15:04") +
		"</time>. We count clinic hours only: " + described + "."; !strings.Contains(riskPage[first:], by) {
		t.Errorf("the crisis help does not say %q:\n%s", by, riskPage)
	}
}

// The thanks page may be shown again long after the enquiry (after the questionnaires, say): it still states
// the due time counted from when the enquiry arrived, as the confirmation email does, not from the moment it is
// shown. The clinic opens one morning a week; the enquiry is made to have arrived a week earlier, so it is due
// a week earlier too.
func TestThanksPageCountsFromTheEnquirysArrival(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	open := time.Now().In(london).AddDate(0, 0, 2)
	oh, err := hours.Parse(open.Weekday().String()[:3]+" 10:00-13:00", london)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *web.Config) {
		c.OpeningHours, c.Location, c.FirstContactHours = oh, london, 24
	})
	a, ref, _ := enquire(t, h, nil)
	week := 7 * 24 * time.Hour
	h.exec(`UPDATE enquiries SET created_at = created_at - ? WHERE reference = ?`, week.Milliseconds(), ref)
	a.get("/enquire/thanks?ref=" + ref)
	due := time.Date(open.Year(), open.Month(), open.Day(), 13, 0, 0, 0, london).AddDate(0, 0, 7*7-7)
	want := `<time datetime="` + due.UTC().Format(time.RFC3339) + `">`
	if !strings.Contains(a.last, want) {
		t.Errorf("the thanks page does not give the due time %s counted from the enquiry's arrival:\n%s", due, a.last)
	}
}
