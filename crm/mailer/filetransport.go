package mailer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// partialPrefix starts the name of a file being written; it becomes the message's name once whole and durable.
const partialPrefix = ".partial-"

// StalePartialAge is how old a partial file must be for NewFileTransport to delete it: no write takes that
// long, so it was left by a process that stopped mid-write.
const StalePartialAge = time.Minute

// FileTransport writes each message as an RFC 5322 .eml file into a folder, for running without a mail server.
// It is safe for concurrent use.
type FileTransport struct {
	dir string

	mu sync.Mutex
	// leftover are partial files a failed write could not delete at the time (the folder had turned
	// read-only or unwritable); each later write and Close tries again.
	leftover []string

	// beforeRename, when set (by tests), runs after a batch is durable and before it is renamed into place.
	beforeRename func()
}

var _ BatchSender = (*FileTransport)(nil)

// NewFileTransport returns the transport that writes into dir, creating it if needed (readable by its owner
// only: the messages name patients). Each file is readable by its owner only too. Partial files older than
// StalePartialAge, left by a process that stopped mid-write, are deleted.
func NewFileTransport(dir string) (*FileTransport, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail folder %s: %w", dir, err)
	}
	t := &FileTransport{dir: dir}
	t.sweep(time.Now().Add(-StalePartialAge))
	return t, nil
}

// sweep deletes the partial files last changed before cutoff. It is best effort: a folder that cannot be read
// or changed now fails the next write, which the worker reports.
func (t *FileTransport) sweep(cutoff time.Time) {
	entries, err := os.ReadDir(t.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), partialPrefix) {
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			_ = os.Remove(filepath.Join(t.dir, e.Name()))
		}
	}
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

// Send writes one message as SendBatch does.
func (t *FileTransport) Send(ctx context.Context, out Outgoing) error {
	return t.SendBatch(ctx, []Outgoing{out})[0]
}

// staged is a message written to its partial file, not yet durable or in place.
type staged struct {
	i    int
	f    *os.File
	done bool // renamed into place
}

// SendBatch implements BatchSender. Each message is written into a partial file; then every file is flushed
// to disk, renamed to its name (FileName) and the folder flushed, so a reader of the folder never sees half a
// message, even after a crash, and a nil error means the file will survive one. Writing a message again (after
// a crash before its outcome was recorded) replaces its file: one message, one file. A failed write deletes
// its partial file, or, if the folder no longer allows that, deletes it at a later call once it does. After the
// first message that cannot be written (a full disk, a read-only folder) the rest are not tried and get the
// same error.
func (t *FileTransport) SendBatch(ctx context.Context, outs []Outgoing) []error {
	errs := make([]error, len(outs))
	t.removeLeftovers()
	files := make([]staged, 0, len(outs))
	var stop error
	for i, out := range outs {
		if stop == nil {
			stop = ctx.Err()
		}
		if stop != nil {
			errs[i] = stop
			continue
		}
		f, err := t.writePartial(out)
		if err != nil {
			errs[i], stop = err, err
			continue
		}
		files = append(files, staged{i: i, f: f})
	}
	defer func() {
		for _, s := range files {
			if !s.done {
				s.f.Close()
				t.removePartial(s.f.Name())
			}
		}
	}()
	if err := ctx.Err(); err != nil {
		for _, s := range files {
			errs[s.i] = err
		}
		return errs
	}
	// Flushed before the rename, so that a file under its final name is whole even after a power cut.
	for j, err := range syncFiles(files) {
		if err != nil {
			errs[files[j].i] = fmt.Errorf("write mail file: %w", err)
		}
	}
	for _, s := range files {
		if err := s.f.Close(); err != nil && errs[s.i] == nil {
			errs[s.i] = fmt.Errorf("write mail file: %w", err)
		}
	}
	if t.beforeRename != nil {
		t.beforeRename()
	}
	renamed := 0
	for j := range files {
		s := &files[j]
		if errs[s.i] != nil {
			continue
		}
		out := outs[s.i]
		if err := os.Rename(s.f.Name(), filepath.Join(t.dir, FileName(out.OutboxID, out.CreatedAt, out.Reference))); err != nil {
			errs[s.i] = fmt.Errorf("write mail file: %w", err)
			continue
		}
		s.done = true
		renamed++
	}
	if renamed > 0 {
		// The renames are durable only once the folder is. If it cannot be flushed the messages are reported
		// undelivered: sent again, they replace their own files.
		if err := syncDir(t.dir); err != nil {
			for _, s := range files {
				if s.done {
					errs[s.i] = fmt.Errorf("write mail file: %w", err)
				}
			}
		}
	}
	return errs
}

// bufPool holds the write buffers: one write call per message rather than one per line.
var bufPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

// writePartial writes out into a new partial file, returned open and not yet flushed to disk. On failure the
// partial file is deleted.
func (t *FileTransport) writePartial(out Outgoing) (*os.File, error) {
	// os.CreateTemp makes the file readable and writable by its owner only (0600).
	f, err := os.CreateTemp(t.dir, partialPrefix+"*.eml")
	if err != nil {
		return nil, fmt.Errorf("write mail file: %w", err)
	}
	bw := bufPool.Get().(*bufio.Writer)
	bw.Reset(f)
	_, err = out.Msg.WriteTo(bw)
	if err == nil {
		err = bw.Flush()
	}
	bw.Reset(nil)
	bufPool.Put(bw)
	if err != nil {
		f.Close()
		t.removePartial(f.Name())
		return nil, fmt.Errorf("write mail file: %w", err)
	}
	return f, nil
}

// removePartial deletes a partial file, or keeps its name for a later try when the folder refuses.
func (t *FileTransport) removePartial(name string) {
	if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.mu.Lock()
		t.leftover = append(t.leftover, name)
		t.mu.Unlock()
	}
}

// removeLeftovers tries again to delete the partial files earlier failures could not.
func (t *FileTransport) removeLeftovers() {
	t.mu.Lock()
	defer t.mu.Unlock()
	kept := t.leftover[:0]
	for _, name := range t.leftover {
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			kept = append(kept, name)
		}
	}
	t.leftover = kept
}

// syncDir flushes the folder dir itself: its entries (new and renamed files) to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Close deletes any partial file an earlier failure left behind; files need no connection.
func (t *FileTransport) Close() error {
	t.removeLeftovers()
	return nil
}

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
