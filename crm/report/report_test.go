package report

import (
	"context"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
)

func TestNeutralise(t *testing.T) {
	for in, want := range map[string]string{
		"=1+2":                      "'=1+2",
		"+447700900123":             "'+447700900123",
		"-2+3":                      "'-2+3",
		"@SUM(A1)":                  "'@SUM(A1)",
		"\tTabbed":                  "'\tTabbed",
		"\rCarriage":                "'\rCarriage",
		"＝1+1":                      "'＝1+1",
		"Ann = fine":                "Ann = fine",
		"Zoë Ångström":              "Zoë Ångström",
		"":                          "",
		"'already":                  "'already",
		" =not a formula in Excel":  " =not a formula in Excel",
		"2026-11-01T09:00:00+00:00": "2026-11-01T09:00:00+00:00",
	} {
		if got := Neutralise(in); got != want {
			t.Errorf("Neutralise(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPercentileIsExcelsPercentileInc(t *testing.T) {
	cases := []struct {
		values []float64
		p      float64
		want   float64
	}{
		{[]float64{2}, 0.5, 2},
		{[]float64{2}, 0.9, 2},
		{[]float64{1, 2, 3, 4}, 0.5, 2.5},                                // h = 3·0.5 = 1.5: 2 + 0.5·(3-2)
		{[]float64{1, 2, 3, 4}, 0.9, 3.7},                                // h = 3·0.9 = 2.7: 3 + 0.7·(4-3)
		{[]float64{0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 0.9, 90}, // h = 9 exactly
		{[]float64{1, 3}, 1, 3},
		{[]float64{1, 3}, 0, 1},
	}
	for _, c := range cases {
		if got := Percentile(c.values, c.p); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Percentile(%v, %v) = %v, want %v", c.values, c.p, got, c.want)
		}
	}
	if !math.IsNaN(Percentile(nil, 0.5)) {
		t.Error("Percentile of nothing is not NaN")
	}
}

func TestOnlyAdministratorsExportAndReport(t *testing.T) {
	store := &fakeStore{enquiries: sampleEnquiries()}
	s, audit := newTestService(store)
	ctx := context.Background()
	for _, role := range []crm.Role{crm.RoleCoordinator, crm.RoleClinician, ""} {
		a := crm.Actor{ID: 3, Role: role}
		if _, err := s.OpenExport(ctx, a, Filter{}, CSV); !errors.Is(err, crm.ErrForbidden) {
			t.Errorf("%q export: %v, want ErrForbidden", role, err)
		}
		if _, err := s.Report(ctx, a, Range{}); !errors.Is(err, crm.ErrForbidden) {
			t.Errorf("%q report: %v, want ErrForbidden", role, err)
		}
	}
	if store.open != 0 || len(audit.entries) != 0 {
		t.Errorf("a refused export opened %d queries and recorded %d entries", store.open, len(audit.entries))
	}
	exp, err := s.OpenExport(ctx, crm.System, Filter{}, CSV)
	if err != nil {
		t.Fatalf("System may export (the command line): %v", err)
	}
	if _, err := exp.WriteTo(io.Discard); err != nil {
		t.Fatal(err)
	}
	if len(audit.entries) != 1 || audit.entries[0].Actor != nil || audit.entries[0].Action != "export" ||
		audit.entries[0].Detail != "csv; all enquiries; 3 rows" {
		t.Errorf("audit %+v", audit.entries)
	}
}

// The export words a filter's problems as it always has, beside the export form's fields.
