package crm

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/intake/screening"
)

// What a flag does to an enquiry is decided here; intake/screening only scores and flags. See README,
// "Screening questionnaires", and docs/clinical-safety.md.

// PriorityUrgent is the priority a risk-flagged enquiry is given.
const PriorityUrgent = "urgent"

// DefaultUrgentContactHours is the first-contact target of a risk-flagged enquiry when
// FRONTDESK_URGENT_CONTACT_HOURS is not set.
const DefaultUrgentContactHours = 4

// ScreeningLinkValid is how long the link to the questionnaires works after the enquiry.
const ScreeningLinkValid = 7 * 24 * time.Hour

// Flags returns the enquiry's flags: screening.FlagRisk and screening.FlagReview, in that order, each when set.
// It is never nil, so it is always a JSON list.
func (e Enquiry) Flags() []string {
	out := []string{}
	if e.RiskAt != nil {
		out = append(out, screening.FlagRisk)
	}
	if e.ReviewAt != nil {
		out = append(out, screening.FlagReview)
	}
	return out
}

// HasFlag reports whether the enquiry carries flag.
func (e Enquiry) HasFlag(flag string) bool { return slices.Contains(e.Flags(), flag) }

// Screening is one questionnaire a patient answered (or the safety questions, Instrument "safety"), as stored.
type Screening struct {
	Instrument string
	// Answers are a questionnaire's answers in item order; Safety the safety questions answered.
	Answers []int
	Safety  map[string]bool
	// Total and Band are the score when the answers were given (not set for the safety questions).
	Total int
	Band  string
	// Source is "enquiry" (sent with the enquiry) or "screening_page" (answered later through the link).
	Source string
	At     time.Time
}

// SafetyInstrument is the Instrument of the stored safety answers.
const SafetyInstrument = "safety"

// Screenings turns answers, scored in a, into the rows to store.
func Screenings(answers screening.Answers, a screening.Assessment, source string, at time.Time) []Screening {
	var out []Screening
	for _, r := range a.Results {
		out = append(out, Screening{Instrument: r.Instrument, Answers: answers.Questionnaires[r.Instrument],
			Total: r.Total, Band: r.Band.Name, Source: source, At: at})
	}
	if len(answers.Safety) > 0 {
		out = append(out, Screening{Instrument: SafetyInstrument, Safety: answers.Safety, Source: source, At: at})
	}
	return out
}

// ScreeningLink is the single-use link a patient follows to answer the questionnaires. Only Hash is stored;
// Token goes into the confirmation email and the thanks page and nowhere else.
type ScreeningLink struct {
	Token     string
	Hash      string
	ExpiresAt time.Time
}

// NewScreeningLink draws a link valid for ScreeningLinkValid from now: 256 random bits.
func NewScreeningLink(now time.Time) (ScreeningLink, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return ScreeningLink{}, err
	}
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	return ScreeningLink{Token: tok, Hash: ScreeningTokenHash(tok), ExpiresAt: now.Add(ScreeningLinkValid)}, nil
}

// ScreeningTokenHash is the stored form of a screening link's token.
func ScreeningTokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// FlagReason is the timeline's account of what raised the flags of a: the sources ("phq9 item 9",
// "self_harm_thoughts", "message") and the contraindication keys, never the patient's words.
func FlagReason(a screening.Assessment) string {
	s := ""
	if a.Has(screening.FlagRisk) {
		s = "risk: " + strings.Join(a.RiskSources, ", ")
	}
	if a.Has(screening.FlagReview) {
		if s != "" {
			s += "; "
		}
		s += "review: " + strings.Join(a.Review, ", ")
	}
	return s
}

// ScreeningStore reads the questionnaires patients answered.
type ScreeningStore interface {
	// ScreeningsOf returns, for each of the enquiries ids that has any, the questionnaires answered (the
	// safety questions last), keyed by enquiry ID. Enquiries without answers are absent from the map.
	ScreeningsOf(ctx context.Context, ids []int64) (map[int64][]Screening, error)
}
