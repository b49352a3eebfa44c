package screening

import (
	"slices"
	"strings"
	"testing"
)

// The published wording, written out here independently of the data files so that an edit to a file — a word
// "improved", an item dropped, an answer relabelled — fails this test. Sources: the Pfizer PHQ-9 and GAD-7 forms
// (phqscreeners.com; Kroenke 2001, Spitzer 2006), the WHO ASRS-v1.1 Symptom Checklist Part A (Kessler 2005),
// questions 1–3 of the WHO AUDIT (Babor et al. 2001), and the National Center for PTSD's PC-PTSD-5 (Prins 2016).
var publishedItems = map[string][]string{
	"phq9": {
		"Little interest or pleasure in doing things",
		"Feeling down, depressed, or hopeless",
		"Trouble falling or staying asleep, or sleeping too much",
		"Feeling tired or having little energy",
		"Poor appetite or overeating",
		"Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
		"Trouble concentrating on things, such as reading the newspaper or watching television",
		"Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety or restless that you have been moving around a lot more than usual",
		"Thoughts that you would be better off dead or of hurting yourself in some way",
	},
	"gad7": {
		"Feeling nervous, anxious, or on edge",
		"Not being able to stop or control worrying",
		"Worrying too much about different things",
		"Trouble relaxing",
		"Being so restless that it is hard to sit still",
		"Becoming easily annoyed or irritable",
		"Feeling afraid as if something awful might happen",
	},
	"asrs_a": {
		"How often do you have trouble wrapping up the final details of a project, once the challenging parts have been done?",
		"How often do you have difficulty getting things in order when you have to do a task that requires organization?",
		"How often do you have problems remembering appointments or obligations?",
		"When you have a task that requires a lot of thought, how often do you avoid or delay getting started?",
		"How often do you fidget or squirm with your hands or feet when you have to sit down for a long time?",
		"How often do you feel overly active and compelled to do things, like you were driven by a motor?",
	},
	"audit_c": {
		"How often do you have a drink containing alcohol?",
		"How many drinks containing alcohol do you have on a typical day when you are drinking?",
		"How often do you have six or more drinks on one occasion?",
	},
	"pc_ptsd5": {
		"had nightmares about the event(s) or thought about the event(s) when you did not want to?",
		"tried hard not to think about the event(s) or went out of your way to avoid situations that reminded you of the event(s)?",
		"been constantly on guard, watchful, or easily startled?",
		"felt numb or detached from people, activities, or your surroundings?",
		"felt guilty or unable to stop blaming yourself or others for the event(s) or any problems the event(s) may have caused?",
	},
}

// publishedOptions are the answers as published, item by item (one entry when every item shares them).
var publishedOptions = map[string][][]Option{
	"phq9":   {{{0, "Not at all"}, {1, "Several days"}, {2, "More than half the days"}, {3, "Nearly every day"}}},
	"gad7":   {{{0, "Not at all"}, {1, "Several days"}, {2, "More than half the days"}, {3, "Nearly every day"}}},
	"asrs_a": {{{0, "Never"}, {1, "Rarely"}, {2, "Sometimes"}, {3, "Often"}, {4, "Very Often"}}},
	"audit_c": {
		{{0, "Never"}, {1, "Monthly or less"}, {2, "2 to 4 times a month"}, {3, "2 to 3 times a week"}, {4, "4 or more times a week"}},
		{{0, "1 or 2"}, {1, "3 or 4"}, {2, "5 or 6"}, {3, "7, 8, or 9"}, {4, "10 or more"}},
		{{0, "Never"}, {1, "Less than monthly"}, {2, "Monthly"}, {3, "Weekly"}, {4, "Daily or almost daily"}},
	},
	"pc_ptsd5": {{{0, "No"}, {1, "Yes"}}},
}

