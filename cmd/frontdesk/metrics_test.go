package main

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestServeServesMetricsOnlyOnTheMetricsAddress runs the real binary with FRONTDESK_METRICS_ADDR: /metrics is
// answered there (and nothing else), never on the public address; an enquiry sent to the public address is
// counted, and the writer's commits are observed, as serve wires them.
func TestServeServesMetricsOnlyOnTheMetricsAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dir := t.TempDir()
	maddr := freeAddr(t)
	srv := startServer(t, "FRONTDESK_DB="+filepath.Join(dir, "f.db"), "FRONTDESK_MAIL_DIR="+filepath.Join(dir, "mail"),
		"FRONTDESK_METRICS_ADDR="+maddr)
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(srv.url("/metrics")); code != http.StatusNotFound {
		t.Errorf("the public address answers /metrics with %d, want 404", code)
	}
	if code, _ := get("http://" + maddr + "/readyz"); code != http.StatusNotFound {
		t.Errorf("the metrics address answers /readyz with %d, want 404: it serves metrics only", code)
	}
	if _, err := postEnquiry(http.DefaultClient, srv.url(""), 1); err != nil {
		t.Fatal(err)
	}
	code, text := get("http://" + maddr + "/metrics")
	if code != http.StatusOK {
		t.Fatalf("scrape: %d\n%s", code, text)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("scrape does not parse: %v", err)
	}
	value := func(name string, labels ...string) float64 {
		for _, m := range fams[name].GetMetric() {
			ok := true
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
				}
				ok = ok && found
			}
			if ok {
				switch fams[name].GetType() {
				case dto.MetricType_HISTOGRAM:
					return float64(m.GetHistogram().GetSampleCount())
				case dto.MetricType_GAUGE:
					return m.GetGauge().GetValue()
				}
				return m.GetCounter().GetValue()
			}
		}
		return -1
	}
	if v := value("frontdesk_enquiries_accepted_total", "channel", "api"); v != 1 {
		t.Errorf("accepted API enquiries: %v, want 1", v)
	}
	if v := value("frontdesk_http_requests_total", "route", "/api/v1/enquiries", "status", "201"); v != 1 {
		t.Errorf("POST /api/v1/enquiries 201: %v, want 1", v)
	}
	if v := value("frontdesk_db_write_batch_writes"); v < 1 {
		t.Errorf("write batches observed: %v: the writer's hook is not wired", v)
	}
	if v := value("frontdesk_ready"); v != 1 {
		t.Errorf("frontdesk_ready = %v", v)
	}
	if value("go_goroutines") <= 0 {
		t.Error("no Go runtime metrics")
	}
	if !regexp.MustCompile(`serving metrics.*metrics_addr=` + regexp.QuoteMeta(maddr)).MatchString(srv.logs.String()) {
		t.Errorf("the log does not say where metrics are served:\n%s", srv.logs.String())
	}
	if code := srv.stop(t, syscall.SIGTERM, 25*time.Second); code != 0 {
		t.Errorf("exit %d\n%s", code, srv.logs.String())
	}
}

// TestServeWithoutMetricsAddressHasNoMetrics: left empty, no listener is started and the public address still
// has no /metrics.
func TestServeWithoutMetricsAddressHasNoMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dir := t.TempDir()
	srv := startServer(t, "FRONTDESK_DB="+filepath.Join(dir, "f.db"), "FRONTDESK_MAIL_DIR="+filepath.Join(dir, "mail"))
	resp, err := http.Get(srv.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on the public address: %d", resp.StatusCode)
	}
	if strings.Contains(srv.logs.String(), "serving metrics") {
		t.Errorf("a metrics listener started without FRONTDESK_METRICS_ADDR:\n%s", srv.logs.String())
	}
}

// TestServeRefusesABadMetricsAddress: a metrics address that is not host:port stops serve with status 2 and a
// line naming the setting (or its flag).
func TestServeRefusesABadMetricsAddress(t *testing.T) {
	code, _, stderr := runCLI(t, "", []string{"FRONTDESK_METRICS_ADDR=9090"}, "serve")
	if code != 2 || !strings.Contains(firstLine(stderr), "FRONTDESK_METRICS_ADDR") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "", nil, "serve", "--metrics-addr", "127.0.0.1:http")
	if code != 2 || !strings.Contains(firstLine(stderr), "--metrics-addr") {
		t.Errorf("flag: exit %d, stderr %q", code, stderr)
	}
}
