package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// outFile is the file of an --out flag holding patient data: written beside its name, readable and writable by
// its owner only (os.CreateTemp makes it 0600), and renamed into place only once complete, so a failed or
// interrupted command never leaves a partial file under the name asked for.
type outFile struct {
	*os.File
	path string
	done bool
}

// createOut starts writing path; the error names the flag.
func createOut(path string) (*outFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("cannot write --out %s: %w", path, unwrapPathError(err))
	}
	return &outFile{File: f, path: path}, nil
}

// commit makes the written file durable and puts it in place under its name, durably too.
func (o *outFile) commit() error {
	if err := o.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	if err := o.Close(); err != nil {
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	if err := os.Rename(o.Name(), o.path); err != nil {
		if fi, serr := os.Stat(o.path); serr == nil && fi.IsDir() {
			return fmt.Errorf("cannot write --out %s: it is a folder", o.path)
		}
		return fmt.Errorf("cannot write --out %s: %w", o.path, unwrapPathError(err))
	}
	o.done = true
	if err := syncDir(filepath.Dir(o.path)); err != nil {
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	return nil
}

// syncDir fsyncs the folder dir, making a rename into it durable: a file's own fsync covers its bytes, not the
// folder entry that gives it its name, and after a crash the name could otherwise be missing.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}

// discard removes the file unless it was committed; safe to defer.
func (o *outFile) discard() {
	if o != nil && !o.done {
		o.Close()
		os.Remove(o.Name())
	}
}
