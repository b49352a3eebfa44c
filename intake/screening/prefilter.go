package screening

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A prefilter says cheaply when a regular expression cannot match a text, so that the expression itself runs
// only on the few texts that might match. It is worked out from the expression's syntax tree: the literal
// strings any match must contain. It is conservative by construction — where the analysis is unsure (a
// character class too large to list, a part that may repeat zero times) it requires nothing — so the matcher
// with prefilters answers exactly as the expressions alone would; the tests check that on every phrase of the
// list and many more.
//
// Texts and literals are compared after foldRune, which maps every rune of a case-folding orbit (k, K and the
// Kelvin sign K) to one representative, so a case-insensitive literal is found whatever the text's case.
type prefilter struct {
	// all are the requirements: the text must contain at least one string of each set. None means any text may
	// match.
	all [][]string
}

// maxExact bounds the sets of exact strings the analysis keeps (a concatenation multiplies them).
const maxExact = 64

// possible reports whether a text whose folded form is t might match.
func (p prefilter) possible(t *foldedText) bool {
	for _, req := range p.all {
		if !t.containsAny(req) {
			return false
		}
	}
	return true
}

// foldedText is a text after fold, with the set of its byte pairs (hashed into 4,096 bits), so that most
// strings it does not contain are told apart by a few bit tests instead of a search through the text.
type foldedText struct {
	s     string
	pairs [64]uint64
}

// set makes t the folded form of text.
func (t *foldedText) set(text string) {
	t.s = fold(text)
	t.pairs = [64]uint64{}
	for i := 0; i+1 < len(t.s); i++ {
		h := pairHash(t.s[i], t.s[i+1])
		t.pairs[h/64] |= 1 << (h % 64)
	}
}

func pairHash(a, b byte) uint { return (uint(a)*167 + uint(b)) % 4096 }

// contains reports whether the text contains sub. Every byte pair of sub must be among the text's pairs; only
// then is the text searched.
func (t *foldedText) contains(sub string) bool {
	for i := 0; i+1 < len(sub); i++ {
		if h := pairHash(sub[i], sub[i+1]); t.pairs[h/64]&(1<<(h%64)) == 0 {
			return false
		}
	}
	return strings.Contains(t.s, sub)
}

func (t *foldedText) containsAny(subs []string) bool {
	for _, sub := range subs {
		if t.contains(sub) {
			return true
		}
	}
	return false
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// foldRune is r's case-folding representative: lower case for ASCII letters and for runes that fold to one
// (the Kelvin sign to k, the long s to s), else the smallest rune of r's orbit under unicode.SimpleFold —
// which is how regexp's (?i) decides that two runes match.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	if 'A' <= m && m <= 'Z' {
		m += 'a' - 'A'
	}
	return m
}

// fold is s with every rune folded. ASCII text without capitals is returned as it is.
func fold(s string) string {
	upper := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf {
			return strings.Map(foldRune, s)
		} else if 'A' <= c && c <= 'Z' {
			upper = true
		}
	}
	if !upper {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// newPrefilter works out the prefilter of a pattern as regexp.Compile reads it (Perl syntax).
func newPrefilter(pattern string) (prefilter, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return prefilter{}, err
	}
	in := analyse(re.Simplify())
	all := in.all
	if req := requirement(in.exact); req != nil {
		all = append(all, req)
	}
	// The most selective requirements first, so that a text without them is turned away after one or two
	// searches; the weakest (a space, "a") are dropped, which only lets more texts through to the expression.
	slices.SortStableFunc(all, func(a, b []string) int { return score(b) - score(a) })
	for i, req := range all {
		if i == maxRequirements || score(req) < 2 {
			all = all[:i]
			break
		}
	}
	return prefilter{all: all}, nil
}

// maxRequirements is how many requirements a prefilter checks at most.
const maxRequirements = 3

// score is how selective a requirement is: the length of its shortest string.
func score(req []string) int {
	n := len(req[0])
	for _, s := range req {
		n = min(n, len(s))
	}
	return n
}

// literalInfo is what the analysis knows of the strings a part of an expression matches.
type literalInfo struct {
	// exact, when not nil, lists every string the part can match (folded); nil means unknown or too many.
	exact []string
	// all are requirements every match of the part meets: it contains one string of each set.
	all [][]string
}

var emptyString = literalInfo{exact: []string{""}}

