package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
)

// agent is a browser without a screen: it keeps cookies between requests through the app and knows the CSRF
// token of the last page it read.
type agent struct {
	h       *harness
	cookies map[string]string
	csrf    string
	last    string // body of the last page
}

func (h *harness) agent() *agent { return &agent{h: h, cookies: map[string]string{}} }

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (a *agent) send(req *http.Request) *http.Response {
	a.h.t.Helper()
	for k, v := range a.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp := a.h.do(req)
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(a.cookies, c.Name)
		} else {
			a.cookies[c.Name] = c.Value
		}
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	a.last = string(b)
	if m := csrfField.FindStringSubmatch(a.last); m != nil {
		a.csrf = m[1]
	}
	resp.Body = io.NopCloser(strings.NewReader(a.last))
	return resp
}

func (a *agent) get(path string) *http.Response {
	return a.send(httptest.NewRequest(http.MethodGet, path, nil))
}

// post sends a form with the page's CSRF token (unless the form sets _csrf itself, even to "").
func (a *agent) post(path string, vals url.Values) *http.Response {
	if vals == nil {
		vals = url.Values{}
	}
	if _, set := vals["_csrf"]; !set {
		vals.Set("_csrf", a.csrf)
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return a.send(req)
}

// signIn signs in through /login, as a person would.
func (a *agent) signIn(email, password string) *http.Response {
	a.h.t.Helper()
	a.get("/login")
	return a.post("/login", url.Values{"email": {email}, "password": {password}})
}

const staffPassword = "correct horse battery staple"

// addStaff creates an account directly through the accounts service.
func (h *harness) addStaff(email string, role crm.Role, treatments ...string) crm.Actor {
	h.t.Helper()
	s, err := h.accounts.Create(context.Background(), crm.System, crm.NewStaff{Email: email,
		Name: "Staff " + strings.Split(email, "@")[0], Role: role, Treatments: treatments, Password: staffPassword})
	if err != nil {
		h.t.Fatal(err)
	}
	return crm.Actor{ID: s.ID, Email: s.Email, Name: s.Name, Role: s.Role}
}

// token makes an API token for an account.
func (h *harness) token(email string) string {
	h.t.Helper()
	tok, err := h.accounts.CreateToken(context.Background(), crm.System, email, "test")
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// submit sends a valid enquiry through the public API and returns its reference.
func (h *harness) submit(t testing.TB, treatment string) string {
	t.Helper()
	resp := h.postJSON("/api/v1/enquiries", strings.Replace(validJSON, `"adhd"`, `"`+treatment+`"`, 1))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("submit: %d %s", resp.StatusCode, body(t, resp))
	}
	ref, _ := decode(t, resp)["reference"].(string)
	return ref
}

// apiCall calls the staff API with a bearer token.
func (h *harness) apiCall(method, path, token, jsonBody string) *http.Response {
	var r io.Reader
	if jsonBody != "" {
		r = strings.NewReader(jsonBody)
	}
	req := httptest.NewRequest(method, path, r)
	if jsonBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return h.do(req)
}
