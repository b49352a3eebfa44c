package crm

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestTransitionTable checks every pair of statuses against the pipeline rules of the README, written out here independently
// of CanTransition: active → later active; active → closed; closed → contacted; spam → new; nothing else.
func TestTransitionTable(t *testing.T) {
	order := map[Status]int{"new": 0, "contacted": 1, "screening": 2, "assessment_booked": 3, "treatment_offered": 4, "in_treatment": 5}
	closed := map[Status]bool{"not_suitable": true, "lost": true, "referred": true}
	all := []Status{"new", "contacted", "screening", "assessment_booked", "treatment_offered", "in_treatment",
		"not_suitable", "lost", "referred", "spam"}
	if len(AllStatuses) != len(all) {
		t.Fatalf("AllStatuses has %d statuses, the README lists %d", len(AllStatuses), len(all))
	}
	allowed := 0
	for _, from := range all {
		for _, to := range all {
			fromRank, fromActive := order[from]
			toRank, toActive := order[to]
			want := (fromActive && toActive && toRank > fromRank) ||
				(fromActive && closed[to]) ||
				(closed[from] && to == "contacted") ||
				(from == "spam" && to == "new")
			if got := CanTransition(from, to); got != want {
				t.Errorf("CanTransition(%s, %s) = %v, want %v", from, to, got, want)
			}
			if want {
				allowed++
			}
		}
	}
	// 15 forward moves + 6×3 closings + 3 reopenings + 1 un-spam.
	if allowed != 37 {
		t.Errorf("%d allowed transitions, want 37", allowed)
	}
	if CanTransition("new", "bogus") || CanTransition("bogus", "new") {
		t.Error("an unknown status may be moved to or from")
	}
}

func TestStatusKinds(t *testing.T) {
	for _, s := range AllStatuses {
		if !s.Valid() || s.Label() == "" || s.Label() == string(s) {
			t.Errorf("%s: valid=%v label=%q", s, s.Valid(), s.Label())
		}
		if s.Active() && s.Closed() {
			t.Errorf("%s both active and closed", s)
		}
	}
	if Status("bogus").Valid() {
		t.Error("bogus status valid")
	}
	if got := fmt.Sprint(NextStatuses(StatusLost)); got != "[contacted]" {
		t.Errorf("NextStatuses(lost) = %s", got)
	}
	if got := fmt.Sprint(NextStatuses(StatusTreatmentOffered)); got != "[in_treatment not_suitable lost referred]" {
		t.Errorf("NextStatuses(treatment_offered) = %s", got)
	}
}

func TestChooseAssignee(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		cands []Candidate
		want  int64
		ok    bool
	}{
		{"nobody", nil, 0, false},
		{"fewest open wins", []Candidate{{1, 5, t0}, {2, 2, t0.Add(time.Hour)}, {3, 3, time.Time{}}}, 2, true},
		{"tie goes to least recently assigned", []Candidate{{1, 2, t0.Add(time.Hour)}, {2, 2, t0}, {3, 2, t0.Add(2 * time.Hour)}}, 2, true},
		{"never assigned counts as least recent", []Candidate{{1, 0, t0}, {2, 0, time.Time{}}}, 2, true},
		{"full tie goes to lowest id", []Candidate{{7, 1, t0}, {3, 1, t0}, {5, 1, t0}}, 3, true},
	}
	for _, tc := range cases {
		got, ok := ChooseAssignee(tc.cands)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: got %d,%v want %d,%v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestIntakeMail(t *testing.T) {
	e := NewEnquiry{IntakeInbox: "intake@clinic.example"}
	e.Email = "ann@example.org"
	got := IntakeMail(e, "dr.b@clinic.example", 0)
	want := []Mail{{Kind: MailConfirmation, Recipient: "ann@example.org"}, {Kind: MailNewEnquiry, Recipient: "intake@clinic.example"},
		{Kind: MailAssigned, Recipient: "dr.b@clinic.example"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("IntakeMail = %v, want %v", got, want)
	}
	// The third confirmation of the day goes; the fourth does not, but staff are still told.
	if got := IntakeMail(e, "dr.b@clinic.example", MaxConfirmationsPerDay-1); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the last confirmation of the day: %v", got)
	}
	if got := IntakeMail(e, "dr.b@clinic.example", MaxConfirmationsPerDay); fmt.Sprint(got) != fmt.Sprint(want[1:]) {
		t.Errorf("past the day's confirmations: %v, want %v", got, want[1:])
	}
	e.IntakeInbox = ""
	if got := IntakeMail(e, "", 0); len(got) != 1 || got[0].Kind != MailConfirmation {
		t.Errorf("without inbox or assignee: %v", got)
	}
	e.Spam = true
	if got := IntakeMail(e, "dr.b@clinic.example", 0); len(got) != 0 {
		t.Errorf("spam sends %v", got)
	}
}

func TestGreetingNameKeepsOnlyPlainNames(t *testing.T) {
	for name, want := range map[string]bool{
		"Ann":                true,
		"Zoë O'Brien-Smith":  true,
		"Siobhán Ní Bhriain": true,
		"José María":         true,
		"Aoife D’Arcy":       true,
		"Владимир":           true,
		"李小龍":                true,
		"":                   false,
		"A":                  true,
		"-Ann":               false,
		"Ann2":               false,
		"Ann.":               false,
		"Your account is suspended – visit https://evil.example": false,
		"Call 07700 900123":     false,
		"Ann <b>":               false,
		"Ann\nSmith":            false,
		strings.Repeat("a", 40): true,
		strings.Repeat("a", 41): false,
		"Mary Jane Elizabeth Catherine Windsor Smythe": false, // 44 characters
	} {
		if got := GreetingName(name) == name && name != ""; got != want {
			t.Errorf("GreetingName(%q) kept=%v, want %v", name, got, want)
		}
	}
}
