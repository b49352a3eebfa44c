package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"time"
)

// exportResult is one export download.
type exportResult struct {
	format  string
	status  int
	rows    int // data rows (CSV: lines less the header; xlsx: not counted)
	bytes   int64
	elapsed time.Duration
	rssGrow int64 // peak VmRSS during the download less VmRSS before it
	missing bool  // the route answered 404: not there yet
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
