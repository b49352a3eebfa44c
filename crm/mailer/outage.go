package mailer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/wneessen/go-mail"
)

// outage is a run of temporary delivery failures with no delivery between them: the mail server is down or
// refusing, the mail folder is full or read-only. Its log is one warning when it starts, at most one summary
// per WarnEvery while it lasts, and one line when a message gets through again — not a line per message per
// attempt, which for a 30-second outage was thousands of lines.
type outage struct {
	mu       sync.Mutex
	since    time.Time
	class    string
	messages map[int64]struct{} // the messages that failed during it (never their recipients)
	attempts int
	reported time.Time
}

// failed records a temporary failure of m; it returns true when the failure starts an outage (the caller logs
// it as a warning; later ones only at debug level).
func (o *outage) failed(now time.Time, m crm.OutboxMessage, err error) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	started := o.messages == nil
	if started {
		o.since, o.reported = now, now
		o.messages = map[int64]struct{}{}
	}
	o.class = errorClass(err)
	o.messages[m.ID] = struct{}{}
	o.attempts++
	return started
}

// delivered ends the outage, if one is on, and logs its end once, with how long it lasted and how many messages
// waited.
func (o *outage) delivered(now time.Time, log *slog.Logger) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.messages == nil {
		return
	}
	log.Info("mail delivery resumed", "after", roundDuration(now.Sub(o.since)),
		"messages", len(o.messages), "attempts", o.attempts, "last_error_class", o.class)
	o.messages = nil
}

// report logs, at most once per every, that the outage goes on.
func (o *outage) report(now time.Time, every time.Duration, log *slog.Logger) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.messages == nil || now.Sub(o.reported) < every {
		return
	}
	o.reported = now
	log.Warn("mail delivery still failing, will retry", "for", roundDuration(now.Sub(o.since)),
		"messages", len(o.messages), "attempts", o.attempts, "error_class", o.class)
}

// roundDuration is d as the log shows it: to the second, or to the hundredth below one.
func roundDuration(d time.Duration) string {
	if d < time.Second {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// errorClass names the kind of a delivery failure for the log, without anything from the message: a refused
// connection, a timeout, a TLS or DNS failure, an SMTP reply code, a full or read-only disk.
func errorClass(err error) string {
	var (
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		hostErr x509.HostnameError
		recErr  tls.RecordHeaderError
		se      *mail.SendError
	)
	switch {
	case replyCode(err) != 0:
		return fmt.Sprintf("smtp %d", replyCode(err))
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		return "unreachable"
	case errors.As(err, &dnsErr):
		return "dns"
	case errors.As(err, &certErr) || errors.As(err, &unknown) || errors.As(err, &hostErr) || errors.As(err, &recErr):
		return "tls"
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
		return "disk full"
	case errors.Is(err, syscall.EROFS):
		return "read-only file system"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	case errors.Is(err, syscall.EIO):
		return "i/o error"
	case errors.As(err, &se):
		return "smtp " + se.Reason.String()
	}
	var de *DialError
	if errors.As(err, &de) {
		return "connect"
	}
	return "other"
}
