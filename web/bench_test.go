package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/db"
	"github.com/frontdesk/frontdesk/intake"
)

// BenchmarkRenderEnquiryForm is GET /enquire through the whole app: middleware, the form template and its
// layout.
func BenchmarkRenderEnquiryForm(b *testing.B) {
	h := newHarness(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		resp := h.get("/enquire")
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// BenchmarkRenderBoard is GET /board for a signed-in coordinator with every column full (more than the 50
// cards a column shows): the session, six listings with their counts, and the board template with 300 cards.
func BenchmarkRenderBoard(b *testing.B) {
	h := newHarness(b, nil)
	h.addStaff("coordinator@clinic.example", crm.RoleCoordinator)
	coord := h.addStaff("lead@clinic.example", crm.RoleCoordinator)
	h.addStaff("clinician@clinic.example", crm.RoleClinician, "adhd", "ptsd", "depression")
	start := time.Now().Add(-30 * 24 * time.Hour)
	var batch []db.BulkEnquiry
	v := intake.NewValidator(nil, time.UTC)
	for i := range 6 * 60 {
		sub := intake.Submission{Name: fmt.Sprintf("Patient %d", i), Email: fmt.Sprintf("p%d@example.org", i),
			Phone: "07700 900123", Treatment: []string{"adhd", "ptsd", "depression"}[i%3],
			Message: "I was diagnosed with ADHD last year and would like to talk about options.", Consent: true}
		e, err := v.Check(sub)
		if err != nil {
			b.Fatal(err)
		}
		at := start.Add(time.Duration(i) * time.Minute)
		be := db.BulkEnquiry{NewEnquiry: crm.NewEnquiry{Enquiry: e, ReceivedAt: at, Fingerprint: fmt.Sprint(i)}}
		prev := crm.StatusNew
		for _, st := range crm.ActiveStatuses[1 : 1+i%len(crm.ActiveStatuses)] {
			be.Changes = append(be.Changes, db.BulkChange{At: at.Add(time.Hour), Actor: coord,
				Change: crm.Change{Status: st, FirstContact: prev == crm.StatusNew}})
			prev = st
		}
		batch = append(batch, be)
	}
	if _, err := h.db.BulkLoad(context.Background(), batch); err != nil {
		b.Fatal(err)
	}
	a := h.agent()
	if resp := a.signIn("coordinator@clinic.example", staffPassword); resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign in: status %d", resp.StatusCode)
	}
	b.ReportAllocs()
	for b.Loop() {
		if resp := a.get("/board"); resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
