//go:build unix

package db

import "golang.org/x/sys/unix"

// freeBytes returns the space the file system holding dir gives to a process that is not root, and true; false
// when it cannot be read.
func freeBytes(dir string) (uint64, bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}
