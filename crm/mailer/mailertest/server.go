// Package mailertest runs a real SMTP server (github.com/emersion/go-smtp) on loopback for tests, with optional
// STARTTLS or implicit TLS (a test certificate made on the fly), SMTP AUTH PLAIN, and replies chosen per
// recipient. Only tests import it.
package mailertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message the server accepted.
type Received struct {
	From string
	To   []string
	Data []byte
	// TLS is true when the session was encrypted (STARTTLS or implicit).
	TLS bool
	// User is the name the client authenticated as ("" without AUTH).
	User string
}

// Options configure a Server.
type Options struct {
	// Addr is where to listen (default 127.0.0.1:0, a free port).
	Addr string
	// TLS, when set, offers STARTTLS with this configuration (or, with Implicit, speaks TLS from the start).
	TLS      *tls.Config
	Implicit bool
	// Users, when set, offers AUTH PLAIN with these user names and passwords and refuses mail without it.
	Users map[string]string
	// Reply, when set, is asked for each recipient: a non-nil error (an *smtp.SMTPError such as a 550) refuses it.
	Reply func(rcpt string) error
	// DataDelay, when set, is how long the server takes to answer the end of a message's data (a slow server).
	// The message counts as received once that time is over, whether or not the client still waits.
	DataDelay time.Duration
}

// Server is a running test SMTP server.
type Server struct {
	Addr string

	srv *smtp.Server

	mu       sync.Mutex
	received []Received
	conns    int
	open     []net.Conn
	notify   chan struct{}
}

// countingListener counts the connections clients open.
type countingListener struct {
	net.Listener
	s *Server
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.s.mu.Lock()
		l.s.conns++
		l.s.open = append(l.s.open, c)
		l.s.mu.Unlock()
	}
	return c, err
}

// DropConnections closes every client connection from the server's side, as a server does with an idle one.
func (s *Server) DropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.open {
		c.Close()
	}
	s.open = nil
}

// Start starts a server and stops it when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s, err := Listen(o)
	if err != nil {
		t.Fatalf("start SMTP server: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Listen starts a server; the caller closes it.
func Listen(o Options) (*Server, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), notify: make(chan struct{}, 1)}
	if o.Implicit {
		ln = tls.NewListener(ln, o.TLS)
	}
	ln = &countingListener{Listener: ln, s: s}
	be := smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, c: c, o: o}, nil
	})
	srv := smtp.NewServer(be)
	srv.Domain = "mx.test"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if !o.Implicit {
		srv.TLSConfig = o.TLS
	}
	s.srv = srv
	go srv.Serve(ln)
	return s, nil
}

// Close stops the server and drops its connections.
func (s *Server) Close() error {
	err := s.srv.Close()
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Received returns a copy of every message accepted so far.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Connections is how many connections clients have opened.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Wait waits until at least n messages were accepted, or fails the test after timeout; it returns them all.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if got := s.Received(); len(got) >= n {
			return got
		}
		select {
		case <-s.notify:
		case <-deadline.C:
			t.Fatalf("SMTP server: %d messages received after %s, want %d", len(s.Received()), timeout, n)
		}
	}
}

type session struct {
	s    *Server
	c    *smtp.Conn
	o    Options
	user string
	from string
	to   []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.o.Users == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if pw, ok := ss.o.Users[username]; !ok || pw != password {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.o.Users != nil && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.o.Reply != nil {
		if err := ss.o.Reply(to); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	time.Sleep(ss.o.DataDelay)
	_, isTLS := ss.c.TLSConnectionState()
	ss.s.mu.Lock()
	ss.s.received = append(ss.s.received, Received{From: ss.from, To: ss.to, Data: b, TLS: isTLS, User: ss.user})
	ss.s.mu.Unlock()
	select {
	case ss.s.notify <- struct{}{}:
	default:
	}
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// Certificates are a test CA and a server certificate it signed for 127.0.0.1 and localhost.
type Certificates struct {
	// Server is the server's TLS configuration.
	Server *tls.Config
	// Roots trusts the test CA: give it to the client as RootCAs.
	Roots *x509.CertPool
}

// NewCertificates makes a CA and a server certificate valid for an hour.
func NewCertificates(t testing.TB) Certificates {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Frontdesk test CA"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return Certificates{
		Server: &tls.Config{
			Certificates: []tls.Certificate{{Certificate: [][]byte{der, caDER}, PrivateKey: key}},
			MinVersion:   tls.VersionTLS12,
		},
		Roots: roots,
	}
}