func analyse(re *syntax.Regexp) literalInfo {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return emptyString
	case syntax.OpLiteral:
		return literalInfo{exact: []string{strings.Map(foldRune, string(re.Rune))}}
	case syntax.OpCharClass:
		return charClass(re)
	case syntax.OpCapture:
		return analyse(re.Sub[0])
	case syntax.OpQuest:
		sub := analyse(re.Sub[0])
		if sub.exact == nil {
			return literalInfo{}
		}
		return literalInfo{exact: union(sub.exact, []string{""})}
	case syntax.OpPlus:
		return atLeastOnce(analyse(re.Sub[0]))
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return atLeastOnce(analyse(re.Sub[0]))
		}
		return literalInfo{}
	case syntax.OpConcat:
		return concat(re.Sub)
	case syntax.OpAlternate:
		return alternate(re.Sub)
	}
	// OpStar, OpAnyChar, OpAnyCharNotNL, OpNoMatch and anything newer: nothing known, nothing required.
	return literalInfo{}
}

// charClass lists a small class's runes, folded; a large one is unknown.
func charClass(re *syntax.Regexp) literalInfo {
	var out []string
	for i := 0; i+1 < len(re.Rune); i += 2 {
		lo, hi := re.Rune[i], re.Rune[i+1]
		if hi-lo >= maxExact || len(out) > maxExact {
			return literalInfo{}
		}
		for r := lo; r <= hi; r++ {
			out = append(out, string(foldRune(r)))
		}
	}
	if len(out) == 0 || len(out) > maxExact {
		return literalInfo{}
	}
	return literalInfo{exact: union(out, nil)}
}

// atLeastOnce is what x+ keeps of x: every match contains a match of x, so x's requirements hold.
func atLeastOnce(sub literalInfo) literalInfo {
	all := slices.Clone(sub.all)
	if req := requirement(sub.exact); req != nil {
		all = append(all, req)
	}
	return literalInfo{all: all}
}

// concat joins the exact strings of neighbouring parts while there are few enough of them; every part's
// requirements, and every run of exact strings, must be met.
func concat(subs []*syntax.Regexp) literalInfo {
	run := []string{""}
	var all [][]string
	cut := false
	for _, sub := range subs {
		in := analyse(sub)
		all = append(all, in.all...)
		if run != nil && in.exact != nil && len(run)*len(in.exact) <= maxExact {
			run = cross(run, in.exact)
			continue
		}
		cut = true
		if req := requirement(run); req != nil {
			all = append(all, req)
		}
		run = in.exact
	}
	if !cut {
		return literalInfo{exact: run, all: all}
	}
	if req := requirement(run); req != nil {
		all = append(all, req)
	}
	return literalInfo{all: all}
}

// alternate: the union of the alternatives' exact strings when every one is known; otherwise a match of any
// alternative contains one string of the union of each alternative's best requirement, when each has one.
func alternate(subs []*syntax.Regexp) literalInfo {
	ins := make([]literalInfo, len(subs))
	var exact []string
	known := true
	for i, sub := range subs {
		ins[i] = analyse(sub)
		if ins[i].exact == nil {
			known = false
		}
		exact = append(exact, ins[i].exact...)
	}
	if known && len(exact) <= maxExact {
		return literalInfo{exact: union(exact, nil)}
	}
	var either []string
	for _, in := range ins {
		reqs := in.all
		if req := requirement(in.exact); req != nil {
			reqs = append(slices.Clone(reqs), req)
		}
		best := bestOf(reqs)
		if best == nil {
			return literalInfo{}
		}
		either = append(either, best...)
	}
	return literalInfo{all: [][]string{minimal(either)}}
}

// requirement is the requirement a set of exact strings makes: one of them (without those that contain
// another); none when the set is unknown or holds the empty string.
func requirement(exact []string) []string {
	if exact == nil || slices.Contains(exact, "") {
		return nil
	}
	return minimal(exact)
}

// bestOf picks the most selective requirement: the one whose shortest string is longest, then the smallest.
func bestOf(reqs [][]string) []string {
	var best []string
	for _, req := range reqs {
		if best == nil || score(req) > score(best) || (score(req) == score(best) && len(req) < len(best)) {
			best = req
		}
	}
	return best
}

func cross(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return union(out, nil)
}

// union is a and b without repeats, sorted.
func union(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// minimal drops every string that contains another of the set: containing the shorter one is then required
// anyway, and it is found at least as often.
func minimal(set []string) []string {
	set = union(set, nil)
	slices.SortStableFunc(set, func(a, b string) int { return len(a) - len(b) })
	var out []string
	for _, s := range set {
		if !containsAny(s, out) {
			out = append(out, s)
		}
	}
	return out
}
