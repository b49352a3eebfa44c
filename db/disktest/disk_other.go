//go:build !linux

package disktest

import "testing"

// Disk is a small tmpfs mounted at Dir until the test ends; only Linux has one to mount.
type Disk struct {
	// Dir is where the file system is mounted.
	Dir string
}

// Small skips the test: tmpfs mounts are Linux only.
func Small(t testing.TB, size int64) *Disk {
	t.Skip("storage-fault tests mount a tmpfs, which needs Linux")
	return nil
}

// Fill is not reached off Linux.
func (d *Disk) Fill() (free func()) { return func() {} }

// ReadOnly is not reached off Linux.
func (d *Disk) ReadOnly() {}

// Writable is not reached off Linux.
func (d *Disk) Writable() {}
