//go:build !unix

package db

// freeBytes cannot read a file system's free space here: WriteHealth relies on its write probe alone.
func freeBytes(string) (uint64, bool) { return 0, false }
