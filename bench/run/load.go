package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/frontdesk/frontdesk/crm/demo"
)

// loadResult is what a load run saw.
type loadResult struct {
	OK, Errors int
	Status     map[int]int // answers other than the expected one, by status (0: a transport error)
	FirstError string
	Elapsed    time.Duration
	Lat        []time.Duration // of the accepted requests
}

func (r loadResult) rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// pct returns the p-th percentile (0-100) of lat, which it sorts.
func pct(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	i := int(float64(len(lat)-1) * p / 100)
	return lat[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// enquiryBodies makes n valid JSON enquiries from the demo generator; emails are unique from first on.
func enquiryBodies(n, first int, seed uint64) [][]byte {
	g := demo.New(seed)
	out := make([][]byte, n)
	for i := range out {
		b, err := json.Marshal(g.Submission(first + i))
		if err != nil {
			panic(err)
		}
		out[i] = b
	}
	return out
}

// newClient is a keep-alive HTTP client for conns concurrent connections to one server.
func newClient(conns int, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// postEnquiry sends one body and reports the status (0 with an error when there was no answer).
func postEnquiry(c *http.Client, url string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// closedLoop runs conc clients, each posting the next body as soon as its last one is answered, for d; an answer
// with status want is accepted, any other an error.
func closedLoop(url string, want int, bodies [][]byte, conc int, d time.Duration) loadResult {
	c := newClient(conc, 30*time.Second)
	var next atomic.Int64
	var mu sync.Mutex
	res := loadResult{Status: map[int]int{}}
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			ok, bad := 0, 0
			status := map[int]int{}
			var firstErr string
			for time.Now().Before(deadline) {
				b := bodies[int(next.Add(1)-1)%len(bodies)]
				t0 := time.Now()
				code, err := postEnquiry(c, url, b)
				if code == want {
					lat = append(lat, time.Since(t0))
					ok++
					continue
				}
				bad++
				status[code]++
				if firstErr == "" {
					firstErr = fmt.Sprintf("status %d %v", code, err)
				}
			}
			mu.Lock()
			res.OK += ok
			res.Errors += bad
			res.Lat = append(res.Lat, lat...)
			for k, v := range status {
				res.Status[k] += v
			}
			if res.FirstError == "" {
				res.FirstError = firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	c.CloseIdleConnections()
	return res
}

// steady posts bodies at rate per second (open loop, one request per tick, each in its own goroutine up to
// 16 at once) until ctx ends, and returns what it saw then.
func steady(ctx context.Context, url string, bodies [][]byte, rate int) <-chan loadResult {
	out := make(chan loadResult, 1)
	go func() {
		c := newClient(16, 30*time.Second)
		var mu sync.Mutex
		res := loadResult{Status: map[int]int{}}
		sem := make(chan struct{}, 16)
		var wg sync.WaitGroup
		start := time.Now()
		tick := time.NewTicker(time.Second / time.Duration(max(rate, 1)))
		defer tick.Stop()
		i := 0
	loop:
		for {
			select {
			case <-ctx.Done():
				break loop
			case <-tick.C:
			}
			select {
			case sem <- struct{}{}:
			default:
				mu.Lock()
				res.Errors++
				res.Status[-1]++ // the server fell behind: more than 16 waiting
				mu.Unlock()
				continue
			}
			b := bodies[i%len(bodies)]
			i++
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				t0 := time.Now()
				code, err := postEnquiry(c, url, b)
				mu.Lock()
				defer mu.Unlock()
				if code == http.StatusCreated {
					res.OK++
					res.Lat = append(res.Lat, time.Since(t0))
					return
				}
				res.Errors++
				res.Status[code]++
				if res.FirstError == "" {
					res.FirstError = fmt.Sprintf("status %d %v", code, err)
				}
			}()
		}
		wg.Wait()
		res.Elapsed = time.Since(start)
		out <- res
	}()
	return out
}
