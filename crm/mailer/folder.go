package mailer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/frontdesk/frontdesk/crm"
)

// MailFolder is the folder the file transport writes into, seen from the other side: erasing an enquiry
// deletes its copies here. It implements crm.MailCopies and is safe for concurrent use (it only deletes
// files).
type MailFolder struct {
	dir string
}

var _ crm.MailCopies = (*MailFolder)(nil)

// NewMailFolder returns the folder dir; it need not exist (then nothing is kept in it).
func NewMailFolder(dir string) *MailFolder { return &MailFolder{dir: dir} }

// validRef reports whether ref looks like a reference: letters, digits and hyphens only, so it can be part of
// a file name and match nothing but itself.
func validRef(ref string) bool {
	if ref == "" || len(ref) > 40 {
		return false
	}
	for _, r := range ref {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// unnamed matches the files whose name does not say which enquiry they are about: those written before file
// names carried the reference, and a partial file left by a crash mid-write.
var unnamed = regexp.MustCompile(`^(\d{8}T\d{6}\.\d{3}Z-\d+|\.partial-.*)\.eml$`)

// ForgetEnquiry implements crm.MailCopies: it deletes every file of the folder about the enquiry ref — those
// named with it, and those whose name says nothing of their enquiry but whose content carries ref (every
// message shows its reference) — and returns how many it deleted.
func (f *MailFolder) ForgetEnquiry(ctx context.Context, ref string) (int, error) {
	if !validRef(ref) {
		return 0, fmt.Errorf("forget mail: %q is not a reference", ref)
	}
	entries, err := os.ReadDir(f.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("forget mail of %s: %w", ref, err)
	}
	n := 0
	var errs []error
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, ".eml") {
			continue
		}
		path := filepath.Join(f.dir, name)
		match := strings.HasSuffix(name, "-"+ref+".eml")
		if !match && unnamed.MatchString(name) {
			b, err := os.ReadFile(path)
			match = err == nil && bytes.Contains(b, []byte(ref))
		}
		if !match {
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		n++
	}
	if n > 0 {
		if d, err := os.Open(f.dir); err == nil {
			_ = d.Sync()
			d.Close()
		}
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("forget mail of %s: %w", ref, err)
	}
	return n, nil
}
