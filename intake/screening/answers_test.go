package screening

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestDecodeJSON reads the API's screening object: all of a questionnaire's answers or none, each an allowed
// whole number; safety answers booleans; null is "not answered"; every problem named by its field.
func TestDecodeJSON(t *testing.T) {
	c := Default()
	t.Run("a full object", func(t *testing.T) {
		a, err := c.DecodeJSON(json.RawMessage(`{
			"phq9":[0,1,2,3,0,1,2,3,0], "gad7":[3,3,3,3,3,3,3], "asrs_a":[0,1,2,3,4,4],
			"audit_c":[4,0,4], "pc_ptsd5":[1,0,1,0,1],
			"safety":{"self_harm_thoughts":false,"liver_disease":true}}`))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]int{
			"phq9": {0, 1, 2, 3, 0, 1, 2, 3, 0}, "gad7": {3, 3, 3, 3, 3, 3, 3}, "asrs_a": {0, 1, 2, 3, 4, 4},
			"audit_c": {4, 0, 4}, "pc_ptsd5": {1, 0, 1, 0, 1},
		}
		if !maps.EqualFunc(a.Questionnaires, want, slices.Equal) {
			t.Errorf("questionnaires %v, want %v", a.Questionnaires, want)
		}
		if !maps.Equal(a.Safety, map[string]bool{"self_harm_thoughts": false, "liver_disease": true}) {
			t.Errorf("safety %v", a.Safety)
		}
		if a.Empty() {
			t.Error("Empty() on answers")
		}
	})
	t.Run("nothing answered", func(t *testing.T) {
		for _, raw := range []string{``, `  `, `null`, `{}`, `{"phq9":null,"safety":null}`, `{"safety":{"liver_disease":null}}`} {
			a, err := c.DecodeJSON(json.RawMessage(raw))
			if err != nil || !a.Empty() {
				t.Errorf("%q: %+v, %v; want nothing answered", raw, a, err)
			}
		}
	})
	t.Run("one questionnaire, the others left out", func(t *testing.T) {
		a, err := c.DecodeJSON(json.RawMessage(`{"gad7":[1,1,1,1,1,1,1],"phq9":null}`))
		if err != nil || len(a.Questionnaires) != 1 || a.Questionnaires["gad7"] == nil || a.Safety != nil {
			t.Errorf("%+v, %v", a, err)
		}
	})

	bad := []struct {
		name, raw string
		want      map[string]string // field → a word its message must contain
	}{
		{"8 answers of 9", `{"phq9":[0,0,0,0,0,0,0,0]}`, map[string]string{"screening.phq9": "all 9"}},
		{"10 answers of 9", `{"phq9":[0,0,0,0,0,0,0,0,0,0]}`, map[string]string{"screening.phq9": "all 9"}},
		{"an empty list", `{"gad7":[]}`, map[string]string{"screening.gad7": "all 7"}},
		{"ninth answer 4", `{"phq9":[0,0,0,0,0,0,0,0,4]}`, map[string]string{"screening.phq9[8]": "0 to 3"}},
		{"first answer -1", `{"phq9":[-1,0,0,0,0,0,0,0,0]}`, map[string]string{"screening.phq9[0]": "0 to 3"}},
		{"a string \"2\"", `{"phq9":[0,"2",0,0,0,0,0,0,0]}`, map[string]string{"screening.phq9[1]": "whole number"}},
		{"a fraction", `{"gad7":[0,0,1.5,0,0,0,0]}`, map[string]string{"screening.gad7[2]": "whole number"}},
		{"true as an answer", `{"pc_ptsd5":[true,0,0,0,0]}`, map[string]string{"screening.pc_ptsd5[0]": "0 to 1"}},
		{"null as one answer", `{"pc_ptsd5":[0,0,null,0,0]}`, map[string]string{"screening.pc_ptsd5[2]": "0 to 1"}},
		{"ASRS 5", `{"asrs_a":[0,0,0,0,0,5]}`, map[string]string{"screening.asrs_a[5]": "0 to 4"}},
		{"AUDIT-C 5", `{"audit_c":[0,5,0]}`, map[string]string{"screening.audit_c[1]": "0 to 4"}},
		{"PC-PTSD-5 2", `{"pc_ptsd5":[0,0,0,0,2]}`, map[string]string{"screening.pc_ptsd5[4]": "0 to 1"}},
		{"two bad answers and a short list", `{"phq9":[9,0,0,0,0,0,0,0,9],"gad7":[0]}`, map[string]string{
			"screening.phq9[0]": "0 to 3", "screening.phq9[8]": "0 to 3", "screening.gad7": "all 7"}},
		{"not a list", `{"phq9":"0,0,0"}`, map[string]string{"screening.phq9": "list of 9"}},
		{"unknown questionnaire", `{"phq2":[0,0]}`, map[string]string{"screening.phq2": "Unknown questionnaire"}},
		{"a safety key at the top", `{"liver_disease":true}`, map[string]string{"screening.liver_disease": "Unknown questionnaire"}},
		{"unknown safety key", `{"safety":{"diabetes":true}}`, map[string]string{"screening.safety.diabetes": "Unknown safety question"}},
		{"safety \"true\" as a string", `{"safety":{"liver_disease":"true"}}`, map[string]string{"screening.safety.liver_disease": "true or false"}},
		{"safety 1", `{"safety":{"self_harm_thoughts":1}}`, map[string]string{"screening.safety.self_harm_thoughts": "true or false"}},
		{"safety a list", `{"safety":[true]}`, map[string]string{"screening.safety": "object"}},
		{"screening a list", `[0,1,2]`, map[string]string{"screening": "object"}},
		{"screening a string", `"phq9"`, map[string]string{"screening": "object"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			a, err := c.DecodeJSON(json.RawMessage(tc.raw))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("err %v (%T), want Errors", err, err)
			}
			if !a.Empty() {
				t.Errorf("answers %+v returned with an error", a)
			}
			if !slices.Equal(slices.Sorted(maps.Keys(errs)), slices.Sorted(maps.Keys(tc.want))) {
				t.Fatalf("fields %v, want %v", errs, tc.want)
			}
			for field, word := range tc.want {
				if !strings.Contains(errs[field], word) {
					t.Errorf("%s: %q does not say %q", field, errs[field], word)
				}
			}
			if !strings.Contains(err.Error(), slices.Sorted(maps.Keys(tc.want))[0]) {
				t.Errorf("Error() %q does not name the field", err.Error())
			}
		})
	}
}

