package web_test

import (
	"bufio"
	"fmt"
	"github.com/frontdesk/frontdesk/crm"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/frontdesk/frontdesk/intake"
	"github.com/frontdesk/frontdesk/web"
)

func TestAPICreatesEnquiry(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.postJSON("/api/v1/enquiries", validJSON)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.StatusCode, body(t, resp))
	}
	got := decode(t, resp)
	ref, _ := got["reference"].(string)
	if _, ok := intake.ParseReference(ref); !ok || got["status"] != "new" || len(got) != 2 {
		t.Fatalf("body %v, want {reference, status: new}", got)
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND email = 'ann@example.org'
		AND phone = '+447700900123' AND status = 'new' AND consent_version = ?`, ref, intake.PrivacyNoticeVersion); n != 1 {
		t.Errorf("enquiry %s not stored normalised", ref)
	}
	if n := h.count(`SELECT count(*) FROM outbox o JOIN enquiries e ON e.id = o.enquiry_id WHERE e.reference = ?`, ref); n != 2 {
		t.Errorf("%d emails queued with the enquiry, want 2 (confirmation, intake inbox)", n)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, ref) {
		t.Error("the log does not carry the reference")
	}
	for _, pii := range []string{"Ann", "ann@example.org", "900123", "struggled"} {
		if strings.Contains(logs, pii) {
			t.Errorf("the log carries personal data %q:\n%s", pii, logs)
		}
	}
}

func TestAPIValidationErrors(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.postJSON("/api/v1/enquiries", `{"name":"A","email":"not-an-email","treatment":"flu","date_of_birth":"2015-05-05"}`)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", resp.StatusCode)
	}
	got := decode(t, resp)
	fields, _ := got["fields"].(map[string]any)
	if got["error"] != "validation" || fields == nil {
		t.Fatalf("body %v, want {error: validation, fields}", got)
	}
	for _, f := range []string{"name", "email", "treatment", "date_of_birth", "consent"} {
		if msg, _ := fields[f].(string); msg == "" {
			t.Errorf("no message for %s in %v", f, fields)
		}
	}
	if n := h.count(`SELECT count(*) FROM enquiries`); n != 0 {
		t.Errorf("an invalid enquiry changed the database: %d rows", n)
	}
}

func TestAPIErrorStatuses(t *testing.T) {
	h := newHarness(t, nil)
	cases := []struct {
		name        string
		contentType string
		body        string
		status      int
		field       string
	}{
		{"wrong type for a field", "application/json", `{"name":1,"email":"a@b.org","treatment":"adhd","consent":true}`, 422, "name"},
		{"malformed JSON", "application/json", `{"name":`, 400, ""},
		{"JSON array", "application/json", `[]`, 400, ""},
		{"empty body", "application/json", ``, 400, ""},
		{"form encoded", "application/x-www-form-urlencoded", `name=Ann`, 415, ""},
		{"no content type", "", validJSON, 415, ""},
		{"text", "text/plain", validJSON, 415, ""},
		{"JSON with charset", "application/json; charset=utf-8", validJSON, 201, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/enquiries", strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp := h.do(req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body(t, resp))
			}
			got := decode(t, resp)
			if tc.status >= 400 {
				msg, _ := got["error"].(string)
				if msg == "" {
					t.Errorf("no error message: %v", got)
				}
				if tc.field != "" {
					if fields, _ := got["fields"].(map[string]any); fields[tc.field] == nil {
						t.Errorf("field %s not named: %v", tc.field, got)
					}
				}
			}
		})
	}
	if n := h.count(`SELECT count(*) FROM enquiries`); n != 1 {
		t.Errorf("%d enquiries stored, want only the valid one", n)
	}
}

func TestOverLimitBodyOnTheWireIs413(t *testing.T) {
	// Through a real socket, where fasthttp itself refuses the body before any handler runs.
	h := newHarness(t, nil)
	base := h.listen()
	resp := postOnTheWire(t, base, "/api/v1/enquiries", `{"message":"`+strings.Repeat("a", 200000)+`"}`)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
	if got := decode(t, resp); got["error"] == nil {
		t.Errorf("413 body is not the JSON error: %v", got)
	}
}

// postOnTheWire posts a JSON body to base+path on a raw connection and returns the answer. The server may answer
// and close while a body over its limit is still being written, which an http.Client reports as a reset instead
// of the answer: here the write's error is ignored and the answer read.
func postOnTheWire(t *testing.T, base, path, body string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: clinic.example\r\nContent-Type: application/json\r\n"+
			"Content-Length: %d\r\n\r\n%s", path, len(body), body)
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestHoneypotIsAnsweredAsSuccessAndKeptAsSpam(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.postJSON("/api/v1/enquiries", strings.Replace(validJSON, `"consent":true`, `"consent":true,"website":"http://cheap.example"`, 1))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got := decode(t, resp)
	if got["status"] != "new" {
		t.Errorf("the sender learns it was caught: %v", got)
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND status = 'spam'`, got["reference"]); n != 1 {
		t.Error("not kept as spam")
	}
	if n := h.count(`SELECT count(*) FROM outbox`); n != 0 {
		t.Errorf("spam queued %d emails", n)
	}
	form := validForm()
	form.Set("website", "x")
	if resp := h.postForm("/enquire", form); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("form honeypot: status %d, want 303", resp.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM enquiries WHERE status = 'spam'`); n != 2 {
		t.Errorf("%d spam enquiries, want 2", n)
	}
}

func TestIdempotencyKeySurvivesARestart(t *testing.T) {
	h := newHarness(t, nil)
	first := decode(t, h.postJSON("/api/v1/enquiries", validJSON, "Idempotency-Key", "abc-123"))
	again := h.postJSON("/api/v1/enquiries", validJSON, "Idempotency-Key", "abc-123")
	if again.StatusCode != http.StatusCreated {
		t.Fatalf("repeat: status %d", again.StatusCode)
	}
	if got := decode(t, again); got["reference"] != first["reference"] {
		t.Fatalf("repeat gave %v, want %v", got["reference"], first["reference"])
	}
	h.restart()
	// Staff have moved it on since: the replay is still answered exactly as the first request was, and tells
	// the sender nothing of the clinic's work.
	if _, err := h.ws.Transition(t.Context(), crm.System, first["reference"].(string), crm.StatusNotSuitable, "moved away", 0); err != nil {
		t.Fatal(err)
	}
	after := h.postJSON("/api/v1/enquiries", validJSON, "Idempotency-Key", "abc-123")
	if after.StatusCode != http.StatusCreated {
		t.Fatalf("replay after restart: status %d", after.StatusCode)
	}
	if got := decode(t, after); got["reference"] != first["reference"] || got["status"] != first["status"] {
		t.Fatalf("after restart gave %v, want %v", got, first)
	}
	if n := h.count(`SELECT count(*) FROM enquiries`); n != 1 {
		t.Errorf("%d enquiries stored, want 1", n)
	}
	if n := h.count(`SELECT count(*) FROM outbox`); n != 2 {
		t.Errorf("%d emails queued, want 2 (no repeat mail)", n)
	}
	// The same key with a different body is refused, and stores nothing.
	other := strings.Replace(validJSON, "Ann Example", "Bob Example", 1)
	resp := h.postJSON("/api/v1/enquiries", other, "Idempotency-Key", "abc-123")
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("reused key: status %d, want 422", resp.StatusCode)
	}
	if msg, _ := decode(t, resp)["error"].(string); !strings.Contains(msg, "Idempotency-Key") {
		t.Errorf("message %q does not name the header", msg)
	}
	// A malformed key is refused with a message naming it.
	resp = h.postJSON("/api/v1/enquiries", validJSON, "Idempotency-Key", strings.Repeat("k", 300))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("overlong key: status %d, want 400", resp.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM enquiries`); n != 1 {
		t.Errorf("%d enquiries stored, want 1", n)
	}
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, func(c *web.Config) { c.IntakePerMinute = 3 })
	for i := 0; i < 3; i++ {
		if resp := h.postJSON("/api/v1/enquiries", validJSON); resp.StatusCode != http.StatusCreated {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
	resp := h.postJSON("/api/v1/enquiries", validJSON)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th request: status %d, want 429", resp.StatusCode)
	}
	if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After = %q", ra)
	}
	if got := decode(t, resp); got["error"] == nil {
		t.Errorf("429 body %v", got)
	}
	// The form shares the client's count, and answers with a page.
	form := h.postForm("/enquire", validForm())
	if form.StatusCode != http.StatusTooManyRequests || form.Header.Get("Retry-After") == "" {
		t.Errorf("form over the limit: status %d, Retry-After %q", form.StatusCode, form.Header.Get("Retry-After"))
	}
	if b := body(t, form); !strings.Contains(b, "wait") || !strings.Contains(b, "116 123") {
		t.Error("429 page does not explain or show the crisis note")
	}
	if n := h.count(`SELECT count(*) FROM enquiries`); n != 3 {
		t.Errorf("%d stored, want 3", n)
	}
}

