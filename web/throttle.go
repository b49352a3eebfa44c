package web

import (
	"strings"
	"sync"
	"time"
)

// Sign-in throttling, per NIST SP 800-63B §5.2.2 rather than a lockout: failures are counted per account and
// client address, and per client address. A client over either limit is refused (429 with Retry-After) until
// its window ends, whatever it sends; other clients — the real user at their desk — sign in as usual. The
// consecutive failures on an account from every client are counted in the database as well (crm), up to
// crm.MaxFailedSignIns.
const (
	// signInWindow is how long failures are remembered, from the first.
	signInWindow = 15 * time.Minute
	// failuresPerAccountAndClient are allowed on one account from one client address in a window.
	failuresPerAccountAndClient = 5
	// failuresPerClient are allowed from one client address, on any accounts, in a window.
	failuresPerClient = 20
	// throttlePruneAt is the number of remembered keys past which expired ones are swept out.
	throttlePruneAt = 10000
)

// signInThrottle counts failed sign-ins in memory (one process: Prefork stays off).
type signInThrottle struct {
	mu      sync.Mutex
	now     func() time.Time
	pairs   map[string]*failures
	clients map[string]*failures
}

// failures are the failed attempts of one key since start.
type failures struct {
	n     int
	start time.Time
}

func newSignInThrottle() *signInThrottle {
	return &signInThrottle{now: time.Now, pairs: map[string]*failures{}, clients: map[string]*failures{}}
}

// accountKey is how an account is named to the throttle: the email as typed, trimmed and lower-cased.
func accountKey(email string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 320 {
		email = email[:320]
	}
	return email
}

func pairKey(client, account string) string { return client + "\x00" + account }

// wait returns how long client must wait before it may try account again; 0 when it may now.
func (t *signInThrottle) wait(client, account string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	return max(t.blocked(t.pairs, pairKey(client, account), failuresPerAccountAndClient, now),
		t.blocked(t.clients, client, failuresPerClient, now))
}

func (t *signInThrottle) blocked(m map[string]*failures, key string, limit int, now time.Time) time.Duration {
	f, ok := m[key]
	if !ok {
		return 0
	}
	end := f.start.Add(signInWindow)
	if !now.Before(end) {
		delete(m, key)
		return 0
	}
	if f.n < limit {
		return 0
	}
	return end.Sub(now)
}

// failed counts a failed attempt by client on account.
func (t *signInThrottle) failed(client, account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	count(t.pairs, pairKey(client, account), now)
	count(t.clients, client, now)
}

// count adds a failure to key, starting a new window when the last one has ended.
func count(m map[string]*failures, key string, now time.Time) {
	if len(m) >= throttlePruneAt {
		prune(m, now)
	}
	f, ok := m[key]
	if !ok || !now.Before(f.start.Add(signInWindow)) {
		m[key] = &failures{n: 1, start: now}
		return
	}
	f.n++
}

// succeeded forgets client's failures on account (its failures on other accounts still count).
func (t *signInThrottle) succeeded(client, account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pairs, pairKey(client, account))
}

// prune removes the keys whose window has ended.
func prune(m map[string]*failures, now time.Time) {
	for k, f := range m {
		if !now.Before(f.start.Add(signInWindow)) {
			delete(m, k)
		}
	}
}
