// Package disktest gives tests real storage faults to run against: a small tmpfs mounted for one test, which
// can be filled until writes fail with "no space left on device", and remounted read-only and writable again.
// Mounting needs root: a test that may not mount is skipped, except in CI (which runs as root), where that fails
// it, as does any other failure. EmptyWAL readies a database for such a fault. Only tests import it.
package disktest