func TestRateLimitOffWithZero(t *testing.T) {
	h := newHarness(t, func(c *web.Config) { c.IntakePerMinute = 0 })
	for i := 0; i < 30; i++ {
		if resp := h.postJSON("/api/v1/enquiries", validJSON); resp.StatusCode != http.StatusCreated {
			t.Fatalf("request %d: status %d with the limit off", i, resp.StatusCode)
		}
	}
}

// TestConcurrentSubmissionsOverHTTP: 400 enquiries at once through a real socket, all stored with distinct
// references and no "database is locked".
func TestConcurrentSubmissionsOverHTTP(t *testing.T) {
	h := newHarness(t, nil)
	base := h.listen()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	const n = 400
	var wg sync.WaitGroup
	refs := make([]string, n)
	errs := make([]string, n)
	sem := make(chan struct{}, 64)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			b := strings.Replace(validJSON, "Ann@Example.org", fmt.Sprintf("p%d@example.org", i), 1)
			resp, err := client.Post(base+"/api/v1/enquiries", "application/json", strings.NewReader(b))
			if err != nil {
				errs[i] = err.Error()
				return
			}
			got := decode(t, resp)
			if resp.StatusCode != http.StatusCreated {
				errs[i] = fmt.Sprintf("status %d: %v", resp.StatusCode, got)
				return
			}
			refs[i], _ = got["reference"].(string)
		}(i)
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range refs {
		if errs[i] != "" {
			t.Fatalf("submission %d: %s", i, errs[i])
		}
		if seen[refs[i]] {
			t.Fatalf("reference %s given twice", refs[i])
		}
		seen[refs[i]] = true
	}
	if got := h.count(`SELECT count(*) FROM enquiries`); got != n {
		t.Errorf("%d stored, want %d", got, n)
	}
	if strings.Contains(h.logs.String(), "locked") {
		t.Error("the log mentions a locked database")
	}
}

