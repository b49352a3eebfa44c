package intake

import (
	"crypto/rand"
	"strings"
)

// ReferenceAlphabet is the set of characters references are made of: digits and capitals without 0, 1, I, L,
// O and U, so a reference read out on the phone cannot be misheard as another one.
const ReferenceAlphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

// referenceLength is the number of random characters: 30^8 ≈ 6.6·10^11 possibilities, so a guess at another
// patient's reference almost never lands.
const referenceLength = 8

// NewReference returns a fresh random reference such as "K7QM-4XPD". It is unguessable (crypto/rand) but not
// guaranteed unique: storage must enforce uniqueness and ask again on a collision.
func NewReference() string {
	var out [referenceLength + 1]byte
	var buf [32]byte
	n := 0
	for n < referenceLength {
		if _, err := rand.Read(buf[:]); err != nil {
			panic("intake: crypto/rand failed: " + err.Error())
		}
		for _, b := range buf {
			// Rejection sampling: 240 is the largest multiple of 30 below 256, so every character is equally likely.
			if b >= 240 || n == referenceLength {
				continue
			}
			pos := n
			if n >= referenceLength/2 {
				pos++
			}
			out[pos] = ReferenceAlphabet[int(b)%len(ReferenceAlphabet)]
			n++
		}
	}
	out[referenceLength/2] = '-'
	return string(out[:])
}

// ParseReference accepts a reference as a person might type it (lower case, spaces, no dash, O for 0 and so on
// are not guessed) and returns its canonical form, or false when it cannot be a reference.
func ParseReference(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = strings.NewReplacer("-", "", " ", "").Replace(s)
	if len(s) != referenceLength {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(ReferenceAlphabet, s[i]) < 0 {
			return "", false
		}
	}
	return s[:referenceLength/2] + "-" + s[referenceLength/2:], true
}
