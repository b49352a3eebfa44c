package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Without an intake inbox, urgent notices of unassigned risk enquiries reach only the administrators: serve says
// so at start, and says nothing when the inbox is set.
func TestServeWarnsWithoutAnIntakeInbox(t *testing.T) {
	const warning = "FRONTDESK_INTAKE_INBOX is not set"
	for _, c := range []struct {
		inbox string
		warn  bool
	}{{"", true}, {"intake@clinic.example", false}} {
		dir := t.TempDir()
		srv := startServer(t, "FRONTDESK_DB="+filepath.Join(dir, "frontdesk.db"), "FRONTDESK_MAIL_DIR="+filepath.Join(dir, "mail"),
			"FRONTDESK_INTAKE_INBOX="+c.inbox)
		srv.stop(t, syscall.SIGTERM, 10*time.Second)
		if got := strings.Contains(srv.logs.String(), warning); got != c.warn {
			t.Errorf("inbox %q: warning logged %v, want %v:\n%s", c.inbox, got, c.warn, srv.logs)
		}
	}
}
