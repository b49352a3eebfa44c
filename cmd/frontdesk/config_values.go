package main

import (
	"errors"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/frontdesk/frontdesk/db"
)

// The checks of single values that the settings (config.go) share: addresses to listen on, origins, lists and
// PostgreSQL URLs.

// checkListenAddr says what is wrong with s as an address to listen on; example is one that is right.
func checkListenAddr(s, example string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("must be host:port, for example " + example)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return errors.New("the port must be a number from 0 to 65535")
	}
	if host != "" && host != "localhost" && net.ParseIP(host) == nil && strings.ContainsAny(host, " /") {
		return errors.New("the host is not an address or name")
	}
	return nil
}

// parseOrigin checks that o is an http(s) origin with nothing after the host (a trailing slash is allowed) and
// returns it as browsers send it: scheme and host in lower case.
func parseOrigin(o string) (string, bool) {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(u.Host, "*") {
		return "", false
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), true
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkPostgresURL says what is wrong with s, a postgres:// URL, without repeating it: it may hold a password.
func checkPostgresURL(s string) error {
	if u, err := url.Parse(s); err != nil || (u.Host == "" && u.Query().Get("host") == "") {
		return errors.New("is not a PostgreSQL URL such as postgres://frontdesk:password@db.example:5432/frontdesk")
	}
	return nil
}

// redactDB is FRONTDESK_DB as output may show it: a PostgreSQL URL without its password.
func redactDB(s string) string { return db.RedactURL(s) }

// parseLitestreamSocket takes FRONTDESK_LITESTREAM_SOCKET: an absolute path, as in Litestream's configuration.
// Whether Litestream listens there is found out when it is needed: it may start after Frontdesk.
func parseLitestreamSocket(c *config, s string) error {
	s = strings.TrimSpace(s)
	if s != "" && !filepath.IsAbs(s) {
		return errors.New("must be an absolute path, the socket: path of Litestream's configuration, for example /run/litestream/litestream.sock")
	}
	c.LitestreamSocket = s
	return nil
}
