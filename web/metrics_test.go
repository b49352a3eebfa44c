package web_test

import (
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/frontdesk/frontdesk/web"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// withMetrics rebuilds the harness's app with metrics, wired as serve wires them (the writer's hook, the
// gauges' sources), and serves the metrics handler on a loopback listener of its own. It returns the scrape URL.
func withMetrics(t *testing.T, h *harness) string {
	t.Helper()
	d := h.db
	log := slog.New(slog.NewTextHandler(h.logs, nil))
	m := web.NewMetrics(web.MetricsSources{Store: d, Ready: d, Log: log,
		Targets: crm.Targets{FirstContact: 24 * time.Hour, Urgent: 4 * time.Hour}})
	d.OnWriteBatch(m.ObserveWriteBatch)
	app, err := web.New(h.cfg, web.Deps{
		Intake:    crm.NewIntakeService(d, intake.NewValidator(nil, time.UTC), "intake@clinic.example", log),
		Screening: crm.NewScreeningService(d, "intake@clinic.example", log),
		Workspace: h.ws,
		Accounts:  h.accounts,
		Sessions:  d.Sessions(),
		Outbox:    crm.NewOutbox(d, log),
		Ready:     d,
		Metrics:   m,
		Log:       log,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.app.Shutdown()
	h.app = app
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: m.Handler()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// scrape reads the metrics over HTTP and parses them as Prometheus does; it returns the families and the text.
func scrape(t *testing.T, base string) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text := body(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d\n%s", resp.StatusCode, text)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("scrape does not parse: %v", err)
	}
	return fams, text
}

// sample returns the value of the series of family name whose labels include labels (name=value pairs): a
// counter's or gauge's value, a histogram's count. found is false when no series matches.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) (v float64, found bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			ok := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					ok = true
				}
			}
			if !ok {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			v += m.Counter.GetValue()
		case m.Gauge != nil:
			v += m.Gauge.GetValue()
		case m.Histogram != nil:
			v += float64(m.Histogram.GetSampleCount())
		}
		found = true
	}
	return v, found
}

