package crm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// WebhookMessage is a webhook event claimed for sending.
type WebhookMessage struct {
	// ID is the outbox row's id; logs name an event by it.
	ID   int64
	Kind MailKind
	// MessageID is the stored random id of the event; "msg_" + MessageID is its webhook-id header, the same on
	// every attempt, so a receiver can tell a retry from a new event.
	MessageID string
	// Attempts counts the attempts started, this one included.
	Attempts int
	// QueuedAt is when it was queued, or queued again by Outbox.Retry; the sender gives up on it some days later.
	QueuedAt time.Time
	// Reference is the enquiry's reference, for the log; "" when the enquiry no longer exists.
	Reference string
	// Body is the JSON body built when the event was queued (WebhookMail).
	Body []byte
	// Erased is true when the enquiry's personal data was erased: nothing more is sent about it (a failed
	// event queued again afterwards is failed at once).
	Erased bool
}

// WebhookQueue is the outbox as the webhook sender sends from it. package db implements it; every method is safe
// for concurrent use, including by two processes sharing the database. The outcomes are OutboxQueue's.
type WebhookQueue interface {
	// ClaimDueWebhooks is OutboxQueue.ClaimDue for webhook events only: it leases up to limit queued events
	// whose next attempt is due at now and whose lease (if any) has expired, oldest due first, until now+lease,
	// counting an attempt for each. The mail worker's ClaimDue never takes them, so a slow receiver never holds
	// up email.
	ClaimDueWebhooks(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]WebhookMessage, error)
	MarkSent(ctx context.Context, id int64, at time.Time) error
	MarkRetry(ctx context.Context, id int64, next time.Time, lastErr string) error
	MarkFailed(ctx context.Context, id int64, lastErr string) error
	Release(ctx context.Context, id int64) error
}

// Defaults of WebhookConfig. The retry delays and the time before giving up are the mail worker's.
const (
	DefaultWebhookTimeout     = 10 * time.Second
	DefaultWebhookPoll        = time.Second
	DefaultWebhookRetryBase   = 10 * time.Second
	DefaultWebhookRetryMax    = time.Hour
	DefaultWebhookGiveUpAfter = 5 * 24 * time.Hour
)

