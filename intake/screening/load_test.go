package screening

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// embeddedCopy returns the embedded data files as a MapFS a test may change.
func embeddedCopy(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(dataFS, "data", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := dataFS.ReadFile(p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// edit decodes one file of m as generic JSON, lets change alter it and writes it back.
func edit(t *testing.T, m fstest.MapFS, name string, change func(v any) any) {
	t.Helper()
	var v any
	if err := json.Unmarshal(m[name].Data, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(change(v))
	if err != nil {
		t.Fatal(err)
	}
	m[name] = &fstest.MapFile{Data: b}
}

// TestLoadRejectsBrokenFiles changes one thing at a time in a copy of the embedded files and expects Load to
// refuse it with an error naming the file and the problem. The unchanged copy loads.
func TestLoadRejectsBrokenFiles(t *testing.T) {
	if _, err := Load(embeddedCopy(t)); err != nil {
		t.Fatalf("the embedded files do not load: %v", err)
	}
	const phq = "data/instrument_1_phq9.json"
	const asrs = "data/instrument_3_asrs_a.json"
	obj := func(v any) map[string]any { return v.(map[string]any) }
	bands := func(v any) []any { return obj(v)["bands"].([]any) }
	items := func(v any) []any { return obj(v)["items"].([]any) }
	cases := []struct {
		name   string
		change func(m fstest.MapFS)
		want   []string // words the error must contain
	}{
		{"a gap between bands", func(m fstest.MapFS) {
			edit(t, m, phq, func(v any) any { obj(bands(v)[2])["min"] = 11.0; return v })
		}, []string{"instrument_1_phq9.json", "moderate", "follow on from 10"}},
		{"overlapping bands", func(m fstest.MapFS) {
			edit(t, m, phq, func(v any) any { obj(bands(v)[1])["max"] = 10.0; return v })
		}, []string{"phq9", "follow on"}},
		{"bands that stop short of the maximum", func(m fstest.MapFS) {
			edit(t, m, phq, func(v any) any { obj(bands(v)[4])["max"] = 26.0; return v })
		}, []string{"phq9", "end at 26", "maximum total is 27"}},
		{"bands past the maximum", func(m fstest.MapFS) {
			edit(t, m, asrs, func(v any) any { obj(bands(v)[1])["max"] = 7.0; return v })
		}, []string{"asrs_a", "end at 7"}},
		{"a band without its meaning", func(m fstest.MapFS) {
			edit(t, m, phq, func(v any) any { delete(obj(bands(v)[0]), "meaning"); return v })
		}, []string{"phq9", "meaning"}},
		{"a bad scoring rule", func(m fstest.MapFS) {
			edit(t, m, phq, func(v any) any { obj(v)["scoring"] = map[string]any{"rule": "average"}; return v })
		}, []string{"instrument_1_phq9.json", `unknown scoring rule "average"`}},
		{"a shaded threshold that is no answer", func(m fstest.MapFS) {
			edit(t, m, asrs, func(v any) any { obj(items(v)[3])["shaded_from"] = 9.0; return v })
		}, []string{"asrs_a item 4", "shaded_from 9"}},
		{"a shaded threshold left out (every answer would count)", func(m fstest.MapFS) {
			edit(t, m, asrs, func(v any) any { delete(obj(items(v)[0]), "shaded_from"); return v })
		}, []string{"asrs_a item 1", "shaded_from 0"}},
		{"an unknown flag on an item", func(m fstest.MapFS) {
			edit(t, m, phq, func(v any) any { obj(items(v)[8])["flag"] = "urgent"; return v })
		}, []string{"phq9 item 9", `unknown flag "urgent"`}},
		{"a flag raised by the lowest answer", func(m fstest.MapFS) {
			edit(t, m, phq, func(v any) any { obj(items(v)[8])["flag_from"] = 0.0; return v })
		}, []string{"phq9 item 9", "flag_from 0"}},
		{"an item without text", func(m fstest.MapFS) {
			edit(t, m, phq, func(v any) any { obj(items(v)[2])["text"] = ""; return v })
		}, []string{"phq9 item 3"}},
		{"an instrument without an attribution", func(m fstest.MapFS) {
			edit(t, m, phq, func(v any) any { obj(v)["attribution"] = ""; return v })
		}, []string{"instrument_1_phq9.json", "attribution"}},
		{"two files with one id", func(m fstest.MapFS) {
			m["data/instrument_9_copy.json"] = m[phq]
		}, []string{"instrument_9_copy.json", `"phq9"`}},
		{"an instrument file that is not JSON", func(m fstest.MapFS) {
			m["data/instrument_6_new.json"] = &fstest.MapFile{Data: []byte(`{"id":"new",`)}
		}, []string{"instrument_6_new.json"}},
		{"a treatment naming an unknown questionnaire", func(m fstest.MapFS) {
			edit(t, m, "data/treatments.json", func(v any) any { obj(v)["adhd"] = []any{"asrs_b", "phq9"}; return v })
		}, []string{"treatments.json", "adhd", `"asrs_b"`}},
		{"treatments without other", func(m fstest.MapFS) {
			edit(t, m, "data/treatments.json", func(v any) any { delete(obj(v), "other"); return v })
		}, []string{"treatments.json", "other"}},
		{"a safety question raising an unknown flag", func(m fstest.MapFS) {
			edit(t, m, "data/safety.json", func(v any) any { obj(v.([]any)[1])["flag"] = "refuse"; return v })
		}, []string{"safety.json", "pregnant_or_breastfeeding", `unknown flag "refuse"`}},
		{"a safety question asked twice", func(m fstest.MapFS) {
			edit(t, m, "data/safety.json", func(v any) any { return append(v.([]any), v.([]any)[6]) })
		}, []string{"safety.json", "liver_disease", "twice"}},
		{"a safety question without text", func(m fstest.MapFS) {
			edit(t, m, "data/safety.json", func(v any) any { obj(v.([]any)[0])["text"] = ""; return v })
		}, []string{"safety.json", "question 1"}},
		{"a risk pattern that does not compile", func(m fstest.MapFS) {
			edit(t, m, "data/risk_language.json", func(v any) any {
				obj(v)["patterns"] = append(obj(v)["patterns"].([]any), `\bsuicid(e`)
				return v
			})
		}, []string{"risk_language.json", "pattern"}},
		{"a risk pattern removed, so a must_match phrase is missed", func(m fstest.MapFS) {
			edit(t, m, "data/risk_language.json", func(v any) any {
				var kept []any
				for _, p := range obj(v)["patterns"].([]any) {
					if !strings.Contains(p.(string), "overdos") {
						kept = append(kept, p)
					}
				}
				obj(v)["patterns"] = kept
				return v
			})
		}, []string{"risk_language.json", "must_match", "overdose"}},
		{"an exclusion so broad it hides risk", func(m fstest.MapFS) {
			edit(t, m, "data/risk_language.json", func(v any) any {
				obj(v)["exclusions"] = append(obj(v)["exclusions"].([]any), `\bkill\w*\s+\w+`)
				return v
			})
		}, []string{"risk_language.json", "must_match", "kill myself"}},
		{"a risk pattern that matches everything", func(m fstest.MapFS) {
			edit(t, m, "data/risk_language.json", func(v any) any {
				obj(v)["patterns"] = append(obj(v)["patterns"].([]any), `\w`)
				return v
			})
		}, []string{"risk_language.json", "must_not_match"}},
		{"no risk patterns", func(m fstest.MapFS) {
			edit(t, m, "data/risk_language.json", func(v any) any { obj(v)["patterns"] = []any{}; return v })
		}, []string{"risk_language.json", "no patterns"}},
		{"safety.json missing", func(m fstest.MapFS) { delete(m, "data/safety.json") }, []string{"safety.json"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := embeddedCopy(t)
			tc.change(m)
			c, err := Load(m)
			if err == nil {
				t.Fatalf("loaded (%d instruments), want an error", len(c.Instruments()))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}

	// A new instrument is a file, not code: a valid sixth file loads and is scored.
	m := embeddedCopy(t)
	m["data/instrument_6_phq2.json"] = &fstest.MapFile{Data: []byte(`{
		"id":"phq2","title":"Patient Health Questionnaire-2","short":"PHQ-2",
		"attribution":"Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an educational grant from Pfizer Inc.",
		"source":"Kroenke K, Spitzer RL, Williams JBW. Med Care 2003;41:1284-1292.",
		"stem":"Over the last 2 weeks, how often have you been bothered by the following problems?",
		"options":[{"value":0,"label":"Not at all"},{"value":1,"label":"Several days"},{"value":2,"label":"More than half the days"},{"value":3,"label":"Nearly every day"}],
		"items":[{"text":"Little interest or pleasure in doing things"},{"text":"Feeling down, depressed, or hopeless"}],
		"scoring":{"rule":"sum"},
		"bands":[{"min":0,"max":2,"name":"negative","label":"Below 3","meaning":"Below the cut-point of 3."},
		         {"min":3,"max":6,"name":"positive","label":"3 or more","meaning":"3 or more: the PHQ-9 should follow."}]}`)}
	c, err := Load(m)
	if err != nil {
		t.Fatalf("a valid new instrument: %v", err)
	}
	in, ok := c.Instrument("phq2")
	if !ok || len(c.Instruments()) != 6 || c.Instruments()[5].ID != "phq2" {
		t.Fatalf("phq2 not loaded last: %v", c.Instruments())
	}
	if r, err := in.Score([]int{2, 1}); err != nil || r.Total != 3 || r.Band.Name != "positive" {
		t.Errorf("phq2 [2 1]: %+v, %v", r, err)
	}
	if a, err := c.DecodeJSON(json.RawMessage(`{"phq2":[3,3]}`)); err != nil || len(a.Questionnaires["phq2"]) != 2 {
		t.Errorf("the API does not take the new questionnaire: %+v, %v", a, err)
	}
}
