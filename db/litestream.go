package db

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"time"
)

// litestream pauses Litestream's replication of the database around Scrub's truncation of the WAL.
//
// Litestream (docs/litestream.yml) keeps a read transaction open on the database between two of its own
// checkpoints and lets go of it only for the length of one. While that transaction is open no other connection
// may copy the WAL into the database file or empty it, so an erasure's scrub would never finish; and waiting
// for Litestream's checkpoint does not help either, since the WAL starts again from its beginning without being
// truncated, old frames and all. Litestream's control socket (`socket:` in its configuration, named to
// Frontdesk by FRONTDESK_LITESTREAM_SOCKET) stops the replication of one database — after a last sync, so the
// replica misses nothing — and starts it again, picking up whatever was written meanwhile.
type litestream struct {
	socket, dbPath string
	client         *http.Client
}

// litestreamTimeout bounds each request, and is the wait Litestream is given for its last sync when stopping.
const litestreamTimeout = 30 * time.Second

// newLitestream returns nil when socket is empty: no Litestream to pause.
func newLitestream(socket, dbPath string) *litestream {
	if socket == "" {
		return nil
	}
	if abs, err := filepath.Abs(dbPath); err == nil {
		dbPath = abs // Litestream knows the database by the absolute path in its configuration
	}
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", socket)
	}
	return &litestream{socket: socket, dbPath: dbPath, client: &http.Client{
		Transport: &http.Transport{DialContext: dial},
		Timeout:   litestreamTimeout + 5*time.Second,
	}}
}

// errNoLitestream is pause's answer when nothing listens on the socket: Litestream is not running, and holds
// nothing.
var errNoLitestream = errors.New("litestream is not running")

// pause stops the replication of the database; it returns errNoLitestream when Litestream is not running.
func (l *litestream) pause(ctx context.Context) error {
	err := l.call(ctx, "stop")
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("%w (%s: %v)", errNoLitestream, l.socket, op.Err)
	}
	return err
}

// resume starts the replication of the database again.
func (l *litestream) resume(ctx context.Context) error { return l.call(ctx, "start") }

// call POSTs {"path": …, "timeout": …} to Litestream's /stop or /start and checks its answer.
func (l *litestream) call(ctx context.Context, op string) error {
	body, _ := json.Marshal(map[string]any{"path": l.dbPath, "timeout": int(litestreamTimeout.Seconds())})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://litestream/"+op, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.client.Do(req)
	if err != nil {
		return fmt.Errorf("litestream %s: %w", op, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(msg, &e) != nil || e.Error == "" {
			e.Error = resp.Status
		}
		return fmt.Errorf("litestream %s %s: %s", op, l.dbPath, e.Error)
	}
	return nil
}
