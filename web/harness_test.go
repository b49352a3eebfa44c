package web_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/report"
	"github.com/frontdesk/frontdesk/crm/report/xlsx"
	"github.com/frontdesk/frontdesk/db"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/frontdesk/frontdesk/web"
	"github.com/gofiber/fiber/v2"
	_ "github.com/mattn/go-sqlite3"
)

// harness is the whole app wired as serve wires it, on a real SQLite file.
type harness struct {
	t    testing.TB
	path string
	db   *db.DB
	app  *fiber.App
	cfg  web.Config
	logs *logBuffer
	raw  *sql.DB // a separate connection for the test's own checks

	accounts *crm.Accounts
	ws       *crm.Workspace
	// recovery are the unused recovery codes of the accounts the test enrolled, by email.
	recovery map[string][]string
	privacy  *crm.Privacy
}

func testConfig() web.Config {
	return web.Config{
		ClinicName: "Harbour Clinic", ClinicPhone: "020 7946 0018", BaseURL: "http://localhost:8080",
		IntakePerMinute: 0, FirstContactHours: 24, Location: time.UTC, RetentionMonths: 24, SpamRetentionDays: 30,
	}
}

func newHarness(t testing.TB, edit func(*web.Config)) *harness {
	t.Helper()
	return newHarnessAt(t, filepath.Join(t.TempDir(), "frontdesk.db"), edit)
}

// newHarnessAt is newHarness with its database at path (on a disk the test controls, say).
func newHarnessAt(t testing.TB, path string, edit func(*web.Config)) *harness {
	t.Helper()
	h := &harness{t: t, path: path, cfg: testConfig(), logs: &logBuffer{}, recovery: map[string][]string{}}
	if edit != nil {
		edit(&h.cfg)
	}
	h.start()
	raw, err := sql.Open("sqlite3", "file:"+h.path+"?_busy_timeout=5000&mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	h.raw = raw
	t.Cleanup(func() {
		raw.Close()
		h.stop()
	})
	return h
}

// start opens the database and builds the app (again, after stop: a restart).
func (h *harness) start() {
	h.t.Helper()
	d, err := db.Open(h.path, db.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := d.Migrate(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(h.logs, nil))
	h.accounts = crm.NewAccounts(d, d, log)
	h.ws = crm.NewWorkspace(d, d, d, crm.WorkspaceConfig{FirstContact: 24 * time.Hour,
		IntakeInbox: "intake@clinic.example", Location: time.UTC, OpeningHours: h.cfg.OpeningHours}, log)
	h.privacy = crm.NewPrivacy(d, d, nil, crm.PrivacyConfig{RetentionMonths: h.cfg.RetentionMonths,
		SpamRetentionDays: h.cfg.SpamRetentionDays}, log)
	app, err := web.New(h.cfg, web.Deps{
		Intake:    crm.NewIntakeService(d, intake.NewValidator(nil, time.UTC), "intake@clinic.example", log),
		Screening: crm.NewScreeningService(d, "intake@clinic.example", log),
		Workspace: h.ws,
		Privacy:   h.privacy,
		Accounts:  h.accounts,
		Reports:   report.New(d, d, d, report.Config{FirstContact: 24 * time.Hour, Location: h.cfg.Location, XLSX: xlsx.Write, OpeningHours: h.cfg.OpeningHours}, log),
		Sessions:  d.Sessions(),
		Outbox:    crm.NewOutbox(d, log),
		Ready:     d,
		Log:       log,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	h.db, h.app = d, app
}

func (h *harness) stop() {
	if h.app != nil {
		h.app.Shutdown()
	}
	if h.db != nil {
		h.db.Close()
	}
	h.app, h.db = nil, nil
}

func (h *harness) restart() { h.stop(); h.start() }

// do sends req through the app with no test timeout (the default of 1 s is too short for real work). A request
// to /api/ and its answer are validated against the OpenAPI document (openapi_test.go): the test fails where
// they differ from it.
func (h *harness) do(req *http.Request) *http.Response {
	h.t.Helper()
	var ex *apiExchange
	if isAPIRequest(req) {
		var err error
		if ex, err = captureRequest(req); err != nil {
			h.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
		}
	}
	resp, err := h.app.Test(req, -1)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	if ex != nil {
		h.checkAPI(ex, resp)
	}
	return resp
}

func (h *harness) get(path string) *http.Response {
	return h.do(httptest.NewRequest(http.MethodGet, path, nil))
}

func (h *harness) postJSON(path, body string, headers ...string) *http.Response {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return h.do(req)
}

func (h *harness) postForm(path string, vals url.Values) *http.Response {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return h.do(req)
}

// count runs a COUNT query on the database file.
func (h *harness) count(query string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.raw.QueryRow(query, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// listen serves the app on a loopback port for clients that need a real socket.
func (h *harness) listen() string {
	h.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	go h.app.Listener(ln)
	return "http://" + ln.Addr().String()
}

func body(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decode(t testing.TB, resp *http.Response) map[string]any {
	t.Helper()
	var m map[string]any
	b := body(t, resp)
	if err := json.Unmarshal([]byte(b), &m); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, b)
	}
	return m
}

const validJSON = `{"name":"Ann Example","email":"Ann@Example.org","phone":"07700 900123","treatment":"adhd",
	"message":"I have struggled to focus for years.","consent":true}`

func validForm() url.Values {
	return url.Values{"name": {"Ann Example"}, "email": {"ann@example.org"}, "treatment": {"depression"},
		"preferred_contact": {"email"}, "consent": {"true"}, "idempotency_key": {"form-key-1"}}
}
