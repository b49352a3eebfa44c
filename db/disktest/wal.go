package disktest

import (
	"database/sql"
	"testing"

	_ "github.com/mattn/go-sqlite3" // the driver of EmptyWAL's own connection
)

// EmptyWAL checkpoints the write-ahead log of the SQLite database at path into the database file and truncates
// it to nothing, from a connection of its own (as another process could), so that the next write needs new
// blocks of the disk.
func EmptyWAL(t testing.TB, path string) {
	t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var busy, frames, copied int
	if err := raw.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied); err != nil || busy != 0 {
		t.Fatalf("truncate the WAL: busy %d (%v)", busy, err)
	}
}
