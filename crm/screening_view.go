package crm

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/frontdesk/frontdesk/intake/screening"
)

// Who sees what of a patient's screening (see README, "Screening questionnaires"): every role that may see the
// enquiry sees its flags, and each questionnaire's total and band; only clinicians and administrators see the
// answers themselves, item by item, and which safety questions were answered yes. Every time answers are shown,
// the read is recorded in the audit log (action "screening_view").

// MaySeeAnswers reports whether the actor may see a patient's screening answers, item by item, and which
// contraindications they reported: administrators and clinicians. Coordinators see flags, totals and bands.
func (a Actor) MaySeeAnswers() bool { return a.Role == RoleAdmin || a.Role == RoleClinician }

// ScreeningSummary is an enquiry's screening as one member of staff may see it.
type ScreeningSummary struct {
	// Questionnaires are the questionnaires answered, in the catalogue's order.
	Questionnaires []QuestionnaireView
	// Safety is the safety questions answered; nil when none were, or when the actor may not see answers.
	Safety *SafetyView
	// AnswersShown is true when the summary holds answers (the actor may see them and there are some).
	AnswersShown bool
}

// Empty reports whether nothing was answered.
func (s ScreeningSummary) Empty() bool { return len(s.Questionnaires) == 0 && s.Safety == nil }

// QuestionnaireView is one answered questionnaire: its score and band, and, for those who may see them, its
// answers.
type QuestionnaireView struct {
	// Instrument is the questionnaire as published (ID, Title, Short, items, bands).
	Instrument screening.Instrument
	Total      int
	Max        int
	// Band is the band of Total, with its published Meaning.
	Band screening.Band
	// Source is "enquiry" (sent with the enquiry) or "screening_page" (answered later through the link).
	Source string
	At     time.Time
	// Answers are the answers item by item; nil unless the actor may see answers.
	Answers []AnswerView
}

// AnswerView is one item's answer: the item's text and the chosen option.
type AnswerView struct {
	Item  string
	Label string
	Value int
}

// SafetyView is the safety questions a patient answered.
type SafetyView struct {
	Source string
	At     time.Time
	// Answers are in the order the questions are asked.
	Answers []SafetyAnswer
	// Contraindications are the answers yes that raise the review flag.
	Contraindications []SafetyAnswer
}

// SafetyAnswer is one safety question answered: its key, how staff pages name it (SafetyQuestion.Staff) and
// the answer.
type SafetyAnswer struct {
	Key   string
	Staff string
	Yes   bool
	Flag  string
}

// summarise turns stored screenings into what the actor may see of them.
func summarise(rows []Screening, answers bool) ScreeningSummary {
	cat := screening.Default()
	var out ScreeningSummary
	for _, in := range cat.Instruments() {
		i := slices.IndexFunc(rows, func(s Screening) bool { return s.Instrument == in.ID })
		if i < 0 {
			continue
		}
		s := rows[i]
		v := QuestionnaireView{Instrument: in, Total: s.Total, Max: in.MaxTotal(), Source: s.Source, At: s.At}
		if b, ok := in.BandOf(s.Total); ok {
			v.Band = b
		}
		if answers && len(s.Answers) == len(in.Items) {
			v.Answers = make([]AnswerView, len(in.Items))
			for k, it := range in.Items {
				a := AnswerView{Item: it.Text, Value: s.Answers[k]}
				for _, o := range in.OptionsOf(k) {
					if o.Value == a.Value {
						a.Label = o.Label
					}
				}
				v.Answers[k] = a
			}
			out.AnswersShown = true
		}
		out.Questionnaires = append(out.Questionnaires, v)
	}
	if !answers {
		return out
	}
	i := slices.IndexFunc(rows, func(s Screening) bool { return s.Instrument == SafetyInstrument })
	if i < 0 || len(rows[i].Safety) == 0 {
		return out
	}
	sv := &SafetyView{Source: rows[i].Source, At: rows[i].At}
	for _, q := range cat.Safety() {
		yes, ok := rows[i].Safety[q.Key]
		if !ok {
			continue
		}
		a := SafetyAnswer{Key: q.Key, Staff: q.Staff, Yes: yes, Flag: q.Flag}
		sv.Answers = append(sv.Answers, a)
		if yes && q.Flag == screening.FlagReview {
			sv.Contraindications = append(sv.Contraindications, a)
		}
	}
	out.Safety, out.AnswersShown = sv, true
	return out
}

// Screening returns the screening of each of the enquiries as the actor may see it, keyed by enquiry ID (every
// enquiry has an entry, empty when nothing was answered). The enquiries must be ones the actor was shown by
// Get, List or Board; any other is left out. When answers are returned, one audit entry (action
// "screening_view") names the enquiries whose answers were shown.
func (w *Workspace) Screening(ctx context.Context, actor Actor, enquiries []Enquiry) (map[int64]ScreeningSummary, error) {
	ids := make([]int64, 0, len(enquiries))
	for _, e := range enquiries {
		if actor.CanSee(e.AssigneeID(), e.Status) {
			ids = append(ids, e.ID)
		}
	}
	rows, err := w.enquiries.ScreeningsOf(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("read screening: %w", err)
	}
	out := make(map[int64]ScreeningSummary, len(ids))
	var shown []Enquiry
	for _, e := range enquiries {
		if !slices.Contains(ids, e.ID) {
			continue
		}
		s := summarise(rows[e.ID], actor.MaySeeAnswers())
		out[e.ID] = s
		if s.AnswersShown {
			shown = append(shown, e)
		}
	}
	if err := w.recordAnswers(ctx, actor, shown); err != nil {
		return nil, err
	}
	return out, nil
}

// recordAnswers records that the actor was shown the screening answers of these enquiries (nothing when none).
func (w *Workspace) recordAnswers(ctx context.Context, actor Actor, shown []Enquiry) error {
	switch len(shown) {
	case 0:
		return nil
	case 1:
		return w.record(ctx, actor, AuditScreeningView, shown[0].Reference, "")
	}
	return w.recordShown(ctx, actor, AuditScreeningView, shown, fmt.Sprintf("%d enquiries' answers shown", len(shown)))
}

// AuditScreeningView is the audit action of a read that showed screening answers.
const AuditScreeningView = "screening_view"

// redactTimeline removes, for an actor who may not see answers, what the reasons of flag events say of them
// (which item or contraindication raised a flag: "review: liver_disease"). The "screening" event names only the
// questionnaires answered, which everyone may know.
func redactTimeline(actor Actor, events []Event) []Event {
	if actor.MaySeeAnswers() {
		return events
	}
	for i := range events {
		if events[i].Kind == "flagged" {
			events[i].Reason = ""
		}
	}
	return events
}
