package demo

import (
	"encoding/json"

	"github.com/frontdesk/frontdesk/intake"
)

// PhoneForms are fictional numbers written the ways patients write them: UK national and international forms
// of Ofcom's drama ranges, with and without spaces and brackets, and numbers from other countries.
var PhoneForms = []string{
	"07700 900123", "07700900456", "+44 7700 900789", "+447700900321", "0044 7700 900654",
	"(020) 7946 0018", "020 7946 0991", "+44 (0)20 7946 0123", "0113 496 0555", "0161 496 0777",
	"+353 1 555 0123", "+1 202 555 0143", "+33 6 12 34 56 78", "+49 30 1234567", "+61 491 570 156",
}

// RiskSentences are sentences a patient might add to a message that the risk-language list must flag.
var RiskSentences = []string{
	"Some nights I don't want to wake up.",
	"I have had thoughts of ending my life this year.",
	"I took an overdose in the spring and I'm scared of going back there.",
	"There's a history of self-harm, mostly when I was younger.",
	"Honestly my family would be better off without me.",
	"I've been feeling suicidal on and off since the summer.",
}

// Varied is Submission with more variety, for benchmarks of the request side: every number that has a phone
// is written in one of PhoneForms, and one message in eight ends with one of RiskSentences. It draws the same
// random numbers as Submission, so a generator gives the same people either way.
func (g *Generator) Varied(i int) intake.Submission {
	sub := g.Submission(i)
	if sub.Phone != "" {
		sub.Phone = PhoneForms[i%len(PhoneForms)]
	}
	if i%8 == 3 {
		sub.Message += " " + RiskSentences[(i/8)%len(RiskSentences)]
	}
	return sub
}

// APIBody is sub as the JSON intake API receives it, with its screening answers (if any) in the API's shape:
// {"phq9":[…], …, "safety":{…}}.
func APIBody(sub intake.Submission) ([]byte, error) {
	type body struct {
		intake.Submission
		Screening map[string]any `json:"screening,omitempty"`
	}
	b := body{Submission: sub}
	if !sub.Screening.Empty() {
		b.Screening = map[string]any{}
		for id, answers := range sub.Screening.Questionnaires {
			b.Screening[id] = answers
		}
		if len(sub.Screening.Safety) > 0 {
			b.Screening["safety"] = sub.Screening.Safety
		}
	}
	return json.Marshal(b)
}
