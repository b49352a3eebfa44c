package mailer_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/mailer/mailertest"
)

// lines returns the log lines that contain every one of parts.
func lines(log string, parts ...string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		ok := l != ""
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// patients returns n different patients' addresses.
func patients(n int) []string {
	var emails []string
	for i := range n {
		emails = append(emails, fmt.Sprintf("patient%d@patient.example", i))
	}
	return emails
}

func TestAnOutageIsLoggedWhenItStartsAndEndsNotForEveryMessage(t *testing.T) {
	d := openDB(t)
	addr := freeAddr(t)
	emails := patients(10)
	for _, e := range emails {
		enquire(t, d, "Ann Example", e, true) // 20 messages in all
	}
	_, logs, stop := startWorker(t, d, smtpTransport(t, addr, nil), fastConfig())

	// The server stays down while every message is tried at least three times.
	waitOutbox(t, d, 10*time.Second, "tried three times", func(es []crm.OutboxEntry) bool {
		for _, e := range es {
			if e.Attempts < 3 {
				return false
			}
		}
		return len(es) == 20
	})
	srv := mailertest.Start(t, mailertest.Options{Addr: addr})
	srv.Wait(t, 20, 10*time.Second)
	waitOutbox(t, d, 5*time.Second, "all sent", allStatus(crm.OutboxSent))
	stop()

	out := logs.String()
	if warns := lines(out, "level=WARN"); len(warns) != 1 {
		t.Errorf("%d warnings for one outage, want 1:\n%s", len(warns), strings.Join(warns, "\n"))
	}
	start := lines(out, "level=WARN", `msg="mail delivery failing, will retry"`, `error_class="connection refused"`)
	if len(start) != 1 {
		t.Errorf("the outage's start is not logged once with its class:\n%s", out)
	}
	end := lines(out, "level=INFO", `msg="mail delivery resumed"`)
	if len(end) != 1 || !strings.Contains(end[0], "messages=20 ") {
		t.Errorf("the outage's end is not logged once with the 20 messages that waited: %q", end)
	}
	if n := len(lines(out, `msg="mail sent"`)); n != 20 {
		t.Errorf("%d messages logged sent, want 20", n)
	}
	logs.noPersonalData(t, emails...)
}

func TestALongOutageIsSummarisedAtMostOncePerWarnEvery(t *testing.T) {
	d := openDB(t)
	enquire(t, d, "Ann Example", "ann@patient.example", true)
	cfg := fastConfig()
	cfg.WarnEvery = 150 * time.Millisecond
	began := time.Now()
	_, logs, stop := startWorker(t, d, smtpTransport(t, freeAddr(t), nil), cfg)
	deadline := time.Now().Add(10 * time.Second)
	for len(lines(logs.String(), `msg="mail delivery still failing, will retry"`)) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("no summaries of the outage:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	elapsed := time.Since(began)
	summaries := lines(logs.String(), `msg="mail delivery still failing, will retry"`, "messages=2 ", `error_class="connection refused"`)
	if limit := int(elapsed/cfg.WarnEvery) + 1; len(summaries) < 3 || len(summaries) > limit {
		t.Errorf("%d summaries with the count and class in %s, want 3 to %d:\n%s", len(summaries), elapsed, limit, logs)
	}
	if n := len(lines(logs.String(), "level=WARN")); n != len(summaries)+1 {
		t.Errorf("%d warnings, want the start and the %d summaries only", n, len(summaries))
	}
}
