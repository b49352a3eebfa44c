package mailer_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/mailer"
)

// partials lists the partial files of the folder.
func partials(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, n := range mailFiles(t, dir) {
		if strings.HasPrefix(n, ".partial-") {
			out = append(out, n)
		}
	}
	return out
}

// emlFiles lists the finished messages of the folder.
func emlFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, n := range mailFiles(t, dir) {
		if !strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".eml") {
			out = append(out, n)
		}
	}
	return out
}

func TestStalePartialFilesAreDeletedAtStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// A process killed mid-write two minutes ago left one; another process is writing one now.
	stale, fresh := filepath.Join(dir, ".partial-111.eml"), filepath.Join(dir, ".partial-222.eml")
	message := filepath.Join(dir, "20250101T090000.000Z-000001.eml")
	for _, p := range []string{stale, fresh, message} {
		if err := os.WriteFile(p, []byte("Subject: half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Minute)
	for _, p := range []string{stale, message} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := mailer.NewFileTransport(dir); err != nil {
		t.Fatal(err)
	}
	got := mailFiles(t, dir)
	if len(got) != 2 || got[0] != ".partial-222.eml" || got[1] != filepath.Base(message) {
		t.Errorf("after start the folder holds %v, want the fresh partial file and the message only", got)
	}
}

// mountTmpfs mounts a tmpfs of size on a new folder and unmounts it when the test ends; it skips the test where
// mounting is not allowed (it needs root), except in CI, where that fails it.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mail")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" { // CI runs as root and must run these tests
			t.Fatalf("cannot mount a tmpfs in CI: %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs here (root only): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

func remount(t *testing.T, dir, mode string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+mode, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s %s: %v %s", dir, mode, err, out)
	}
}

// waitLog waits until the log contains s.
func waitLog(t *testing.T, logs *logBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("the log never said %q:\n%s", s, logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAFolderThatFillsUpMidWriteKeepsNoPartialFile(t *testing.T) {
	dir := mountTmpfs(t, "64k")
	d := openDB(t)
	// Leave the folder less room than one message: the write fails part of the way through.
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, bytes.Repeat([]byte("x"), 60<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	enquire(t, d, "Ann Example", "ann@patient.example", true)
	ft, err := mailer.NewFileTransport(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, logs, stop := startWorker(t, d, ft, fastConfig())
	waitLog(t, logs, `error_class="disk full"`)
	if p := partials(t, dir); len(p) != 0 {
		t.Errorf("a failed write left %v", p)
	}
	// Room again: both messages go out, whole, and nothing partial is left.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitOutbox(t, d, 10*time.Second, "sent", allStatus(crm.OutboxSent))
	stop()
	if p, e := partials(t, dir), emlFiles(t, dir); len(p) != 0 || len(e) != 2 {
		t.Errorf("folder holds %v and %v; want 2 messages and no partial file", e, p)
	}
	for _, n := range emlFiles(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		parse(t, b)
	}
}

func TestAFolderThatTurnsReadOnlyMidWriteKeepsNoPartialFile(t *testing.T) {
	dir := mountTmpfs(t, "1m")
	d := openDB(t)
	enquire(t, d, "Ann Example", "ann@patient.example", true)
	ft, err := mailer.NewFileTransport(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The folder turns read-only once the batch is written and before it is renamed into place: the partial
	// files can then be neither renamed nor deleted.
	var once sync.Once
	mailer.SetBeforeRename(ft, func() {
		once.Do(func() {
			if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
				t.Errorf("remount read-only: %v %s", err, out)
			}
		})
	})
	_, logs, stop := startWorker(t, d, ft, fastConfig())
	waitLog(t, logs, `error_class="read-only file system"`)
	if p := partials(t, dir); len(p) != 2 {
		t.Fatalf("the fault did not strike mid-write: partial files %v, want the batch's 2", p)
	}
	for _, e := range outbox(t, d) {
		if e.Status != crm.OutboxQueued {
			t.Errorf("a message not written is %s", e.Status)
		}
	}
	// Writable again: the next attempt writes both messages and deletes what the failed one left.
	remount(t, dir, "rw")
	waitOutbox(t, d, 10*time.Second, "sent", allStatus(crm.OutboxSent))
	stop()
	if p, e := partials(t, dir), emlFiles(t, dir); len(p) != 0 || len(e) != 2 {
		t.Errorf("folder holds %v and %v; want 2 messages and no partial file", e, p)
	}
}

func TestMessagesWrittenAgainAfterACrashAreOneFileEach(t *testing.T) {
	d := openDB(t)
	dir := filepath.Join(t.TempDir(), "mail")
	ft, err := mailer.NewFileTransport(dir)
	if err != nil {
		t.Fatal(err)
	}
	const enquiries = 30 // 60 messages
	for i := range enquiries {
		enquire(t, d, "Ann Example", fmt.Sprintf("patient%d@patient.example", i), true)
	}
	// A worker claims 25 messages, writes them and is killed before recording that they were sent.
	ctx := context.Background()
	const lease = time.Second
	claimed, err := d.ClaimDue(ctx, time.Now(), lease, 25)
	if err != nil || len(claimed) != 25 {
		t.Fatalf("claim: %v, %d", err, len(claimed))
	}
	r := newRenderer(t, "")
	var outs []mailer.Outgoing
	for _, m := range claimed {
		msg, err := r.Compose(m)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, mailer.Outgoing{OutboxID: m.ID, CreatedAt: m.CreatedAt, Reference: m.Enquiry.Reference, Msg: msg})
	}
	for i, err := range ft.SendBatch(ctx, outs) {
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if n := len(emlFiles(t, dir)); n != 25 {
		t.Fatalf("the crashed worker wrote %d files, want 25", n)
	}

	// The next worker sends everything, the 25 again once their lease is over, in batches of 7.
	cfg := fastConfig()
	cfg.Lease, cfg.Batch = lease, 7
	_, _, stop := startWorker(t, d, ft, cfg)
	es := waitOutbox(t, d, 15*time.Second, "sent", allStatus(crm.OutboxSent))
	stop()
	if len(es) != 2*enquiries {
		t.Fatalf("%d outbox rows, want %d", len(es), 2*enquiries)
	}
	files := emlFiles(t, dir)
	if len(files) != 2*enquiries || len(partials(t, dir)) != 0 {
		t.Fatalf("%d files (partial: %v), want exactly %d: one per message", len(files), partials(t, dir), 2*enquiries)
	}
	ids := map[string]bool{}
	for _, n := range files {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		ids[parse(t, b).Header.Get("Message-Id")] = true
	}
	if len(ids) != 2*enquiries {
		t.Errorf("%d distinct Message-IDs in %d files", len(ids), len(files))
	}
	rewritten := 0
	for _, e := range es {
		if e.Attempts == 2 {
			rewritten++
		}
	}
	if rewritten != 25 {
		t.Errorf("%d messages were written twice, want the crashed worker's 25", rewritten)
	}
}
