package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

func TestAdminOutboxShowsMaskedMailAndRetriesFailed(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	ref := h.submit(t, "adhd")
	msgs, err := h.db.ClaimDue(t.Context(), time.Now(), time.Minute, 10)
	if err != nil || len(msgs) == 0 {
		t.Fatalf("claim: %v %d", err, len(msgs))
	}
	var failed int64
	for _, m := range msgs {
		if m.Recipient == "ann@example.org" {
			failed = m.ID
			if err := h.db.MarkFailed(t.Context(), m.ID, "550 5.1.1 <ann@example.org>: mailbox unavailable"); err != nil {
				t.Fatal(err)
			}
		} else if err := h.db.MarkSent(t.Context(), m.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	a := h.agent()
	a.signIn("admin@clinic.example", staffPassword)
	if resp := a.get("/admin/outbox"); resp.StatusCode != 200 {
		t.Fatalf("outbox page: %d", resp.StatusCode)
	}
	if !strings.Contains(a.last, ref) || !strings.Contains(a.last, "a***@example.org") || !strings.Contains(a.last, "mailbox unavailable") {
		t.Errorf("outbox page lacks the row, the masked address or the server's reply")
	}
	if strings.Contains(a.last, "ann@example.org") {
		t.Error("outbox page shows a patient's full address")
	}
	resp := a.post("/admin/outbox/retry", url.Values{"id": {strconv.FormatInt(failed, 10)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry: %d", resp.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM outbox WHERE id = ? AND status = 'queued' AND attempts = 0`, failed); n != 1 {
		t.Error("failed email not queued again")
	}
	retried := `SELECT count(*) FROM audit_log a JOIN staff s ON s.id = a.actor_id
		WHERE a.action = 'outbox_retry' AND s.email = 'admin@clinic.example' AND a.detail = ?`
	if n := h.count(retried, "email "+strconv.FormatInt(failed, 10)); n != 1 {
		t.Errorf("%d audit entries of the retry by the admin, want 1", n)
	}
	// Queued now, so not failed: nothing to retry, and nothing recorded.
	if resp := a.post("/admin/outbox/retry", url.Values{"id": {strconv.FormatInt(failed, 10)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry of a queued email: %d", resp.StatusCode)
	}
	if a.get("/admin/outbox?status=failed"); !strings.Contains(a.last, "is not failed") {
		t.Error("retry of a queued email: no message saying it is not failed")
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'outbox_retry'`); n != 1 {
		t.Errorf("%d retries recorded, want 1", n)
	}
	if resp := a.post("/admin/outbox/retry", url.Values{"id": {"99999"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("retry of no email: %d, want 404", resp.StatusCode)
	}
	c := h.agent()
	c.signIn("coord@clinic.example", staffPassword)
	if resp := c.get("/admin/outbox"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("coordinator on the outbox: %d, want 403", resp.StatusCode)
	}
}
