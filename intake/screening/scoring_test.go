package screening

import (
	"slices"
	"testing"
)

// scoreOf scores answers with the embedded instrument id, failing the test on any error.
func scoreOf(t *testing.T, id string, answers []int) Result {
	t.Helper()
	in, ok := Default().Instrument(id)
	if !ok {
		t.Fatalf("no instrument %q in the embedded catalogue", id)
	}
	r, err := in.Score(answers)
	if err != nil {
		t.Fatalf("%s %v: %v", id, answers, err)
	}
	return r
}

// TestPublishedExamples scores complete answer sets against the published scoring rules. We found no published
// completed form (answers, total and severity together) for any of these instruments that we could check word
// for word, so each case below is constructed from the published rule it names, and says so. The sources are
// the ones in each data file's "source".
func TestPublishedExamples(t *testing.T) {
	cases := []struct {
		name    string
		id      string
		answers []int
		total   int
		band    string
		flags   []string
	}{
		// PHQ-9. Rule: Kroenke, Spitzer & Williams 2001 (J Gen Intern Med 16:606) — each item 0 "Not at all" to
		// 3 "Nearly every day", summed to 0–27; 5, 10, 15 and 20 are the cut-points for mild, moderate,
		// moderately severe and severe. Item 9 above 0 needs a clinician's attention whatever the total
		// (the Pfizer instruction manual). Constructed cases.
		{"phq9 constructed: several days on four items", "phq9", []int{1, 1, 1, 1, 0, 0, 0, 0, 0}, 4, "minimal", nil},
		{"phq9 constructed: mild", "phq9", []int{1, 2, 1, 2, 1, 0, 0, 0, 0}, 7, "mild", nil},
		{"phq9 constructed: moderate, the usual cut-point 10", "phq9", []int{2, 2, 2, 1, 1, 1, 1, 0, 0}, 10, "moderate", nil},
		{"phq9 constructed: moderately severe with item 9 'several days'", "phq9", []int{3, 2, 2, 2, 2, 2, 2, 0, 1}, 16, "moderately_severe", []string{FlagRisk}},
		{"phq9 constructed: every item 'nearly every day'", "phq9", []int{3, 3, 3, 3, 3, 3, 3, 3, 3}, 27, "severe", []string{FlagRisk}},

		// GAD-7. Rule: Spitzer, Kroenke, Williams & Löwe 2006 (Arch Intern Med 166:1092) — seven items 0–3
		// summed to 0–21; 5, 10 and 15 are the cut-points for mild, moderate and severe; 10 or more calls for
		// further evaluation. Constructed cases.
		{"gad7 constructed: minimal", "gad7", []int{1, 1, 0, 1, 0, 1, 0}, 4, "minimal", nil},
		{"gad7 constructed: mild", "gad7", []int{1, 1, 1, 1, 1, 0, 0}, 5, "mild", nil},
		{"gad7 constructed: moderate at 10", "gad7", []int{2, 2, 2, 1, 1, 1, 1}, 10, "moderate", nil},
		{"gad7 constructed: severe", "gad7", []int{3, 3, 3, 2, 2, 2, 2}, 17, "severe", nil},

		// ASRS v1.1 Part A. Rule: the WHO ASRS-v1.1 Symptom Checklist instructions (Kessler et al. 2005, Psychol
		// Med 35:245) — four or more marks in the darkly shaded boxes of Part A; the shaded boxes are
		// "Sometimes" or more for items 1–3 and "Often" or more for items 4–6. The total is the count of shaded
		// answers. Constructed cases.
		{"asrs_a constructed: 'Sometimes' on 1–3 and 'Often' on 4 is four shaded", "asrs_a", []int{2, 2, 2, 3, 0, 0}, 4, "positive", nil},
		{"asrs_a constructed: 'Sometimes' on every item is only three shaded", "asrs_a", []int{2, 2, 2, 2, 2, 2}, 3, "negative", nil},
		{"asrs_a constructed: 'Very Often' on 4–6 and 'Rarely' on 1–3", "asrs_a", []int{1, 1, 1, 4, 4, 4}, 3, "negative", nil},
		{"asrs_a constructed: every item 'Very Often'", "asrs_a", []int{4, 4, 4, 4, 4, 4}, 6, "positive", nil},

		// AUDIT-C. Items: questions 1–3 of the WHO AUDIT (Babor et al. 2001), each 0–4, summed to 0–12. UK
		// scoring (Department of Health / Public Health England AUDIT-C): 5 or more is increasing or higher risk.
		// Constructed cases.
		{"audit_c constructed: 2–4 times a month, 3 or 4 drinks, less than monthly", "audit_c", []int{2, 1, 1}, 4, "lower_risk", nil},
		{"audit_c constructed: 2–4 times a month, 3 or 4 drinks, monthly", "audit_c", []int{2, 1, 2}, 5, "higher_risk", nil},
		{"audit_c constructed: never drinks", "audit_c", []int{0, 0, 0}, 0, "lower_risk", nil},
		{"audit_c constructed: daily, 10 or more, daily", "audit_c", []int{4, 4, 4}, 12, "higher_risk", nil},

		// PC-PTSD-5. Rule: Prins et al. 2016 (J Gen Intern Med 31:1206) — five yes/no items counted, 0–5;
		// 3 or more is a positive screen. Constructed cases.
		{"pc_ptsd5 constructed: yes to nightmares and avoidance", "pc_ptsd5", []int{1, 1, 0, 0, 0}, 2, "negative", nil},
		{"pc_ptsd5 constructed: yes to three", "pc_ptsd5", []int{1, 0, 1, 0, 1}, 3, "positive", nil},
		{"pc_ptsd5 constructed: yes to all five", "pc_ptsd5", []int{1, 1, 1, 1, 1}, 5, "positive", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := scoreOf(t, tc.id, tc.answers)
			if r.Instrument != tc.id || r.Total != tc.total || r.Band.Name != tc.band {
				t.Errorf("got %s total %d band %q, want %s total %d band %q", r.Instrument, r.Total, r.Band.Name, tc.id, tc.total, tc.band)
			}
			if !slices.Equal(r.Flags, tc.flags) {
				t.Errorf("flags %v, want %v", r.Flags, tc.flags)
			}
			if r.Band.Meaning == "" || r.Band.Label == "" {
				t.Errorf("band %q has no label or meaning for the clinician", r.Band.Name)
			}
		})
	}
}

