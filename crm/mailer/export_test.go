package mailer

// SetBeforeRename makes t call fn once each batch is written and flushed, before it is renamed into place: a
// test's way to change the folder at that moment.
func SetBeforeRename(t *FileTransport, fn func()) { t.beforeRename = fn }
