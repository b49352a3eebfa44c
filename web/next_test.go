package web

import "testing"

// TestSafeNext: only clean paths on this site are kept; everything a browser could read as another site, in
// any encoding, becomes the board.
func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"/board":                          "/board",
		"/enquiries?status=new&q=ann":     "/enquiries?status=new&q=ann",
		"/enquiries/K7QM-4XPD":            "/enquiries/K7QM-4XPD",
		"/enquiries?q=Ann%20Example":      "/enquiries?q=Ann%20Example",
		"/account/2fa":                    "/account/2fa",
		"":                                "/board",
		"board":                           "/board",
		"//evil.example":                  "/board",
		"///evil.example":                 "/board",
		"/\\evil.example":                 "/board",
		"\\\\evil.example":                "/board",
		"/\t/evil.example":                "/board",
		"/%09/evil.example":               "/board",
		"/%2509/evil.example":             "/board",
		"/\n/evil.example":                "/board",
		"/%0a/evil.example":               "/board",
		"/%0d%0aSet-Cookie:x=1":           "/board",
		"/\x00/evil.example":              "/board",
		"/%00":                            "/board",
		"/%2F%2Fevil.example":             "/board",
		"/%2f/evil.example":               "/board",
		"/%252F%252Fevil.example":         "/board",
		"/%5Cevil.example":                "/board",
		"/%5cevil.example":                "/board",
		"/%255Cevil.example":              "/board",
		"https://evil.example/":           "/board",
		"http:evil.example":               "/board",
		"javascript:alert(1)":             "/board",
		"/\u0085/evil.example":            "/board",
		" /board":                         "/board",
		"/login":                          "/board",
		"/login?next=/board":              "/board",
		"/login/2fa":                      "/board",
		"/logout":                         "/board",
		"/%zz":                            "/board",
		"/%25252525252F%25252525252Fevil": "/board",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}
