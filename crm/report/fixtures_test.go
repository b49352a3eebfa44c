package report

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// fakeStore serves enquiries from memory; it is enough for the service's checks and the writers.
type fakeStore struct {
	enquiries []crm.Enquiry
	lastQuery Query
	open      int // rows open now
	failAt    int // when > 0, Next fails at this row
	panicAt   int // when > 0, Scan panics at this row
	read      int // the most rows any query read
	// afterClose is set when rows were used after Close (read and written under mu: the reading runs on a
	// goroutine of its own).
	mu         sync.Mutex
	afterClose bool
}

func (f *fakeStore) usedAfterClose() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.afterClose
}

func (f *fakeStore) ExportEnquiries(_ context.Context, q Query) (Rows, error) {
	f.lastQuery = q
	f.open++
	return &fakeRows{s: f, i: -1}, nil
}

func (f *fakeStore) CountExport(_ context.Context, q Query) (int, error) {
	return len(f.enquiries), nil
}

func (f *fakeStore) ReportFacts(context.Context, time.Time, time.Time, func(*Fact) error) error {
	return nil
}

func (f *fakeStore) Workload(context.Context, time.Time) ([]WorkloadCount, error) { return nil, nil }

type fakeRows struct {
	s      *fakeStore
	i      int
	err    error
	closed bool
}

func (r *fakeRows) Next() bool {
	r.checkOpen()
	r.i++
	if r.s.failAt > 0 && r.i == r.s.failAt {
		r.err = errors.New("disk I/O error")
		return false
	}
	return r.i < len(r.s.enquiries)
}
func (r *fakeRows) Scan(e *crm.Enquiry) error {
	r.checkOpen()
	if r.s.panicAt > 0 && r.i == r.s.panicAt {
		panic("corrupt row")
	}
	*e = r.s.enquiries[r.i]
	r.s.read = max(r.s.read, r.i+1)
	return nil
}
func (r *fakeRows) Err() error                 { return r.err }
func (r *fakeRows) Screening() []crm.Screening { return nil }
func (r *fakeRows) Close() error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if !r.closed {
		r.closed = true
		r.s.open--
	}
	return nil
}

func (r *fakeRows) checkOpen() {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if r.closed {
		r.s.afterClose = true
	}
}

// fakeStaff knows one clinician.
type fakeStaff struct{ crm.StaffStore }

func (fakeStaff) StaffByEmail(_ context.Context, email string) (crm.Staff, string, error) {
	if email == "lee@clinic.example" {
		return crm.Staff{ID: 7, Email: email, Name: "Lee Clinician", Role: crm.RoleClinician}, "", nil
	}
	return crm.Staff{}, "", crm.ErrNotFound
}

func (fakeStaff) ListStaff(context.Context) ([]crm.Staff, error) { return nil, nil }

// fakeAudit keeps what was recorded.
type fakeAudit struct {
	crm.AuditStore
	entries []crm.AuditEntry
}

func (a *fakeAudit) RecordAudit(_ context.Context, e crm.AuditEntry) error {
	a.entries = append(a.entries, e)
	return nil
}

var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return loc
}()

func newTestService(store *fakeStore) (*Service, *fakeAudit) {
	audit := &fakeAudit{}
	s := New(store, fakeStaff{}, audit, Config{FirstContact: 24 * time.Hour, Location: london, XLSX: textSheet},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.SetClock(func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) })
	return s, audit
}

// summer is 1 July 2026, 09:30 UTC: 10:30 in London (BST, +01:00).
var summer = time.Date(2026, 7, 1, 9, 30, 0, 0, time.UTC)

func sampleEnquiries() []crm.Enquiry {
	contacted := summer.Add(5*time.Hour + 30*time.Minute)
	return []crm.Enquiry{
		{Reference: "ABCD-2345", Status: crm.StatusContacted, Name: "Zoë Ångström", Email: "zoe@example.org",
			Phone: "+447700900123", OKToLeaveMessage: true, PreferredContact: "phone", Treatment: "adhd",
			ReferralSource: "gp", UTMSource: "google", UTMMedium: "cpc", UTMCampaign: "autumn, \"quoted\"",
			Message: "First line\nSecond line with \"quotes\", and a comma", DateOfBirth: "1990-04-05",
			Priority: "high", Assignee: &crm.StaffRef{ID: 7, Name: "Lee Clinician", Email: "lee@clinic.example"},
			CreatedAt: summer, FirstContactedAt: &contacted, ConsentAt: summer, ConsentVersion: "2026-11-01"},
		{Reference: "EFGH-6789", Status: crm.StatusNew, Name: "=HYPERLINK(\"http://evil.example\",\"click\")",
			Email: "@evil.example", Phone: "", PreferredContact: "either", Treatment: "ptsd",
			UTMSource: "+cmd|' /C calc'!A0", UTMMedium: "-2+3", UTMCampaign: "\tTabbed", Message: "\rCarriage",
			CloseReason: "＝1+1", Priority: "normal", CreatedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
			ConsentAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), ConsentVersion: "2026-11-01"},
		{Reference: "JKLM-2345", Status: crm.StatusLost, Name: "Still Here", Email: "still@example.org",
			Phone: "+447700900999", OKToLeaveMessage: true, Message: "should not leave", DateOfBirth: "1980-01-01", CloseReason: "Moved away",
			Treatment: "anxiety", Priority: "normal", CreatedAt: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC),
			ConsentAt: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), ConsentVersion: "2026-11-01", Erased: true},
	}
}
