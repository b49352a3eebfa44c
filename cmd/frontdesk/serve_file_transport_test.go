package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// With the file transport nothing leaves the server: serve says so at start, naming the folder the email is
// written to; with SMTP it says nothing of the kind.
func TestServeWarnsThatTheFileTransportSendsNothing(t *testing.T) {
	for _, transport := range []string{"file", "smtp"} {
		dir := t.TempDir()
		mail := filepath.Join(dir, "mail")
		srv := startServer(t, "FRONTDESK_DB="+filepath.Join(dir, "frontdesk.db"), "FRONTDESK_MAIL_DIR="+mail,
			"FRONTDESK_MAIL_TRANSPORT="+transport, "FRONTDESK_SMTP_HOST=127.0.0.1", "FRONTDESK_SMTP_TLS=none")
		srv.stop(t, syscall.SIGTERM, 10*time.Second)
		warning := "written to " + mail + " (not sent: the file transport is for trying Frontdesk)"
		if got := strings.Contains(srv.logs.String(), warning); got != (transport == "file") {
			t.Errorf("%s transport: warning %q logged %v:\n%s", transport, warning, got, srv.logs)
		}
	}
}
