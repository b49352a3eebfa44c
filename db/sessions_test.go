package db

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// fiberStorage is Fiber v2's fiber.Storage, restated so that db need not import Fiber.
type fiberStorage interface {
	Get(key string) ([]byte, error)
	Set(key string, val []byte, exp time.Duration) error
	Delete(key string) error
	Reset() error
	Close() error
}

var _ fiberStorage = (*SessionStore)(nil)

func TestSessionStore(t *testing.T) {
	d := openTest(t)
	s := d.Sessions()
	get := func(key string) []byte {
		t.Helper()
		v, err := s.Get(key)
		if err != nil {
			t.Fatalf("Get %q: %v", key, err)
		}
		return v
	}
	if v := get("missing"); v != nil {
		t.Errorf("missing key gave %q", v)
	}
	if err := s.Set("a", []byte("one"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("forever", []byte("kept"), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("gone", []byte("old"), -time.Second); err != nil {
		t.Fatal(err)
	}
	if v := get("a"); !bytes.Equal(v, []byte("one")) {
		t.Errorf("a = %q", v)
	}
	if err := s.Set("a", []byte("two"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if v := get("a"); !bytes.Equal(v, []byte("two")) {
		t.Errorf("a after Set again = %q", v)
	}
	if v := get("forever"); !bytes.Equal(v, []byte("kept")) {
		t.Errorf("forever = %q", v)
	}
	if v := get("gone"); v != nil {
		t.Errorf("expired session gave %q", v)
	}
	if err := s.Set("", []byte("x"), 0); err != nil || get("") != nil {
		t.Errorf("empty key: %v", err)
	}

	n, err := d.PurgeExpiredSessions(context.Background())
	if err != nil || n != 1 {
		t.Errorf("purged %d, %v; want the expired one", n, err)
	}
	if c := count(t, d, `SELECT count(*) FROM sessions`); c != 2 {
		t.Errorf("%d sessions left, want 2", c)
	}

	if err := s.Delete("a"); err != nil || get("a") != nil {
		t.Errorf("Delete: %v", err)
	}
	if err := s.Delete("a"); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}
	if err := s.Reset(); err != nil || get("forever") != nil {
		t.Errorf("Reset: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}

// TestSessionsWorkFromEveryProcess: a session saved by one process (one handle on the database) is read,
// replaced and ended by another, as behind a load balancer; the value comes back byte for byte (Fiber's
// session data is binary: BYTEA on PostgreSQL, BLOB on SQLite).
func TestSessionsWorkFromEveryProcess(t *testing.T) {
	a := openTest(t)
	b := otherProcess(t, a)
	one, other := a.Sessions(), b.Sessions()
	val := []byte{0x00, 0xff, 0xfe, 'g', 'o', 'b', 0x00, 0x80, '\n'}
	if err := one.Set("k1", val, time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, err := other.Get("k1"); err != nil || !bytes.Equal(got, val) {
		t.Fatalf("the other process read %q (%v), want %q", got, err, val)
	}
	if err := other.Set("k1", []byte("renewed"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, err := one.Get("k1"); err != nil || string(got) != "renewed" {
		t.Errorf("after the other process saved it: %q (%v)", got, err)
	}
	if err := other.Delete("k1"); err != nil {
		t.Fatal(err)
	}
	if got, err := one.Get("k1"); err != nil || got != nil {
		t.Errorf("ended by the other process, yet read %q (%v)", got, err)
	}
}