// form is a screening page's submitted fields.
type form map[string]string

func (f form) get(name string) string { return f[name] }

// TestFromForm reads the screening page: a questionnaire left wholly blank is left out, one partly answered is
// an error on each missing item, a value that is not an answer is an error, safety answers are yes or no.
func TestFromForm(t *testing.T) {
	c := Default()
	offered := c.ForTreatment("depression") // phq9, gad7
	full := form{}
	for i := range 9 {
		full[FormField("phq9", i)] = fmt.Sprint(i % 4)
	}
	full[SafetyField("self_harm_thoughts")] = "no"
	full[SafetyField("liver_disease")] = "Yes"
	a, errs := c.FromForm(offered, full.get)
	if errs != nil {
		t.Fatalf("errors %v", errs)
	}
	if !slices.Equal(a.Questionnaires["phq9"], []int{0, 1, 2, 3, 0, 1, 2, 3, 0}) || len(a.Questionnaires) != 1 {
		t.Errorf("questionnaires %v: want phq9 only (gad7 left blank)", a.Questionnaires)
	}
	if !maps.Equal(a.Safety, map[string]bool{"self_harm_thoughts": false, "liver_disease": true}) {
		t.Errorf("safety %v", a.Safety)
	}
	if FormField("phq9", 8) != "phq9_9" || SafetyField("liver_disease") != "safety_liver_disease" {
		t.Errorf("field names %q, %q", FormField("phq9", 8), SafetyField("liver_disease"))
	}

	if a, errs := c.FromForm(offered, form{}.get); errs != nil || !a.Empty() {
		t.Errorf("a blank page: %+v, %v; want nothing answered and no error", a, errs)
	}

	// GAD-7 items 1, 2 and 5 answered, the other four missing; PHQ-9 item 3 not an answer; a safety "maybe".
	partly := form{"gad7_1": "1", "gad7_2": "0", "gad7_5": "3", SafetyField("pregnant_or_breastfeeding"): "maybe"}
	for k, v := range full {
		partly[k] = v
	}
	partly["phq9_3"] = "7"
	a, errs = c.FromForm(offered, partly.get)
	want := []string{"gad7_3", "gad7_4", "gad7_6", "gad7_7", "phq9_3", "safety_pregnant_or_breastfeeding"}
	if !slices.Equal(slices.Sorted(maps.Keys(errs)), want) || !a.Empty() {
		t.Fatalf("errors on %v (answers %+v), want errors on %v and no answers", slices.Sorted(maps.Keys(errs)), a, want)
	}
	if !strings.Contains(errs["gad7_4"], "leave the whole GAD-7 blank") {
		t.Errorf("gad7_4: %q", errs["gad7_4"])
	}
	if !strings.Contains(errs["phq9_3"], "Choose one of the answers") || !strings.Contains(errs["safety_pregnant_or_breastfeeding"], "yes or no") {
		t.Errorf("messages %v", errs)
	}

	// Only the questionnaires offered are read: an ASRS answer posted with a depression enquiry is ignored.
	a, errs = c.FromForm(offered, form{"asrs_a_1": "4"}.get)
	if errs != nil || !a.Empty() {
		t.Errorf("a questionnaire not offered: %+v, %v", a, errs)
	}
}