// WebhookConfig says where events go and how they are signed and retried; a zero duration takes its default.
type WebhookConfig struct {
	// URL is FRONTDESK_WEBHOOK_URL, where every event is POSTed. It may hold a token of the receiver's: it is
	// never logged nor stored.
	URL string
	// Key is the decoded FRONTDESK_WEBHOOK_SECRET (ParseWebhookSecret).
	Key []byte
	// Timeout bounds one attempt, from connecting to the end of the answer's headers (default 10 s).
	Timeout time.Duration
	// Poll is how often the outbox is looked at when nobody calls Wake (default 1 s).
	Poll time.Duration
	// RetryBase, RetryMax and GiveUpAfter are as the mail worker's (Backoff): 10 s doubling to 1 h, failed after
	// 5 days.
	RetryBase, RetryMax, GiveUpAfter time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// WebhookSender POSTs queued webhook events to the configured URL, signed (SignWebhook), and records each
// outcome in the outbox: a 2xx answer is delivered; any other answer, a failure to connect or no answer within
// Timeout is retried after Backoff, and failed once GiveUpAfter has passed since it was queued, visible on the
// admin outbox page like failed email. Delivery is at least once: an event whose attempt was cut off by a crash
// is sent again, with the same webhook-id. Run it in its own goroutine, beside the mail worker.
type WebhookSender struct {
	queue  WebhookQueue
	cfg    WebhookConfig
	client *http.Client
	log    *slog.Logger
	wake   chan struct{}
}

// NewWebhookSender returns the sender of q's webhook events under cfg.
func NewWebhookSender(q WebhookQueue, cfg WebhookConfig, log *slog.Logger) *WebhookSender {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&cfg.Timeout, DefaultWebhookTimeout)
	set(&cfg.Poll, DefaultWebhookPoll)
	set(&cfg.RetryBase, DefaultWebhookRetryBase)
	set(&cfg.RetryMax, DefaultWebhookRetryMax)
	set(&cfg.GiveUpAfter, DefaultWebhookGiveUpAfter)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	client := &http.Client{
		// A redirect is not followed: a POST redirected becomes a GET, which would deliver nothing while
		// looking delivered. It counts as a failure, and the clinic corrects the URL.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &WebhookSender{queue: q, cfg: cfg, client: client, log: log, wake: make(chan struct{}, 1)}
}

// Wake tells the sender that an event was queued, so it looks at the outbox now rather than at its next poll.
// It never blocks.
func (s *WebhookSender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends due events until ctx ends. The attempt under way when ctx ends is finished, not cut off.
func (s *WebhookSender) Run(ctx context.Context) {
	s.log.Info("webhook sender started")
	for {
		for ctx.Err() == nil {
			sent, err := s.sendOne(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Error("webhook sender: claim due events", "error", err)
				}
				break
			}
			if !sent {
				break // nothing due, or the receiver is failing: wait for the next poll
			}
		}
		timer := time.NewTimer(s.cfg.Poll)
		select {
		case <-ctx.Done():
			timer.Stop()
			s.log.Info("webhook sender stopped")
			return
		case <-s.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// sendOne claims the event due first and attempts it; delivered says whether one was claimed and delivered. One
// at a time: an event's lease need only outlast one attempt, and a receiver that fails is not tried again for
// the next event until the next poll.
func (s *WebhookSender) sendOne(ctx context.Context) (delivered bool, err error) {
	msgs, err := s.queue.ClaimDueWebhooks(ctx, s.cfg.Now(), s.cfg.Timeout+20*time.Second, 1)
	if err != nil || len(msgs) == 0 {
		return false, err
	}
	m := msgs[0]
	bg := context.WithoutCancel(ctx) // the outcome is recorded even when stopping
	log := s.log.With("outbox_id", m.ID, "kind", string(m.Kind), "ref", m.Reference)
	if m.Erased {
		s.record(log, "mark failed", s.queue.MarkFailed(bg, m.ID, "not sent: the enquiry was erased"))
		return false, nil
	}
	if len(m.Body) == 0 {
		s.record(log, "mark failed", s.queue.MarkFailed(bg, m.ID, "not sent: the event has no body"))
		return false, nil
	}
	if err := s.post(bg, m); err != nil {
		s.retry(bg, log, m, err)
		return false, nil
	}
	log.Info("webhook delivered", "attempts", m.Attempts)
	s.record(log, "mark sent", s.queue.MarkSent(bg, m.ID, s.cfg.Now()))
	return true, nil
}

// post makes one attempt; a nil error means the receiver answered 2xx. Its error never holds the URL.
func (s *WebhookSender) post(ctx context.Context, m WebhookMessage) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(m.Body))
	if err != nil {
		return errors.New("the webhook URL cannot be used")
	}
	at := s.cfg.Now()
	id := "msg_" + m.MessageID
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Frontdesk-Webhooks")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", SignWebhook(s.cfg.Key, id, at, m.Body))
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		switch {
		case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ue) && ue.Timeout()):
			return fmt.Errorf("no answer within %s", s.cfg.Timeout)
		case errors.As(err, &ue):
			return fmt.Errorf("could not reach the webhook URL: %v", ue.Err) // url.Error's text repeats the URL
		}
		return fmt.Errorf("could not reach the webhook URL: %v", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return nil
}

// retry records a failed attempt: due again after Backoff, or failed when that would pass GiveUpAfter.
func (s *WebhookSender) retry(ctx context.Context, log *slog.Logger, m WebhookMessage, err error) {
	now := s.cfg.Now()
	next := now.Add(Backoff(m.Attempts, s.cfg.RetryBase, s.cfg.RetryMax))
	if deadline := m.QueuedAt.Add(s.cfg.GiveUpAfter); next.After(deadline) {
		log.Error("webhook given up: still not delivered", "after", s.cfg.GiveUpAfter.String(), "attempts", m.Attempts,
			"error", err.Error())
		s.record(log, "mark failed", s.queue.MarkFailed(ctx, m.ID, fmt.Sprintf("gave up after %s: %v", s.cfg.GiveUpAfter, err)))
		return
	}
	log.Warn("webhook not delivered, will retry", "attempts", m.Attempts,
		"retry_in", next.Sub(now).Round(time.Second).String(), "error", err.Error())
	s.record(log, "mark retry", s.queue.MarkRetry(ctx, m.ID, next, err.Error()))
}

// record logs a failure to store an outcome: the event stays leased and is attempted again after its lease.
func (s *WebhookSender) record(log *slog.Logger, what string, err error) {
	if err != nil {
		log.Error("webhook sender: "+what, "error", err)
	}
}
