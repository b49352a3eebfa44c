package web_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// An export writes its response on the connection itself, in large chunks (export_stream.go). These tests
// read it as a client does, over a real socket.

// readExport reads one response from br: it must be a whole chunked CSV export of the fixture's 11 enquiries,
// after which the server closes the connection.
func readExport(t *testing.T, br *bufio.Reader) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read the export's response: %v", err)
	}
	if resp.StatusCode != 200 || !slices.Contains(resp.TransferEncoding, "chunked") || !resp.Close ||
		resp.Header.Get("Content-Disposition") != "attachment; filename=enquiries-2026-11-02-to-2026-11-15.csv" ||
		resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("export: %d, transfer encoding %v, close %v, headers %v", resp.StatusCode, resp.TransferEncoding, resp.Close, resp.Header)
	}
	b, err := io.ReadAll(resp.Body) // fails on a chunked body that is cut short
	if err != nil {
		t.Fatalf("read the export: %v", err)
	}
	if recs := readCSV(t, string(b)); len(recs) != 12 {
		t.Errorf("the export has %d records, want 12", len(recs))
	}
	if n, err := br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("after the export: %d bytes, %v; want the connection closed", n, err)
	}
}

func TestAnExportAfterOtherRequestsOnItsConnection(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	f := newReportFixture(t)
	h := f.h
	token := h.token("ada@clinic.example")
	addr := strings.TrimPrefix(h.listen(), "http://")
	health := "GET /healthz HTTP/1.1\r\nHost: frontdesk\r\n\r\n"
	export := "GET /api/v1/exports/enquiries.csv?" + fixtureRange + " HTTP/1.1\r\nHost: frontdesk\r\nAuthorization: Bearer " + token + "\r\n\r\n"
	dial := func() (net.Conn, *bufio.Reader) {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		return conn, bufio.NewReader(conn)
	}
	readHealth := func(br *bufio.Reader) {
		t.Helper()
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("read the health check's response: %v", err)
		}
		if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || !strings.Contains(string(b), "ok") {
			t.Errorf("health check: %d %q", resp.StatusCode, b)
		}
	}

	// The export as a connection's first request.
	conn, br := dial()
	io.WriteString(conn, export)
	readExport(t, br)

	// A keep-alive connection: the export is its second request.
	conn, br = dial()
	io.WriteString(conn, health)
	readHealth(br)
	io.WriteString(conn, export)
	readExport(t, br)

	// Pipelined: both requests sent before either answer is read. The server may still hold the first answer
	// when the export starts; it must come first all the same.
	conn, br = dial()
	io.WriteString(conn, health+export)
	readHealth(br)
	readExport(t, br)

	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'export'`); n != 3 {
		t.Errorf("%d exports recorded, want 3", n)
	}
}
