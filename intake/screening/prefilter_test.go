package screening

import (
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// referenceMatches is the risk-language matcher as it was before prefilters: every exclusion and every pattern
// run on every message. The matcher in use must answer exactly as it does.
func referenceMatches(rl *riskLanguage, message string) bool {
	if strings.TrimSpace(message) == "" {
		return false
	}
	text := " " + strings.Join(strings.Fields(plainer.Replace(norm.NFKC.String(message))), " ") + " "
	for _, re := range rl.exclusions {
		text = re.ReplaceAllString(text, " ")
	}
	for _, re := range rl.patterns {
		if re.MatchString(text) {
			return true
		}
	}
	return false
}

// generate writes a random string that re tends to match: each literal rune in a random member of its case
// orbit, a random rune of each class, optional and repeated parts taken or not. Word boundaries are ignored, so
// some of the strings do not match, which is as useful.
func generate(r *rand.Rand, re *syntax.Regexp, b *strings.Builder) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				orbit := []rune{c}
				for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
					orbit = append(orbit, f)
				}
				c = orbit[r.IntN(len(orbit))]
			}
			b.WriteRune(c)
		}
	case syntax.OpCharClass:
		var runes []rune
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for c := re.Rune[i]; c <= re.Rune[i+1] && len(runes) < 200; c++ {
				runes = append(runes, c)
			}
		}
		if len(runes) > 0 {
			b.WriteRune(runes[r.IntN(len(runes))])
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteRune(rune('a' + r.IntN(26)))
	case syntax.OpCapture:
		generate(r, re.Sub[0], b)
	case syntax.OpQuest:
		if r.IntN(2) == 0 {
			generate(r, re.Sub[0], b)
		}
	case syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
		n := r.IntN(3)
		if re.Op == syntax.OpPlus || (re.Op == syntax.OpRepeat && re.Min > 0) {
			n++
		}
		for range n {
			generate(r, re.Sub[0], b)
		}
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			generate(r, sub, b)
		}
	case syntax.OpAlternate:
		generate(r, re.Sub[r.IntN(len(re.Sub))], b)
	}
}

var fillerWords = []string{"I", "have", "been", "to", "my", "GP", "and", "want", "the", "life", "self", "end",
	"it", "all", "pain", "killing", "me", "time", "take", "took", "pills", "harm", "dead", "die", "wake", "up",
	"no", "reason", "better", "off", "without", "suicide", "over", "dose", "don't", "live", "sleep", "never",
	"train", "in", "front", "of", "a", "wish", "were", "myself", "cut", "hurt", "ketamine", "ADHD", "sucks"}

// riskCorpus is many messages around the risk-language list: its own phrases; demo-like sentences; strings
// generated from every pattern and exclusion, alone, inside sentences and with one rune dropped or doubled;
// random runs of words the patterns use; and the same with capitals, curly apostrophes, dashes, the Kelvin
// sign and the long s.
func riskCorpus(rl *riskLanguage, n int) []string {
	r := rand.New(rand.NewPCG(13, 2026))
	out := append([]string{"", " ", "killing me", "kill killing me myself", "end killing me my life",
		"self killing me harm", "\u212Aill myself", "\u017Fuicide", "SUİCİDE", "ſelf harm", "I am not suicidal",
		"My pain is killing me. Some days I want to end my life.", "this wait is killing me and I have thought about suicide",
		strings.Repeat("I would like to ask about treatment. ", 130) + "I have been self-harming."},
		rl.file.MustMatch...)
	out = append(out, rl.file.MustNotMatch...)
	var trees []*syntax.Regexp
	for _, p := range append(slicesOf(rl.file.Patterns), rl.file.Exclusions...) {
		re, err := syntax.Parse(`(?i)`+p, syntax.Perl)
		if err != nil {
			panic(err)
		}
		trees = append(trees, re.Simplify())
	}
	words := func(k int) string {
		var ws []string
		for range k {
			ws = append(ws, fillerWords[r.IntN(len(fillerWords))])
		}
		return strings.Join(ws, " ")
	}
	dress := []func(string) string{
		func(s string) string { return s },
		strings.ToUpper,
		func(s string) string { return strings.ReplaceAll(s, "'", "’") },
		func(s string) string { return strings.ReplaceAll(s, " ", "-") },
		func(s string) string { return strings.ReplaceAll(s, " ", " — ") },
		func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "k", "\u212A"), "s", "\u017F") },
		func(s string) string { return strings.ReplaceAll(s, " ", "\n\t ") },
	}
	for len(out) < n {
		var b strings.Builder
		generate(r, trees[r.IntN(len(trees))], &b)
		s := b.String()
		switch r.IntN(4) {
		case 1:
			s = words(r.IntN(6)) + " " + s + " " + words(r.IntN(6))
		case 2:
			if rs := []rune(s); len(rs) > 1 {
				i := r.IntN(len(rs))
				if r.IntN(2) == 0 {
					s = string(rs[:i]) + string(rs[i+1:])
				} else {
					s = string(rs[:i+1]) + string(rs[i:])
				}
			}
		case 3:
			s = words(2 + r.IntN(10))
		}
		out = append(out, dress[r.IntN(len(dress))](s))
	}
	return out
}

func slicesOf(s []string) []string { return append([]string(nil), s...) }