// TestAssessFlags checks every source of each flag and what the assessment says raised it.
func TestAssessFlags(t *testing.T) {
	c := Default()
	zeros := func(id string) []int { in, _ := c.Instrument(id); return make([]int, len(in.Items)) }
	allZero := Answers{Questionnaires: map[string][]int{}, Safety: map[string]bool{}}
	for _, in := range c.Instruments() {
		allZero.Questionnaires[in.ID] = zeros(in.ID)
	}
	for _, q := range c.Safety() {
		allZero.Safety[q.Key] = false
	}
	as, err := c.Assess(allZero, "I would like to know about ketamine for my depression.")
	if err != nil {
		t.Fatal(err)
	}
	if len(as.Flags) != 0 || len(as.RiskSources) != 0 || len(as.Review) != 0 || len(as.Results) != len(c.Instruments()) {
		t.Errorf("all zeros: %+v; want every questionnaire scored and nothing flagged", as)
	}
	for _, r := range as.Results {
		if r.Total != 0 || len(r.Flags) != 0 {
			t.Errorf("%s: total %d flags %v", r.Instrument, r.Total, r.Flags)
		}
	}
	if as, _ := c.Assess(Answers{}, ""); len(as.Flags) != 0 || len(as.Results) != 0 {
		t.Errorf("nothing answered: %+v", as)
	}

	for _, v := range []int{0, 1, 2, 3} {
		phq := zeros("phq9")
		phq[8] = v
		as, err := c.Assess(Answers{Questionnaires: map[string][]int{"phq9": phq}}, "")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := as.Has(FlagRisk), v > 0; got != want {
			t.Errorf("PHQ-9 item 9 = %d: risk %v, want %v", v, got, want)
		}
		if v > 0 && (!slices.Equal(as.RiskSources, []string{"phq9 item 9"}) || !slices.Equal(as.Flags, []string{FlagRisk}) ||
			!slices.Equal(as.Results[0].Flags, []string{FlagRisk})) {
			t.Errorf("PHQ-9 item 9 = %d: %+v", v, as)
		}
	}
	// Other PHQ-9 items at their highest raise nothing.
	phq := []int{3, 3, 3, 3, 3, 3, 3, 3, 0}
	if as, _ := c.Assess(Answers{Questionnaires: map[string][]int{"phq9": phq}}, ""); len(as.Flags) != 0 {
		t.Errorf("PHQ-9 %v flagged %v", phq, as.Flags)
	}

	as, _ = c.Assess(Answers{Safety: map[string]bool{"self_harm_thoughts": true}}, "")
	if !slices.Equal(as.Flags, []string{FlagRisk}) || !slices.Equal(as.RiskSources, []string{"self_harm_thoughts"}) || len(as.Review) != 0 {
		t.Errorf("self_harm_thoughts: %+v", as)
	}
	msg := "I keep thinking about ending my life"
	as, _ = c.Assess(Answers{}, msg)
	if !slices.Equal(as.Flags, []string{FlagRisk}) || !slices.Equal(as.RiskSources, []string{"message"}) {
		t.Errorf("message: %+v", as)
	}
	if strings.Contains(fmt.Sprint(as), "ending") {
		t.Error("the assessment carries the patient's words")
	}

	for _, q := range c.Safety() {
		if q.Flag != FlagReview {
			continue
		}
		as, _ := c.Assess(Answers{Safety: map[string]bool{q.Key: true}}, "")
		if !slices.Equal(as.Flags, []string{FlagReview}) || !slices.Equal(as.Review, []string{q.Key}) || len(as.RiskSources) != 0 {
			t.Errorf("%s: %+v", q.Key, as)
		}
	}

	// Everything at once: both flags, risk first; every source, in order; review keys in question order.
	phq = zeros("phq9")
	phq[8] = 2
	everything := Answers{
		Questionnaires: map[string][]int{"phq9": phq, "gad7": zeros("gad7")},
		Safety:         map[string]bool{"self_harm_thoughts": true, "liver_disease": true, "pregnant_or_breastfeeding": true, "ketamine_reaction": false},
	}
	as, err = c.Assess(everything, "I have been self-harming")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(as.Flags, []string{FlagRisk, FlagReview}) ||
		!slices.Equal(as.RiskSources, []string{"phq9 item 9", "self_harm_thoughts", "message"}) ||
		!slices.Equal(as.Review, []string{"pregnant_or_breastfeeding", "liver_disease"}) {
		t.Errorf("everything: flags %v, risk sources %v, review %v", as.Flags, as.RiskSources, as.Review)
	}
	if len(as.Results) != 2 || as.Results[0].Instrument != "phq9" || as.Results[1].Instrument != "gad7" {
		t.Errorf("results %+v: want phq9 then gad7", as.Results)
	}

	// Answers that could not have passed DecodeJSON are an error, never a quiet score.
	for _, a := range []Answers{
		{Questionnaires: map[string][]int{"phq9": {0, 0}}},
		{Questionnaires: map[string][]int{"phq9": {0, 0, 0, 0, 0, 0, 0, 0, 4}}},
		{Questionnaires: map[string][]int{"phq2": {0, 0}}},
	} {
		if _, err := c.Assess(a, ""); err == nil {
			t.Errorf("Assess(%v) gave no error", a.Questionnaires)
		}
	}
}
