package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/frontdesk/frontdesk/web"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The OpenAPI document (web/openapi.json) is held to the API: every request and answer of /api/v1 that a web
// test makes through the harness (h.do, hence postJSON, apiCall and the agent) is validated against it here.

// apiSpec is the document, loaded and validated once, and its router.
type apiSpec struct {
	doc    *openapi3.T
	router routers.Router
}

var loadAPISpec = sync.OnceValues(func() (*apiSpec, error) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, err
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &apiSpec{doc: doc, router: router}, nil
})

func mustAPISpec(t testing.TB) *apiSpec {
	t.Helper()
	spec, err := loadAPISpec()
	if err != nil {
		t.Fatalf("web/openapi.json: %v", err)
	}
	return spec
}

// bearerPresent is the validator's check of the bearer scheme: that a token is sent. Whether it is a good one
// is the app's to say (401), and the answer is validated like any other.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme, token, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return errors.New("no bearer token")
	}
	return nil
}

// apiExchange is one request to /api/v1 and the app's answer, as the validator sees them.
type apiExchange struct {
	method, target string
	header         http.Header
	body           []byte
	status         int
	respHeader     http.Header
	respBody       []byte
}

// capture copies what req will send, without consuming it.
func captureRequest(req *http.Request) (*apiExchange, error) {
	ex := &apiExchange{method: req.Method, target: req.URL.RequestURI(), header: req.Header.Clone()}
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		ex.body = b
	}
	return ex, nil
}

// checkAnswer reads resp's status, headers and body into ex, leaving resp readable by the test.
func (ex *apiExchange) checkAnswer(resp *http.Response) error {
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	ex.status, ex.respHeader, ex.respBody = resp.StatusCode, resp.Header.Clone(), b
	return err
}

// validate checks one exchange against the document. A request the document does not describe as valid must
// be refused (4xx): tests send malformed, oversized or wrongly typed requests on purpose, and the document and
// the app must agree that they are wrong. Every answer, to any request, must be one the document describes.
func (spec *apiSpec) validate(ex *apiExchange) error {
	req := httptest.NewRequest(ex.method, ex.target, bytes.NewReader(ex.body))
	req.Header = ex.header.Clone()
	route, params, err := spec.router.FindRoute(req)
	if err != nil {
		// An address or method the API does not have: a JSON 404 (or 405), as the document's errors are.
		if ex.status != http.StatusNotFound && ex.status != http.StatusMethodNotAllowed {
			return &apiMismatch{ex, "the request is to no operation of the document (" + err.Error() + "), yet it was answered " + http.StatusText(ex.status)}
		}
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(ex.respBody, &e) != nil || e.Error == "" {
			return &apiMismatch{ex, "an unknown API address must be answered with a JSON error"}
		}
		return nil
	}
	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: bearerPresent, MultiError: true}}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && ex.status < 400 {
		return &apiMismatch{ex, "the document calls this request invalid, yet the API accepted it: " + err.Error()}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: ex.status, Header: ex.respHeader,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	out.SetBodyBytes(ex.respBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return &apiMismatch{ex, "the answer is not the one the document describes: " + err.Error()}
	}
	return nil
}

// apiMismatch is a difference between the document and what the API did.
type apiMismatch struct {
	ex     *apiExchange
	reason string
}

func (m *apiMismatch) Error() string {
	body := string(m.ex.respBody)
	if len(body) > 600 {
		body = body[:600] + "…"
	}
	return "web/openapi.json does not describe " + m.ex.method + " " + m.ex.target + " → " +
		http.StatusText(m.ex.status) + " (" + m.ex.respHeader.Get("Content-Type") + "): " + m.reason +
		"\nanswer: " + body + "\nFix the document (web/openapi.json) or the handler, never the test."
}

