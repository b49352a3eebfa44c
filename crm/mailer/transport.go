package mailer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// DialError is a failure to open a session with the mail server (connecting, TLS, authentication): no message
// was attempted, and the same failure would meet every other message of the batch.
type DialError struct{ Err error }

func (e *DialError) Error() string { return "connect to mail server: " + e.Err.Error() }
func (e *DialError) Unwrap() error { return e.Err }

// FileTransport writes each message as an RFC 5322 .eml file into a folder, for running without a mail server.
type FileTransport struct {
	dir string
}

// NewFileTransport returns the transport that writes into dir, creating it if needed (readable by its owner
// only: the messages name patients). Each file is readable by its owner only too.
func NewFileTransport(dir string) (*FileTransport, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail folder %s: %w", dir, err)
	}
	return &FileTransport{dir: dir}, nil
}

// FileName is the name the file transport gives a message: when it was queued, its outbox id, then the
// reference of its enquiry, so a folder listing sorts by time, a message written again after a crash replaces
// its first copy, and erasing an enquiry finds its files (MailFolder.ForgetEnquiry). A message about no
// enquiry has no reference part.
func FileName(outboxID int64, createdAt time.Time, ref string) string {
	name := fmt.Sprintf("%s-%06d", createdAt.UTC().Format("20060102T150405.000Z"), outboxID)
	if ref != "" && validRef(ref) {
		name += "-" + ref
	}
	return name + ".eml"
}

// Send writes the message atomically: into a temporary file that is synced, then renamed into place, so a
// reader of the folder never sees half a message.
func (t *FileTransport) Send(ctx context.Context, out Outgoing) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	// os.CreateTemp makes the file readable and writable by its owner only (0600).
	f, err := os.CreateTemp(t.dir, ".partial-*.eml")
	if err != nil {
		return fmt.Errorf("write mail file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = out.Msg.WriteTo(f); err != nil {
		return fmt.Errorf("write mail file: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write mail file: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write mail file: %w", err)
	}
	if err = os.Rename(f.Name(), filepath.Join(t.dir, FileName(out.OutboxID, out.CreatedAt, out.Reference))); err != nil {
		return fmt.Errorf("write mail file: %w", err)
	}
	// The rename is durable only once the folder is synced.
	if d, derr := os.Open(t.dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Close does nothing: files need no connection.
func (t *FileTransport) Close() error { return nil }

// Withdraw deletes the file Send wrote for out: the worker calls it when the message's outbox row was deleted
// while it was being sent (its enquiry was erased meanwhile), so no copy outlives the erasure. A missing file
// is not an error.
func (t *FileTransport) Withdraw(out Outgoing) error {
	err := os.Remove(filepath.Join(t.dir, FileName(out.OutboxID, out.CreatedAt, out.Reference)))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("withdraw mail file: %w", err)
	}
	return nil
}

// Withdrawer is a transport that can take back a message it delivered: only one that keeps copies, like
// FileTransport, can.
type Withdrawer interface {
	// Withdraw deletes what Send kept of out.
	Withdraw(out Outgoing) error
}
