package disktest

import (
	"database/sql"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the driver of EmptyWAL's own connection
)

// EmptyWAL checkpoints the write-ahead log of the SQLite database at path into the database file and truncates
// it to nothing, from a connection of its own (as another process could), so that the next write needs new
// blocks of the disk. A checkpoint already running (the server's own, every 200 ms) makes SQLite answer busy at
// once, without waiting: it tries again for up to 10 s.
func EmptyWAL(t testing.TB, path string) {
	t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var busy, frames, copied int
		err := raw.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied)
		if err == nil && busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("truncate the WAL: busy %d (%v)", busy, err)
		}
	}
}
