package db

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tsMatchFrom and tsMatchSQL are PostgreSQL's text search in a listing: the enquiries (e) joined to their
// search rows (s, one per enquiry), kept when the document matches the tsQuery given as the argument. The GIN
// index on enquiry_search.document answers the match; the rows come in no order.
const (
	tsMatchFrom = `enquiry_search s JOIN enquiries e ON e.id = s.enquiry_id`
	tsMatchSQL  = `s.document @@ to_tsquery('frontdesk_search', ?)`
)

// tsQuery is ftsQuery for PostgreSQL: what a person typed, as a to_tsquery('frontdesk_search', …) query over
// enquiry_search.document that cannot be a syntax error and matches what the FTS5 query matches in SQLite (see
// docs/postgres.md for where the two engines differ). Every whitespace-separated term is split into tokens where
// FTS5's tokenizer would split it; the tokens form a phrase (<->) whose last token is a prefix (:*) when the term
// is 2 characters or longer; all terms are required (&). A term, or the whole text, that reads as a phone number
// also matches its E.164 digits. Each token is quoted, so &, |, !, :, * and parentheses are only text. It
// returns "" when nothing in the text is searchable.
func tsQuery(text string) string {
	return buildQuery(text, querySyntax{term: tsTerm, and: " & ", or: " | ",
		digits: func(d string) string { return tsLexeme(d) + ":*" }})
}

// tsTerm is one term as a phrase of its tokens; "" when it has none.
func tsTerm(s string) string {
	var tokens []string
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return !tokenChar(r) }) {
		tokens = append(tokens, tsLexeme(tok))
	}
	if len(tokens) == 0 {
		return ""
	}
	q := strings.Join(tokens, " <-> ")
	if utf8.RuneCountInString(s) >= 2 {
		q += ":*"
	}
	if len(tokens) > 1 {
		q = "(" + q + ")"
	}
	return q
}

// tsLexeme quotes one token for to_tsquery. Tokens hold only letters, digits and private-use characters, so
// quoting is belt and braces: a quote is doubled and a backslash escaped.
func tsLexeme(tok string) string {
	tok = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, tok)
	return "'" + strings.NewReplacer(`'`, `''`, `\`, `\\`).Replace(tok) + "'"
}
