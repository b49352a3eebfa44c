package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are Frontdesk's Prometheus metrics (FRONTDESK_METRICS_ADDR): counters the handlers move, histograms
// of the writer's group commits, and gauges read from the database at each scrape. They live in a registry of
// their own, served by Handler on the private metrics address only — never by the public app. Pass them in
// Deps.Metrics; without them nothing is counted. Every label has a handful of values: routes are the route
// table's patterns (/enquiries/:ref), never a path with a reference or a token in it.
type Metrics struct {
	reg *prometheus.Registry

	requests  *prometheus.CounterVec   // method, route, status
	durations *prometheus.HistogramVec // method, route
	accepted  *prometheus.CounterVec   // channel
	rejected  *prometheus.CounterVec   // channel, reason
	signIn    *prometheus.CounterVec   // reason
	batch     prometheus.Histogram
	commit    prometheus.Histogram
}

// The channels an enquiry comes by, and the reasons one is not accepted (the values of their labels).
const (
	channelForm = "form"
	channelAPI  = "api"

	rejectValidation = "validation"   // a field is invalid (422)
	rejectSpam       = "spam"         // the honeypot was filled: answered as accepted, stored as spam
	rejectLimited    = "rate_limited" // over FRONTDESK_INTAKE_PER_MINUTE (429)
	rejectTooLarge   = "too_large"    // over the body limit (413)
	rejectMalformed  = "malformed"    // not JSON, unreadable JSON, a bad Idempotency-Key (400, 415)
	rejectReplay     = "replay"       // a repeat of an earlier enquiry (same idempotency key): nothing new stored
	rejectConflict   = "idempotency_conflict"
	rejectUnavail    = "unavailable" // the database could not take the write (503)
	rejectError      = "error"       // anything else (500)
)

var (
	enquiryChannels = []string{channelForm, channelAPI}
	rejectReasons   = []string{rejectValidation, rejectSpam, rejectLimited, rejectTooLarge, rejectMalformed,
		rejectReplay, rejectConflict, rejectUnavail, rejectError}
)

// The reasons a sign-in fails (the values of frontdesk_signin_failures_total's label).
const (
	signInWrongPassword = "wrong_password"
	signInLocked        = "account_locked"
	signInThrottled     = "throttled"
	signInWrongCode     = "second_factor_refused"
	signInBadToken      = "api_token_refused"
)

var signInReasons = []string{signInWrongPassword, signInLocked, signInThrottled, signInWrongCode, signInBadToken}

// MetricsSources are what the gauges read at each scrape; any may be nil, and its gauges are then left out.
type MetricsSources struct {
	// Store answers the outbox backlog and the risk enquiries past their target.
	Store crm.MonitoringStore
	// Targets are the first-contact targets (with the opening hours) the risk gauge counts against.
	Targets crm.Targets
	// Ready is what /readyz asks: frontdesk_ready is 1 when it would answer 200.
	Ready Readiness
	// Log takes the errors of a scrape's queries (the scrape still answers, without those gauges).
	Log *slog.Logger
}

// NewMetrics returns the metrics, with the Go runtime and process collectors and the gauges that read src.
func NewMetrics(src MetricsSources) *Metrics {
	if src.Log == nil {
		src.Log = slog.Default()
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "frontdesk_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method and route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_enquiries_accepted_total",
			Help: "Enquiries accepted and stored, by channel (form or api).",
		}, []string{"channel"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_enquiries_rejected_total",
			Help: "Enquiries not stored as new ones, by channel and reason (spam is stored, as spam).",
		}, []string{"channel", "reason"}),
		signIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_signin_failures_total",
			Help: "Failed staff sign-ins and refused API tokens, by reason.",
		}, []string{"reason"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "frontdesk_db_write_batch_writes",
			Help:    "Writes the SQLite writer committed together in one transaction (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "frontdesk_db_write_commit_seconds",
			Help:    "Time the SQLite writer spent committing one batch (the fsync).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
	}
	// Every known label value from the start: a rate over a counter that appears only at its first
	// increment misses that increment, and the dashboard's and alerts' names are there to check.
	for _, ch := range enquiryChannels {
		m.accepted.WithLabelValues(ch)
		for _, r := range rejectReasons {
			m.rejected.WithLabelValues(ch, r)
		}
	}
	for _, r := range signInReasons {
		m.signIn.WithLabelValues(r)
	}
	m.reg.MustRegister(m.requests, m.durations, m.accepted, m.rejected, m.signIn, m.batch, m.commit,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&scrapeGauges{src: src})
	return m
}