// TestMetricsCountWhatHappens makes requests through the public app over HTTP — enquiries accepted and refused
// for each reason, a failed sign-in, a refused API token, a page that does not exist — then scrapes the
// private metrics address and checks that each counter and histogram moved under the right labels; that
// routes are patterns, never a path with a reference; that the gauges read the database; and that the public
// app has no /metrics.
func TestMetricsCountWhatHappens(t *testing.T) {
	h := newHarness(t, nil)
	metrics := withMetrics(t, h)
	public := h.listen()

	if resp, err := http.Get(public + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the public address answers /metrics: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if resp, err := http.Get(metrics + "/"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the metrics address answers more than /metrics: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	before, _ := scrape(t, metrics)
	if v, ok := sample(before, "frontdesk_enquiries_accepted_total", "channel", "api"); !ok || v != 0 {
		t.Fatalf("the accepted counter does not start at 0: %v %v", v, ok)
	}
	if v, ok := sample(before, "frontdesk_risk_enquiries_past_target"); !ok || v != 0 {
		t.Fatalf("risk gauge before any enquiry: %v %v", v, ok)
	}

	post := func(path, ctype, payload string, headers ...string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, public+path, strings.NewReader(payload))
		req.Header.Set("Content-Type", ctype)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body(t, resp)
		return resp.StatusCode
	}
	const formType = "application/x-www-form-urlencoded"
	steps := []struct {
		what   string
		status int
		got    int
	}{
		{"API enquiry", 201, post("/api/v1/enquiries", "application/json", validJSON, "Idempotency-Key", "k1")},
		{"the same again", 201, post("/api/v1/enquiries", "application/json", validJSON, "Idempotency-Key", "k1")},
		{"the key for another", 422, post("/api/v1/enquiries", "application/json",
			strings.Replace(validJSON, "Ann Example", "Bea Example", 1), "Idempotency-Key", "k1")},
		{"form enquiry", 303, post("/enquire", formType, validForm().Encode())},
		{"invalid API enquiry", 422, post("/api/v1/enquiries", "application/json", `{"name":""}`)},
		{"invalid form", 422, post("/enquire", formType, url.Values{"name": {"Ann"}}.Encode())},
		{"not JSON", 415, post("/api/v1/enquiries", "text/plain", validJSON)},
		{"broken JSON", 400, post("/api/v1/enquiries", "application/json", `{"name":`)},
		{"too large", 413, func() int {
			resp := postOnTheWire(t, public, "/api/v1/enquiries", `{"message":"`+strings.Repeat("a", web.BodyLimit)+`"}`)
			body(t, resp)
			return resp.StatusCode
		}()},
		{"honeypot", 303, post("/enquire", formType, func() string {
			v := validForm()
			v.Set("website", "http://spam.example")
			v.Set("idempotency_key", "spam-key")
			return v.Encode()
		}())},
	}
	for _, s := range steps {
		if s.got != s.status {
			t.Fatalf("%s: %d, want %d", s.what, s.got, s.status)
		}
	}
	// A failed sign-in on the page, a refused API token on a route with a reference, a made-up path.
	h.addStaff("ops@clinic.example", crm.RoleAdmin)
	if resp := h.agent().signIn("ops@clinic.example", "not the password"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	ref := h.submit(t, "adhd")
	req, _ := http.NewRequest(http.MethodGet, public+"/api/v1/enquiries/"+ref, nil)
	req.Header.Set("Authorization", "Bearer not-a-token")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if resp, err := http.Get(public + "/wp-login-probe.php"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("made-up path: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// A risk enquiry flagged five hours ago is past its urgent target of four.
	risky := h.submitScreened(t, "Cal Example", `,"message":"I keep thinking about ending my life"`)
	h.exec(`UPDATE enquiries SET flag_risk_at = ? WHERE reference = ?`, time.Now().Add(-5*time.Hour).UnixMilli(), risky)

	after, text := scrape(t, metrics)
	moved := func(name string, want float64, labels ...string) {
		t.Helper()
		b, _ := sample(before, name, labels...)
		a, ok := sample(after, name, labels...)
		if !ok || a-b != want {
			t.Errorf("%s%v moved by %v (found %v), want %v", name, labels, a-b, ok, want)
		}
	}
	moved("frontdesk_enquiries_accepted_total", 3, "channel", "api") // k1, h.submit, the risk enquiry
	moved("frontdesk_enquiries_accepted_total", 1, "channel", "form")
	moved("frontdesk_enquiries_rejected_total", 1, "channel", "api", "reason", "replay")
	moved("frontdesk_enquiries_rejected_total", 1, "channel", "api", "reason", "idempotency_conflict")
	moved("frontdesk_enquiries_rejected_total", 1, "channel", "api", "reason", "validation")
	moved("frontdesk_enquiries_rejected_total", 1, "channel", "form", "reason", "validation")
	moved("frontdesk_enquiries_rejected_total", 2, "channel", "api", "reason", "malformed")
	moved("frontdesk_enquiries_rejected_total", 1, "channel", "api", "reason", "too_large")
	moved("frontdesk_enquiries_rejected_total", 1, "channel", "form", "reason", "spam")
	moved("frontdesk_signin_failures_total", 1, "reason", "wrong_password")
	moved("frontdesk_signin_failures_total", 1, "reason", "api_token_refused")
	moved("frontdesk_http_requests_total", 4, "method", "POST", "route", "/api/v1/enquiries", "status", "201")
	moved("frontdesk_http_requests_total", 1, "method", "POST", "route", "/enquire", "status", "422")
	moved("frontdesk_http_requests_total", 1, "method", "POST", "route", "/login", "status", "401")
	moved("frontdesk_http_requests_total", 1, "method", "GET", "route", "/api/v1/enquiries/:ref", "status", "401")
	moved("frontdesk_http_requests_total", 1, "method", "GET", "route", "unmatched", "status", "404")
	moved("frontdesk_http_requests_total", 1, "method", "POST", "route", "unmatched", "status", "413")
	moved("frontdesk_http_request_duration_seconds", 3, "method", "POST", "route", "/enquire")
	for _, leak := range []string{ref, risky, "wp-login-probe"} {
		if strings.Contains(text, leak) {
			t.Errorf("the scrape names %q: routes must be patterns", leak)
		}
	}
	if n, _ := sample(after, "frontdesk_db_write_batch_writes"); n < 4 {
		t.Errorf("write batches observed: %v, want at least one per stored enquiry", n)
	}
	if n, _ := sample(after, "frontdesk_db_write_commit_seconds"); n < 1 {
		t.Errorf("commit times observed: %v", n)
	}
	if v, ok := sample(after, "frontdesk_outbox_queued_messages", "kind", "confirmation"); !ok || v < 4 {
		t.Errorf("queued confirmations: %v %v (no worker runs here: every one is still queued)", v, ok)
	}
	if v, ok := sample(after, "frontdesk_outbox_oldest_queued_age_seconds", "kind", "confirmation"); !ok || v < 0 || v > 600 {
		t.Errorf("age of the oldest queued confirmation: %v %v", v, ok)
	}
	if v, _ := sample(after, "frontdesk_risk_enquiries_past_target"); v != 1 {
		t.Errorf("risk enquiries past their target: %v, want 1", v)
	}
	if v, ok := sample(after, "frontdesk_ready"); !ok || v != 1 {
		t.Errorf("frontdesk_ready = %v %v", v, ok)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_start_time_seconds"} {
		if _, ok := after[name]; !ok {
			t.Errorf("no %s: the runtime and process collectors are missing", name)
		}
	}
	// The gauge follows the enquiry: once contacted it is no longer past its target.
	h.exec(`UPDATE enquiries SET status = 'contacted' WHERE reference = ?`, risky)
	if later, _ := scrape(t, metrics); func() float64 { v, _ := sample(later, "frontdesk_risk_enquiries_past_target"); return v }() != 0 {
		t.Error("a contacted risk enquiry is still counted past its target")
	}
}

// TestMetricsCountRateLimitedEnquiries: an enquiry over the per-minute limit is counted as refused, rate_limited.
func TestMetricsCountRateLimitedEnquiries(t *testing.T) {
	h := newHarness(t, func(c *web.Config) { c.IntakePerMinute = 1 })
	metrics := withMetrics(t, h)
	for i, want := range []int{http.StatusSeeOther, http.StatusTooManyRequests} {
		v := validForm()
		v.Set("idempotency_key", "limit-"+string(rune('a'+i)))
		if resp := h.postForm("/enquire", v); resp.StatusCode != want {
			t.Fatalf("enquiry %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	fams, _ := scrape(t, metrics)
	if v, _ := sample(fams, "frontdesk_enquiries_rejected_total", "channel", "form", "reason", "rate_limited"); v != 1 {
		t.Errorf("rate-limited enquiries: %v, want 1", v)
	}
	if v, _ := sample(fams, "frontdesk_enquiries_accepted_total", "channel", "form"); v != 1 {
		t.Errorf("accepted: %v, want 1", v)
	}
}

// promName is a metric name as PromQL writes it.
var promName = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)

// metricNames returns the names of Frontdesk's, the Go runtime's and the process's metrics used in expr, and
// Prometheus' own `up`.
func metricNames(expr string) (names []string) {
	for _, tok := range promName.FindAllString(expr, -1) {
		if tok == "up" || strings.HasPrefix(tok, "frontdesk_") || strings.HasPrefix(tok, "go_") || strings.HasPrefix(tok, "process_") {
			names = append(names, tok)
		}
	}
	return names
}

// TestMonitoringDocsUseOnlyExportedMetrics parses the Grafana dashboard and the alert rules in docs/monitoring
// and checks that every metric their expressions use is in a scrape of a running server (a histogram's
// _bucket, _sum and _count included), so that a renamed metric cannot leave them silently empty.
func TestMonitoringDocsUseOnlyExportedMetrics(t *testing.T) {
	h := newHarness(t, nil)
	metrics := withMetrics(t, h)
	h.submit(t, "adhd") // a request, a stored enquiry and a queued confirmation: every family has a series
	fams, _ := scrape(t, metrics)
	exported := func(name string) bool {
		if name == "up" { // Prometheus' own, for every target it scrapes
			return true
		}
		if fams[name] != nil {
			return true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if f := fams[strings.TrimSuffix(name, suffix)]; strings.HasSuffix(name, suffix) && f != nil &&
				f.GetType() == dto.MetricType_HISTOGRAM {
				return true
			}
		}
		return false
	}

	var exprs []string
	raw, err := os.ReadFile("../docs/monitoring/frontdesk-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dashboard any
	if err := json.Unmarshal(raw, &dashboard); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "expr" || k == "query" || k == "definition") {
					exprs = append(exprs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(dashboard)
	dashboardExprs := len(exprs)

	raw, err = os.ReadFile("../docs/monitoring/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatalf("the alert rules are not YAML: %v", err)
	}
	alerts := map[string]string{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts[r.Alert] = r.Expr
			exprs = append(exprs, r.Expr)
		}
	}
	// The alerts the README promises.
	for _, name := range []string{"FrontdeskDown", "FrontdeskNotReady", "FrontdeskMailStuck", "FrontdeskRiskEnquiryPastTarget"} {
		if alerts[name] == "" {
			t.Errorf("alerts.yml has no rule %s", name)
		}
	}
	if !strings.Contains(alerts["FrontdeskMailStuck"], "> 900") {
		t.Errorf("mail stuck is not 15 minutes: %q", alerts["FrontdeskMailStuck"])
	}
	if dashboardExprs < 10 || len(exprs)-dashboardExprs < 4 {
		t.Fatalf("found %d expressions in the dashboard and %d in the rules: the files were not read", dashboardExprs, len(exprs)-dashboardExprs)
	}
	used := map[string]bool{}
	for _, e := range exprs {
		names := metricNames(e)
		if len(names) == 0 {
			t.Errorf("expression uses no metric: %q", e)
		}
		for _, n := range names {
			used[n] = true
			if !exported(n) {
				t.Errorf("%s (in %q) is not exported", n, e)
			}
		}
	}
	// And the other way round: every Frontdesk metric is on the dashboard.
	for name := range fams {
		if strings.HasPrefix(name, "frontdesk_") && !used[name] && !used[name+"_bucket"] && !used[name+"_count"] {
			t.Errorf("%s is exported but not on the dashboard or in an alert", name)
		}
	}
}
