// Package demo makes realistic, fictional enquiries for the demo command and the benchmarks: plausible names,
// treatments, messages and sources, with phone numbers from Ofcom's drama range and addresses at example
// domains, so nothing in it can reach a real person.
package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/frontdesk/frontdesk/intake"
	"github.com/frontdesk/frontdesk/intake/screening"
)

var firstNames = []string{"Olivia", "Amelia", "Isla", "Ava", "Mia", "Zoë", "Grace", "Freya", "Aisha", "Priya",
	"Siobhan", "Niamh", "Chloe", "Hannah", "Fatima", "Oliver", "George", "Noah", "Arthur", "Muhammad", "Leo",
	"Harry", "Oscar", "Jack", "Rhys", "Kwame", "Tomasz", "Dylan", "Ewan", "Callum", "Sam", "Alex", "Jordan"}

var lastNames = []string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
	"Khan", "O'Brien", "Murphy", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Hughes", "Nowak", "Mensah",
	"Campbell", "MacLeod", "Ahmed", "Green", "Hall", "Clarke", "Lewis", "Ångström", "Okafor", "Fraser"}

// treatmentWeights are roughly how often each treatment is asked about.
var treatmentWeights = []struct {
	code   string
	weight int
}{{"adhd", 25}, {"depression", 25}, {"anxiety", 14}, {"ptsd", 12}, {"addiction", 8}, {"chronic_pain", 11}, {"other", 5}}

var messages = map[string][]string{
	"adhd": {
		"I was diagnosed with ADHD last year. Stimulants helped a little but the side effects were hard. I'd like to know if ketamine could be an option.",
		"My concentration at work has got much worse and I've tried methylphenidate. Could we talk about what you offer?",
		"Looking for information about costs and how long treatment takes for adult ADHD.",
	},
	"depression": {
		"I've tried three antidepressants over five years without much change. My GP mentioned ketamine clinics.",
		"Asking for my husband, who has had depression for a long time. What does the first appointment involve?",
		"I'd like to know whether you can see me in the evenings, and whether I need a referral.",
	},
	"anxiety": {
		"Constant anxiety, and therapy has only helped so much. Is ketamine-assisted therapy suitable for anxiety?",
		"Can you tell me more about how sessions work and whether someone needs to drive me home?",
	},
	"ptsd": {
		"I have PTSD after a car accident two years ago. Talking therapy has been slow. Could I book a call?",
		"Ex-forces, PTSD diagnosis. Interested in your programme; please phone rather than email.",
	},
	"addiction": {
		"I've been sober for four months and want support to stay that way. I read about your alcohol programme.",
		"Enquiring for my sister about treatment for alcohol dependence.",
	},
	"chronic_pain": {
		"Fibromyalgia for ten years; pain clinic options are exhausted. Would ketamine infusions be possible?",
		"Chronic back pain after surgery. I'd like to understand the risks and the costs.",
	},
	"other": {
		"I'm not sure which treatment fits; I have OCD and low mood. Could someone advise?",
		"Could you send me general information about your clinic and prices?",
	},
}

var sources = []string{"gp", "self", "search", "search", "social", "friend", "other", ""}

var campaigns = []struct{ source, medium, campaign string }{
	{"google", "cpc", "adhd-autumn"}, {"facebook", "social", "depression-awareness"}, {"newsletter", "email", "november"},
	{"", "", ""}, {"", "", ""}, {"", "", ""},
}

// Generator makes enquiries from a seeded random source, so a run can be repeated.
type Generator struct {
	r *rand.Rand
}

// New returns a generator with the given seed.
func New(seed uint64) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Intn is a random number in [0, n), from the generator's source.
func (g *Generator) Intn(n int) int { return g.r.IntN(n) }

// Treatment picks a treatment code by how often each is asked about.
func (g *Generator) Treatment() string {
	total := 0
	for _, t := range treatmentWeights {
		total += t.weight
	}
	n := g.r.IntN(total)
	for _, t := range treatmentWeights {
		if n < t.weight {
			return t.code
		}
		n -= t.weight
	}
	return "other"
}

