package crm

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
)

// Password rules, after NIST SP 800-63B: a length between MinPasswordLength characters and MaxPasswordBytes
// bytes, any characters at all (spaces and emoji too), no composition rules, and no password that is common,
// breached or easy to guess.
const (
	// MinPasswordLength is the shortest password accepted, in characters.
	MinPasswordLength = 12
	// MaxPasswordBytes is the longest password accepted, in bytes.
	MaxPasswordBytes = 1024
	// minPasswordScore is the least zxcvbn score (0 to 4) accepted: 3 means about 10^8 guesses or more, safely
	// beyond an online attack and slow to crack offline from an argon2id hash.
	minPasswordScore = 3
	// strengthPrefix bounds the characters zxcvbn examines: its matching grows steeply with length (a repeated
	// 1024-character password took 28 s), and a strong prefix already makes the whole password strong.
	strengthPrefix = 64
)

// ContextWords are the words of this product and its trade that an attacker would try in a clinic's
// passwords (docs/security.md lists them); a password built on them scores as easy to guess, like one built on
// the account's own name or email.
var ContextWords = []string{"frontdesk", "clinic", "ketamine", "therapy", "enquiry", "enquiries", "patient",
	"patients", "admin", "coordinator", "clinician"}

// minOwnCharacters is how many characters a password must keep once the context words, the account's name and
// email and the clinic's name are taken out of it: "HarbourClinic2026" for the Harbour Clinic keeps "2026".
const minOwnCharacters = 8

// withoutWords is p in lower case without any of words (those of 4 letters or more), wherever they appear.
func withoutWords(p string, words []string) string {
	p = strings.ToLower(p)
	for _, w := range words {
		if utf8.RuneCountInString(w) >= 4 {
			p = strings.ReplaceAll(p, strings.ToLower(w), "")
		}
	}
	return p
}

// CommonPasswordMessage is what a person is told when their password is refused as too easy to guess.
const CommonPasswordMessage = "This password is too common or easy to guess: it is on lists of leaked passwords, " +
	"or is a simple pattern or repetition. Try a few unrelated words together, such as a short phrase only you would think of."

// PasswordProblem says what is wrong with a new password, or "" when it is acceptable. It is the one place the
// password rules live: setup, new accounts, password changes and resets all call it. related are words an
// attacker would try first (the account's email and name), counted against the password's strength.
func PasswordProblem(p string, related ...string) string {
	switch {
	case utf8.RuneCountInString(p) < MinPasswordLength:
		return fmt.Sprintf("Use a password of at least %d characters.", MinPasswordLength)
	case len(p) > MaxPasswordBytes:
		return fmt.Sprintf("Use a password of at most %d bytes.", MaxPasswordBytes)
	case easyToGuess(p, related):
		return CommonPasswordMessage
	}
	return ""
}

// easyToGuess reports whether zxcvbn finds p in its lists of common passwords, or scores it below
// minPasswordScore.
func easyToGuess(p string, related []string) bool {
	p = strings.ToValidUTF8(p, "\uFFFD")
	if utf8.RuneCountInString(p) > strengthPrefix {
		p = string([]rune(p)[:strengthPrefix])
	}
	// Each related text counts whole, as its email's local part, and word by word.
	inputs := append([]string(nil), ContextWords...)
	for _, r := range related {
		r = strings.ToLower(strings.TrimSpace(r))
		inputs = append(inputs, r)
		if local, _, ok := strings.Cut(r, "@"); ok {
			inputs = append(inputs, local)
		}
		inputs = append(inputs, strings.FieldsFunc(r, func(c rune) bool {
			return c == '@' || c == '.' || c == ' ' || c == '-' || c == '_' || c == '+'
		})...)
	}
	if len([]rune(withoutWords(p, inputs))) < minOwnCharacters {
		return true
	}
	res := zxcvbn.PasswordStrength(p, inputs)
	if res.Score < minPasswordScore {
		return true
	}
	// The whole password is one entry of the leaked-password list.
	return len(res.Sequence) == 1 && res.Sequence[0].Pattern == "dictionary" && res.Sequence[0].DictionaryName == "passwords"
}
