package main

import (
	"database/sql"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/db/disktest"
)

// TestServeOnAReadOnlyFileSystemIsNotReady: serve is killed (its WAL and shared-memory files left behind) and
// the file system comes back read-only, as the kernel remounts one after I/O errors. serve starts — it can
// still read — but /readyz must answer 503, not 200, and an enquiry 503 with Retry-After, not 500. Made
// writable again, the same process is ready and stores enquiries, with no restart.
func TestServeOnAReadOnlyFileSystemIsNotReady(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	disk := disktest.Small(t, 16<<20)
	dbPath := filepath.Join(disk.Dir, "frontdesk.db")
	env := []string{"FRONTDESK_DB=" + dbPath, "FRONTDESK_MAIL_DIR=" + filepath.Join(t.TempDir(), "mail"),
		"FRONTDESK_INTAKE_INBOX=intake@clinic.example"}
	client := &http.Client{Timeout: 10 * time.Second}

	srv := startServer(t, env...)
	for i := 0; i < 3; i++ {
		if _, err := postEnquiry(client, srv.url(""), i); err != nil {
			t.Fatalf("enquiry %d before the fault: %v", i, err)
		}
	}
	srv.kill()
	disk.ReadOnly()

	srv = startServer(t, env...)
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := client.Get(srv.url(path))
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, text := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz on a read-only file system: %d %q, want 503", code, text)
	}
	resp, err := client.Post(srv.url("/api/v1/enquiries"), "application/json",
		strings.NewReader(`{"name":"Patient Ro","email":"ro@example.org","treatment":"adhd","consent":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("enquiry on a read-only file system: %d, Retry-After %q; want 503 with Retry-After",
			resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	disk.Writable()
	if code, text := get("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz once writable again: %d %q, want 200\n%s", code, text, srv.logs.String())
	}
	if _, err := postEnquiry(client, srv.url(""), 3); err != nil {
		t.Fatalf("enquiry once writable again: %v\n%s", err, srv.logs.String())
	}
	srv.kill()
	raw, err := sql.Open("sqlite3", "file:"+dbPath+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM enquiries`).Scan(&n); err != nil || n != 4 {
		t.Errorf("%d enquiries on disk (%v), want 4: three before the fault and one after", n, err)
	}
}
