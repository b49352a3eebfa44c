package screening

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Answers is what a patient answered: for each questionnaire answered, all of its answers in item order; for
// each safety question answered, yes (true) or no (false). The zero value is "nothing answered".
type Answers struct {
	Questionnaires map[string][]int `json:"questionnaires,omitempty"`
	Safety         map[string]bool  `json:"safety,omitempty"`
}

// Empty reports whether nothing was answered.
func (a Answers) Empty() bool { return len(a.Questionnaires) == 0 && len(a.Safety) == 0 }

// Errors maps a field ("screening.phq9[8]", "screening.safety.liver_disease") to a plain-English sentence
// saying what is wrong with it. Every problem is present at once.
type Errors map[string]string

func (e Errors) Error() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "invalid screening answers: " + strings.Join(keys, ", ")
}

// DecodeJSON reads the API's screening object — {"phq9":[…], "gad7":[…], …, "safety":{"key":true, …}} — and
// checks it against the catalogue: a known questionnaire with all of its answers, each an allowed whole number;
// safety answers true or false. JSON null, or a questionnaire given as null, is "not answered". Problems are
// Errors named like "screening.phq9[8]" (the ninth answer, counting from 0 as in the array).
func (c *Catalogue) DecodeJSON(raw json.RawMessage) (Answers, error) {
	var a Answers
	if len(bytes.TrimSpace(raw)) == 0 || isNull(raw) {
		return a, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return a, Errors{"screening": "screening must be a JSON object of questionnaires, e.g. {\"phq9\":[0,1,0,0,0,0,0,0,0]}."}
	}
	errs := Errors{}
	for key, v := range obj {
		if isNull(v) {
			continue
		}
		if key == "safety" {
			c.decodeSafety(v, &a, errs)
			continue
		}
		in, ok := c.instruments[key]
		if !ok {
			errs["screening."+key] = fmt.Sprintf("Unknown questionnaire %q: use %s or safety.", key, strings.Join(c.order, ", "))
			continue
		}
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			errs["screening."+key] = fmt.Sprintf("Give the %s as a list of %d answers.", in.Short, len(in.Items))
			continue
		}
		if len(items) != len(in.Items) {
			errs["screening."+key] = fmt.Sprintf("Give all %d answers of the %s, or leave it out.", len(in.Items), in.Short)
			continue
		}
		answers := make([]int, len(items))
		for i, item := range items {
			n, err := strconv.Atoi(string(bytes.TrimSpace(item)))
			if err != nil || !in.Valid(i, n) {
				errs[fmt.Sprintf("screening.%s[%d]", key, i)] = in.rangeMessage(i)
				continue
			}
			answers[i] = n
		}
		if a.Questionnaires == nil {
			a.Questionnaires = map[string][]int{}
		}
		a.Questionnaires[key] = answers
	}
	if len(errs) > 0 {
		return Answers{}, errs
	}
	return a, nil
}

func (c *Catalogue) decodeSafety(v json.RawMessage, a *Answers, errs Errors) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(v, &obj); err != nil || obj == nil {
		errs["screening.safety"] = "safety must be a JSON object of yes/no answers, e.g. {\"liver_disease\":false}."
		return
	}
	for key, raw := range obj {
		if isNull(raw) {
			continue
		}
		if _, ok := c.SafetyQuestion(key); !ok {
			errs["screening.safety."+key] = fmt.Sprintf("Unknown safety question %q.", key)
			continue
		}
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			errs["screening.safety."+key] = key + " must be true or false."
			continue
		}
		if a.Safety == nil {
			a.Safety = map[string]bool{}
		}
		a.Safety[key] = b
	}
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

// rangeMessage says which answers item i allows.
func (in Instrument) rangeMessage(i int) string {
	opts := in.OptionsOf(i)
	lo, hi := opts[0].Value, opts[0].Value
	for _, o := range opts {
		lo, hi = min(lo, o.Value), max(hi, o.Value)
	}
	return fmt.Sprintf("Answer %d of the %s must be a whole number from %d to %d.", i+1, in.Short, lo, hi)
}

// FormField is the name of item i's field on the screening page ("phq9_1", counting from 1).
func FormField(instrument string, i int) string { return fmt.Sprintf("%s_%d", instrument, i+1) }