func TestCORSForConfiguredOrigins(t *testing.T) {
	h := newHarness(t, func(c *web.Config) { c.AllowedOrigins = []string{"https://www.harbour.example"} })
	preflight := func(origin string) *http.Response {
		req := httptest.NewRequest(http.MethodOptions, "/api/v1/enquiries", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,idempotency-key")
		return h.do(req)
	}
	resp := preflight("https://www.harbour.example")
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://www.harbour.example" {
		t.Errorf("allowed origin: Access-Control-Allow-Origin = %q", got)
	}
	if got := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(got, "idempotency-key") {
		t.Errorf("Access-Control-Allow-Headers = %q", got)
	}
	if resp.Header.Get("Access-Control-Allow-Credentials") == "true" {
		t.Error("credentials allowed cross-origin")
	}
	if got := preflight("https://evil.example").Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("other origin allowed: %q", got)
	}
	req := httptest.NewRequest(http.MethodPost, "/api/v1/enquiries", strings.NewReader(validJSON))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://www.harbour.example")
	post := h.do(req)
	if post.StatusCode != 201 || post.Header.Get("Access-Control-Allow-Origin") != "https://www.harbour.example" {
		t.Errorf("cross-origin POST: status %d, ACAO %q", post.StatusCode, post.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestNoCORSWithoutConfiguredOrigins(t *testing.T) {
	h := newHarness(t, nil)
	req := httptest.NewRequest(http.MethodPost, "/api/v1/enquiries", strings.NewReader(validJSON))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://www.harbour.example")
	if got := h.do(req).Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("Access-Control-Allow-Origin = %q with no origins configured", got)
	}
}

func TestInternalErrorsAreNotShown(t *testing.T) {
	h := newHarness(t, nil)
	h.db.Close() // every write now fails inside the store
	resp := h.postJSON("/api/v1/enquiries", validJSON)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}
	b := body(t, resp)
	for _, leak := range []string{"closed", "sql", "store enquiry", "goroutine", ".go:"} {
		if strings.Contains(strings.ToLower(b), leak) {
			t.Errorf("500 body leaks %q: %s", leak, b)
		}
	}
	if !strings.Contains(h.logs.String(), "database is closed") {
		t.Error("the internal error was not logged for staff")
	}
	if resp := h.get("/readyz"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database closed: %d, want 503", resp.StatusCode)
	}
	h.db = nil
}

func TestHealth(t *testing.T) {
	h := newHarness(t, nil)
	if resp := h.get("/healthz"); resp.StatusCode != 200 || body(t, resp) != "ok" {
		t.Error("/healthz is not 200 ok")
	}
	if resp := h.get("/readyz"); resp.StatusCode != 200 {
		t.Errorf("/readyz: %d", resp.StatusCode)
	}
}

func TestUnknownRoutes(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.get("/api/v1/nothing-here")
	if resp.StatusCode != 404 || decode(t, resp)["error"] == nil {
		t.Errorf("unknown API route: %d", resp.StatusCode)
	}
	resp = h.get("/nothing-here")
	if b := body(t, resp); resp.StatusCode != 404 || !strings.Contains(b, "could not find") {
		t.Errorf("unknown page: %d", resp.StatusCode)
	}
}
