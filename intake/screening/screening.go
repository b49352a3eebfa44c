// Package screening holds the optional questionnaires a patient may answer with an enquiry — each one a data
// file embedded in the binary (data/*.json: its items, answer labels and values, scoring rule, bands and
// flags) — and the one scorer that reads them, with the safety questions and the risk-language list. It scores
// and flags; what a flag does to an enquiry is decided by crm. Nothing here is a diagnosis: a score is an aid
// to a clinician's review. See docs/clinical-safety.md.
package screening

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
)

//go:embed data/*.json
var dataFS embed.FS

// The flags a screening can raise.
const (
	// FlagRisk means a possible risk to the patient's life or safety: a clinician should contact them within the
	// urgent target.
	FlagRisk = "risk"
	// FlagReview means an answer a clinician must review before treatment (a possible contraindication). It never
	// refuses the patient.
	FlagReview = "review"
)

// Instrument is one questionnaire as published: what is asked, how each answer scores and what a total means.
type Instrument struct {
	// ID is the questionnaire's name in the API (phq9, gad7, asrs_a, audit_c, pc_ptsd5).
	ID string `json:"id"`
	// Title is its full published title; Short is how staff pages name it.
	Title string `json:"title"`
	Short string `json:"short"`
	// Attribution is the copyright or source statement shown with it, verbatim.
	Attribution string `json:"attribution"`
	// Source is the publication the items, scoring and bands are taken from.
	Source string `json:"source"`
	// Preamble, when not empty, is shown before the stem (PC-PTSD-5's question about a traumatic event).
	Preamble string `json:"preamble,omitempty"`
	// Stem is the question the items complete ("Over the last 2 weeks, how often…").
	Stem string `json:"stem"`
	// Options are the answers every item offers, unless the item has its own.
	Options []Option `json:"options"`
	Items   []Item   `json:"items"`
	Scoring Scoring  `json:"scoring"`
	// Bands cover every total from 0 to the maximum, in order, without gaps.
	Bands []Band `json:"bands"`
}

// Option is one answer an item offers: the label the patient reads and the value it scores.
type Option struct {
	Value int    `json:"value"`
	Label string `json:"label"`
}

// Item is one question of an instrument.
type Item struct {
	Text string `json:"text"`
	// Options, when not empty, replaces the instrument's options for this item (AUDIT-C's items differ).
	Options []Option `json:"options,omitempty"`
	// ShadedFrom is, for a "count_shaded" instrument, the lowest answer that counts (ASRS's shaded boxes).
	ShadedFrom int `json:"shaded_from,omitempty"`
	// Flag, when set, is raised when the answer is at least FlagFrom (PHQ-9 item 9 raises risk from 1).
	Flag     string `json:"flag,omitempty"`
	FlagFrom int    `json:"flag_from,omitempty"`
}

// Scoring says how answers become a total.
type Scoring struct {
	// Rule is "sum" (the total is the sum of the answers) or "count_shaded" (the total is how many answers are
	// at or above their item's ShadedFrom).
	Rule string `json:"rule"`
}

// Band is a range of totals with its published meaning.
type Band struct {
	Min int `json:"min"`
	Max int `json:"max"`
	// Name is the band in the API ("moderate"); Label is how pages name it ("Moderate").
	Name  string `json:"name"`
	Label string `json:"label"`
	// Meaning is the published interpretation of the band, for the clinician.
	Meaning string `json:"meaning"`
}

// Result is one scored questionnaire.
type Result struct {
	Instrument string
	Total      int
	// Max is the highest total the instrument allows.
	Max  int
	Band Band
	// Flags are the flags its answers raise (FlagRisk for PHQ-9 item 9 above 0).
	Flags []string
}

// OptionsOf returns the answers item i offers.
func (in Instrument) OptionsOf(i int) []Option {
	if len(in.Items[i].Options) > 0 {
		return in.Items[i].Options
	}
	return in.Options
}

// maxOf returns the highest value item i can score.
func (in Instrument) maxOf(i int) int {
	m := 0
	for _, o := range in.OptionsOf(i) {
		m = max(m, o.Value)
	}
	return m
}

// MaxTotal is the highest total the instrument allows.
func (in Instrument) MaxTotal() int {
	if in.Scoring.Rule == "count_shaded" {
		return len(in.Items)
	}
	t := 0
	for i := range in.Items {
		t += in.maxOf(i)
	}
	return t
}

// Valid reports whether v is one of item i's answer values.
func (in Instrument) Valid(i, v int) bool {
	return slices.ContainsFunc(in.OptionsOf(i), func(o Option) bool { return o.Value == v })
}

