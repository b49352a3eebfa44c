package mailer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/wneessen/go-mail"
)

// compose renders m; a message that cannot be composed is failed at once (it would not compose on a retry).
func (w *Worker) compose(ctx context.Context, k *leaseKeeper, m crm.OutboxMessage) (*mail.Msg, bool) {
	msg, err := w.renderer.Compose(m)
	if err == nil {
		return msg, true
	}
	w.msgLog(m).Error("mail not sent: cannot compose it", "error", emailLike.ReplaceAllString(err.Error(), "[address]"))
	if k.take(m.ID) {
		w.record(ctx, m, "mark failed", w.store.MarkFailed(ctx, m.ID, "not sent: "+err.Error()))
	}
	return nil, false
}

// release gives msgs back unattempted.
func (w *Worker) release(ctx context.Context, k *leaseKeeper, msgs []crm.OutboxMessage) {
	for _, m := range msgs {
		if k.take(m.ID) {
			w.record(ctx, m, "release", w.store.Release(ctx, m.ID))
		}
	}
}

// sentOne records one delivered message.
func (w *Worker) sentOne(ctx context.Context, k *leaseKeeper, m crm.OutboxMessage, out Outgoing) {
	log := w.msgLog(m)
	w.outage.delivered(w.cfg.Now(), w.log)
	log.Info("mail sent", "attempts", m.Attempts)
	// Recorded even if the lease was lost meanwhile: it was delivered, and recording it stops a third copy.
	k.take(m.ID)
	err := w.store.MarkSent(ctx, m.ID, w.cfg.Now())
	if errors.Is(err, crm.ErrNotFound) {
		w.withdraw(m, out)
		return
	}
	w.record(ctx, m, "mark sent", err)
}

// sentAll records delivered messages in one transaction; resumed says whether their delivery ends an outage.
func (w *Worker) sentAll(ctx context.Context, k *leaseKeeper, msgs []crm.OutboxMessage, outs []Outgoing, resumed bool) {
	if len(msgs) == 0 {
		return
	}
	if resumed {
		w.outage.delivered(w.cfg.Now(), w.log)
	}
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		k.take(m.ID)
		ids[i] = m.ID
	}
	gone, err := w.store.MarkSentAll(ctx, ids, w.cfg.Now())
	if err != nil {
		// Their leases run out and they are written again, replacing their own files: never lost, never two.
		w.log.Error("mail worker: mark sent", "count", len(ids), "error", err)
		return
	}
	isGone := make(map[int64]bool, len(gone))
	for _, id := range gone {
		isGone[id] = true
	}
	for i, m := range msgs {
		if isGone[m.ID] {
			w.withdraw(m, outs[i])
			continue
		}
		w.msgLog(m).Info("mail sent", "attempts", m.Attempts)
	}
}

// withdraw takes back the copy kept of a message whose row went while it was being sent: its enquiry was
// erased (or deleted) meanwhile, and the copy must go too.
func (w *Worker) withdraw(m crm.OutboxMessage, out Outgoing) {
	wd, ok := w.transport.(Withdrawer)
	if !ok {
		return
	}
	w.msgLog(m).Info("mail withdrawn: its enquiry was erased while it was sent")
	w.record(context.Background(), m, "withdraw", wd.Withdraw(out))
}

// failed records a failed attempt: a permanent refusal (a 5xx reply) fails the message at once, anything else
// is retried.
func (w *Worker) failed(ctx context.Context, k *leaseKeeper, m crm.OutboxMessage, err error) {
	code := replyCode(err)
	if code < 500 {
		w.retry(ctx, k, m, err)
		return
	}
	// A permanent refusal: trying again would be refused again.
	w.msgLog(m).Error("mail refused by the server", "smtp_code", code, "attempts", m.Attempts, "error", logText(err))
	if k.take(m.ID) {
		w.record(ctx, m, "mark failed", w.store.MarkFailed(ctx, m.ID, describe(err)))
	}
}

// retry records a temporary failure: due again after a backoff, or failed when that would pass GiveUpAfter.
// The first failure of an outage is a warning; later ones are counted for its summary and logged at debug
// level only.
func (w *Worker) retry(ctx context.Context, k *leaseKeeper, m crm.OutboxMessage, err error) {
	if !k.take(m.ID) {
		return // another worker has it now
	}
	log := w.msgLog(m)
	text := describe(err)
	now := w.cfg.Now()
	next := now.Add(Backoff(m.Attempts, w.cfg.RetryBase, w.cfg.RetryMax))
	if w.outage.failed(now, m, err) {
		log.Warn("mail delivery failing, will retry", "error_class", errorClass(err), "error", logText(err))
	}
	if deadline := m.QueuedAt.Add(w.cfg.GiveUpAfter); next.After(deadline) {
		log.Error("mail given up: still not delivered", "after", w.cfg.GiveUpAfter.String(),
			"attempts", m.Attempts, "error", logText(err))
		w.record(ctx, m, "mark failed", w.store.MarkFailed(ctx, m.ID,
			fmt.Sprintf("gave up after %s: %s", w.cfg.GiveUpAfter, text)))
		return
	}
	log.Debug("mail not sent, will retry", "attempts", m.Attempts, "retry_in", next.Sub(now).Round(time.Second).String(),
		"error_class", errorClass(err))
	w.record(ctx, m, "mark retry", w.store.MarkRetry(ctx, m.ID, next, text))
}

// record logs a failure to store an outcome. The message stays leased and is claimed again after its lease:
// at worst it is sent twice, never lost.
func (w *Worker) record(ctx context.Context, m crm.OutboxMessage, what string, err error) {
	if err != nil {
		w.msgLog(m).Error("mail worker: "+what, "error", err)
	}
}

// msgLog is the logger for one message: its outbox id, kind and enquiry reference, never its recipient or
// content.
func (w *Worker) msgLog(m crm.OutboxMessage) *slog.Logger {
	return w.log.With("outbox_id", m.ID, "kind", string(m.Kind), "ref", m.Enquiry.Reference)
}

// describe is the text kept in last_error: the server's reply for a refusal (without go-mail's list of
// affected recipients, which the row already has), or the error.
func describe(err error) string {
	s := err.Error()
	for _, cut := range []string{", affected recipient(s): ", ", affected message ID: "} {
		if i := strings.Index(s, cut); i >= 0 {
			s = s[:i]
		}
	}
	return s
}

// emailLike matches anything shaped like an email address.
var emailLike = regexp.MustCompile(`[^\s<>"'(),;:]+@[^\s<>"'(),;:]+`)

// logText is an error as logged: a server's reply may quote the recipient's address, so addresses are
// removed.
func logText(err error) string {
	var se *mail.SendError
	s := describe(err)
	if errors.As(err, &se) {
		s = fmt.Sprintf("%s (smtp code %d)", se.Reason, se.ErrorCode())
	}
	return emailLike.ReplaceAllString(s, "[address]")
}
