package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// exportResult is one export download.
type exportResult struct {
	format  string
	status  int
	rows    int // data rows (CSV: lines less the header; xlsx: not counted)
	bytes   int64
	elapsed time.Duration
	rssGrow int64         // peak VmRSS during the download less VmRSS before it
	cpu     time.Duration // the server's CPU time (user and system) during the download
	missing bool          // the route answered 404: not there yet
	err     error
}

// lineCounter counts newlines in what is written to it.
type lineCounter struct{ n int }

func (l *lineCounter) Write(p []byte) (int, error) {
	l.n += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

// download fetches an export through the staff API as an administrator and watches the server's memory.
func download(srv *proc, token, format string) exportResult {
	res := exportResult{format: format}
	req, err := http.NewRequest(http.MethodGet, srv.base+"/api/v1/exports/enquiries."+format, nil)
	if err != nil {
		res.err = err
		return res
	}
	req.Header.Set("Authorization", "Bearer "+token)
	before, _ := srv.mem()
	cpu0 := srv.cpu()
	stop := make(chan struct{})
	peak := srv.sampleRSS(10*time.Millisecond, stop)
	t0 := time.Now()
	resp, err := (&http.Client{Timeout: 10 * time.Minute}).Do(req)
	if err == nil {
		res.status = resp.StatusCode
		lc := &lineCounter{}
		var w io.Writer = io.Discard
		if format == "csv" {
			w = lc
		}
		res.bytes, err = io.Copy(w, resp.Body)
		resp.Body.Close()
		res.rows = max(lc.n-1, 0)
	}
	res.elapsed = time.Since(t0)
	res.cpu = srv.cpu() - cpu0
	close(stop)
	res.rssGrow = max(<-peak-before, 0)
	switch {
	case err != nil:
		res.err = err
	case res.status == http.StatusNotFound:
		res.missing = true
	case res.status != http.StatusOK:
		res.err = fmt.Errorf("export %s: status %d", format, res.status)
	}
	return res
}

// measured is the download's figure for the table: its time, size or rows, and the server's CPU time, which
// says more than the time on a machine shared with other work.
func (e exportResult) measured() string {
	if e.format == "csv" {
		return fmt.Sprintf("%.1f s, %d rows, %.0f rows/s, server CPU %.1f s", e.elapsed.Seconds(), e.rows,
			float64(e.rows)/e.elapsed.Seconds(), e.cpu.Seconds())
	}
	return fmt.Sprintf("%.1f s, %d MB, server CPU %.1f s", e.elapsed.Seconds(), e.bytes>>20, e.cpu.Seconds())
}

// cpu is the CPU time (user and system) the process has used so far, from /proc/PID/stat; 0 if unreadable.
func (p *proc) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: the fields counted are those after it.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64) // fields 14 and 15 of stat, in clock ticks (100 a second)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
