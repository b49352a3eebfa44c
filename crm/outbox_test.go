package crm_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

func TestOutboxListsMaskedMailAndRetriesFailedMailForAdministratorsOnly(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	outbox := crm.NewOutbox(w.db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.enquiry(nil) // a confirmation to the patient and a notice to the intake inbox

	msgs, err := w.db.ClaimDue(ctx, time.Now(), time.Minute, 10)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("claim: %d, %v", len(msgs), err)
	}
	var failed, sent crm.OutboxMessage
	for _, m := range msgs {
		if m.Kind == crm.MailConfirmation {
			failed = m
		} else {
			sent = m
		}
	}
	if err := w.db.MarkFailed(ctx, failed.ID, "550 5.1.1 <"+failed.Recipient+">: mailbox unavailable"); err != nil {
		t.Fatal(err)
	}
	if err := w.db.MarkSent(ctx, sent.ID, time.Now()); err != nil {
		t.Fatal(err)
	}

	for _, a := range []crm.Actor{w.coord, w.clin} {
		if _, err := outbox.List(ctx, a, crm.OutboxFilter{}); !errors.Is(err, crm.ErrForbidden) {
			t.Errorf("%s listed the outbox: %v", a.Role, err)
		}
		if err := outbox.Retry(ctx, a, failed.ID); !errors.Is(err, crm.ErrForbidden) {
			t.Errorf("%s retried an email: %v", a.Role, err)
		}
	}
	var ie crm.InputError
	if _, err := outbox.List(ctx, w.admin, crm.OutboxFilter{Status: "lost"}); !errors.As(err, &ie) || ie["status"] == "" {
		t.Errorf("an unknown status: %v, want an InputError naming status", err)
	}

	entries, err := outbox.List(ctx, crm.System, crm.OutboxFilter{Status: crm.OutboxFailed})
	if err != nil || len(entries) != 1 || entries[0].ID != failed.ID {
		t.Fatalf("failed mail: %+v, %v", entries, err)
	}
	if e := entries[0]; strings.Contains(e.Recipient+e.LastError, failed.Recipient) ||
		e.Recipient != "p***@example.org" || e.LastError != "550 5.1.1 <p***@example.org>: mailbox unavailable" {
		t.Errorf("listed with a whole address: %q, %q", e.Recipient, e.LastError)
	}

	// Nothing refused above changed anything or was recorded.
	retries := func() int {
		t.Helper()
		got, _, err := w.db.ListAudit(ctx, crm.AuditQuery{Action: "outbox_retry"})
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if n := retries(); n != 0 {
		t.Fatalf("%d retries recorded before any", n)
	}
	for _, id := range []int64{0, -1, 999} {
		if err := outbox.Retry(ctx, w.admin, id); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("retry of email %d: %v, want ErrNotFound", id, err)
		}
	}
	var state *crm.OutboxStateError
	if err := outbox.Retry(ctx, w.admin, sent.ID); !errors.As(err, &state) || !errors.Is(err, crm.ErrConflict) ||
		state.ID != sent.ID || state.Status != crm.OutboxSent || state.Want != crm.OutboxFailed {
		t.Errorf("retry of a sent email: %v, want an OutboxStateError saying it is sent", err)
	}
	if n := retries(); n != 0 {
		t.Fatalf("%d retries recorded for retries that changed nothing", n)
	}

	if err := outbox.Retry(ctx, w.admin, failed.ID); err != nil {
		t.Fatal(err)
	}
	got, _, err := w.db.ListAudit(ctx, crm.AuditQuery{Action: "outbox_retry"})
	if err != nil || len(got) != 1 || got[0].Actor == nil || got[0].Actor.ID != w.admin.ID || got[0].Detail != "email "+strconv.FormatInt(failed.ID, 10) {
		t.Errorf("the retry's audit entry: %+v, %v", got, err)
	}
	if entries, _ := outbox.List(ctx, w.admin, crm.OutboxFilter{Status: crm.OutboxQueued}); len(entries) != 1 ||
		entries[0].ID != failed.ID || entries[0].Attempts != 0 {
		t.Errorf("after the retry, queued: %+v", entries)
	}
	if err := outbox.Retry(ctx, w.admin, failed.ID); !errors.As(err, &state) || state.Status != crm.OutboxQueued {
		t.Errorf("a second retry: %v, want an OutboxStateError saying it is queued", err)
	}
	if n := retries(); n != 1 {
		t.Errorf("%d retries recorded, want 1", n)
	}
}

func TestMaskAddress(t *testing.T) {
	for in, want := range map[string]string{
		"ann.patient@example.org": "a***@example.org",
		"a***@example.org":        "a***@example.org", // masking twice changes nothing
		"not an address":          "***",
		"@example.org":            "***",
	} {
		if got := crm.MaskAddress(in); got != want {
			t.Errorf("MaskAddress(%q) = %q, want %q", in, got, want)
		}
	}
	if got := crm.MaskAddresses("550 <ann@example.org> and bob@clinic.example: no"); got != "550 <a***@example.org> and b***@clinic.example: no" {
		t.Errorf("MaskAddresses: %q", got)
	}
}
