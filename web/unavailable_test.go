package web_test

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/db/disktest"
)

// wantUnavailable checks a 503 with Retry-After.
func wantUnavailable(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("%s: %d, want 503", what, resp.StatusCode)
	}
	if got := resp.Header.Get("Retry-After"); got != "30" {
		t.Errorf("%s: Retry-After %q, want 30", what, got)
	}
}

// TestAFullDiskAnswers503AndRecoversWithoutARestart fills the disk under the running app. Readiness turns 503;
// an enquiry through the API is answered 503 with Retry-After and a JSON error — never a 201 for an enquiry
// that is not on disk, never a 500; through the form, a 503 page says it was NOT sent, offers the clinic's
// phone, and keeps every answer; a staff change is 503 too. Once space is freed, readiness is 200 and intake
// works again, with no restart.
func TestAFullDiskAnswers503AndRecoversWithoutARestart(t *testing.T) {
	disk := disktest.Small(t, 8<<20)
	h := newHarnessAt(t, filepath.Join(disk.Dir, "frontdesk.db"), nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	tok := h.token("coord@clinic.example")
	ref := h.submit(t, "adhd")
	staff := h.agent()
	staff.signIn("coord@clinic.example", staffPassword)
	staff.get("/enquiries/" + ref)
	if resp := h.get("/readyz"); resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz before the fault: %d %s", resp.StatusCode, body(t, resp))
	}

	disktest.EmptyWAL(t, h.path)
	free := disk.Fill()

	const email = "not.stored@example.org"
	enquiry := `{"name":"Bea Notstored","email":"` + email + `","treatment":"ptsd","message":"Please call after six.","consent":true}`
	resp := h.postJSON("/api/v1/enquiries", enquiry, "Idempotency-Key", "full-disk-1")
	wantUnavailable(t, "POST /api/v1/enquiries on a full disk", resp)
	got := decode(t, resp)
	if msg, _ := got["error"].(string); msg == "" || strings.Contains(msg, "disk") || strings.Contains(msg, "SQL") {
		t.Errorf("API error %q: want a plain message that tells nothing of the internals", msg)
	}
	if _, claimed := got["reference"]; claimed {
		t.Errorf("the API gave a reference for an enquiry it did not store: %v", got)
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE email = ?`, email); n != 0 {
		t.Errorf("%d enquiries stored on a full disk", n)
	}

	resp = h.get("/readyz")
	wantUnavailable(t, "/readyz on a full disk", resp)

	form := url.Values{"name": {"Bea Notstored"}, "email": {email}, "phone": {"07700 900456"},
		"treatment": {"ptsd"}, "preferred_contact": {"phone"}, "message": {"Please call after six."},
		"consent": {"true"}, "idempotency_key": {"form-full-disk"}}
	resp = h.postForm("/enquire", form)
	wantUnavailable(t, "POST /enquire on a full disk", resp)
	page := body(t, resp)
	for _, want := range []string{"Your enquiry was NOT sent", "try sending again in a few minutes",
		`<a href="tel:02079460018">020 7946 0018</a>`, `value="Bea Notstored"`, `value="` + email + `"`,
		`value="07700 900456"`, ">Please call after six.</textarea>", `value="ptsd" selected`,
		`id="consent" name="consent" value="true" checked`, `value="form-full-disk"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the not-sent page lacks %q", want)
		}
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE email = ?`, email); n != 0 {
		t.Errorf("%d enquiries stored on a full disk", n)
	}

	resp = h.apiCall(http.MethodPost, "/api/v1/enquiries/"+ref+"/transitions", tok, `{"to":"contacted"}`)
	wantUnavailable(t, "a staff change on a full disk", resp)
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND status = 'new'`, ref); n != 1 {
		t.Errorf("the enquiry's status changed on a full disk")
	}
	resp = staff.post("/enquiries/"+ref+"/notes", url.Values{"body": {"Left a voicemail."}})
	wantUnavailable(t, "a staff note on a full disk", resp)
	if !strings.Contains(staff.last, "Not saved: please try again in a few minutes") {
		t.Errorf("the staff page does not say the note was not saved:\n%s", staff.last)
	}
	if n := h.count(`SELECT count(*) FROM notes`); n != 0 {
		t.Errorf("%d notes stored on a full disk", n)
	}
	if strings.Contains(h.logs.String(), email) || strings.Contains(h.logs.String(), "Notstored") {
		t.Errorf("the log names the patient:\n%s", h.logs.String())
	}

	free()
	if resp := h.get("/readyz"); resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz once space is freed: %d %s", resp.StatusCode, body(t, resp))
	}
	resp = h.postJSON("/api/v1/enquiries", enquiry, "Idempotency-Key", "full-disk-1")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/v1/enquiries once space is freed: %d %s", resp.StatusCode, body(t, resp))
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE email = ?`, email); n != 1 {
		t.Errorf("%d enquiries stored once space is freed, want 1", n)
	}
}

// TestTheNotSentPageWithoutAPhone: with no clinic phone set, the page still says the enquiry was not sent,
// and offers no empty link.
func TestTheNotSentPageWithoutAPhone(t *testing.T) {
	disk := disktest.Small(t, 8<<20)
	h := newHarnessAt(t, filepath.Join(disk.Dir, "frontdesk.db"), nil)
	h.cfg.ClinicPhone = ""
	h.restart()
	h.submit(t, "adhd")
	disktest.EmptyWAL(t, h.path)
	disk.Fill()
	resp := h.postForm("/enquire", validForm())
	wantUnavailable(t, "POST /enquire on a full disk", resp)
	page := body(t, resp)
	if !strings.Contains(page, "Your enquiry was NOT sent") || strings.Contains(page, `href="tel:"`) ||
		strings.Contains(page, "phone us") {
		t.Errorf("not-sent page without a phone:\n%s", page)
	}
}
