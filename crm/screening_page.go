package crm

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/intake/screening"
)

// The patient's side after the first form: the single-use link to the questionnaires (/enquire/screening/TOKEN)
// and what the thanks page may say about it. See README, "Screening page".

// ErrScreeningLinkGone is wrapped by every ScreeningLinkError: the link does not work, whatever the reason. The
// patient is told the same in every case, so nobody learns whether a token ever existed.
var ErrScreeningLinkGone = errors.New("the screening link no longer works")

// LinkProblem says why a screening link does not work. Only logs and tests see it, never the patient.
type LinkProblem string

// The reasons a screening link does not work.
const (
	// LinkUnknown: no link has that token (never issued, mistyped, or deleted with its erased enquiry).
	LinkUnknown LinkProblem = "unknown"
	// LinkExpired: the link is older than ScreeningLinkValid.
	LinkExpired LinkProblem = "expired"
	// LinkUsed: the questionnaires were already answered through it.
	LinkUsed LinkProblem = "used"
	// LinkClosed: its enquiry was erased or is marked spam.
	LinkClosed LinkProblem = "closed"
)

// ScreeningLinkError is a screening link that does not work, with the reason. errors.Is(err,
// ErrScreeningLinkGone) holds for every one.
type ScreeningLinkError struct{ Problem LinkProblem }

func (e *ScreeningLinkError) Error() string { return "screening link " + string(e.Problem) }

// Is makes every ScreeningLinkError match ErrScreeningLinkGone.
func (e *ScreeningLinkError) Is(target error) bool { return target == ErrScreeningLinkGone }

// ScreeningLinkState is a stored screening link with what the patient's pages need of its enquiry.
type ScreeningLinkState struct {
	// Hash is the stored hash of the token (ScreeningTokenHash).
	Hash      string
	ExpiresAt time.Time
	// UsedAt is when the questionnaires were answered through the link; nil while unused.
	UsedAt    *time.Time
	Reference string
	Treatment string
	Status    Status
	// Erased is set once the enquiry's personal data was erased.
	Erased bool
	// Risk is set when the enquiry is flagged risk (from the message, the first form or the link).
	Risk bool
	// Email is the enquiry's address (empty once erased), which the thanks page repeats to its sender.
	Email string
	// Received is when the enquiry arrived, and RiskAt when it was flagged risk (nil when it is not): the
	// thanks page counts the first-contact target from them.
	Received time.Time
	RiskAt   *time.Time
}

// Problem returns why the link cannot take answers at now, or "" when it can: closed (erased or spam) first,
// then used, then expired.
func (l ScreeningLinkState) Problem(now time.Time) LinkProblem {
	switch {
	case l.Erased || l.Status == StatusSpam:
		return LinkClosed
	case l.UsedAt != nil:
		return LinkUsed
	case !now.Before(l.ExpiresAt):
		return LinkExpired
	}
	return ""
}

// ScreeningAnswers is what AnswerScreening stores: a patient's answers through the link whose token hashes to
// Hash, scored in Assessment.
type ScreeningAnswers struct {
	Hash       string
	At         time.Time
	Answers    screening.Answers
	Assessment screening.Assessment
	// IntakeInbox is told of a new risk flag (with the assignee); "" for nobody.
	IntakeInbox string
}

// ScreeningOutcome is what the thanks page needs after the answers were stored. It never carries a score.
type ScreeningOutcome struct {
	Reference string
	// Flags are the enquiry's flags after the answers (screening.FlagRisk, screening.FlagReview).
	Flags []string
	// Raised are the flags these answers raised that the enquiry did not carry before.
	Raised []string
}

// ScreeningLinkStore keeps the screening links and stores the answers given through them.
type ScreeningLinkStore interface {
	// ScreeningLink returns the link whose token hash is hash, used or not, expired or not, with its enquiry.
	// It returns ErrNotFound when no link has that hash (an erasure deletes the link).
	ScreeningLink(ctx context.Context, hash string) (ScreeningLinkState, error)
	// AnswerScreening stores a.Answers in one write transaction: it takes the link (only if it is unused,
	// unexpired at a.At, and its enquiry neither erased nor spam, so two posts cannot both use it), reads the
	// enquiry's ScreeningFacts (the administrators only when a.NeedsAdmins()), asks decide
	// (PlanScreeningAnswers, unless a test says otherwise) what the answers do, and stores the plan as it is:
	// the answers (source "screening_page"), a "screening" timeline event naming the questionnaires
	// (ScreeningEventReason), one more on the enquiry's version, the plan's flags set at a.At with a "flagged"
	// event (its FlagReason), PriorityUrgent with a "priority" event when the plan says urgent, and the plan's
	// mail in the outbox. It returns the plan's Outcome; a *ScreeningLinkError when the link cannot be taken,
	// ErrNotFound when no link has the hash — and changes nothing then — or an error of the storage.
	AnswerScreening(ctx context.Context, a ScreeningAnswers,
		decide func(ScreeningAnswers, ScreeningFacts) ScreeningPlan) (ScreeningOutcome, error)
}

