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
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/pquerna/otp/totp"
)

// agent is a browser without a screen: it keeps cookies between requests through the app and knows the CSRF
// token of the last page it read.
type agent struct {
	h       *harness
	cookies map[string]string
	csrf    string
	last    string            // body of the last page
	headers map[string]string // sent with every request (X-Forwarded-For, to be another client)
}

func (h *harness) agent() *agent { return &agent{h: h, cookies: map[string]string{}} }

// agentFrom is an agent at another client address (the harness must trust 0.0.0.0 as a proxy).
func (h *harness) agentFrom(ip string) *agent {
	a := h.agent()
	a.headers = map[string]string{"X-Forwarded-For": ip}
	return a
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (a *agent) send(req *http.Request) *http.Response {
	a.h.t.Helper()
	for k, v := range a.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	for k, v := range a.headers {
		req.Header.Set(k, v)
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

// signIn signs in through /login, as a person would: the password, then (for an account with a second factor)
// a code from its authenticator app on /login/2fa. It returns the last response.
func (a *agent) signIn(email, password string) *http.Response {
	a.h.t.Helper()
	a.get("/login")
	resp := a.post("/login", url.Values{"email": {email}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login/2fa" {
		return resp
	}
	a.get("/login/2fa")
	return a.post("/login/2fa", url.Values{"code": {a.h.secondFactorCode(email)}})
}

const staffPassword = "correct horse battery staple"

// addStaff creates an account directly through the accounts service and enrols its second factor, as its
// owner would at first sign-in.
func (h *harness) addStaff(email string, role crm.Role, treatments ...string) crm.Actor {
	h.t.Helper()
	a := h.addStaffWithoutSecondFactor(email, role, treatments...)
	h.enrol(a)
	a.SecondFactor = true
	return a
}

// addStaffWithoutSecondFactor creates an account that has not enrolled a second factor yet.
func (h *harness) addStaffWithoutSecondFactor(email string, role crm.Role, treatments ...string) crm.Actor {
	h.t.Helper()
	s, err := h.accounts.Create(context.Background(), crm.System, crm.NewStaff{Email: email,
		Name: "Staff " + strings.Split(email, "@")[0], Role: role, Treatments: treatments, Password: staffPassword})
	if err != nil {
		h.t.Fatal(err)
	}
	return crm.Actor{ID: s.ID, Email: s.Email, Name: s.Name, Role: s.Role}
}

// enrol gives the account a second factor through the accounts service, keeping its recovery codes.
func (h *harness) enrol(a crm.Actor) {
	h.t.Helper()
	e, err := h.accounts.NewEnrolment(a, "Harbour Clinic")
	if err != nil {
		h.t.Fatal(err)
	}
	code, err := totp.GenerateCode(e.Secret, time.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	codes, err := h.accounts.Enrol(context.Background(), a, e.Secret, code)
	if err != nil {
		h.t.Fatal(err)
	}
	h.recovery[a.Email] = codes
}

// secondFactorCode is a code the account's next sign-in will accept: a TOTP code of a time step after the last
// one accepted — this step or the next, both inside the one step of skew allowed however long the request
// takes — or, when both are used, one of its unused recovery codes.
func (h *harness) secondFactorCode(email string) string {
	h.t.Helper()
	var secret string
	var last int64
	err := h.raw.QueryRow(`SELECT t.secret, t.last_step FROM staff_totp t JOIN staff s ON s.id = t.staff_id
		WHERE s.email = ?`, email).Scan(&secret, &last)
	if err != nil {
		h.t.Fatalf("second factor of %s: %v", email, err)
	}
	now := time.Now()
	for _, step := range []int64{now.Unix() / crm.TOTPPeriod, now.Unix()/crm.TOTPPeriod + 1} {
		if step > last {
			code, err := totp.GenerateCode(secret, time.Unix(step*crm.TOTPPeriod, 0))
			if err != nil {
				h.t.Fatal(err)
			}
			return code
		}
	}
	codes := h.recovery[email]
	if len(codes) == 0 {
		h.t.Fatalf("%s has signed in too often this minute: no TOTP step and no recovery code left", email)
	}
	h.recovery[email] = codes[1:]
	return codes[0]
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
