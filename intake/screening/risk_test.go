package screening

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRiskLanguageList checks the list in data/risk_language.json against its own must_match and must_not_match
// phrases and against variants written here: other casing, curly apostrophes, hyphens and dashes, spacing,
// and figures of speech that are not risk.
func TestRiskLanguageList(t *testing.T) {
	c := Default()
	b, err := dataFS.ReadFile("data/risk_language.json")
	if err != nil {
		t.Fatal(err)
	}
	var f riskLanguageFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.MustMatch) < 20 || len(f.MustNotMatch) < 10 {
		t.Fatalf("the file lists %d must_match and %d must_not_match phrases: too few to trust", len(f.MustMatch), len(f.MustNotMatch))
	}
	// The issue's own examples must stay in the file's lists.
	for _, p := range []string{"I keep thinking about ending my life", "I want to kill myself", "I've been feeling suicidal", "I took an overdose in March", "history of self-harm"} {
		if !contains(f.MustMatch, p) {
			t.Errorf("must_match lost %q", p)
		}
	}
	if !contains(f.MustNotMatch, "My pain is killing me") {
		t.Error(`must_not_match lost "My pain is killing me"`)
	}

	mustMatch := append([]string{
		// casing, apostrophes, hyphens, spacing
		"I WANT TO END MY LIFE",
		"i want to kill myself",
		"I don’t want to be here any more",
		"I don`t want to live",
		"I dont want to live",
		"self‐harm since I was 15", // U+2010 hyphen
		"self‑harm since I was 15", // U+2011 non-breaking hyphen
		"self–harm since I was 15", // en dash
		"SELF-HARMING",
		"selfharm",
		"I want   to\n\tkill   myself",
		"kill my self",
		"thinking about killing my self",
		"Ending-it-all feels like the only way",
		"thoughts of ending it all",
		"I've taken an overdose before",
		"Overdosing scares me but I think about it",
		"I took too many pills in January",
		"I swallowed all my tablets once",
		"suicide",
		"Suicidal.",
		"two suicide attempts",
		"Feeling suicidal?",
		"I wish I were dead",
		"I'd be better off dead",
		"I want to take my own life",
		// negations flag too, on purpose: a clinician reads them
		"I am not suicidal but I am struggling",
	}, f.MustMatch...)
	mustNot := append([]string{
		"my pain is killing me",
		"MY PAIN IS KILLING ME",
		"My back’s killing me",
		"I'm dying to start",
		"I am dying to start treatment",
		"killing time before work",
		"I've been killing time reading about ketamine",
		"I'm dead tired every day",
		"I have a dead-end job and low mood",
		"I cut down on drinking last month",
		"End-of-life care for my father was hard",
		"I'd like to take my partner to the appointment",
		"I overate at Christmas",
		"My self-esteem is low",
		"Self-employed, so mornings suit me",
		"I take painkillers for my back",
		"",
		"   ",
	}, f.MustNotMatch...)
	for _, p := range mustMatch {
		if !c.RiskLanguage(p) {
			t.Errorf("not flagged: %q", p)
		}
	}
	for _, p := range mustNot {
		if c.RiskLanguage(p) {
			t.Errorf("flagged: %q", p)
		}
	}
	// An exclusion removes only the figure of speech: risk words elsewhere in the message still flag it.
	for _, p := range []string{
		"My pain is killing me. Some days I want to end my life.",
		"this wait is killing me and I have thought about suicide",
	} {
		if !c.RiskLanguage(p) {
			t.Errorf("not flagged when a figure of speech is also present: %q", p)
		}
	}
	// A very long message is still read to the end.
	long := strings.Repeat("I would like to ask about treatment. ", 130) + "I have been self-harming."
	if !c.RiskLanguage(long) {
		t.Error("risk language at the end of a long message was missed")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