// ScreeningPage is what the questionnaire page shows for a link.
type ScreeningPage struct {
	Reference string
	Treatment string
	// Questionnaires are those offered for the treatment, in the order asked; Safety the safety questions,
	// the ones raising screening.FlagRisk first.
	Questionnaires []screening.Instrument
	Safety         []screening.SafetyQuestion
}

// ScreeningThanks is what the thanks page may say about an enquiry, found by its link's token.
type ScreeningThanks struct {
	Reference string
	// Risk: the enquiry is flagged risk, so the page leads with the crisis help.
	Risk bool
	// Invite: the link still takes answers, so the page invites the patient to use it.
	Invite bool
	// Email is the address the patient gave, for the page to repeat so that a mistyped one is noticed. Only
	// the browser that sent the enquiry holds the link's token.
	Email string
	// Received is when the enquiry arrived and RiskAt when it was flagged risk (nil when not), so that the
	// page states the same due time as the confirmation email, however long after sending it is shown.
	Received time.Time
	RiskAt   *time.Time
}

// ScreeningService serves the patient's link to the questionnaires.
type ScreeningService struct {
	store   ScreeningLinkStore
	catalog *screening.Catalogue
	inbox   string
	now     func() time.Time
	log     *slog.Logger
}

// NewScreeningService returns the service behind /enquire/screening/TOKEN. inbox is the address told of a risk
// flag raised there ("" for none); a nil log is slog.Default().
func NewScreeningService(store ScreeningLinkStore, inbox string, log *slog.Logger) *ScreeningService {
	if log == nil {
		log = slog.Default()
	}
	return &ScreeningService{store: store, catalog: screening.Default(), inbox: inbox, now: time.Now, log: log}
}

// SetClock replaces the service's clock (tests of expiry).
func (s *ScreeningService) SetClock(now func() time.Time) { s.now = now }

// tokenLength is the length of a token NewScreeningLink draws: 32 bytes in unpadded base64url.
const tokenLength = 43

