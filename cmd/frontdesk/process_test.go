package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

func postEnquiry(client *http.Client, base string, i int) (string, error) {
	body := fmt.Sprintf(`{"name":"Patient %d","email":"p%d@example.org","treatment":"adhd","consent":true}`, i, i)
	resp, err := client.Post(base+"/api/v1/enquiries", "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	var got struct{ Reference string }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		return "", err
	}
	return got.Reference, nil
}

// TestAcknowledgedEnquiriesSurviveKill9 runs serve under concurrent intake, kills it with SIGKILL at a random
// moment, and checks that every enquiry answered 201 is in the database with its emails queued, and that the
// file is sound. It repeats the cycle on the same database, each cycle restarting serve on what the last one
// left, and restarts it once more after the last kill.
func TestAcknowledgedEnquiriesSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "frontdesk.db")
	var acked []string
	env := []string{"FRONTDESK_DB=" + dbPath, "FRONTDESK_MAIL_DIR=" + filepath.Join(dir, "mail"),
		"FRONTDESK_INTAKE_INBOX=intake@clinic.example"}
	for cycle := 0; cycle < 3; cycle++ {
		srv := startServer(t, env...)
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
		ctx, stop := context.WithCancel(context.Background())
		var mu sync.Mutex
		var wg sync.WaitGroup
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					ref, err := postEnquiry(client, srv.url(""), cycle*1_000_000+w*10_000+i)
					if err == nil {
						mu.Lock()
						acked = append(acked, ref)
						mu.Unlock()
					}
				}
			}(w)
		}
		time.Sleep(time.Duration(300+rand.IntN(700)) * time.Millisecond)
		srv.cmd.Process.Signal(syscall.SIGKILL)
		<-srv.done
		stop()
		wg.Wait()
	}
	if len(acked) < 50 {
		t.Fatalf("only %d enquiries acknowledged: the load did not run", len(acked))
	}
	// serve starts again on what the last kill left, and is ready.
	srv := startServer(t, env...)
	if resp, err := http.Get(srv.url("/readyz")); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz after the last kill: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if code := srv.stop(t, syscall.SIGTERM, 25*time.Second); code != 0 {
		t.Fatalf("serve after the last kill exited %d:\n%s", code, srv.logs.String())
	}
	db, err := sql.Open("sqlite3", "file:"+dbPath+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var integrity string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check = %q, %v", integrity, err)
	}
	missing := 0
	for _, ref := range acked {
		// Each has its confirmation and the notice to the intake inbox (nobody treats it, so no assignment).
		var mails int
		err := db.QueryRow(`SELECT count(*) FROM outbox o JOIN enquiries e ON e.id = o.enquiry_id
			WHERE e.reference = ? AND o.kind IN ('confirmation', 'staff_new')`, ref).Scan(&mails)
		if err != nil {
			t.Fatal(err)
		}
		if mails != 2 {
			missing++
			if missing < 5 {
				t.Errorf("enquiry %s was answered 201 but is not on disk with its two emails (%d)", ref, mails)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged enquiries lost", missing, len(acked))
	}
	t.Logf("%d acknowledged enquiries over 3 kill -9 cycles, all on disk with their emails", len(acked))
}

// TestServeStopsCleanlyOnSignal: SIGTERM and SIGINT drain and exit 0.
func TestServeStopsCleanlyOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		dir := t.TempDir()
		srv := startServer(t, "FRONTDESK_DB="+filepath.Join(dir, "f.db"), "FRONTDESK_MAIL_DIR="+filepath.Join(dir, "mail"))
		if _, err := postEnquiry(http.DefaultClient, srv.url(""), 1); err != nil {
			t.Fatal(err)
		}
		if code := srv.stop(t, sig, 25*time.Second); code != 0 {
			t.Errorf("%v: exit %d\n%s", sig, code, srv.logs.String())
		}
		if !strings.Contains(srv.logs.String(), "stopped") {
			t.Errorf("%v: no clean stop in the log:\n%s", sig, srv.logs.String())
		}
	}
}

// TestServeRefusesABadSettingWithStatus2 runs the real binary: one line naming the setting, exit 2.
func TestServeRefusesABadSettingWithStatus2(t *testing.T) {
	code, _, stderr := runCLI(t, "", []string{"FRONTDESK_SMTP_TLS=opportunistic"}, "serve")
	if code != 2 || !strings.Contains(firstLine(stderr), "FRONTDESK_SMTP_TLS") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