// SafetyField is the name of a safety question's field on the screening page.
func SafetyField(key string) string { return "safety_" + key }

// FromForm reads the screening page's answers for the questionnaires offered (get returns a field's value or
// ""). A questionnaire with no answer at all is left out; one partly answered is an error on each missing item
// ("phq9_4": "Answer this question, or leave the whole questionnaire blank."), so the patient sees where. A
// safety question is answered "yes" or "no", or left blank.
func (c *Catalogue) FromForm(offered []Instrument, get func(name string) string) (Answers, Errors) {
	var a Answers
	errs := Errors{}
	for _, in := range offered {
		answers := make([]int, len(in.Items))
		var missing []int
		for i := range in.Items {
			v := strings.TrimSpace(get(FormField(in.ID, i)))
			if v == "" {
				missing = append(missing, i)
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil || !in.Valid(i, n) {
				errs[FormField(in.ID, i)] = "Choose one of the answers."
				continue
			}
			answers[i] = n
		}
		if len(missing) == len(in.Items) {
			continue
		}
		for _, i := range missing {
			errs[FormField(in.ID, i)] = fmt.Sprintf("Answer this question, or leave the whole %s blank.", in.Short)
		}
		if a.Questionnaires == nil {
			a.Questionnaires = map[string][]int{}
		}
		a.Questionnaires[in.ID] = answers
	}
	for _, q := range c.safety {
		switch strings.ToLower(strings.TrimSpace(get(SafetyField(q.Key)))) {
		case "":
		case "yes":
			a.setSafety(q.Key, true)
		case "no":
			a.setSafety(q.Key, false)
		default:
			errs[SafetyField(q.Key)] = "Choose yes or no, or leave it blank."
		}
	}
	if len(errs) > 0 {
		return Answers{}, errs
	}
	return a, nil
}

func (a *Answers) setSafety(key string, v bool) {
	if a.Safety == nil {
		a.Safety = map[string]bool{}
	}
	a.Safety[key] = v
}

// Assessment is what a set of answers and a message come to: each questionnaire's score, the flags raised and
// what raised them.
type Assessment struct {
	Results []Result
	// Flags are FlagRisk and FlagReview, each at most once, in that order.
	Flags []string
	// RiskSources says what raised FlagRisk: an instrument item ("phq9 item 9"), a safety key
	// ("self_harm_thoughts") or "message" for risk language. Never the patient's words.
	RiskSources []string
	// Review lists the safety keys answered yes that raise FlagReview.
	Review []string
}

// Has reports whether the assessment raised flag.
func (a Assessment) Has(flag string) bool { return slices.Contains(a.Flags, flag) }

// Assess scores the answers (which must have passed DecodeJSON or FromForm) and flags them together with the
// free-text message. It returns an error only for answers that would not have passed.
func (c *Catalogue) Assess(a Answers, message string) (Assessment, error) {
	var out Assessment
	risk, review := false, false
	for _, id := range c.order {
		answers, ok := a.Questionnaires[id]
		if !ok {
			continue
		}
		in := c.instruments[id]
		r, err := in.Score(answers)
		if err != nil {
			return Assessment{}, err
		}
		out.Results = append(out.Results, r)
		for i, it := range in.Items {
			if it.Flag == FlagRisk && answers[i] >= it.FlagFrom {
				risk = true
				out.RiskSources = append(out.RiskSources, fmt.Sprintf("%s item %d", id, i+1))
			}
			if it.Flag == FlagReview && answers[i] >= it.FlagFrom {
				review = true
			}
		}
	}
	for key := range a.Questionnaires {
		if _, ok := c.instruments[key]; !ok {
			return Assessment{}, fmt.Errorf("unknown questionnaire %q", key)
		}
	}
	for _, q := range c.safety {
		if !a.Safety[q.Key] {
			continue
		}
		switch q.Flag {
		case FlagRisk:
			risk = true
			out.RiskSources = append(out.RiskSources, q.Key)
		case FlagReview:
			review = true
			out.Review = append(out.Review, q.Key)
		}
	}
	if c.RiskLanguage(message) {
		risk = true
		out.RiskSources = append(out.RiskSources, "message")
	}
	if risk {
		out.Flags = append(out.Flags, FlagRisk)
	}
	if review {
		out.Flags = append(out.Flags, FlagReview)
	}
	return out, nil
}