// checkAPI validates an exchange through the app against the document, failing the test when they differ.
// Benchmarks are left alone: they measure the app, not the validator.
func (h *harness) checkAPI(ex *apiExchange, resp *http.Response) {
	h.t.Helper()
	if _, bench := h.t.(*testing.B); bench {
		return
	}
	if err := ex.checkAnswer(resp); err != nil {
		h.t.Errorf("%s %s: reading the answer: %v", ex.method, ex.target, err)
		return
	}
	if err := mustAPISpec(h.t).validate(ex); err != nil {
		h.t.Error(err)
	}
}

// isAPIRequest reports whether req is to the JSON API, which the document describes.
func isAPIRequest(req *http.Request) bool {
	return strings.HasPrefix(strings.ToLower(req.URL.Path), "/api/")
}

// TestOpenAPIDocumentIsServed: the document is valid OpenAPI 3.1, and GET /api/v1/openapi.json serves exactly it
// without a token, as JSON a cache may keep, and 304 to a client that has it.
func TestOpenAPIDocumentIsServed(t *testing.T) {
	spec := mustAPISpec(t)
	if !spec.doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi is %q, want 3.1", spec.doc.OpenAPI)
	}
	h := newHarness(t, nil)
	resp := h.get("/api/v1/openapi.json")
	got := body(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json without a token: %d %s", resp.StatusCode, got)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "public") || !strings.Contains(cc, "max-age=") {
		t.Errorf("Cache-Control %q, want a public max-age", cc)
	}
	file, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(file) {
		t.Error("the served document is not web/openapi.json as embedded")
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	req := httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil)
	req.Header.Set("If-None-Match", etag)
	if resp := h.do(req); resp.StatusCode != http.StatusNotModified {
		t.Errorf("with If-None-Match of its ETag: %d, want 304", resp.StatusCode)
	}
}

// TestOpenAPIDescribesEveryRoute: every /api/v1 route of the app is an operation of the document, and every
// operation of the document is a route (so neither can be added or removed alone).
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	spec := mustAPISpec(t)
	h := newHarness(t, func(c *web.Config) { c.AllowedOrigins = []string{"https://clinic.example"} })
	routes := map[string]bool{}
	for _, r := range h.app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Method == http.MethodHead {
			continue
		}
		parts := strings.Split(r.Path, "/")
		for i, p := range parts {
			if strings.HasPrefix(p, ":") {
				parts[i] = "{" + p[1:] + "}"
			}
		}
		routes[r.Method+" "+strings.Join(parts, "/")] = true
	}
	// The CORS preflight is answered by middleware, not a route of its own.
	routes["OPTIONS /api/v1/enquiries"] = true
	described := map[string]bool{}
	for path, item := range spec.doc.Paths.Map() {
		for method := range item.Operations() {
			described[method+" "+path] = true
		}
	}
	for r := range routes {
		if !described[r] {
			t.Errorf("the app routes %s, which web/openapi.json does not describe", r)
		}
	}
	for d := range described {
		if !routes[d] {
			t.Errorf("web/openapi.json describes %s, which the app does not route", d)
		}
	}
}

// TestOpenAPIEnumsFollowTheCode: the document's lists of statuses, treatments, referral sources, contact
// preferences and priorities are the code's own.
func TestOpenAPIEnumsFollowTheCode(t *testing.T) {
	spec := mustAPISpec(t)
	enum := func(name string) []string {
		ref := spec.doc.Components.Schemas[name]
		if ref == nil || ref.Value == nil {
			t.Fatalf("no schema %s", name)
		}
		var out []string
		for _, v := range ref.Value.Enum {
			out = append(out, v.(string))
		}
		return out
	}
	choices := func(cs []intake.Choice) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Value)
		}
		return out
	}
	var statuses []string
	for _, s := range crm.AllStatuses {
		statuses = append(statuses, string(s))
	}
	for _, c := range []struct {
		schema string
		code   []string
	}{
		{"Status", statuses},
		{"Treatment", choices(intake.Treatments)},
		{"ReferralSource", choices(intake.ReferralSources)},
		{"PreferredContact", choices(intake.ContactPreferences)},
		{"Priority", crm.Priorities},
	} {
		got, want := slices.Sorted(slices.Values(enum(c.schema))), slices.Sorted(slices.Values(c.code))
		if !slices.Equal(got, want) {
			t.Errorf("schema %s lists %v; the code has %v", c.schema, got, want)
		}
	}
}

