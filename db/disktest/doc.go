// Package disktest gives tests real storage faults to run against: a small tmpfs mounted for one test, which
// can be filled until writes fail with "no space left on device", and remounted read-only and writable again.
// Mounting needs root (CI runs as root); a test that may not mount is skipped, and any other failure fails
// it. Only tests import it.
package disktest
