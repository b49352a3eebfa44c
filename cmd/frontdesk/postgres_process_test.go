package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm/mailer"
	"github.com/frontdesk/frontdesk/crm/mailer/mailertest"
	"github.com/frontdesk/frontdesk/db/pgtest"
)

// loadBoth posts enquiries to every server in turn from 8 clients until ctx ends, and returns the references
// answered 201. A server that is gone simply fails its requests.
func loadBoth(ctx context.Context, servers ...*server) []string {
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				s := servers[(w+i)%len(servers)]
				if ref, err := postEnquiry(client, s.url(""), int(time.Now().UnixNano()%1e12)*10+w); err == nil {
					mu.Lock()
					acked = append(acked, ref)
					mu.Unlock()
				}
			}
		}(w)
	}
	wg.Wait()
	return acked
}

// messageIDs counts the messages the SMTP server received by Message-ID.
func messageIDs(t *testing.T, got []mailertest.Received) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for _, r := range got {
		m, err := mail.ReadMessage(bytes.NewReader(r.Data))
		if err != nil {
			t.Fatalf("a received message does not parse: %v", err)
		}
		ids[m.Header.Get("Message-ID")]++
	}
	return ids
}

// waitDrained waits until the outbox has nothing queued, and returns how many rows it holds, all sent.
func waitDrained(t *testing.T, pg *sql.DB, within time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var queued, sent, other int
		if err := pg.QueryRow(`SELECT count(*) FILTER (WHERE status = 'queued'), count(*) FILTER (WHERE status = 'sent'),
			count(*) FILTER (WHERE status NOT IN ('queued', 'sent')) FROM outbox`).Scan(&queued, &sent, &other); err != nil {
			t.Fatal(err)
		}
		if other > 0 {
			t.Fatalf("%d outbox rows neither queued nor sent", other)
		}
		if queued == 0 {
			return sent
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d emails still queued after %s", queued, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Two serve processes on one PostgreSQL database behave as one. Under intake spread over both, every enquiry
// answered 201 is stored once with its two emails, and the two mail workers deliver each email exactly once.
// Then one is killed with kill -9 under load: still no acknowledged enquiry is lost, the survivor sends what the
// dead one had claimed once its lease runs out, and only messages the dead one held at the kill may arrive
// twice (it may have handed them to the server before it could mark them sent).
func TestTwoServersOnOnePostgresActAsOne(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	url := pgtest.URL(t)
	smtpSrv := mailertest.Start(t, mailertest.Options{})
	host, port, _ := net.SplitHostPort(smtpSrv.Addr)
	env := []string{"FRONTDESK_DB=" + url, "FRONTDESK_MAIL_TRANSPORT=smtp", "FRONTDESK_SMTP_HOST=" + host,
		"FRONTDESK_SMTP_PORT=" + port, "FRONTDESK_SMTP_TLS=none", "FRONTDESK_INTAKE_INBOX=intake@clinic.example"}
	a, b := startServer(t, env...), startServer(t, env...)
	pg, err := sql.Open(pgtest.DriverName, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()

	// Both alive.
	ctx, stop := context.WithTimeout(context.Background(), 2*time.Second)
	acked := loadBoth(ctx, a, b)
	stop()
	if len(acked) < 40 {
		t.Fatalf("only %d enquiries acknowledged: the load did not run", len(acked))
	}
	sent := waitDrained(t, pg, 60*time.Second)
	if sent != 2*len(acked) {
		t.Errorf("%d emails sent for %d acknowledged enquiries, want %d", sent, len(acked), 2*len(acked))
	}
	ids := messageIDs(t, smtpSrv.Wait(t, sent, 30*time.Second))
	for id, n := range ids {
		if n > 1 {
			t.Errorf("message %s delivered %d times by two live processes", id, n)
		}
	}
	if len(ids) != sent {
		t.Errorf("%d distinct messages delivered, want %d", len(ids), sent)
	}

	// One killed mid-load.
	ctx, stop = context.WithCancel(context.Background())
	done := make(chan []string)
	go func() { done <- loadBoth(ctx, a, b) }()
	time.Sleep(1200 * time.Millisecond)
	a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.done
	time.Sleep(500 * time.Millisecond)
	stop()
	more := <-done
	acked = append(acked, more...)
	// The survivor takes over the dead one's claims after the lease (15 s).
	sent = waitDrained(t, pg, 90*time.Second)
	withMail := 0
	for _, ref := range acked {
		var n int
		if err := pg.QueryRow(`SELECT count(*) FROM outbox o JOIN enquiries e ON e.id = o.enquiry_id
			WHERE e.reference = $1 AND o.kind IN ('confirmation', 'staff_new')`, ref).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			withMail++
		}
	}
	if withMail != len(acked) {
		t.Fatalf("%d of %d acknowledged enquiries are not stored with their two emails", len(acked)-withMail, len(acked))
	}
	var rows int
	if err := pg.QueryRow(`SELECT count(*) FROM enquiries`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows < len(acked) {
		t.Fatalf("%d enquiries stored, %d acknowledged", rows, len(acked))
	}
	if sent != 2*rows {
		t.Errorf("%d emails sent for %d enquiries, want %d", sent, rows, 2*rows)
	}
	ids = messageIDs(t, smtpSrv.Wait(t, sent, 30*time.Second))
	twice := 0
	for _, n := range ids {
		if n > 1 {
			twice += n - 1
		}
	}
	if len(ids) != sent {
		t.Errorf("%d distinct messages delivered, want every one of the %d sent", len(ids), sent)
	}
	// The dead process can have held at most one claimed batch.
	if twice > mailer.DefaultBatch {
		t.Errorf("%d messages delivered twice after the kill; only the dead process's batch in flight may be", twice)
	}
	t.Logf("%d enquiries acknowledged over both phases, all stored with their emails; %d emails, %d delivered twice after the kill", len(acked), sent, twice)
	if code := b.stop(t, syscall.SIGTERM, 25*time.Second); code != 0 {
		t.Errorf("the survivor exited %d:\n%s", code, b.logs.String())
	}
}

// The intake rate limit counts across processes on PostgreSQL: with FRONTDESK_INTAKE_PER_MINUTE=3, a client
// that sent two enquiries to one process and one to another is refused its fourth by either.
func TestIntakeLimitIsSharedOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	env := []string{"FRONTDESK_DB=" + pgtest.URL(t), "FRONTDESK_MAIL_DIR=" + t.TempDir(), "FRONTDESK_INTAKE_PER_MINUTE=3"}
	a, b := startServer(t, env...), startServer(t, env...)
	for i, s := range []*server{a, a, b} {
		if _, err := postEnquiry(http.DefaultClient, s.url(""), i); err != nil {
			t.Fatalf("enquiry %d: %v", i+1, err)
		}
	}
	for _, s := range []*server{a, b} {
		_, err := postEnquiry(http.DefaultClient, s.url(""), 9)
		if err == nil || err.Error() != "status 429" {
			t.Errorf("fourth enquiry in a minute: %v, want status 429", err)
		}
	}
}

// csrfInput finds the CSRF token of a staff page's form.
var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// getPage fetches path with client and returns the status, the Location and the form's CSRF token, if any.
func getPage(t *testing.T, c *http.Client, url string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	token := ""
	if m := csrfInput.FindSubmatch(body); m != nil {
		token = string(m[1])
	}
	return resp.StatusCode, resp.Header.Get("Location"), token
}

// A staff member's session works on every process: signed in through one, the next page comes from the other,
// a form fetched from one is accepted by the other, and signing out on one ends the session on both.
func TestStaffSessionWorksOnEveryProcessOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	env := []string{"FRONTDESK_DB=" + pgtest.URL(t), "FRONTDESK_MAIL_DIR=" + t.TempDir(), "FRONTDESK_REQUIRE_2FA=off"}
	const password = "Velvet harbour lantern 2026 quiet"
	if code, _, stderr := runCLI(t, password+"\n", env, "user", "add", "--email", "sam@clinic.example", "--name",
		"Sam Coordinator", "--role", "coordinator"); code != 0 {
		t.Fatalf("user add: %d %s", code, stderr)
	}
	a, b := startServer(t, env...), startServer(t, env...)
	jar, _ := cookiejar.New(nil) // cookies are not kept apart by port: both processes get them
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	_, _, token := getPage(t, c, a.url("/login"))
	if token == "" {
		t.Fatal("no CSRF token on /login")
	}
	resp, err := c.PostForm(b.url("/login"), url.Values{"email": {"sam@clinic.example"}, "password": {password}, "_csrf": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || strings.HasPrefix(loc, "/login") {
		t.Fatalf("sign in on B with A's form: %d to %q", resp.StatusCode, loc)
	}
	for _, s := range []*server{a, b} {
		if code, loc, _ := getPage(t, c, s.url("/enquiries")); code != http.StatusOK {
			t.Errorf("/enquiries on %s after signing in: %d to %q", s.addr, code, loc)
		}
	}
	_, _, token = getPage(t, c, a.url("/enquiries"))
	resp, err = c.PostForm(b.url("/logout"), url.Values{"_csrf": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out on B: %d", resp.StatusCode)
	}
	if code, loc, _ := getPage(t, c, a.url("/enquiries")); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Errorf("/enquiries on A after signing out on B: %d to %q, want the sign-in page", code, loc)
	}
}
