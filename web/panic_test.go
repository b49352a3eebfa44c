package web

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	dto "github.com/prometheus/client_model/go"
)

// A handler that panics is answered 500, and the request is still in the log (at error level) and in
// frontdesk_http_requests_total as a 500: a panic is exactly what monitoring must see.
func TestAPanicIsAnswered500LoggedAndCounted(t *testing.T) {
	var logs bytes.Buffer
	s := &server{log: slog.New(slog.NewTextHandler(&logs, nil)), deps: Deps{Metrics: NewMetrics(MetricsSources{})}}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	s.aroundEveryRequest(app)
	app.Get("/boom", func(*fiber.Ctx) error { panic("a bug") })
	resp, err := app.Test(httptestRequest(t, "/boom"), -1)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", resp.StatusCode)
	}
	var counted dto.Metric
	if err := s.deps.Metrics.requests.WithLabelValues("GET", "/boom", "500").Write(&counted); err != nil {
		t.Fatal(err)
	}
	if n := counted.GetCounter().GetValue(); n != 1 {
		t.Errorf("frontdesk_http_requests_total{route=\"/boom\",status=\"500\"} = %v, want 1", n)
	}
	if line := logs.String(); !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "path=/boom") ||
		!strings.Contains(line, "status=500") {
		t.Errorf("the request log does not record the panic as a 500:\n%s", line)
	}
}

func httptestRequest(t *testing.T, path string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://localhost"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