// publishedCuts are, written down independently of the data files, each instrument's published band starts and
// its highest total. A new instrument file must add its line here, from its publication: the test then checks the
// file against it.
var publishedCuts = map[string]struct {
	starts []int
	max    int
}{
	"phq9":     {[]int{0, 5, 10, 15, 20}, 27},
	"gad7":     {[]int{0, 5, 10, 15}, 21},
	"asrs_a":   {[]int{0, 4}, 6},
	"audit_c":  {[]int{0, 5}, 12},
	"pc_ptsd5": {[]int{0, 3}, 5},
}

// contribution is what answer v to item i adds to the total, by the published rules: its value for a summed
// instrument, 1 when at or above the item's shaded threshold for a counted one.
func contribution(in Instrument, i, v int) int {
	if in.Scoring.Rule == "count_shaded" {
		if v >= in.Items[i].ShadedFrom {
			return 1
		}
		return 0
	}
	return v
}

// vectorFor builds a real answer vector — each answer one of its item's options — whose total is want, or
// reports that no vector reaches it. It searches every item's options (values need not be 0..n).
func vectorFor(in Instrument, want int) ([]int, bool) {
	// reach[i] maps a total reachable with items i.. to one answer choice for item i.
	n := len(in.Items)
	reach := make([]map[int]int, n+1)
	reach[n] = map[int]int{0: -1}
	for i := n - 1; i >= 0; i-- {
		reach[i] = map[int]int{}
		for _, o := range in.OptionsOf(i) {
			for rest := range reach[i+1] {
				t := rest + contribution(in, i, o.Value)
				if _, ok := reach[i][t]; !ok {
					reach[i][t] = o.Value
				}
			}
		}
	}
	if _, ok := reach[0][want]; !ok {
		return nil, false
	}
	out := make([]int, n)
	left := want
	for i := 0; i < n; i++ {
		// choose an answer for item i that leaves a total the later items can reach
		for _, o := range in.OptionsOf(i) {
			c := contribution(in, i, o.Value)
			if _, ok := reach[i+1][left-c]; ok {
				out[i] = o.Value
				left -= c
				break
			}
		}
	}
	return out, true
}