// plausibleToken reports whether token could be one NewScreeningLink drew, so junk is refused without a read.
func plausibleToken(token string) bool {
	if len(token) != tokenLength {
		return false
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// link looks up the link of token by its hash only. A token that matches nothing is LinkUnknown.
func (s *ScreeningService) link(ctx context.Context, token string) (ScreeningLinkState, error) {
	if !plausibleToken(token) {
		return ScreeningLinkState{}, &ScreeningLinkError{LinkUnknown}
	}
	hash := ScreeningTokenHash(token)
	l, err := s.store.ScreeningLink(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return ScreeningLinkState{}, &ScreeningLinkError{LinkUnknown}
	}
	if err != nil {
		return ScreeningLinkState{}, fmt.Errorf("look up screening link: %w", err)
	}
	// The row was found by its hash; comparing again, in constant time, keeps this check from depending on how
	// the store compares.
	if subtle.ConstantTimeCompare([]byte(l.Hash), []byte(hash)) != 1 {
		return ScreeningLinkState{}, &ScreeningLinkError{LinkUnknown}
	}
	return l, nil
}

// usable is link, refusing a link that cannot take answers now.
func (s *ScreeningService) usable(ctx context.Context, token string) (ScreeningLinkState, error) {
	l, err := s.link(ctx, token)
	if err != nil {
		return ScreeningLinkState{}, err
	}
	if p := l.Problem(s.now()); p != "" {
		return ScreeningLinkState{}, &ScreeningLinkError{p}
	}
	return l, nil
}

// Open returns what the questionnaire page shows for token: the enquiry's reference and treatment and the
// questionnaires offered (screening.Catalogue.ForTreatment, and the safety questions). It returns a
// *ScreeningLinkError (errors.Is ErrScreeningLinkGone) when the link is unknown, expired, used, or its enquiry
// erased or spam, or an error of the storage.
func (s *ScreeningService) Open(ctx context.Context, token string) (ScreeningPage, error) {
	l, err := s.usable(ctx, token)
	if err != nil {
		return ScreeningPage{}, err
	}
	return s.page(l), nil
}

func (s *ScreeningService) page(l ScreeningLinkState) ScreeningPage {
	safety := s.catalog.Safety()
	// The direct question about self-harm comes first, wherever the data file puts it.
	slices.SortStableFunc(safety, func(a, b screening.SafetyQuestion) int {
		return boolRank(a.Flag == screening.FlagRisk) - boolRank(b.Flag == screening.FlagRisk)
	})
	return ScreeningPage{Reference: l.Reference, Treatment: l.Treatment,
		Questionnaires: s.catalog.ForTreatment(l.Treatment), Safety: safety}
}

func boolRank(first bool) int {
	if first {
		return 0
	}
	return 1
}

// Submit stores the answers given through token's link (as screening.Catalogue.FromForm read them) and uses the
// link up, in one transaction with their timeline event, any new flag and the urgent notice a new risk flag
// sends, as PlanScreeningAnswers decides (see ScreeningLinkStore.AnswerScreening). Nothing answered stores nothing and leaves the link unused,
// so the patient may still come back to it. It returns a *ScreeningLinkError when the link does not work (also
// when another submission used it first), InputError when the answers are for a questionnaire not offered,
// or an error of the storage.
func (s *ScreeningService) Submit(ctx context.Context, token string, answers screening.Answers) (ScreeningOutcome, error) {
	l, err := s.usable(ctx, token)
	if err != nil {
		return ScreeningOutcome{}, err
	}
	if err := s.offered(l, answers); err != nil {
		return ScreeningOutcome{}, err
	}
	if answers.Empty() {
		return ScreeningOutcome{Reference: l.Reference, Flags: flagsOf(l)}, nil
	}
	a, err := s.catalog.Assess(answers, "")
	if err != nil {
		return ScreeningOutcome{}, InputError{"screening": "These answers do not fit the questionnaires."}
	}
	out, err := s.store.AnswerScreening(ctx, ScreeningAnswers{Hash: l.Hash, At: s.now().UTC(), Answers: answers,
		Assessment: a, IntakeInbox: s.inbox}, PlanScreeningAnswers)
	if errors.Is(err, ErrNotFound) {
		return ScreeningOutcome{}, &ScreeningLinkError{LinkUnknown} // erased since it was read
	}
	if err != nil {
		return ScreeningOutcome{}, fmt.Errorf("store screening answers of %s: %w", l.Reference, err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "screening answered", slog.String("ref", out.Reference),
		slog.Any("raised", out.Raised))
	return out, nil
}

// offered refuses answers to a questionnaire the link does not offer, or to an unknown safety question.
func (s *ScreeningService) offered(l ScreeningLinkState, a screening.Answers) error {
	offered := s.catalog.ForTreatment(l.Treatment)
	for id := range a.Questionnaires {
		if !slices.ContainsFunc(offered, func(in screening.Instrument) bool { return in.ID == id }) {
			return InputError{"screening." + id: "This questionnaire is not asked for this enquiry."}
		}
	}
	for key := range a.Safety {
		if _, ok := s.catalog.SafetyQuestion(key); !ok {
			return InputError{"screening.safety." + key: "Unknown safety question."}
		}
	}
	return nil
}

func flagsOf(l ScreeningLinkState) []string {
	if l.Risk {
		return []string{screening.FlagRisk}
	}
	return []string{}
}

// Thanks returns what the thanks page may say about the enquiry of token's link: whether it is flagged risk,
// and whether the link still takes answers. A used or expired link still answers (the page after the
// questionnaires must lead with the crisis help when they raised risk); it returns a *ScreeningLinkError for
// an unknown link or one whose enquiry was erased or is spam, or an error of the storage.
func (s *ScreeningService) Thanks(ctx context.Context, token string) (ScreeningThanks, error) {
	l, err := s.link(ctx, token)
	if err != nil {
		return ScreeningThanks{}, err
	}
	p := l.Problem(s.now())
	if l.Erased {
		return ScreeningThanks{}, &ScreeningLinkError{p}
	}
	// Spam is thanked and invited like any enquiry, so a sender never learns it was caught; its link does not
	// open (Open refuses it as closed).
	spam := l.Status == StatusSpam && l.UsedAt == nil && s.now().Before(l.ExpiresAt)
	return ScreeningThanks{Reference: l.Reference, Risk: l.Risk, Invite: p == "" || spam, Email: l.Email,
		Received: l.Received, RiskAt: l.RiskAt}, nil
}

// ScreeningEventReason is the "screening" timeline event's account of what was answered: the questionnaires
// in the order stored ("phq9, gad7, safety"), never the answers.
func ScreeningEventReason(rows []Screening) string {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.Instrument
	}
	return strings.Join(ids, ", ")
}
