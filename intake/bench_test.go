package intake_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm/demo"
	"github.com/frontdesk/frontdesk/intake"
)

// The request side's benchmarks: each stage of an enquiry before it reaches the store, on enquiries made by
// crm/demo (Varied: phone numbers in national and international forms, one message in eight with risk
// language, one enquiry in four with screening answers) and on the one fixed enquiry measured since issue 6.

// benchCorpus is n varied demo enquiries.
func benchCorpus(n int) []intake.Submission {
	g := demo.New(13)
	out := make([]intake.Submission, n)
	for i := range out {
		out[i] = g.Varied(i)
		if i%4 == 0 {
			out[i].Screening = demo.Screening(i, out[i].Treatment)
		}
	}
	return out
}

// oneBody is the fixed enquiry of the earlier figures in docs/performance.md.
var oneBody = []byte(`{"name":"Ann Example","email":"Ann@Example.org","phone":"07700 900123","preferred_contact":"email",
		"treatment":"ptsd","message":"I have PTSD after a car accident two years ago. Talking therapy has been slow.",
		"date_of_birth":"1990-01-01","referral_source":"gp","consent":true,"website":"",
		"utm_source":"google","utm_medium":"cpc","utm_campaign":"adhd-autumn"}`)

func benchValidator() *intake.Validator {
	now := time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)
	return intake.NewValidator(func() time.Time { return now }, time.UTC)
}

// BenchmarkDecodeJSON decodes enquiries as the JSON API receives them.
func BenchmarkDecodeJSON(b *testing.B) {
	b.Run("one", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := intake.DecodeJSON(oneBody); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("demo", func(b *testing.B) {
		var bodies [][]byte
		for _, sub := range benchCorpus(256) {
			body, err := demo.APIBody(sub)
			if err != nil {
				b.Fatal(err)
			}
			bodies = append(bodies, body)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := intake.DecodeJSON(bodies[i%len(bodies)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkFromForm reads enquiries from the HTML form's values.
func BenchmarkFromForm(b *testing.B) {
	var forms []url.Values
	for _, sub := range benchCorpus(256) {
		forms = append(forms, url.Values{"name": {sub.Name}, "email": {sub.Email}, "phone": {sub.Phone},
			"preferred_contact": {sub.PreferredContact}, "treatment": {sub.Treatment}, "message": {sub.Message},
			"date_of_birth": {sub.DateOfBirth}, "referral_source": {sub.ReferralSource}, "consent": {"on"},
			"website": {""}})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f := forms[i%len(forms)]
		if sub := intake.FromForm(f.Get); !sub.Consent {
			b.Fatal("consent lost")
		}
		i++
	}
}

// BenchmarkCheck normalises and validates enquiries (Validator.Check).
func BenchmarkCheck(b *testing.B) {
	v := benchValidator()
	b.Run("one", func(b *testing.B) {
		sub := intake.Submission{Name: "Ann Example", Email: "Ann@Example.org", Phone: "07700 900123", Treatment: "adhd",
			Message: strings.Repeat("I have had trouble focusing for years. ", 20), DateOfBirth: "1990-01-01", Consent: true}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Check(sub); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("demo", func(b *testing.B) {
		subs := benchCorpus(256)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := v.Check(subs[i%len(subs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkNormalisePhone parses and formats each of demo.PhoneForms, the part of Check that phone numbers
// cost.
func BenchmarkNormalisePhone(b *testing.B) {
	for _, form := range []struct{ name, phone string }{{"national", "07700 900123"}, {"international", "+44 7700 900789"},
		{"abroad", "+33 6 12 34 56 78"}} {
		b.Run(form.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := intake.NormalisePhone(form.phone); !ok {
					b.Fatal("refused")
				}
			}
		})
	}
	b.Run("all", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, ok := intake.NormalisePhone(demo.PhoneForms[i%len(demo.PhoneForms)]); !ok {
				b.Fatal("refused " + strconv.Itoa(i))
			}
			i++
		}
	})
}