// TestEveryBandBoundary reaches every band's lowest and highest total with real answers, checks that one more
// than a band's highest is the next band, and that nothing lies beyond the last. It runs over every instrument in
// the catalogue, so a new data file is covered too.
func TestEveryBandBoundary(t *testing.T) {
	instruments := Default().Instruments()
	if len(instruments) < len(publishedCuts) {
		t.Fatalf("%d instruments loaded, want at least %d", len(instruments), len(publishedCuts))
	}
	for _, in := range instruments {
		t.Run(in.ID, func(t *testing.T) {
			pub, ok := publishedCuts[in.ID]
			if !ok {
				t.Fatalf("%s has no published cut-points in publishedCuts: add them from its publication", in.ID)
			}
			var starts []int
			for _, b := range in.Bands {
				starts = append(starts, b.Min)
			}
			if !slices.Equal(starts, pub.starts) || in.MaxTotal() != pub.max || in.Bands[len(in.Bands)-1].Max != pub.max {
				t.Fatalf("bands start at %v and end at %d (max %d); published: %v, max %d",
					starts, in.Bands[len(in.Bands)-1].Max, in.MaxTotal(), pub.starts, pub.max)
			}
			score := func(total int) Result {
				t.Helper()
				v, ok := vectorFor(in, total)
				if !ok {
					t.Fatalf("no answers reach the total %d", total)
				}
				r, err := in.Score(v)
				if err != nil {
					t.Fatalf("Score(%v): %v", v, err)
				}
				if r.Total != total || r.Max != pub.max {
					t.Fatalf("Score(%v) = total %d of %d, want %d of %d", v, r.Total, r.Max, total, pub.max)
				}
				return r
			}
			for k, b := range in.Bands {
				for _, total := range []int{b.Min, b.Max} {
					if r := score(total); r.Band.Name != b.Name {
						t.Errorf("total %d: band %q, want %q", total, r.Band.Name, b.Name)
					}
				}
				if k+1 < len(in.Bands) {
					if r := score(b.Max + 1); r.Band.Name != in.Bands[k+1].Name {
						t.Errorf("total %d: band %q, want the next band %q", b.Max+1, r.Band.Name, in.Bands[k+1].Name)
					}
				} else if _, ok := vectorFor(in, b.Max+1); ok {
					t.Errorf("answers reach %d, beyond the last band", b.Max+1)
				}
			}
			// The highest answer everywhere gives the maximum; the lowest everywhere gives 0.
			hi, lo := make([]int, len(in.Items)), make([]int, len(in.Items))
			for i := range in.Items {
				hi[i], lo[i] = in.OptionsOf(i)[0].Value, in.OptionsOf(i)[0].Value
				for _, o := range in.OptionsOf(i) {
					hi[i], lo[i] = max(hi[i], o.Value), min(lo[i], o.Value)
				}
			}
			if r, _ := in.Score(hi); r.Total != pub.max || r.Band.Name != in.Bands[len(in.Bands)-1].Name {
				t.Errorf("highest answers: total %d band %q", r.Total, r.Band.Name)
			}
			if r, _ := in.Score(lo); r.Total != 0 || r.Band.Name != in.Bands[0].Name {
				t.Errorf("lowest answers: total %d band %q", r.Total, r.Band.Name)
			}
			// A wrong number of answers or a value no option has is refused, never scored.
			if _, err := in.Score(lo[1:]); err == nil {
				t.Error("one answer short was scored")
			}
			bad := slices.Clone(lo)
			bad[len(bad)-1] = hi[len(hi)-1] + 1
			if _, err := in.Score(bad); err == nil {
				t.Errorf("answer %d to the last item was scored", bad[len(bad)-1])
			}
		})
	}
}

// TestASRSShadedCount checks each ASRS Part A item's shaded threshold on its own: at the threshold the answer
// counts, one below it does not. Items 1–3 are shaded from "Sometimes", items 4–6 from "Often".
func TestASRSShadedCount(t *testing.T) {
	in, ok := Default().Instrument("asrs_a")
	if !ok || in.Scoring.Rule != "count_shaded" || len(in.Items) != 6 {
		t.Fatalf("asrs_a: want a count_shaded instrument of 6 items, got %+v", in.Scoring)
	}
	label := func(i, v int) string {
		for _, o := range in.OptionsOf(i) {
			if o.Value == v {
				return o.Label
			}
		}
		return ""
	}
	wantFrom := []string{"Sometimes", "Sometimes", "Sometimes", "Often", "Often", "Often"}
	for i, it := range in.Items {
		if got := label(i, it.ShadedFrom); got != wantFrom[i] {
			t.Errorf("item %d is shaded from %q, want %q", i+1, got, wantFrom[i])
		}
		for _, tc := range []struct {
			answer, total int
		}{
			{it.ShadedFrom, 1},
			{it.ShadedFrom - 1, 0},
			{4, 1}, // "Very Often" is always shaded
			{0, 0}, // "Never" never is
		} {
			answers := make([]int, 6)
			answers[i] = tc.answer
			r := scoreOf(t, "asrs_a", answers)
			if r.Total != tc.total {
				t.Errorf("item %d answered %q alone: %d shaded, want %d", i+1, label(i, tc.answer), r.Total, tc.total)
			}
		}
	}
	// Three items one below their threshold and three at it: three shaded, below the screening threshold; moving
	// one more item to its threshold makes four, a positive screen.
	answers := []int{1, 2, 1, 3, 2, 3}
	if r := scoreOf(t, "asrs_a", answers); r.Total != 3 || r.Band.Name != "negative" {
		t.Errorf("%v: %d shaded, band %q; want 3, negative", answers, r.Total, r.Band.Name)
	}
	answers[0] = 2
	if r := scoreOf(t, "asrs_a", answers); r.Total != 4 || r.Band.Name != "positive" {
		t.Errorf("%v: %d shaded, band %q; want 4, positive", answers, r.Total, r.Band.Name)
	}
}
