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
