package crm

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
)

// Outbox is the clinic's view of its email: what was queued, sent or given up on (the admin outbox page and
// `frontdesk outbox list`), and queuing a failed email again once its cause is fixed. Only administrators (and
// Frontdesk itself, crm.System, for the command line) may use it.
type Outbox struct {
	store OutboxStore
	now   func() time.Time
	log   *slog.Logger
}

// NewOutbox returns the service over store.
func NewOutbox(store OutboxStore, log *slog.Logger) *Outbox {
	if log == nil {
		log = slog.Default()
	}
	return &Outbox{store: store, now: time.Now, log: log}
}

// SetClock replaces the service's clock (tests).
func (o *Outbox) SetClock(now func() time.Time) { o.now = now }

// outboxAllowed refuses everyone but administrators and Frontdesk itself.
func outboxAllowed(actor Actor) error {
	if actor.Role != RoleAdmin {
		return fmt.Errorf("%w: the outbox is for administrators", ErrForbidden)
	}
	return nil
}

// List returns the messages f selects, newest first (at most f.Limit, 100 when 0). A listing may be pasted into
// a ticket, so every recipient is masked and every address in a server's reply too (MaskAddress): the
// entries never hold a whole address. ErrForbidden for anyone but an administrator; an InputError naming
// "status" for a status that is not queued, sent or failed.
func (o *Outbox) List(ctx context.Context, actor Actor, f OutboxFilter) ([]OutboxEntry, error) {
	if err := outboxAllowed(actor); err != nil {
		return nil, err
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, InputError{"status": fmt.Sprintf("Unknown status %q: use queued, sent or failed.", f.Status)}
	}
	entries, err := o.store.List(ctx, f)
	if err != nil {
		return nil, err
	}
	for i := range entries {
		entries[i].Recipient = MaskAddress(entries[i].Recipient)
		entries[i].LastError = MaskAddresses(entries[i].LastError)
	}
	return entries, nil
}

// Retry queues failed email id again, due now, with its attempts reset and its give-up time counted from now;
// a running mail worker sends it within seconds. The change and its audit entry ("outbox_retry", by actor) are
// one transaction. ErrForbidden for anyone but an administrator; an error wrapping ErrNotFound when no email has
// that id; an *OutboxStateError (an ErrConflict, naming the status it is in) when it is not failed. On any
// error nothing changed.
func (o *Outbox) Retry(ctx context.Context, actor Actor, id int64) error {
	if err := outboxAllowed(actor); err != nil {
		return err
	}
	if id <= 0 {
		return fmt.Errorf("outbox message %d: %w", id, ErrNotFound)
	}
	now := o.now().UTC()
	entry := AuditEntry{At: now, Actor: actor.Ref(), Action: "outbox_retry", Detail: fmt.Sprintf("email %d", id)}
	if err := o.store.Requeue(ctx, id, now, entry); err != nil {
		return err
	}
	o.log.Info("email queued again", "outbox_id", id, "actor", actor.ID)
	return nil
}

// addressLike matches anything shaped like an email address.
var addressLike = regexp.MustCompile(`[^\s<>"'(),;:]+@[^\s<>"'(),;:]+`)

// MaskAddress keeps the first character of the local part and the domain: enough to tell the intake inbox
// from a patient, not enough to read who the patient is ("a***@example.org"; "***" for anything that is not an
// address). Masking a masked address changes nothing.
func MaskAddress(a string) string {
	at := strings.LastIndexByte(a, '@')
	if at <= 0 {
		return "***"
	}
	return a[:1] + "***" + a[at:]
}

// MaskAddresses masks every email address inside s (an SMTP server's reply often quotes the recipient).
func MaskAddresses(s string) string { return addressLike.ReplaceAllStringFunc(s, MaskAddress) }
