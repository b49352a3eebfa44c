package db

import "testing"

// TestMessageIDsAreUniqueAndInTimeOrder: 32 hex digits, never the same twice, and later ones sort after earlier
// ones, so new outbox rows go to the end of the message_id index.
func TestMessageIDsAreUniqueAndInTimeOrder(t *testing.T) {
	seen := map[string]bool{}
	var last string
	for i := range 1000 {
		id, err := newMessageID(int64(1_700_000_000_000 + i/10))
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 32 || seen[id] {
			t.Fatalf("id %q: length %d, seen before %v", id, len(id), seen[id])
		}
		seen[id] = true
		if id[:12] < last {
			t.Fatalf("id %q sorts before the earlier %q", id, last)
		}
		last = id[:12]
	}
}
