package web_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/frontdesk/frontdesk/web"
)

// FuzzIntakeEndpoints posts arbitrary bodies with arbitrary content types and idempotency keys to both public
// intake routes, POST /api/v1/enquiries and POST /enquire, through the whole app on a real database: no input
// may get a 5xx, and every error is answered in the route's own form (JSON for the API).
func FuzzIntakeEndpoints(f *testing.F) {
	f.Add(false, "application/json", "", []byte(validJSON))
	f.Add(false, "application/json; charset=utf-8", "key-1", []byte(`{"name":1,"email":[],"consent":"maybe"}`))
	f.Add(false, "application/json", "", []byte(`{"name":"Ann","email":"a@b.org","treatment":"adhd","consent":true}{}`))
	f.Add(false, "text/plain", "", []byte(`name=Ann`))
	f.Add(false, "application/json", "\x00\xff", []byte("{\"message\":\"\xff\\u0000\"}"))
	f.Add(true, "application/x-www-form-urlencoded", "",
		[]byte("name=Ann+Example&email=ann%40example.org&treatment=adhd&consent=on&idempotency_key=k1"))
	f.Add(true, "application/x-www-form-urlencoded", "", []byte("name=%ZZ&&email=&consent=yes&date_of_birth=2099-13-40"))
	f.Add(true, "multipart/form-data; boundary=xyz", "", []byte("--xyz\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAnn\r\n--xyz--\r\n"))
	f.Add(true, "multipart/form-data; boundary=", "", []byte("--\r\n\r\n"))
	f.Add(true, "application/json", "", []byte(validJSON))
	f.Add(true, "", "", []byte(nil))
	h := newHarness(f, nil)
	f.Fuzz(func(t *testing.T, form bool, contentType, key string, body []byte) {
		path := "/api/v1/enquiries"
		if form {
			path = "/enquire"
		}
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := h.app.Test(req, -1)
		if err != nil && len(body) > web.BodyLimit {
			return // app.Test cannot carry the 413 a real connection gets (TestOverLimitBodyOnTheWireIs413)
		}
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("POST %s (%q, key %q) answered %d:\n%s", path, contentType, key, resp.StatusCode, got)
		}
		if !form && resp.StatusCode >= 400 && !bytes.HasPrefix(bytes.TrimSpace(got), []byte("{")) {
			t.Fatalf("POST %s answered %d without a JSON body: %q", path, resp.StatusCode, got)
		}
	})
}
