package intake

import (
	"strings"
	"testing"
)

func TestNewReferenceIsReadableAndUnique(t *testing.T) {
	seen := make(map[string]bool, 100000)
	for i := 0; i < 100000; i++ {
		r := NewReference()
		if len(r) != 9 || r[4] != '-' {
			t.Fatalf("reference %q is not XXXX-XXXX", r)
		}
		for _, c := range strings.ReplaceAll(r, "-", "") {
			if !strings.ContainsRune(ReferenceAlphabet, c) {
				t.Fatalf("reference %q has %q, outside the alphabet", r, c)
			}
		}
		if seen[r] {
			t.Fatalf("reference %q drawn twice in %d", r, i)
		}
		seen[r] = true
	}
	for _, confusable := range "01ILOU" {
		if strings.ContainsRune(ReferenceAlphabet, confusable) {
			t.Errorf("alphabet contains confusable %q", confusable)
		}
	}
}

func TestNewReferenceUsesTheWholeAlphabet(t *testing.T) {
	counts := map[rune]int{}
	for i := 0; i < 20000; i++ {
		for _, c := range strings.ReplaceAll(NewReference(), "-", "") {
			counts[c]++
		}
	}
	// 160,000 characters over 30 symbols: about 5,333 each. A biased generator would stray far.
	for _, c := range ReferenceAlphabet {
		if n := counts[c]; n < 4500 || n > 6200 {
			t.Errorf("character %q drawn %d times, expected about 5333", c, n)
		}
	}
}

func TestParseReference(t *testing.T) {
	for in, want := range map[string]string{"K7QM-4XPD": "K7QM-4XPD", "k7qm4xpd": "K7QM-4XPD", " k7qm 4xpd ": "K7QM-4XPD"} {
		got, ok := ParseReference(in)
		if !ok || got != want {
			t.Errorf("ParseReference(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "K7QM-4XP", "K7QM-4XPDD", "K7QM-4XP0", "K7QM-4XPI", "<script>", "K7QM-4XP%"} {
		if got, ok := ParseReference(in); ok {
			t.Errorf("ParseReference(%q) accepted as %q", in, got)
		}
	}
}

func BenchmarkNewReference(b *testing.B) {
	for i := 0; i < b.N; i++ {
		_ = NewReference()
	}
}