// Handler serves the metrics at /metrics and nothing else (404), for the private metrics address.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		// A failing gauge query leaves its gauges out; the rest of the scrape still answers.
		ErrorHandling:     promhttp.ContinueOnError,
		Timeout:           10 * time.Second,
		EnableOpenMetrics: false,
	}))
	return mux
}

// ObserveWriteBatch records one batch of the SQLite writer: how many writes it held and how long its commit took
// (zero when nothing was committed). It is db.DB.OnWriteBatch's hook: cheap, and safe for concurrent use.
func (m *Metrics) ObserveWriteBatch(writes int, commit time.Duration) {
	m.batch.Observe(float64(writes))
	if commit > 0 {
		m.commit.Observe(commit.Seconds())
	}
}

// statusLabels are the status codes as label values, made once: no strconv on each request.
var statusLabels = func() (s [600]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return
}()

// countRequests is the middleware that counts each request by its route pattern and status and times it. A
// request no route matched (the last handler, which answers 404) is counted under the route "unmatched", so
// a scan of made-up paths adds one series, not one per path.
func (m *Metrics) countRequests(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		status = statusOf(err) // the error handler has not run yet
	}
	route := c.Route().Path
	if route == "/" && c.Path() != "/" {
		route = "unmatched" // only a middleware's route is "/" for another path: nothing else matched
	}
	if status < 0 || status >= len(statusLabels) {
		status = 0
	}
	method := c.Method()
	m.requests.WithLabelValues(method, route, statusLabels[status]).Inc()
	m.durations.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
	return err
}

// countBeforeRouting counts a request Fiber refused before any route ran (a body over the limit, headers too
// large): the error handler calls it, with the status it answers.
func (m *Metrics) countBeforeRouting(c *fiber.Ctx, status int) {
	if m == nil || len(c.Route().Handlers) > 0 {
		return
	}
	if status < 0 || status >= len(statusLabels) {
		status = 0
	}
	m.requests.WithLabelValues(c.Method(), "unmatched", statusLabels[status]).Inc()
	if status == fiber.StatusRequestEntityTooLarge && c.Method() == fiber.MethodPost {
		switch c.Path() {
		case "/enquire":
			m.rejected.WithLabelValues(channelForm, rejectTooLarge).Inc()
		case "/api/v1/enquiries":
			m.rejected.WithLabelValues(channelAPI, rejectTooLarge).Inc()
		}
	}
}

// localOutcome is the Locals key under which an intake handler names what became of an accepted request that
// stored nothing new (rejectSpam, rejectReplay).
const localOutcome = "frontdesk_enquiry_outcome"

// countEnquiries is the middleware of the two intake routes (before their rate limit) that counts each
// enquiry as accepted or rejected with its reason, from the handler's outcome.
func (m *Metrics) countEnquiries(channel string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := c.Next()
		reason := ""
		switch {
		case err != nil:
			reason = rejectionOf(err)
		default:
			switch status := c.Response().StatusCode(); {
			case status == fiber.StatusTooManyRequests:
				reason = rejectLimited
			case status == fiber.StatusUnprocessableEntity:
				reason = rejectValidation
			case status == fiber.StatusServiceUnavailable:
				reason = rejectUnavail
			case status >= 400:
				reason = rejectError
			default:
				reason, _ = c.Locals(localOutcome).(string)
			}
		}
		if reason == "" {
			m.accepted.WithLabelValues(channel).Inc()
		} else {
			m.rejected.WithLabelValues(channel, reason).Inc()
		}
		return err
	}
}

