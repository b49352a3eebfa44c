package mailer

import "golang.org/x/sys/unix"

// syncFiles flushes each staged file to disk and returns one error per file. One syncfs(2) first writes
// everything dirty on the folder's file system in a single journal commit, which costs about what one fsync
// does, instead of one commit per file; the fsync of each file after it is then cheap, and is what reports an
// error of that file's writing reliably (syncfs reports write-back errors only since Linux 5.8).
func syncFiles(files []staged) []error {
	errs := make([]error, len(files))
	if len(files) > 1 {
		_ = unix.Syncfs(int(files[0].f.Fd()))
	}
	for i, s := range files {
		errs[i] = s.f.Sync()
	}
	return errs
}
