package mailer_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/mailer"
	"github.com/frontdesk/frontdesk/db"
)

// mailFiles lists the folder's file names.
func mailFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestForgetEnquiryDeletesEveryCopyOfItsMailAndNoOther(t *testing.T) {
	d := openDB(t)
	dir := filepath.Join(t.TempDir(), "mail")
	ft, err := mailer.NewFileTransport(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref1 := enquire(t, d, "Ann Example", "ann@patient.example", true)
	ref2 := enquire(t, d, "Bob Example", "bob@patient.example", true)
	_, _, stop := startWorker(t, d, ft, fastConfig())
	waitOutbox(t, d, 5*time.Second, "sent", allStatus(crm.OutboxSent))
	stop()
	// A copy written before file names carried the reference, and one left half-written by a crash: their
	// names do not say whose they are, their content does.
	var first string
	for _, n := range mailFiles(t, dir) {
		if strings.HasSuffix(n, "-"+ref1+".eml") {
			first = n
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, first))
	if err != nil {
		t.Fatal(err)
	}
	for _, legacy := range []string{"20250101T090000.000Z-000001.eml", ".partial-123.eml"} {
		if err := os.WriteFile(filepath.Join(dir, legacy), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	before := mailFiles(t, dir)

	folder := mailer.NewMailFolder(dir)
	n, err := folder.ForgetEnquiry(context.Background(), ref1)
	if err != nil || n != 4 {
		t.Fatalf("ForgetEnquiry: %d files, %v; want 4 (two messages and two unnamed copies) of %v", n, err, before)
	}
	after := mailFiles(t, dir)
	if len(after) != 2 {
		t.Fatalf("left %v, want the other enquiry's two messages", after)
	}
	for _, name := range after {
		if !strings.HasSuffix(name, "-"+ref2+".eml") {
			t.Errorf("%s is not the other enquiry's", name)
		}
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if strings.Contains(string(b), ref1) {
			t.Errorf("%s still mentions %s", name, ref1)
		}
	}
	// Again: nothing more to delete. A folder that does not exist keeps nothing; a non-reference is refused.
	if n, err := folder.ForgetEnquiry(context.Background(), ref1); n != 0 || err != nil {
		t.Errorf("second ForgetEnquiry: %d, %v", n, err)
	}
	if n, err := mailer.NewMailFolder(filepath.Join(dir, "none")).ForgetEnquiry(context.Background(), ref1); n != 0 || err != nil {
		t.Errorf("missing folder: %d, %v", n, err)
	}
	if _, err := folder.ForgetEnquiry(context.Background(), "../*"); err == nil {
		t.Error("a pattern was accepted as a reference")
	}
	if !slices.Equal(mailFiles(t, dir), after) {
		t.Error("a refused call deleted files")
	}
}

// erasingTransport erases the enquiry of each message just before writing it: the erasure lands while the
// message is being sent.
type erasingTransport struct {
	*mailer.FileTransport
	d *db.DB
}

func (e erasingTransport) Send(ctx context.Context, out mailer.Outgoing) error {
	err := e.d.EraseEnquiries(ctx, []string{out.Reference}, crm.System, time.Now(), func(ref string) crm.AuditEntry {
		return crm.AuditEntry{At: time.Now(), Action: "erase", Reference: ref}
	})
	if err != nil {
		return err
	}
	return e.FileTransport.Send(ctx, out)
}

// SendBatch erases the enquiry of each message, then writes the batch.
func (e erasingTransport) SendBatch(ctx context.Context, outs []mailer.Outgoing) []error {
	for _, out := range outs {
		err := e.d.EraseEnquiries(ctx, []string{out.Reference}, crm.System, time.Now(), func(ref string) crm.AuditEntry {
			return crm.AuditEntry{At: time.Now(), Action: "erase", Reference: ref}
		})
		if err != nil {
			errs := make([]error, len(outs))
			for i := range errs {
				errs[i] = err
			}
			return errs
		}
	}
	return e.FileTransport.SendBatch(ctx, outs)
}

func TestMailWrittenWhileItsEnquiryIsErasedIsWithdrawn(t *testing.T) {
	d := openDB(t)
	dir := filepath.Join(t.TempDir(), "mail")
	ft, err := mailer.NewFileTransport(dir)
	if err != nil {
		t.Fatal(err)
	}
	enquire(t, d, "Ann Example", "ann@patient.example", false)
	cfg := fastConfig()
	cfg.Batch = 1
	_, logs, stop := startWorker(t, d, erasingTransport{FileTransport: ft, d: d}, cfg)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "mail withdrawn") {
		if time.Now().After(deadline) {
			t.Fatalf("the worker never withdrew the message:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if names := mailFiles(t, dir); len(names) != 0 {
		t.Errorf("copies of mail about an erased enquiry are left: %v", names)
	}
}
