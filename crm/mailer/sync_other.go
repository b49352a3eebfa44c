//go:build !linux

package mailer

// syncFiles flushes each staged file to disk and returns one error per file.
func syncFiles(files []staged) []error {
	errs := make([]error, len(files))
	for i, s := range files {
		errs[i] = s.f.Sync()
	}
	return errs
}