// Submission returns the i-th fictional enquiry. Emails are unique per i.
func (g *Generator) Submission(i int) intake.Submission {
	first := firstNames[g.r.IntN(len(firstNames))]
	last := lastNames[g.r.IntN(len(lastNames))]
	treatment := g.Treatment()
	msgs := messages[treatment]
	local := strings.NewReplacer("'", "", "ë", "e", "Å", "a", "å", "a", "ö", "o").Replace(strings.ToLower(first + "." + last))
	sub := intake.Submission{
		Name:             first + " " + last,
		Email:            fmt.Sprintf("%s.%d@example.org", local, i),
		PreferredContact: []string{"either", "either", "email", "phone"}[g.r.IntN(4)],
		Treatment:        treatment,
		Message:          msgs[g.r.IntN(len(msgs))],
		ReferralSource:   sources[g.r.IntN(len(sources))],
		Consent:          true,
	}
	if sub.PreferredContact == "phone" || g.r.IntN(3) > 0 {
		sub.Phone = fmt.Sprintf("07700 900%03d", g.r.IntN(1000))
	}
	if g.r.IntN(2) == 0 {
		sub.DateOfBirth = fmt.Sprintf("%d-%02d-%02d", 1950+g.r.IntN(55), 1+g.r.IntN(12), 1+g.r.IntN(28))
	}
	c := campaigns[g.r.IntN(len(campaigns))]
	sub.UTMSource, sub.UTMMedium, sub.UTMCampaign = c.source, c.medium, c.campaign
	return sub
}

// Notes are things staff write on an enquiry.
var Notes = []string{
	"Called, no answer; left a voicemail with our number.",
	"Spoke for 20 minutes. Interested; sending the information pack.",
	"Asked us to call back after 5pm on weekdays.",
	"GP letter received; screening questionnaire sent.",
	"Assessment booked; reminded about bringing a list of current medication.",
	"Discussed costs; wants to think it over and will call back.",
}

// Note picks a note.
func (g *Generator) Note() string { return Notes[g.r.IntN(len(Notes))] }

// CloseReasons are why enquiries end.
var CloseReasons = map[string][]string{
	"not_suitable": {"Current medication rules out treatment", "Under specialist care elsewhere"},
	"lost":         {"No reply after three attempts", "Chose another clinic", "Decided the cost was too high"},
	"referred":     {"Referred back to GP for a psychiatric assessment", "Referred to NHS Talking Therapies"},
}

// CloseReason picks a reason for closing with status.
func (g *Generator) CloseReason(status string) string {
	rs := CloseReasons[status]
	return rs[g.r.IntN(len(rs))]
}

// Screening returns fictional questionnaire answers for the i-th enquiry about treatment: about half answer
// the questionnaires their treatment is offered, one in twenty-five of those answers PHQ-9 item 9 above 0 (a
// risk flag), one in ten answers a safety question yes (a review flag). It draws from its own source seeded by
// i, so Submission's sequence is the same with or without it.
func Screening(i int, treatment string) screening.Answers {
	r := rand.New(rand.NewPCG(uint64(i), 0x5c12ee41))
	var a screening.Answers
	if r.IntN(2) == 0 {
		return a
	}
	cat := screening.Default()
	a.Questionnaires = map[string][]int{}
	level := r.IntN(4) // how unwell this fictional patient feels, 0–3
	for _, in := range cat.ForTreatment(treatment) {
		answers := make([]int, len(in.Items))
		for j := range answers {
			opts := in.OptionsOf(j)
			v := min(level+r.IntN(2)-r.IntN(2), len(opts)-1)
			answers[j] = opts[max(v, 0)].Value
		}
		if in.ID == "phq9" {
			answers[8] = 0
			if r.IntN(25) == 0 {
				answers[8] = 1
			}
		}
		a.Questionnaires[in.ID] = answers
	}
	a.Safety = map[string]bool{}
	for _, q := range cat.Safety() {
		a.Safety[q.Key] = q.Flag == screening.FlagReview && r.IntN(80) == 0
	}
	return a
}
