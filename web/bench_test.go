package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/demo"
	"github.com/frontdesk/frontdesk/db"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/frontdesk/frontdesk/web"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
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

// receiptStore is an IntakeStore that stores nothing and answers at once, so that the intake benchmarks measure
// the request side alone: middleware, decode, validation, screening and the answer.
type receiptStore struct{}

func (receiptStore) CreateEnquiry(context.Context, crm.NewEnquiry, func(crm.NewEnquiry, crm.IntakeFacts) (crm.IntakePlan, error)) (crm.Receipt, error) {
	return crm.Receipt{Reference: intake.NewReference(), Status: crm.FirstAnswer}, nil
}

// requestSideApp is the app as serve builds it for intake (logging at Info, as serve does, into nothing), its
// store replaced by receiptStore. perMinute is FRONTDESK_INTAKE_PER_MINUTE.
func requestSideApp(b *testing.B, perMinute int) *fiber.App {
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := testConfig()
	cfg.IntakePerMinute = perMinute
	app, err := web.New(cfg, web.Deps{
		Intake: crm.NewIntakeService(receiptStore{}, intake.NewValidator(nil, time.UTC), "intake@clinic.example", log),
		Log:    log,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { app.Shutdown() })
	return app
}

// benchSubmissions are 256 varied demo enquiries (crm/demo: phone numbers in national and international forms,
// one message in eight with risk language), one in four with screening answers.
func benchSubmissions() []intake.Submission {
	g := demo.New(13)
	out := make([]intake.Submission, 256)
	for i := range out {
		out[i] = g.Varied(i)
		if i%4 == 0 {
			out[i].Screening = demo.Screening(i, out[i].Treatment)
		}
	}
	return out
}

// BenchmarkAPICreateEnquiry is POST /api/v1/enquiries through the whole app with a store that stores
// nothing: everything an enquiry costs before the database write. "open" and "limited" (the intake rate limit
// on, in memory, never reached) go through app.Test: the request written to and the answer read from an
// in-memory connection, served on a new goroutine each time, so they include the client's work and stack
// growth. "server" is the app's own work alone: its handler called with a request already parsed, as
// fasthttp's workers call it for each request on a kept-alive connection.
func BenchmarkAPICreateEnquiry(b *testing.B) {
	var bodies [][]byte
	for _, sub := range benchSubmissions() {
		body, err := demo.APIBody(sub)
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, body)
	}
	b.Run("server", func(b *testing.B) {
		handler := requestSideApp(b, 0).Handler()
		var req fasthttp.Request
		var ctx fasthttp.RequestCtx
		addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			req.Reset()
			req.Header.SetMethod(fiber.MethodPost)
			req.SetRequestURI("/api/v1/enquiries")
			req.Header.SetContentType(fiber.MIMEApplicationJSON)
			req.SetBody(bodies[i%len(bodies)])
			ctx.Response.Reset()
			ctx.Init(&req, addr, nil)
			handler(&ctx)
			if ctx.Response.StatusCode() != http.StatusCreated {
				b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
			}
			i++
		}
	})
	for _, tc := range []struct {
		name      string
		perMinute int
	}{{"open", 0}, {"limited", 1 << 30}} {
		b.Run(tc.name, func(b *testing.B) {
			app := requestSideApp(b, tc.perMinute)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/api/v1/enquiries", bytes.NewReader(bodies[i%len(bodies)]))
				req.Header.Set("Content-Type", "application/json")
				resp, err := app.Test(req, -1)
				if err != nil {
					b.Fatal(err)
				}
				if resp.StatusCode != http.StatusCreated {
					b.Fatalf("status %d", resp.StatusCode)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				i++
			}
		})
	}
}

// BenchmarkEnquireSubmit is POST /enquire, the HTML form, through the whole app with a store that stores
// nothing (as BenchmarkAPICreateEnquiry): 303 to the thanks page.
func BenchmarkEnquireSubmit(b *testing.B) {
	var forms []string
	for i, sub := range benchSubmissions() {
		forms = append(forms, url.Values{"name": {sub.Name}, "email": {sub.Email}, "phone": {sub.Phone},
			"preferred_contact": {sub.PreferredContact}, "treatment": {sub.Treatment}, "message": {sub.Message},
			"date_of_birth": {sub.DateOfBirth}, "referral_source": {sub.ReferralSource}, "consent": {"on"},
			"website": {""}, "idempotency_key": {fmt.Sprintf("form-key-%d", i)}}.Encode())
	}
	app := requestSideApp(b, 0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/enquire", strings.NewReader(forms[i%len(forms)]))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := app.Test(req, -1)
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != http.StatusSeeOther {
			b.Fatalf("status %d", resp.StatusCode)
		}
		resp.Body.Close()
		i++
	}
}
