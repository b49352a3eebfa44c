package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// staff is a signed-in member of staff: a cookie jar holding the session, as a browser would.
type staff struct {
	c    *http.Client
	base string
}

// signIn signs in through the login form: GET /login for the CSRF token, then POST /login with it.
func signIn(base, email, password string) (*staff, error) {
	jar, _ := cookiejar.New(nil)
	c := newClient(4, 60*time.Second)
	c.Jar = jar
	resp, err := c.Get(base + "/login")
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(b)
	if m == nil {
		return nil, fmt.Errorf("sign in: no CSRF token on /login (status %d)", resp.StatusCode)
	}
	form := url.Values{"email": {email}, "password": {password}, "_csrf": {string(m[1])}}
	resp, err = c.PostForm(base+"/login", form)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || strings.HasPrefix(loc, "/login") {
		return nil, fmt.Errorf("sign in as %s: status %d, to %q", email, resp.StatusCode, loc)
	}
	return &staff{c: c, base: base}, nil
}

// get fetches a page and returns how long it took; anything but 200 is an error.
func (s *staff) get(path string) (time.Duration, error) {
	t0 := time.Now()
	resp, err := s.c.Get(s.base + path)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return d, nil
}

// apiGet calls the staff API with a bearer token and decodes the JSON answer into v.
func apiGet(base, token, path string, v any) error {
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		return fmt.Errorf("GET %s: status %d: %s", path, resp.StatusCode, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// sampleReferences collects enquiry references from across the database's years through the staff API, a
// day at a time.
func sampleReferences(base, token string, days, want int, r *rand.Rand) ([]string, error) {
	var refs []string
	for tries := 0; len(refs) < want && tries < 4*want; tries++ {
		day := time.Now().AddDate(0, 0, -r.IntN(days)).Format("2006-01-02")
		var page struct {
			Items []struct {
				Reference string `json:"reference"`
			} `json:"items"`
		}
		if err := apiGet(base, token, "/api/v1/enquiries?from="+day+"&to="+day, &page); err != nil {
			return nil, err
		}
		for i, it := range page.Items {
			if i%5 == 0 { // a few from each day
				refs = append(refs, it.Reference)
			}
		}
	}
	if len(refs) == 0 {
		return nil, fmt.Errorf("no enquiries found through the API")
	}
	return refs, nil
}

// pageKinds are the staff reads measured, each a way to pick the next URL.
type pageKind struct {
	name string
	next func(r *rand.Rand) string
}

var (
	benchStatuses   = []string{"new", "contacted", "screening", "assessment_booked", "treatment_offered", "in_treatment", "lost", "referred"}
	benchTreatments = []string{"adhd", "depression", "anxiety", "ptsd", "addiction", "chronic_pain", "other"}
	benchClinicians = []string{"priya.shah@bench.example", "tom.evans@bench.example", "alice.morgan@bench.example",
		"kwame.mensah@bench.example", "niamh.fraser@bench.example"}
	searchTerms = []string{"Olivia", "Smith", "Olivia Smith", "Patel", "Aisha Khan", "ketamine", "fibromyalgia",
		"07700 900123", "+447700900456", "voicemail", "GP letter", "methylphenidate", "o'brien", "Ångström", "Zoë",
		"muhammad.okafor", "sister alcohol", "Nowak", "evenings", "PTSD car accident"}
)

func pageKinds(refs []string, days int) []pageKind {
	return []pageKind{
		{"board", func(r *rand.Rand) string {
			if r.IntN(3) == 0 {
				return "/board?treatment=" + benchTreatments[r.IntN(len(benchTreatments))]
			}
			return "/board"
		}},
		{"list (filtered)", func(r *rand.Rand) string {
			v := url.Values{}
			switch r.IntN(5) {
			case 0:
				v.Set("status", benchStatuses[r.IntN(len(benchStatuses))])
			case 1:
				v.Set("status", benchStatuses[r.IntN(len(benchStatuses))])
				v.Set("treatment", benchTreatments[r.IntN(len(benchTreatments))])
			case 2:
				v.Set("assignee", benchClinicians[r.IntN(len(benchClinicians))])
				v.Set("status", benchStatuses[r.IntN(6)])
			case 3:
				from := time.Now().AddDate(0, 0, -r.IntN(days))
				v.Set("from", from.Format("2006-01-02"))
				v.Set("to", from.AddDate(0, 1, 0).Format("2006-01-02"))
				v.Set("treatment", benchTreatments[r.IntN(len(benchTreatments))])
			default:
				v.Set("overdue", "true")
			}
			return "/enquiries?" + v.Encode()
		}},
		{"search (FTS)", func(r *rand.Rand) string {
			v := url.Values{"q": {searchTerms[r.IntN(len(searchTerms))]}}
			if r.IntN(4) == 0 {
				v.Set("status", benchStatuses[r.IntN(len(benchStatuses))])
			}
			return "/enquiries?" + v.Encode()
		}},
		{"enquiry page", func(r *rand.Rand) string { return "/enquiries/" + refs[r.IntN(len(refs))] }},
	}
}

// readResult is the latencies of one page kind.
type readResult struct {
	name   string
	lat    []time.Duration
	errors int
	first  string
}

// measureReads requests each kind of page in turn, n times each, and returns the latencies by kind.
func measureReads(s *staff, kinds []pageKind, n int, r *rand.Rand) []readResult {
	out := make([]readResult, len(kinds))
	for i, k := range kinds {
		out[i].name = k.name
	}
	for range n {
		for i, k := range kinds {
			d, err := s.get(k.next(r))
			if err != nil {
				out[i].errors++
				if out[i].first == "" {
					out[i].first = err.Error()
				}
				continue
			}
			out[i].lat = append(out[i].lat, d)
		}
	}
	return out
}