// TestOpenAPIValidatorCatchesDrift: the validator the tests run through refuses what the document does not
// describe — an undeclared status, a field of the wrong type, an undeclared field, a request the document
// calls invalid that the API accepted, an address it does not have — so a handler changed without its document
// fails the API tests.
func TestOpenAPIValidatorCatchesDrift(t *testing.T) {
	spec := mustAPISpec(t)
	h := newHarness(t, nil)
	req := httptest.NewRequest(http.MethodPost, "/api/v1/enquiries", strings.NewReader(validJSON))
	req.Header.Set("Content-Type", "application/json")
	real, err := captureRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	resp := h.do(req)
	if err := real.checkAnswer(resp); err != nil {
		t.Fatal(err)
	}
	if err := spec.validate(real); err != nil {
		t.Fatalf("the real answer should pass: %v", err)
	}
	var created map[string]any
	if err := json.Unmarshal(real.respBody, &created); err != nil {
		t.Fatal(err)
	}
	changed := func(edit func(ex *apiExchange)) *apiExchange {
		ex := *real
		ex.header, ex.respHeader = real.header.Clone(), real.respHeader.Clone()
		edit(&ex)
		return &ex
	}
	withBody := func(m map[string]any) []byte {
		b, _ := json.Marshal(m)
		return b
	}
	cases := map[string]*apiExchange{
		"an undeclared status": changed(func(ex *apiExchange) { ex.status = http.StatusAccepted }),
		"a field of the wrong type": changed(func(ex *apiExchange) {
			ex.respBody = withBody(map[string]any{"reference": 42, "status": created["status"]})
		}),
		"an undeclared field": changed(func(ex *apiExchange) {
			ex.respBody = withBody(map[string]any{"reference": created["reference"], "status": "new", "name": "Ann Example"})
		}),
		"a status outside the list": changed(func(ex *apiExchange) {
			ex.respBody = withBody(map[string]any{"reference": created["reference"], "status": "pending"})
		}),
		"an error that is not JSON": changed(func(ex *apiExchange) {
			ex.status, ex.respBody = http.StatusUnprocessableEntity, []byte("Some fields need attention.")
			ex.respHeader.Set("Content-Type", "text/plain; charset=utf-8")
		}),
		"a 429 without Retry-After": changed(func(ex *apiExchange) {
			ex.status, ex.respBody = http.StatusTooManyRequests, []byte(`{"error":"Too many."}`)
		}),
		"an invalid request accepted": changed(func(ex *apiExchange) {
			ex.body = []byte(`{"name":"Ann Example","email":"ann@example.org","treatment":"astrology","consent":true}`)
		}),
		"an address the document does not have": changed(func(ex *apiExchange) { ex.target = "/api/v1/patients" }),
	}
	for name, ex := range cases {
		err := spec.validate(ex)
		var m *apiMismatch
		if !errors.As(err, &m) {
			t.Errorf("%s: the validator let it pass (%v)", name, err)
		}
	}
	// And what the document allows passes: a refused invalid request, an unknown address answered 404 in JSON.
	for name, ex := range map[string]*apiExchange{
		"an invalid request refused": changed(func(ex *apiExchange) {
			ex.body = []byte(`{"name":"Ann Example","email":"ann@example.org","treatment":"astrology","consent":true}`)
			ex.status, ex.respBody = http.StatusUnprocessableEntity, []byte(`{"error":"validation","fields":{"treatment":"Choose a treatment."}}`)
		}),
		"an unknown address answered 404": changed(func(ex *apiExchange) {
			ex.target, ex.status, ex.respBody = "/api/v1/patients", http.StatusNotFound, []byte(`{"error":"Not found."}`)
		}),
	} {
		if err := spec.validate(ex); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
