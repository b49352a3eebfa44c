package disktest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Disk is a small tmpfs mounted at Dir until the test ends.
type Disk struct {
	// Dir is where the file system is mounted: an empty folder, writable until Fill or ReadOnly.
	Dir string
	t   testing.TB
}

// Small mounts a tmpfs of size bytes at a new folder and unmounts it when the test ends. It skips the test
// when this process may not mount file systems, except in CI (CI set), where that fails it.
func Small(t testing.TB, size int64) *Disk {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		// CI runs as root and must run these tests: a skip there would hide a missing test.
		if errors.Is(err, syscall.EPERM) && os.Getenv("CI") == "" {
			t.Skipf("mounting a tmpfs for a storage fault is not permitted here: %v", err)
		}
		t.Fatalf("mount a tmpfs at %s: %v", dir, err)
	}
	// Registered after TempDir's own cleanup, so it runs first: the folder is unmounted before it is removed.
	// A lazy unmount does not fail on files a test left open.
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return &Disk{Dir: dir, t: t}
}

// Fill writes a file until the file system has no space left, and returns a function that removes it. Writes
// that need a new block fail from then on with ENOSPC (SQLite: SQLITE_FULL); rewriting blocks a file already
// has still works.
func (d *Disk) Fill() (free func()) {
	d.t.Helper()
	path := filepath.Join(d.Dir, "filler")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		d.t.Fatalf("fill %s: %v", d.Dir, err)
	}
	block := make([]byte, 64<<10)
	for _, size := range []int{64 << 10, 4 << 10, 512} {
		for {
			n, err := f.Write(block[:size])
			if errors.Is(err, syscall.ENOSPC) || (err == nil && n < size) || errors.Is(err, io.ErrShortWrite) {
				break
			}
			if err != nil {
				f.Close()
				d.t.Fatalf("fill %s: %v", d.Dir, err)
			}
		}
	}
	if err := f.Close(); err != nil && !errors.Is(err, syscall.ENOSPC) {
		d.t.Fatalf("fill %s: %v", d.Dir, err)
	}
	return func() {
		d.t.Helper()
		if err := os.Remove(path); err != nil {
			d.t.Fatalf("free %s: %v", d.Dir, err)
		}
	}
}

// ReadOnly remounts the file system read-only. Linux refuses while a file on it is open for writing (EBUSY):
// close the database first, as a restart would.
func (d *Disk) ReadOnly() {
	d.t.Helper()
	if err := syscall.Mount("", d.Dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		d.t.Fatalf("remount %s read-only: %v", d.Dir, err)
	}
}

// Writable remounts the file system writable.
func (d *Disk) Writable() {
	d.t.Helper()
	if err := syscall.Mount("", d.Dir, "", syscall.MS_REMOUNT, ""); err != nil {
		d.t.Fatalf("remount %s writable: %v", d.Dir, err)
	}
}