// TestItemWordingAndAttribution pins every item's text, every answer label and value, the stems that carry the
// published time frame, and each attribution naming its owner.
func TestItemWordingAndAttribution(t *testing.T) {
	c := Default()
	stems := map[string]string{
		"phq9":     "Over the last 2 weeks, how often have you been bothered by any of the following problems?",
		"gad7":     "Over the last 2 weeks, how often have you been bothered by the following problems?",
		"pc_ptsd5": "In the past month, have you…",
	}
	owners := map[string][]string{
		"phq9":     {"Pfizer", "Spitzer", "Williams", "Kroenke", "No permission required"},
		"gad7":     {"Pfizer", "Spitzer", "Williams", "Kroenke", "No permission required"},
		"asrs_a":   {"World Health Organization", "ASRS-v1.1", "verbatim"},
		"audit_c":  {"World Health Organization", "AUDIT", "UK"},
		"pc_ptsd5": {"National Center for PTSD", "Department of Veterans Affairs", "Public domain"},
	}
	for id, items := range publishedItems {
		t.Run(id, func(t *testing.T) {
			in, ok := c.Instrument(id)
			if !ok {
				t.Fatalf("no instrument %q", id)
			}
			if len(in.Items) != len(items) {
				t.Fatalf("%d items, want %d", len(in.Items), len(items))
			}
			for i, want := range items {
				if in.Items[i].Text != want {
					t.Errorf("item %d:\n got %q\nwant %q", i+1, in.Items[i].Text, want)
				}
			}
			opts := publishedOptions[id]
			for i := range in.Items {
				want := opts[0]
				if len(opts) > 1 {
					want = opts[i]
				}
				if got := in.OptionsOf(i); !slices.Equal(got, want) {
					t.Errorf("item %d answers:\n got %v\nwant %v", i+1, got, want)
				}
			}
			if want, ok := stems[id]; ok && in.Stem != want {
				t.Errorf("stem %q, want %q", in.Stem, want)
			}
			if in.Title == "" || in.Short == "" || in.Source == "" {
				t.Errorf("title %q, short %q, source %q: none may be empty", in.Title, in.Short, in.Source)
			}
			for _, owner := range owners[id] {
				if !strings.Contains(in.Attribution, owner) {
					t.Errorf("attribution %q does not name %q", in.Attribution, owner)
				}
			}
		})
	}
	// The ASRS time frame (the past 6 months) and the PC-PTSD-5 trauma question are part of the instruments.
	asrs, _ := c.Instrument("asrs_a")
	if !strings.Contains(asrs.Stem, "over the past 6 months") {
		t.Errorf("ASRS stem %q lost the time frame", asrs.Stem)
	}
	ptsd, _ := c.Instrument("pc_ptsd5")
	for _, part := range []string{
		"Sometimes things happen to people that are unusually or especially frightening, horrible, or traumatic.",
		"a serious accident or fire", "a physical or sexual assault or abuse", "an earthquake or flood", "a war",
		"seeing someone be killed or seriously injured", "having a loved one die through homicide or suicide",
		"Have you ever experienced this kind of event?",
	} {
		if !strings.Contains(ptsd.Preamble, part) {
			t.Errorf("PC-PTSD-5 preamble lacks %q", part)
		}
	}
	// Only PHQ-9 item 9 raises a flag, risk, from "Several days".
	for _, in := range c.Instruments() {
		for i, it := range in.Items {
			wantRisk := in.ID == "phq9" && i == 8
			if (it.Flag == FlagRisk && it.FlagFrom == 1) != wantRisk || (!wantRisk && it.Flag != "") {
				t.Errorf("%s item %d: flag %q from %d", in.ID, i+1, it.Flag, it.FlagFrom)
			}
		}
	}
}

// TestTreatmentsAndSafetyQuestions pins which questionnaires each treatment is offered, in order, and the safety
// questions asked of everyone with the flag each raises.
func TestTreatmentsAndSafetyQuestions(t *testing.T) {
	c := Default()
	want := map[string][]string{
		"adhd":                    {"asrs_a", "phq9"},
		"depression":              {"phq9", "gad7"},
		"anxiety":                 {"gad7", "phq9"},
		"ptsd":                    {"pc_ptsd5", "phq9"},
		"addiction":               {"audit_c", "phq9"},
		"chronic_pain":            {"phq9"},
		"other":                   {"phq9"},
		"not_a_treatment_we_list": {"phq9"},
	}
	for treatment, ids := range want {
		var got []string
		for _, in := range c.ForTreatment(treatment) {
			got = append(got, in.ID)
		}
		if !slices.Equal(got, ids) {
			t.Errorf("ForTreatment(%q) = %v, want %v", treatment, got, ids)
		}
	}
	flags := map[string]string{
		"self_harm_thoughts":              FlagRisk,
		"pregnant_or_breastfeeding":       FlagReview,
		"psychosis_or_mania_history":      FlagReview,
		"high_blood_pressure":             FlagReview,
		"heart_attack_stroke_or_aneurysm": FlagReview,
		"ketamine_reaction":               FlagReview,
		"liver_disease":                   FlagReview,
		"current_heavy_substance_use":     FlagReview,
	}
	qs := c.Safety()
	if len(qs) != len(flags) || qs[0].Key != "self_harm_thoughts" {
		t.Fatalf("%d safety questions (first %q), want %d with self_harm_thoughts first", len(qs), qs[0].Key, len(flags))
	}
	for _, q := range qs {
		if flags[q.Key] != q.Flag || q.Text == "" || q.Staff == "" {
			t.Errorf("safety question %q: flag %q, text %q, staff %q", q.Key, q.Flag, q.Text, q.Staff)
		}
		if got, ok := c.SafetyQuestion(q.Key); !ok || got != q {
			t.Errorf("SafetyQuestion(%q) = %+v, %v", q.Key, got, ok)
		}
	}
	if _, ok := c.SafetyQuestion("nope"); ok {
		t.Error("SafetyQuestion found an unknown key")
	}
	// Safety returns a copy: a caller cannot change the catalogue.
	qs[0].Flag = FlagReview
	if c.Safety()[0].Flag != FlagRisk {
		t.Error("changing the slice Safety returned changed the catalogue")
	}
}
