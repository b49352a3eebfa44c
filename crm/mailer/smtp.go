package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// The TLS policies of FRONTDESK_SMTP_TLS.
const (
	// TLSNone: plain text (a local relay).
	TLSNone = "none"
	// TLSStartTLS: the connection must be upgraded with STARTTLS; a server that does not offer it is an error,
	// never a fallback to plain text.
	TLSStartTLS = "starttls"
	// TLSImplicit: TLS from the first byte (SMTPS, usually port 465).
	TLSImplicit = "tls"
)

// SMTPConfig is how to reach the mail server.
type SMTPConfig struct {
	Host string
	Port int
	// Username, when set, turns on SMTP AUTH with Password: the strongest mechanism the server offers is chosen,
	// and PLAIN or LOGIN only over TLS.
	Username string
	Password string
	// TLS is TLSNone, TLSStartTLS or TLSImplicit.
	TLS string
	// TLSConfig, when set, replaces the default TLS settings (system roots, TLS 1.2 or later), for example to
	// trust a private CA. Its ServerName defaults to Host.
	TLSConfig *tls.Config
	// Timeout bounds each network step (default 30 s); the context given to Send bounds the whole message.
	Timeout time.Duration
	// HELO is the name the client greets the server with (default: this machine's host name).
	HELO string
}

// SMTPTransport sends with go-mail over one connection that it keeps open across the messages of a batch and
// redials when the server has dropped it. It has one go-mail client and is not safe for concurrent use: give
// each worker its own.
type SMTPTransport struct {
	client *mail.Client
	// trackConns is set when this transport dials itself (every policy but implicit TLS) and so can close a
	// connection that a failed greeting or handshake leaves behind, or that a deadline must cut.
	trackConns bool

	mu   sync.Mutex
	last net.Conn // the last connection dialled, for closing on a deadline or a failed dial
	conn *smtp.Client
}

// NewSMTPTransport returns a transport for cfg. It does not connect: the first Send does.
func NewSMTPTransport(cfg SMTPConfig) (*SMTPTransport, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsConf = cfg.TLSConfig.Clone()
	}
	if tlsConf.ServerName == "" {
		tlsConf.ServerName = cfg.Host
	}
	t := &SMTPTransport{}
	opts := []mail.Option{
		mail.WithPort(cfg.Port),
		mail.WithTimeout(cfg.Timeout),
		mail.WithTLSConfig(tlsConf),
	}
	switch cfg.TLS {
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	default:
		return nil, fmt.Errorf("smtp: unknown TLS policy %q (want none, starttls or tls)", cfg.TLS)
	}
	if cfg.TLS != TLSImplicit {
		// go-mail dials implicit TLS itself (and only then knows the session is encrypted); for the others
		// this transport dials, so that it holds the connection.
		t.trackConns = true
		opts = append(opts, mail.WithDialContextFunc(t.dial))
	}
	if cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	if cfg.HELO != "" {
		opts = append(opts, mail.WithHELO(cfg.HELO))
	}
	c, err := mail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	t.client = c
	return t, nil
}

func (t *SMTPTransport) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.last = c
	t.mu.Unlock()
	return c, nil
}

// abort closes the connection in use, so a read or write blocked on it returns at once. With implicit TLS
// go-mail holds the connection itself, and its per-step Timeout is the bound instead.
func (t *SMTPTransport) abort() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.trackConns && t.last != nil {
		t.last.Close()
	}
}

// connect opens a session (greeting, STARTTLS, AUTH) unless one is open.
func (t *SMTPTransport) connect(ctx context.Context) error {
	if t.conn != nil {
		return nil
	}
	c, err := t.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		// go-mail leaves the connection open when the greeting, STARTTLS or AUTH fails.
		t.mu.Lock()
		if t.trackConns && t.last != nil {
			t.last.Close()
			t.last = nil
		}
		t.mu.Unlock()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return &DialError{Err: err}
	}
	t.mu.Lock()
	t.conn = c
	t.mu.Unlock()
	return nil
}

// drop closes the session without ceremony (its state is unknown after a broken exchange).
func (t *SMTPTransport) drop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn != nil {
		t.conn.Close()
		t.conn = nil
	}
	t.last = nil
}

// Send delivers out over the open session, dialling first when there is none. When the server has dropped an
// idle session (the NOOP before MAIL fails) it redials once. ctx bounds the dial and the whole exchange: when
// it ends, the connection is closed under the exchange.
func (t *SMTPTransport) Send(ctx context.Context, out Outgoing) error {
	stop := context.AfterFunc(ctx, t.abort)
	defer stop()
	for try := 0; ; try++ {
		if err := t.connect(ctx); err != nil {
			return err
		}
		err := t.client.SendWithSMTPClient(t.conn, out.Msg)
		if err == nil {
			return nil
		}
		if out.Msg.IsDelivered() {
			// The server took the message; only the RSET after it failed.
			t.drop()
			return nil
		}
		var se *mail.SendError
		if errors.As(err, &se) && se.Reason == mail.ErrConnCheck && try == 0 && ctx.Err() == nil {
			t.drop() // idle connection gone: nothing was sent on it, so dial again
			continue
		}
		if ctx.Err() != nil {
			t.drop()
			return fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		if replyCode(err) == 0 {
			// Not an answer from the server (a broken connection, a timeout): the session is unusable.
			t.drop()
		}
		return err
	}
}

// Close ends the session politely (QUIT), or just closes it if the server does not answer.
func (t *SMTPTransport) Close() error {
	t.mu.Lock()
	c := t.conn
	t.mu.Unlock()
	if c == nil {
		return nil
	}
	err := t.client.CloseWithSMTPClient(c)
	t.drop()
	return err
}

// replyCode is the SMTP reply code (4xx or 5xx) of a send error, or 0 when err is not a server's reply.
func replyCode(err error) int {
	var se *mail.SendError
	if !errors.As(err, &se) {
		return 0
	}
	if c := se.ErrorCode(); c >= 400 && c < 600 {
		return c
	}
	return 0
}