// rejectionOf is the reason an enquiry was refused with err, as statusOf maps it.
func rejectionOf(err error) string {
	var ve intake.ValidationErrors
	var me *intake.MalformedError
	switch {
	case errors.As(err, &ve):
		return rejectValidation
	case errors.Is(err, crm.ErrIdempotencyConflict):
		return rejectConflict
	case errors.As(err, &me):
		return rejectMalformed
	case errors.Is(err, crm.ErrUnavailable):
		return rejectUnavail
	}
	switch statusOf(err) {
	case fiber.StatusBadRequest, fiber.StatusUnsupportedMediaType:
		return rejectMalformed
	case fiber.StatusRequestEntityTooLarge:
		return rejectTooLarge
	case fiber.StatusTooManyRequests:
		return rejectLimited
	case fiber.StatusServiceUnavailable:
		return rejectUnavail
	case fiber.StatusUnprocessableEntity:
		return rejectValidation
	}
	return rejectError
}

// signInFailed counts a failed sign-in; m may be nil (no metrics).
func (m *Metrics) signInFailed(reason string) {
	if m != nil {
		m.signIn.WithLabelValues(reason).Inc()
	}
}

// scrapeGauges reads the gauges that come from the database at each scrape.
type scrapeGauges struct{ src MetricsSources }

var (
	descQueued = prometheus.NewDesc("frontdesk_outbox_queued_messages",
		"Messages waiting in the outbox to be sent, by kind.", []string{"kind"}, nil)
	descOldest = prometheus.NewDesc("frontdesk_outbox_oldest_queued_age_seconds",
		"How long the message waiting longest in the outbox has waited, by kind.", []string{"kind"}, nil)
	descRisk = prometheus.NewDesc("frontdesk_risk_enquiries_past_target",
		"Enquiries flagged risk, still new, past their urgent first-contact target (counted in opening hours).", nil, nil)
	descReady = prometheus.NewDesc("frontdesk_ready",
		"1 when the database answers and takes writes (as /readyz answers 200), else 0.", nil, nil)
)

func (g *scrapeGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- descQueued
	ch <- descOldest
	ch <- descRisk
	ch <- descReady
}

func (g *scrapeGauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := time.Now()
	if g.src.Ready != nil {
		ready := 1.0
		if g.src.Ready.Ping(ctx) != nil || g.src.Ready.WriteHealth(ctx) != nil {
			ready = 0
		}
		ch <- prometheus.MustNewConstMetric(descReady, prometheus.GaugeValue, ready)
	}
	if g.src.Store == nil {
		return
	}
	backlog, err := g.src.Store.OutboxBacklog(ctx)
	if err != nil {
		g.src.Log.Warn("metrics: read the outbox backlog", "error", err)
		ch <- prometheus.NewInvalidMetric(descQueued, err)
	}
	for _, b := range backlog {
		ch <- prometheus.MustNewConstMetric(descQueued, prometheus.GaugeValue, float64(b.Queued), b.Kind)
		ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, max(0, now.Sub(b.OldestQueuedAt).Seconds()), b.Kind)
	}
	_, urgentBefore := g.src.Targets.Cutoffs(now)
	n, err := g.src.Store.CountRiskPastTarget(ctx, urgentBefore)
	if err != nil {
		g.src.Log.Warn("metrics: count risk enquiries past their target", "error", err)
		ch <- prometheus.NewInvalidMetric(descRisk, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(descRisk, prometheus.GaugeValue, float64(n))
}

// countedIntake is the handlers of an intake route, with the enquiry counter first when there are metrics.
func (s *server) countedIntake(channel string, handlers ...fiber.Handler) []fiber.Handler {
	if s.deps.Metrics == nil {
		return handlers
	}
	return append([]fiber.Handler{s.deps.Metrics.countEnquiries(channel)}, handlers...)
}

// noteIntakeOutcome tells the enquiry counter (countEnquiries) that an accepted submission stored nothing new:
// it repeated an earlier one, or it was caught by the honeypot (stored as spam; the sender is answered as if
// accepted, and the validator marks it spam by the same field).
func noteIntakeOutcome(c *fiber.Ctx, sub intake.Submission, rec crm.Receipt) {
	switch {
	case rec.Replayed:
		c.Locals(localOutcome, rejectReplay)
	case sub.Website != "":
		c.Locals(localOutcome, rejectSpam)
	}
}
