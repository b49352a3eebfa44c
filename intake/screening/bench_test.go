package screening_test

import (
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm/demo"
	"github.com/frontdesk/frontdesk/intake/screening"
)

// benchEnquiries are the messages and answers of 256 varied demo enquiries (crm/demo: one message in eight with
// risk language, one enquiry in four with screening answers, about half of which answer something).
func benchEnquiries() (msgs []string, answers []screening.Answers) {
	g := demo.New(13)
	for i := range 256 {
		sub := g.Varied(i)
		msgs = append(msgs, sub.Message)
		var a screening.Answers
		if i%4 == 0 {
			a = demo.Screening(i, sub.Treatment)
		}
		answers = append(answers, a)
	}
	return msgs, answers
}

// BenchmarkAssess is Catalogue.Assess as intake calls it for every enquiry that is not spam: the screening
// answers scored and flagged, and the message read for risk language.
func BenchmarkAssess(b *testing.B) {
	c := screening.Default()
	msgs, answers := benchEnquiries()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.Assess(answers[i%len(msgs)], msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRiskLanguage reads messages for risk language: the demo mix, messages without it (most), messages
// with it, and a long message (5,000 characters) without it.
func BenchmarkRiskLanguage(b *testing.B) {
	c := screening.Default()
	msgs, _ := benchEnquiries()
	var clean, risky []string
	for _, m := range msgs {
		if c.RiskLanguage(m) {
			risky = append(risky, m)
		} else {
			clean = append(clean, m)
		}
	}
	if len(risky) == 0 || len(clean) == 0 {
		b.Fatalf("%d messages with risk language, %d without: the mix is wrong", len(risky), len(clean))
	}
	long := strings.Repeat("I would like to ask about treatment for my back pain, and the costs. ", 80)[:5000]
	for _, set := range []struct {
		name string
		msgs []string
	}{{"demo", msgs}, {"without", clean}, {"with", risky}, {"long", []string{long}}} {
		b.Run(set.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.RiskLanguage(set.msgs[i%len(set.msgs)])
				i++
			}
		})
	}
}
