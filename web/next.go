package web

import (
	"net/url"
	"strings"
)

// defaultNext is where staff go after sign-in when no safe page was asked for.
const defaultNext = "/board"

// safeNext returns next, unchanged, when it is a clean path on this site, and defaultNext otherwise. A browser
// ignores tabs and newlines in a URL and reads "\" as "/", so "/\t/evil.example" or "/\evil.example" would leave
// the site; it is refused as it stands and after percent-decoding (layer by layer, for "%2509" and the like):
// no scheme or host, one leading "/", no control characters, no backslashes. The sign-in pages themselves are
// refused too, so sign-in never loops.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 {
		return defaultNext
	}
	s := next
	for layer := 0; ; layer++ {
		if !cleanLocalPath(s) {
			return defaultNext
		}
		dec, err := url.PathUnescape(s)
		if err != nil {
			return defaultNext
		}
		if dec == s {
			break
		}
		if layer == 3 { // more layers of encoding than any real link has
			return defaultNext
		}
		s = dec
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return defaultNext
	}
	if p := strings.ToLower(u.Path); p == "/login" || strings.HasPrefix(p, "/login/") || p == "/logout" {
		return defaultNext
	}
	return next
}

// cleanLocalPath reports whether s starts with exactly one "/" and holds no control character or backslash.
func cleanLocalPath(s string) bool {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\\' || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}