// TestRiskLanguageMatchesTheReference: the matcher with prefilters flags exactly the messages the expressions
// alone flag, on the list's own phrases and thousands of messages made around them.
func TestRiskLanguageMatchesTheReference(t *testing.T) {
	rl := Default().risk
	flagged := 0
	for _, m := range riskCorpus(rl, 20000) {
		want := referenceMatches(rl, m)
		if got := rl.matches(m); got != want {
			t.Errorf("matches(%q) = %v, the expressions alone say %v", m, got, want)
		}
		if want {
			flagged++
		}
	}
	// The corpus must exercise both answers, or the comparison proves little.
	if flagged < 2000 || flagged > 18000 {
		t.Errorf("%d of 20000 messages flagged: the corpus is lopsided", flagged)
	}
}

// TestPrefilterNeverHidesAMatch checks each expression on its own: whenever it matches a text, its prefilter
// finds that text possible.
func TestPrefilterNeverHidesAMatch(t *testing.T) {
	rl := Default().risk
	res := append(append([]*regexp.Regexp(nil), rl.patterns...), rl.exclusions...)
	filters := append(append([]prefilter(nil), rl.patternFilters...), rl.exclusionFilters...)
	hits := make([]int, len(res))
	for _, m := range riskCorpus(rl, 20000) {
		text := riskText(m)
		var folded foldedText
		folded.set(text)
		for i, re := range res {
			if re.MatchString(text) {
				hits[i]++
				if !filters[i].possible(&folded) {
					t.Errorf("%s matches %q but its prefilter %q says impossible", re, text, filters[i].all)
				}
			}
		}
	}
	for i, n := range hits {
		if n == 0 {
			t.Errorf("%s matched nothing in the corpus: it is not tested", res[i])
		}
	}
	// Every pattern of the list must have a prefilter that requires something, or it runs on every message.
	for i, f := range rl.patternFilters {
		if len(f.all) == 0 {
			t.Errorf("pattern %s has an empty prefilter", rl.patterns[i])
		}
	}
}

// TestPrefilterAnalysis checks the analysis on expressions built to trip it — optional and repeated parts,
// alternations of every shape, classes, case folding beyond ASCII — against random strings over an alphabet
// of their runes: whenever an expression matches, its prefilter must find the string possible.
func TestPrefilterAnalysis(t *testing.T) {
	patterns := []string{
		`(?i)kill`, `(?i)strasse`, `kill`, `(?i)\bab\s+cd\b`, `(?i)a(b|c)d`, `(?i)a(b|)d`, `(?i)a(b|c*)d`,
		`(?i)(ab)?cd`, `(?i)(ab)*cd`, `(?i)(ab)+cd`, `(?i)(ab){2,3}c`, `(?i)(ab){0,3}c`, `(?i)a.b`, `(?i)a[^x]b`,
		`(?i)[a-c]k[s-t]`, `(?i)(é|e)ss`, `(?i)ΣΑΣ`, `(?i)(a|b)(c|d)(e|f)(a|b)(c|d)(e|f)(a|b)(c|d)`,
		`(?i)\w+ss`, `(?i)(kk|ss)+(a|b)?`, `(?i)^ab|cd$`, `(?i)(?:a|b\s?c)(?:d|e\s?f)`, `(?i)(?-i:aB)c`,
		`(?i)x(?:y|z)*w`, `(?i)(?:a|b)(?:c|(?:d|e)f)`, `a|`, `(?i)(?:ab|cd)+(?:ef)?gh`,
	}
	alphabet := []rune("abcdefghkswxyzABCDKSé Éσς\u212A\u017FΣΑα\t")
	r := rand.New(rand.NewPCG(7, 11))
	for _, p := range patterns {
		re := regexp.MustCompile(p)
		pf, err := newPrefilter(p)
		if err != nil {
			t.Fatal(err)
		}
		tree, _ := syntax.Parse(p, syntax.Perl)
		tree = tree.Simplify()
		matched := 0
		for i := range 4000 {
			var b strings.Builder
			if i%2 == 0 {
				generate(r, tree, &b)
			}
			for range r.IntN(8) {
				b.WriteRune(alphabet[r.IntN(len(alphabet))])
			}
			if i%3 == 0 {
				generate(r, tree, &b)
			}
			s := b.String()
			if re.MatchString(s) {
				matched++
				var folded foldedText
				folded.set(s)
				if !pf.possible(&folded) {
					t.Errorf("%s matches %q but its prefilter %q says impossible", p, s, pf.all)
				}
			}
		}
		if matched == 0 {
			t.Errorf("%s matched none of the strings: not tested", p)
		}
	}
}

// TestFoldRune: runes that regexp's (?i) treats as the same fold to the same rune.
func TestFoldRune(t *testing.T) {
	for r := rune(0); r <= 0x1FFFF; r++ {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if foldRune(f) != foldRune(r) {
				t.Fatalf("foldRune(%U) = %U but foldRune(%U) = %U", r, foldRune(r), f, foldRune(f))
			}
		}
	}
	if fold("KILL \u212Aill ſelf") != "kill kill self" {
		t.Errorf("fold = %q", fold("KILL \u212Aill ſelf"))
	}
}

// FuzzRiskLanguage: for any message the matcher in use flags exactly what the expressions alone flag.
func FuzzRiskLanguage(f *testing.F) {
	rl := Default().risk
	for _, m := range riskCorpus(rl, 200) {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, m string) {
		if got, want := rl.matches(m), referenceMatches(rl, m); got != want {
			t.Fatalf("matches(%q) = %v, the expressions alone say %v", m, got, want)
		}
	})
}
