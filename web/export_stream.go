package web

import (
	"context"
	"log/slog"
	"mime"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/frontdesk/frontdesk/crm/report"
	"github.com/gofiber/fiber/v2"
)

// How an export reaches the client
//
// fasthttp streams a body of unknown length (SetBodyStreamWriter) through an in-memory pipe and sends it in
// chunks of 4 KiB, each flushed with its own write: a million rows (≈ 400 MB) is ≈ 100,000 writes, and on this
// kind of machine a 4 KiB write to a socket costs as much as formatting ten rows. So an export writes its
// response itself, on the connection, in chunks of chunkSize: the status line and headers as Fiber and the
// middleware left them, then the body in HTTP/1.1 chunked encoding, ended by the last chunk only when the whole
// export was written — a download cut short is visibly incomplete to the client, never a short file that looks
// whole. The connection is closed afterwards (Connection: close).
//
// fasthttp is told not to answer itself (Hijack with no response). On a connection's first request nothing can
// be waiting to go out before the export, and the export is written on the handler's goroutine: the server's
// shutdown waits for it like any request, and app.Test sees the whole response. On a later request of a
// keep-alive connection, fasthttp may still hold the answer to an earlier request (a client that pipelines
// sends the next request before reading that answer); it sends what it holds before it calls the hijack
// handler, so the export is written from there, and a shutdown waits for it separately (exportsInFlight).

// exportIdle is how long a download may go without the client taking any of it before it is cut off. The
// server's WriteTimeout bounds a whole response; an export of a million rows may take longer than that, so
// each write pushes the connection's deadline on by this much instead.
const exportIdle = 60 * time.Second

// exportDrain is how long a shutdown waits for exports still being written from a hijacked connection.
const exportDrain = 20 * time.Second

// chunkSize is the most body bytes in one chunk, and so in one write to the connection.
const chunkSize = 256 << 10

// exportsInFlight counts the exports written from hijacked connections, for the shutdown to wait on.
type exportsInFlight struct{ sync.WaitGroup }

// wait waits for the exports in flight, at most for d; it reports whether they all ended.
func (x *exportsInFlight) wait(d time.Duration) bool {
	done := make(chan struct{})
	go func() { x.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// streamExport sends an opened export as the response, streamed: the headers and the status now, then the
// rows as they are read. By the time it is called every check has passed and the query is open, so a failure
// can no longer change the status: it is logged, and the connection is closed without the last chunk, so the
// client sees an incomplete download rather than a short file that looks whole.
func (s *server) streamExport(c *fiber.Ctx, exp *report.Export) error {
	c.Status(fiber.StatusOK)
	c.Set(fiber.HeaderContentType, exp.ContentType())
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": exp.Filename()}))
	c.Set(fiber.HeaderCacheControl, "no-store")
	if c.Method() == fiber.MethodHead { // the checks passed; nothing is exported, so nothing is recorded
		return exp.Close()
	}
	h := &c.Response().Header
	h.SetContentLength(-1) // Transfer-Encoding: chunked
	h.SetConnectionClose()
	head := append([]byte(nil), h.Header()...)
	// Nothing from c may be used once the handler returns: on a hijacked connection the export runs after it.
	reqID, log := requestID(c), s.log
	send := func(conn net.Conn) {
		out := &chunkedWriter{conn: conn, buf: make([]byte, chunkHead, chunkHead+chunkSize+2)}
		_, err := out.writeHead(head)
		if err == nil {
			_, err = exp.WriteTo(out)
		} else {
			exp.Close()
		}
		if err == nil {
			err = out.end()
		}
		if err != nil {
			log.LogAttrs(context.Background(), slog.LevelWarn, "export cut short", slog.String("request_id", reqID),
				slog.String("format", string(exp.Format())), slog.Any("error", err))
		}
		// Returning closes the connection (Connection: close), with the last chunk only when it was all sent.
	}
	fctx := c.Context()
	fctx.HijackSetNoResponse(true)
	if fctx.ConnRequestNum() == 1 {
		fctx.Hijack(func(net.Conn) {})
		send(fctx.Conn())
		return nil
	}
	// fasthttp calls the hijack handler as soon as the handler returns, unless the connection failed before
	// (it could not send what it held, or set a deadline): then the export is given up after exportIdle, so its
	// query and its slot are never held for good.
	var claimed atomic.Bool
	s.exports.Add(1)
	giveUp := time.AfterFunc(exportIdle, func() {
		if claimed.CompareAndSwap(false, true) {
			exp.Close()
			s.exports.Done()
		}
	})
	fctx.Hijack(func(conn net.Conn) {
		if !claimed.CompareAndSwap(false, true) {
			return
		}
		giveUp.Stop()
		defer s.exports.Done()
		send(conn)
	})
	return nil
}

// chunkHead is the room kept before a chunk's data for its size line: up to 8 hex digits and CRLF.
const chunkHead = 10

// chunkedWriter writes a response body on a connection in HTTP/1.1 chunks of up to chunkSize bytes, one write
// each, and keeps the connection's write deadline exportIdle ahead of every write.
type chunkedWriter struct {
	conn     net.Conn
	buf      []byte // chunkHead bytes of room, then the chunk's data
	extended time.Time
	err      error
}

// write writes p on the connection, first pushing the write deadline on when a second has passed.
func (w *chunkedWriter) write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if now := time.Now(); now.Sub(w.extended) > time.Second {
		if err := w.conn.SetWriteDeadline(now.Add(exportIdle)); err != nil {
			w.err = err
			return 0, err
		}
		w.extended = now
	}
	n, err := w.conn.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

// writeHead writes the status line and the headers.
func (w *chunkedWriter) writeHead(head []byte) (int, error) { return w.write(head) }

// Write adds p to the body, sending a chunk whenever chunkSize bytes are waiting.
func (w *chunkedWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(w.buf) == chunkHead+chunkSize {
			if err := w.Flush(); err != nil {
				return n - len(p), err
			}
		}
		k := min(chunkHead+chunkSize-len(w.buf), len(p))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
	}
	return n, w.err
}

// Flush sends what is waiting as one chunk.
func (w *chunkedWriter) Flush() error {
	size := len(w.buf) - chunkHead
	if size == 0 {
		return w.err
	}
	var line [chunkHead]byte
	b := append(strconv.AppendInt(line[:0], int64(size), 16), '\r', '\n')
	start := chunkHead - len(b)
	copy(w.buf[start:], b)
	w.buf = append(w.buf, '\r', '\n')
	_, err := w.write(w.buf[start:])
	w.buf = w.buf[:chunkHead]
	return err
}

// end sends what is waiting and the last chunk: the body is complete.
func (w *chunkedWriter) end() error {
	if err := w.Flush(); err != nil {
		return err
	}
	_, err := w.write([]byte("0\r\n\r\n"))
	return err
}
