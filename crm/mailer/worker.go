package mailer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/wneessen/go-mail"
)

// Defaults of WorkerConfig.
const (
	DefaultPoll        = time.Second
	DefaultLease       = time.Minute
	DefaultBatch       = 20
	DefaultSendTimeout = 30 * time.Second
	DefaultRetryBase   = 10 * time.Second
	DefaultRetryMax    = time.Hour
	// DefaultGiveUpAfter is RFC 5321 §4.5.4.1's "at least 4-5 days".
	DefaultGiveUpAfter = 5 * 24 * time.Hour
	DefaultStaleAfter  = 15 * time.Minute
	DefaultWarnEvery   = time.Minute
)

// WorkerConfig tunes the worker; the zero value of each field takes its default. Tests shorten them.
type WorkerConfig struct {
	// Poll is how often the outbox is looked at when nobody calls Wake (default 1 s).
	Poll time.Duration
	// Lease is how long a claimed message is the worker's (default 1 min): a worker that dies holding it
	// delays the message by at most this. A message is only started while SendTimeout of the lease remains.
	Lease time.Duration
	// Batch is how many due messages are claimed at once and sent over one connection (default 20).
	Batch int
	// SendTimeout bounds one message: dialling (when needed) and the whole SMTP exchange (default 30 s).
	SendTimeout time.Duration
	// RetryBase is the delay after the first temporary failure (default 10 s); it doubles with each failure up
	// to RetryMax (default 1 h). Each delay is shortened by up to a fifth at random (jitter), so the first retry
	// comes 8-10 s after the failure and later ones 48-60 min apart.
	RetryBase time.Duration
	RetryMax  time.Duration
	// GiveUpAfter is how long after being queued a message that still fails temporarily is marked failed
	// (default 5 days).
	GiveUpAfter time.Duration
	// StaleAfter is how long a message may wait unsent before it is a warning, in the log and on /readyz
	// (default 15 min); WarnEvery is how often the log repeats that warning (default 1 min).
	StaleAfter time.Duration
	WarnEvery  time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c *WorkerConfig) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&c.Poll, DefaultPoll)
	set(&c.Lease, DefaultLease)
	set(&c.SendTimeout, DefaultSendTimeout)
	set(&c.RetryBase, DefaultRetryBase)
	set(&c.RetryMax, DefaultRetryMax)
	set(&c.GiveUpAfter, DefaultGiveUpAfter)
	set(&c.StaleAfter, DefaultStaleAfter)
	set(&c.WarnEvery, DefaultWarnEvery)
	if c.SendTimeout > c.Lease/2 {
		// A message must fit well inside the lease, or another worker could claim it while it is being sent.
		c.SendTimeout = c.Lease / 2
	}
	if c.Batch <= 0 {
		c.Batch = DefaultBatch
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Worker sends the outbox: it claims due messages with a lease, renders and sends them, and records the
// outcome. Delivery is at least once: a message whose sending was cut off by a crash is sent again after its
// lease, with the same Message-ID. Run it in its own goroutine; it never holds up request handling.
type Worker struct {
	store     Store
	renderer  *Renderer
	transport Transport
	cfg       WorkerConfig
	log       *slog.Logger
	wake      chan struct{}

	lastWarn time.Time
}

// NewWorker returns a worker that sends store's messages, rendered by r, through t. The worker owns t (one
// transport, and so one SMTP client, per worker) and closes it when Run returns.
func NewWorker(store Store, r *Renderer, t Transport, cfg WorkerConfig, log *slog.Logger) *Worker {
	cfg.defaults()
	if log == nil {
		log = slog.Default()
	}
	return &Worker{store: store, renderer: r, transport: t, cfg: cfg, log: log, wake: make(chan struct{}, 1)}
}

// Wake tells the worker that mail was queued, so it looks at the outbox now rather than at its next poll. It
// never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends due mail until ctx ends. When ctx ends it finishes the message being sent (that exchange is not
// cut off), gives back the rest of its batch unattempted, and returns.
func (w *Worker) Run(ctx context.Context) {
	defer w.transport.Close()
	w.log.Info("mail worker started")
	for {
		// Send everything due, batch after batch, over one connection; hang up once the outbox is drained.
		for ctx.Err() == nil {
			n, err := w.sendBatch(ctx)
			if err != nil {
				if ctx.Err() == nil {
					w.log.Error("mail worker: claim due mail", "error", err)
				}
				break
			}
			if n < w.cfg.Batch {
				break
			}
		}
		if err := w.transport.Close(); err != nil {
			w.log.Debug("mail worker: hang up", "error", err)
		}
		w.warnStale(ctx)
		timer := time.NewTimer(w.cfg.Poll)
		select {
		case <-ctx.Done():
			timer.Stop()
			w.log.Info("mail worker stopped")
			return
		case <-w.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// sendBatch claims up to Batch due messages and sends them; it returns how many it claimed.
func (w *Worker) sendBatch(ctx context.Context) (int, error) {
	claimedAt := w.cfg.Now()
	msgs, err := w.store.ClaimDue(ctx, claimedAt, w.cfg.Lease, w.cfg.Batch)
	if err != nil {
		return 0, err
	}
	// Outcomes are recorded even when ctx ends meanwhile: the message went (or did not) either way.
	bg := context.WithoutCancel(ctx)
	leaseEnd := claimedAt.Add(w.cfg.Lease)
	var dialErr error
	for i, m := range msgs {
		if ctx.Err() != nil || w.cfg.Now().Add(w.cfg.SendTimeout).After(leaseEnd) {
			// Stopping, or too little lease left to be sure of finishing before someone else may claim it:
			// give the rest back for the next claim.
			for _, rest := range msgs[i:] {
				w.record(bg, rest, "release", w.store.Release(bg, rest.ID))
			}
			break
		}
		if dialErr != nil {
			// The server could not be reached for an earlier message of this batch: do not try each of the
			// rest against it (a black-holed server would cost SendTimeout each).
			w.retry(bg, m, dialErr)
			continue
		}
		if err := w.send(ctx, m); err != nil {
			var de *DialError
			if errors.As(err, &de) {
				dialErr = err
			}
		}
	}
	return len(msgs), nil
}

// send renders and sends one message and records the outcome; it returns the send error, if any.
func (w *Worker) send(ctx context.Context, m Message) error {
	bg := context.WithoutCancel(ctx)
	log := w.msgLog(m)
	msg, err := w.renderer.Compose(m)
	if err != nil {
		// A message that cannot be composed will not compose on a retry either.
		log.Error("mail not sent: cannot compose it", "error", emailLike.ReplaceAllString(err.Error(), "[address]"))
		w.record(bg, m, "mark failed", w.store.MarkFailed(bg, m.ID, "not sent: "+err.Error()))
		return nil
	}
	sendCtx, cancel := context.WithTimeout(bg, w.cfg.SendTimeout)
	out := Outgoing{OutboxID: m.ID, CreatedAt: m.CreatedAt, Reference: m.Enquiry.Reference, Msg: msg}
	err = w.transport.Send(sendCtx, out)
	cancel()
	if err == nil {
		log.Info("mail sent", "attempts", m.Attempts)
		err := w.store.MarkSent(bg, m.ID, w.cfg.Now())
		if wd, ok := w.transport.(Withdrawer); ok && errors.Is(err, crm.ErrNotFound) {
			// The row went while the message was being written: its enquiry was erased (or deleted) meanwhile,
			// and the copy just kept must go too.
			log.Info("mail withdrawn: its enquiry was erased while it was sent")
			w.record(bg, m, "withdraw", wd.Withdraw(out))
			return nil
		}
		w.record(bg, m, "mark sent", err)
		return nil
	}
	if code := replyCode(err); code >= 500 {
		// A permanent refusal: trying again would be refused again.
		text := describe(err)
		log.Error("mail refused by the server", "smtp_code", code, "attempts", m.Attempts, "error", logText(err))
		w.record(bg, m, "mark failed", w.store.MarkFailed(bg, m.ID, text))
		return err
	}
	w.retry(bg, m, err)
	return err
}

// retry records a temporary failure: due again after a backoff, or failed when that would pass GiveUpAfter.
func (w *Worker) retry(ctx context.Context, m Message, err error) {
	log := w.msgLog(m)
	text := describe(err)
	now := w.cfg.Now()
	next := now.Add(Backoff(m.Attempts, w.cfg.RetryBase, w.cfg.RetryMax))
	if deadline := m.QueuedAt.Add(w.cfg.GiveUpAfter); next.After(deadline) {
		log.Error("mail given up: still not delivered", "after", w.cfg.GiveUpAfter.String(),
			"attempts", m.Attempts, "error", logText(err))
		w.record(ctx, m, "mark failed", w.store.MarkFailed(ctx, m.ID,
			fmt.Sprintf("gave up after %s: %s", w.cfg.GiveUpAfter, text)))
		return
	}
	log.Warn("mail not sent, will retry", "attempts", m.Attempts, "retry_in", next.Sub(now).Round(time.Second).String(),
		"error", logText(err))
	w.record(ctx, m, "mark retry", w.store.MarkRetry(ctx, m.ID, next, text))
}

// record logs a failure to store an outcome. The message stays leased and is claimed again after its lease:
// at worst it is sent twice, never lost.
func (w *Worker) record(ctx context.Context, m Message, what string, err error) {
	if err != nil {
		w.msgLog(m).Error("mail worker: "+what, "error", err)
	}
}

// msgLog is the logger for one message: its outbox id, kind and enquiry reference, never its recipient or
// content.
func (w *Worker) msgLog(m Message) *slog.Logger {
	return w.log.With("outbox_id", m.ID, "kind", string(m.Kind), "ref", m.Enquiry.Reference)
}

// StaleMail returns how many emails have been waiting unsent for longer than StaleAfter, and StaleAfter; web's
// /readyz shows it as a warning.
func (w *Worker) StaleMail(ctx context.Context) (int, time.Duration, error) {
	n, err := w.store.CountUnsent(ctx, w.cfg.Now().Add(-w.cfg.StaleAfter))
	return n, w.cfg.StaleAfter, err
}

// warnStale logs, at most once per WarnEvery, how many emails have waited unsent for over StaleAfter.
func (w *Worker) warnStale(ctx context.Context) {
	now := w.cfg.Now()
	if now.Sub(w.lastWarn) < w.cfg.WarnEvery || ctx.Err() != nil {
		return
	}
	w.lastWarn = now
	n, _, err := w.StaleMail(ctx)
	switch {
	case err != nil && ctx.Err() != nil:
		// stopping
	case err != nil:
		w.log.Error("mail worker: count unsent mail", "error", err)
	case n > 0:
		w.log.Warn("mail unsent for too long", "count", n, "older_than", w.cfg.StaleAfter.String())
	}
}

// Backoff is the delay before retrying after the attempt-th failed attempt (1 for the first): base doubled for
// each earlier failure, at most max, less up to a fifth at random so that many messages failing together do
// not retry together.
func Backoff(attempt int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
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