// Score scores a complete set of answers, one per item in order. It returns an error when the number of answers
// is wrong or an answer is not one of its item's values (Validate says which, for a person).
func (in Instrument) Score(answers []int) (Result, error) {
	if len(answers) != len(in.Items) {
		return Result{}, fmt.Errorf("%s takes %d answers, not %d", in.ID, len(in.Items), len(answers))
	}
	r := Result{Instrument: in.ID, Max: in.MaxTotal()}
	for i, v := range answers {
		if !in.Valid(i, v) {
			return Result{}, fmt.Errorf("%s answer %d: %d is not one of its values", in.ID, i+1, v)
		}
		switch in.Scoring.Rule {
		case "count_shaded":
			if v >= in.Items[i].ShadedFrom {
				r.Total++
			}
		default:
			r.Total += v
		}
		if f := in.Items[i].Flag; f != "" && v >= in.Items[i].FlagFrom && !slices.Contains(r.Flags, f) {
			r.Flags = append(r.Flags, f)
		}
	}
	b, ok := in.BandOf(r.Total)
	if !ok {
		return Result{}, fmt.Errorf("%s: no band holds the total %d", in.ID, r.Total)
	}
	r.Band = b
	return r, nil
}

// BandOf returns the band holding total.
func (in Instrument) BandOf(total int) (Band, bool) {
	for _, b := range in.Bands {
		if total >= b.Min && total <= b.Max {
			return b, true
		}
	}
	return Band{}, false
}

// Catalogue is every questionnaire, the safety questions, which questionnaires each treatment is offered and
// the risk-language list, as loaded from the data files.
type Catalogue struct {
	instruments map[string]Instrument
	order       []string
	treatments  map[string][]string
	safety      []SafetyQuestion
	risk        *riskLanguage
}

var std = mustLoad(dataFS)

// Default returns the catalogue embedded in the binary.
func Default() *Catalogue { return std }

func mustLoad(fsys fs.FS) *Catalogue {
	c, err := Load(fsys)
	if err != nil {
		panic(err) // the embedded files are tested; this is a build mistake
	}
	return c
}

// Load reads a catalogue from a folder laid out like data/: one file per instrument (instrument_*.json),
// safety.json, treatments.json and risk_language.json. Every instrument is checked: a unique id, a known scoring
// rule, bands that cover 0 to its maximum in order with no gap, answers for every item, a known flag raised from
// an answer above the lowest, a shaded threshold that is one of the item's answers. treatments.json must name
// known questionnaires and list "other"; every safety question raises a known flag; the risk-language patterns
// must match every must_match phrase and no must_not_match one. Any failure is an error naming the file.
func Load(fsys fs.FS) (*Catalogue, error) {
	c := &Catalogue{instruments: map[string]Instrument{}}
	names, err := fs.Glob(fsys, "data/instrument_*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		var in Instrument
		if err := readJSON(fsys, name, &in); err != nil {
			return nil, err
		}
		if err := in.check(); err != nil {
			return nil, fmt.Errorf("%s: %w", path.Base(name), err)
		}
		if _, dup := c.instruments[in.ID]; dup {
			return nil, fmt.Errorf("%s: a second instrument with the id %q", path.Base(name), in.ID)
		}
		c.instruments[in.ID] = in
		c.order = append(c.order, in.ID)
	}
	if err := readJSON(fsys, "data/treatments.json", &c.treatments); err != nil {
		return nil, err
	}
	if _, ok := c.treatments["other"]; !ok {
		return nil, fmt.Errorf("treatments.json: no entry for \"other\", used for any treatment it does not list")
	}
	for t, ids := range c.treatments {
		for _, id := range ids {
			if _, ok := c.instruments[id]; !ok {
				return nil, fmt.Errorf("treatments.json: %s lists unknown questionnaire %q", t, id)
			}
		}
	}
	if err := readJSON(fsys, "data/safety.json", &c.safety); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i, q := range c.safety {
		if q.Key == "" || q.Text == "" || q.Staff == "" {
			return nil, fmt.Errorf("safety.json: question %d needs a key, a text and a staff label", i+1)
		}
		if seen[q.Key] {
			return nil, fmt.Errorf("safety.json: %s is listed twice", q.Key)
		}
		seen[q.Key] = true
		if q.Flag != FlagRisk && q.Flag != FlagReview {
			return nil, fmt.Errorf("safety.json: %s raises unknown flag %q", q.Key, q.Flag)
		}
	}
	var rl riskLanguageFile
	if err := readJSON(fsys, "data/risk_language.json", &rl); err != nil {
		return nil, err
	}
	if c.risk, err = compileRiskLanguage(rl); err != nil {
		return nil, fmt.Errorf("risk_language.json: %w", err)
	}
	return c, nil
}

