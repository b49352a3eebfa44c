package report

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// comparePeople orders people by name then email, the unassigned (nil) last.
func comparePeople(a, b *Person) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Email, b.Email))
}

func (b breakdownAcc) breakdown(keys []Key, weeks []string) Breakdown {
	out := Breakdown{Keys: keys, Totals: make([]int, len(keys))}
	for w, counts := range b.counts {
		wc := WeekCounts{Week: weeks[w], Counts: counts}
		for i, n := range counts {
			wc.Total += n
			out.Totals[i] += n
		}
		out.Total += wc.Total
		out.Weeks = append(out.Weeks, wc)
	}
	return out
}

func (a *contactAcc) stats() ContactStats {
	st := ContactStats{Enquiries: a.enquiries, Contacted: len(a.hours), NotContacted: a.enquiries - len(a.hours),
		WithinTarget: a.within}
	if len(a.hours) > 0 {
		slices.Sort(a.hours)
		med, p90 := Percentile(a.hours, 0.5), Percentile(a.hours, 0.9)
		st.MedianHours, st.P90Hours = &med, &p90
		st.ShareWithinTarget = ratio(a.within, len(a.hours))
	}
	return st
}

// Percentile is the p-quantile (0 <= p <= 1) of sorted values by linear interpolation between the closest
// ranks — Excel's PERCENTILE.INC, and the median at p = 0.5: with n values the rank is h = (n-1)·p, and the
// result x[⌊h⌋] + (h-⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋]). It is NaN for no values.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := float64(len(sorted)-1) * p
	lo := int(math.Floor(h))
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// ratio is n/d, nil when d is 0.
func ratio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	v := float64(n) / float64(d)
	return &v
}
