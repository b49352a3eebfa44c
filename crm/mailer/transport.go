package mailer

import (
	"context"
	"time"

	"github.com/wneessen/go-mail"
)

// Outgoing is one composed message handed to a transport.
type Outgoing struct {
	// OutboxID and CreatedAt identify the outbox row, and Reference the enquiry it is about (the file
	// transport names files by all three, so an erasure can find an enquiry's files).
	OutboxID  int64
	CreatedAt time.Time
	Reference string
	Msg       *mail.Msg
}

// Transport delivers composed messages. A worker owns its transport: it is not safe for concurrent use.
type Transport interface {
	// Send delivers one message, giving up when ctx ends. A nil error means the message was accepted (for
	// SMTP: the server answered 250 to the end of DATA). An error from the SMTP server's reply is a
	// *mail.SendError with its code; a failure to reach the server at all is a *DialError.
	Send(ctx context.Context, out Outgoing) error
	// Close hangs up any open connection; the transport may be used again afterwards (it redials).
	Close() error
}

// BatchSender is a transport that delivers a whole batch at once, so that what makes a delivery durable (for
// files, flushing them to disk) is paid once per batch rather than once per message. The worker hands such a
// transport every message of a claim together and records the outcomes in one transaction.
type BatchSender interface {
	Transport
	// SendBatch delivers outs, giving up when ctx ends, and returns one error per message, in the order given:
	// nil when that message was delivered.
	SendBatch(ctx context.Context, outs []Outgoing) []error
}

// DialError is a failure to open a session with the mail server (connecting, TLS, authentication): no message
// was attempted, and the same failure would meet every other message of the batch.
type DialError struct{ Err error }

func (e *DialError) Error() string { return "connect to mail server: " + e.Err.Error() }
func (e *DialError) Unwrap() error { return e.Err }

// Withdrawer is a transport that can take back a message it delivered: only one that keeps copies, like
// FileTransport, can.
type Withdrawer interface {
	// Withdraw deletes what Send kept of out.
	Withdraw(out Outgoing) error
}