func readJSON(fsys fs.FS, name string, v any) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path.Base(name), err)
	}
	return nil
}

func (in Instrument) check() error {
	if in.ID == "" || in.Title == "" || in.Attribution == "" || len(in.Items) == 0 {
		return fmt.Errorf("an instrument needs an id, a title, an attribution and items")
	}
	if in.Scoring.Rule != "sum" && in.Scoring.Rule != "count_shaded" {
		return fmt.Errorf("%s: unknown scoring rule %q", in.ID, in.Scoring.Rule)
	}
	for i, it := range in.Items {
		if it.Text == "" || len(in.OptionsOf(i)) == 0 {
			return fmt.Errorf("%s item %d: no text or no answers", in.ID, i+1)
		}
		if it.Flag != "" && it.Flag != FlagRisk && it.Flag != FlagReview {
			return fmt.Errorf("%s item %d: unknown flag %q", in.ID, i+1, it.Flag)
		}
		// A threshold at the lowest answer (or at no answer at all) would count or flag every patient: in a data
		// file that is a typing mistake, never a rule.
		if it.Flag != "" && !in.aboveLowest(i, it.FlagFrom) {
			return fmt.Errorf("%s item %d: flag_from %d is not one of its answers above the lowest", in.ID, i+1, it.FlagFrom)
		}
		if in.Scoring.Rule == "count_shaded" && !in.aboveLowest(i, it.ShadedFrom) {
			return fmt.Errorf("%s item %d: shaded_from %d is not one of its answers above the lowest", in.ID, i+1, it.ShadedFrom)
		}
	}
	next := 0
	for _, b := range in.Bands {
		if b.Name == "" || b.Label == "" || b.Meaning == "" {
			return fmt.Errorf("%s: band %d–%d needs a name, a label and a meaning", in.ID, b.Min, b.Max)
		}
		if b.Min != next || b.Max < b.Min {
			return fmt.Errorf("%s: band %q (%d–%d) does not follow on from %d", in.ID, b.Name, b.Min, b.Max, next)
		}
		next = b.Max + 1
	}
	if next != in.MaxTotal()+1 {
		return fmt.Errorf("%s: bands end at %d, the maximum total is %d", in.ID, next-1, in.MaxTotal())
	}
	return nil
}

// aboveLowest reports whether v is one of item i's answer values and not the lowest of them.
func (in Instrument) aboveLowest(i, v int) bool {
	lowest := in.OptionsOf(i)[0].Value
	for _, o := range in.OptionsOf(i) {
		lowest = min(lowest, o.Value)
	}
	return in.Valid(i, v) && v > lowest
}

// Instruments returns every questionnaire, in a stable order.
func (c *Catalogue) Instruments() []Instrument {
	out := make([]Instrument, 0, len(c.order))
	for _, id := range c.order {
		out = append(out, c.instruments[id])
	}
	return out
}

// Instrument returns the questionnaire with that id.
func (c *Catalogue) Instrument(id string) (Instrument, bool) {
	in, ok := c.instruments[id]
	return in, ok
}

// ForTreatment returns the questionnaires offered to a patient enquiring about treatment, in the order they are
// asked ("other" for a treatment the file does not list). The safety questions are asked of everyone besides.
func (c *Catalogue) ForTreatment(treatment string) []Instrument {
	ids, ok := c.treatments[treatment]
	if !ok {
		ids = c.treatments["other"]
	}
	out := make([]Instrument, 0, len(ids))
	for _, id := range ids {
		out = append(out, c.instruments[id])
	}
	return out
}

// Safety returns the safety questions, in the order they are asked.
func (c *Catalogue) Safety() []SafetyQuestion { return slices.Clone(c.safety) }

// SafetyQuestion is a yes/no question asked of everyone: a possible contraindication (raising FlagReview) or
// the direct question about thoughts of self-harm (raising FlagRisk).
type SafetyQuestion struct {
	// Key is its name in the API's screening.safety object.
	Key string `json:"key"`
	// Text is the question as the patient reads it; Staff is how staff pages name a yes to it.
	Text  string `json:"text"`
	Hint  string `json:"hint,omitempty"`
	Staff string `json:"staff"`
	// Flag is raised by a yes.
	Flag string `json:"flag"`
}

// SafetyQuestion returns the safety question with that key.
func (c *Catalogue) SafetyQuestion(key string) (SafetyQuestion, bool) {
	i := slices.IndexFunc(c.safety, func(q SafetyQuestion) bool { return q.Key == key })
	if i < 0 {
		return SafetyQuestion{}, false
	}
	return c.safety[i], true
}
