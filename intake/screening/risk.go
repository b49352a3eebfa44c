package screening

import (
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// riskLanguageFile is data/risk_language.json: patterns (regular expressions, matched case-insensitively
// against the message with its whitespace and apostrophes made plain) that raise FlagRisk, and the phrases
// each must and must not match, which the tests check.
type riskLanguageFile struct {
	Note     string   `json:"note"`
	Patterns []string `json:"patterns"`
	// Exclusions are removed from the message before matching ("killing me" said of pain).
	Exclusions   []string `json:"exclusions"`
	MustMatch    []string `json:"must_match"`
	MustNotMatch []string `json:"must_not_match"`
}

type riskLanguage struct {
	patterns   []*regexp.Regexp
	exclusions []*regexp.Regexp
	// patternFilters and exclusionFilters are the prefilters of patterns and exclusions, index for index: an
	// expression runs only on a text its prefilter finds possible.
	patternFilters   []prefilter
	exclusionFilters []prefilter
	file             riskLanguageFile
}

func compileRiskLanguage(f riskLanguageFile) (*riskLanguage, error) {
	rl := &riskLanguage{file: f}
	for _, p := range f.Patterns {
		re, err := regexp.Compile(`(?i)` + p)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", p, err)
		}
		pf, err := newPrefilter(`(?i)` + p)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", p, err)
		}
		rl.patterns = append(rl.patterns, re)
		rl.patternFilters = append(rl.patternFilters, pf)
	}
	for _, p := range f.Exclusions {
		re, err := regexp.Compile(`(?i)` + p)
		if err != nil {
			return nil, fmt.Errorf("exclusion %q: %w", p, err)
		}
		pf, err := newPrefilter(`(?i)` + p)
		if err != nil {
			return nil, fmt.Errorf("exclusion %q: %w", p, err)
		}
		rl.exclusions = append(rl.exclusions, re)
		rl.exclusionFilters = append(rl.exclusionFilters, pf)
	}
	if len(rl.patterns) == 0 {
		return nil, fmt.Errorf("no patterns")
	}
	// The file carries its own examples: a pattern edited so that it misses one, or an exclusion so broad that it
	// hides one, stops the catalogue from loading rather than quietly missing risk in production.
	for _, p := range f.MustMatch {
		if !rl.matches(p) {
			return nil, fmt.Errorf("must_match phrase %q is not matched", p)
		}
	}
	for _, p := range f.MustNotMatch {
		if rl.matches(p) {
			return nil, fmt.Errorf("must_not_match phrase %q is matched", p)
		}
	}
	return rl, nil
}

var plainer = strings.NewReplacer("’", "'", "‘", "'", "`", "'", "-", " ", "‐", " ", "–", " ", "—", " ")

// RiskLanguage reports whether message contains language about suicide, self-harm or overdose from the
// risk-language list. It errs towards flagging: a clinician reads every flagged message.
func (c *Catalogue) RiskLanguage(message string) bool { return c.risk.matches(message) }

// matches applies the list to message: normalised (NFKC, plain apostrophes, hyphens and dashes as spaces, one
// space between words), exclusions removed, then any pattern. An expression runs only when its prefilter finds
// the literal words it needs in the text, which most messages lack: the answer is the same, without the cost
// of backtracking through every pattern (≈ 18× less on the demo mix, ≈ 38× on a 5,000-character message;
// docs/performance.md).
func (rl *riskLanguage) matches(message string) bool {
	if strings.TrimSpace(message) == "" {
		return false
	}
	text := riskText(message)
	var folded foldedText
	folded.set(text)
	for i, re := range rl.exclusions {
		if rl.exclusionFilters[i].possible(&folded) {
			text = re.ReplaceAllString(text, " ")
			folded.set(text)
		}
	}
	for i, re := range rl.patterns {
		if rl.patternFilters[i].possible(&folded) && re.MatchString(text) {
			return true
		}
	}
	return false
}

// riskText is message as the patterns read it: NFKC, plain apostrophes, hyphens and dashes as spaces, one space
// between words and one at each end.
func riskText(message string) string {
	return " " + strings.Join(strings.Fields(plainer.Replace(norm.NFKC.String(message))), " ") + " "
}
