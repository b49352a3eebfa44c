package mailer

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// Defaults of WorkerConfig.
const (
	DefaultPoll  = time.Second
	DefaultLease = 15 * time.Second
	DefaultBatch = 20
	// DefaultFileBatch is the default Batch of a transport that delivers a batch at once (a BatchSender, such
	// as FileTransport): the cost of making the batch durable and recording it is shared by this many.
	DefaultFileBatch   = 200
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
	// Lease is how long a claimed message is the worker's without renewal (default 15 s). While it sends a
	// batch the worker renews the lease of the messages it has not finished every Lease/3, so a slow message
	// is never claimed by another worker meanwhile; a worker that dies holding messages delays them by at most
	// Lease. If the lease cannot be renewed, the batch stops a quarter of a lease before it runs out.
	Lease time.Duration
	// Batch is how many due messages are claimed at once: sent over one connection (default 20), or, with a
	// transport that delivers a batch at once such as the file transport, written and recorded together
	// (default 200).
	Batch int
	// SendTimeout bounds one message: dialling (when needed) and the whole SMTP exchange (default 30 s); with
	// a transport that delivers a batch at once, the whole batch.
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
	// (default 15 min). WarnEvery is how often the log repeats that warning, and how often it says that an
	// outage (temporary failures with no delivery between them) goes on (default 1 min).
	StaleAfter time.Duration
	WarnEvery  time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c *WorkerConfig) defaults(batchAtOnce bool) {
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
	switch {
	case c.Batch > 0:
	case batchAtOnce:
		c.Batch = DefaultFileBatch
	default:
		c.Batch = DefaultBatch
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Worker sends the outbox: it claims due messages with a lease, renders and sends them, and records the
// outcome. Delivery is at least once: a message whose sending was cut off by a crash is sent again after its
// lease, with the same Message-ID (the file transport writes it again under the same name). Run it in its own
// goroutine; it never holds up request handling.
type Worker struct {
	store     crm.OutboxQueue
	renderer  *Renderer
	transport Transport
	batcher   BatchSender // the transport, when it delivers a batch at once
	cfg       WorkerConfig
	log       *slog.Logger
	wake      chan struct{}

	lastWarn time.Time
	outage   outage
}

// NewWorker returns a worker that sends store's messages, rendered by r, through t. The worker owns t (one
// transport, and so one SMTP client, per worker) and closes it when Run returns.
func NewWorker(store crm.OutboxQueue, r *Renderer, t Transport, cfg WorkerConfig, log *slog.Logger) *Worker {
	bs, _ := t.(BatchSender)
	cfg.defaults(bs != nil)
	if log == nil {
		log = slog.Default()
	}
	return &Worker{store: store, renderer: r, transport: t, batcher: bs, cfg: cfg, log: log,
		wake: make(chan struct{}, 1)}
}

// Wake tells the worker that mail was queued, so it looks at the outbox now rather than at its next poll. It
// never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends due mail until ctx ends. When ctx ends it finishes the message (or the file batch) being sent —
// that is not cut off — gives back the rest of its batch unattempted, and returns.
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
		w.outage.report(w.cfg.Now(), w.cfg.WarnEvery, w.log)
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

// sendBatch claims up to Batch due messages and sends them, keeping their lease while it does; it returns how
// many it claimed.
func (w *Worker) sendBatch(ctx context.Context) (int, error) {
	claimedAt := w.cfg.Now()
	msgs, err := w.store.ClaimDue(ctx, claimedAt, w.cfg.Lease, w.cfg.Batch)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	// Outcomes are recorded even when ctx ends meanwhile: the message went (or did not) either way.
	k := w.keepLease(context.WithoutCancel(ctx), msgs, claimedAt.Add(w.cfg.Lease))
	defer k.close()
	if w.batcher != nil {
		w.sendTogether(ctx, k, msgs)
	} else {
		w.sendEach(ctx, k, msgs)
	}
	return len(msgs), nil
}

// sendEach sends msgs one after the other, recording each outcome as it comes.
func (w *Worker) sendEach(ctx context.Context, k *leaseKeeper, msgs []crm.OutboxMessage) {
	bg := context.WithoutCancel(ctx)
	var dialErr error
	for i, m := range msgs {
		if ctx.Err() != nil || k.ctx.Err() != nil {
			// Stopping, or the lease is no longer sure: give the rest back for the next claim.
			w.release(bg, k, msgs[i:])
			return
		}
		if dialErr != nil {
			// The server could not be reached for an earlier message of this batch: do not try each of the
			// rest against it (a black-holed server would cost SendTimeout each).
			w.retry(bg, k, m, dialErr)
			continue
		}
		msg, ok := w.compose(bg, k, m)
		if !ok {
			continue
		}
		out := Outgoing{OutboxID: m.ID, CreatedAt: m.CreatedAt, Reference: m.Enquiry.Reference, Msg: msg}
		sendCtx, cancel := context.WithTimeout(k.ctx, w.cfg.SendTimeout)
		err := w.transport.Send(sendCtx, out)
		cancel()
		if err != nil {
			var de *DialError
			if errors.As(err, &de) {
				dialErr = err
			}
			w.failed(bg, k, m, err)
			continue
		}
		w.sentOne(bg, k, m, out)
	}
}

// sendTogether composes msgs, hands them to the transport at once, and records every delivery in one
// transaction — after the transport has made them durable, so a message is never recorded sent before it is.
func (w *Worker) sendTogether(ctx context.Context, k *leaseKeeper, msgs []crm.OutboxMessage) {
	bg := context.WithoutCancel(ctx)
	if ctx.Err() != nil || k.ctx.Err() != nil {
		w.release(bg, k, msgs)
		return
	}
	ready := make([]crm.OutboxMessage, 0, len(msgs))
	outs := make([]Outgoing, 0, len(msgs))
	for _, m := range msgs {
		if msg, ok := w.compose(bg, k, m); ok {
			ready = append(ready, m)
			outs = append(outs, Outgoing{OutboxID: m.ID, CreatedAt: m.CreatedAt, Reference: m.Enquiry.Reference, Msg: msg})
		}
	}
	if len(outs) == 0 {
		return
	}
	sendCtx, cancel := context.WithTimeout(k.ctx, w.cfg.SendTimeout)
	errs := w.batcher.SendBatch(sendCtx, outs)
	cancel()
	var sent []crm.OutboxMessage
	var sentOuts []Outgoing
	failures := 0
	for i, m := range ready {
		if errs[i] != nil {
			w.failed(bg, k, m, errs[i])
			failures++
			continue
		}
		sent = append(sent, m)
		sentOuts = append(sentOuts, outs[i])
	}
	// A batch that failed in part (a disk that filled up half-way) does not end an outage.
	w.sentAll(bg, k, sent, sentOuts, failures == 0)
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

// Backoff is the delay before retrying after the attempt-th failed attempt (1 for the first): crm.Backoff, which
// webhooks share.
func Backoff(attempt int, base, max time.Duration) time.Duration {
	return crm.Backoff(attempt, base, max)
}
