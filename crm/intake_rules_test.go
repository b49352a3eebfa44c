package crm_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/frontdesk/frontdesk/intake/screening"
)

// arrival is when the enquiries of these tests arrive.
var arrival = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

const inbox = "intake@clinic.example"

func newArrival() crm.NewEnquiry {
	return crm.NewEnquiry{
		Enquiry:     intake.Enquiry{Name: "Ann Example", Email: "ann@example.org", Treatment: "adhd"},
		ReceivedAt:  arrival,
		IntakeInbox: inbox,
		Priority:    "normal",
		Link:        crm.ScreeningLink{Token: "link-token"},
	}
}

func riskArrival() crm.NewEnquiry {
	e := newArrival()
	e.Assessment = screening.Assessment{Flags: []string{screening.FlagRisk}, RiskSources: []string{"message"}}
	e.Priority = crm.PriorityUrgent
	return e
}

// clinician is an active clinician (of the enquiry's treatment, as the store reads them) with open enquiries.
func clinician(id int64, open int) crm.IntakeStaff {
	return crm.IntakeStaff{ID: id, Email: fmt.Sprintf("clin%d@clinic.example", id), Role: crm.RoleClinician, Open: open}
}

func plan(t *testing.T, e crm.NewEnquiry, f crm.IntakeFacts) crm.IntakePlan {
	t.Helper()
	p, err := crm.PlanIntake(e, f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mails renders a plan's mail as "kind:recipient" in order.
func mails(p crm.IntakePlan) []string {
	var out []string
	for _, m := range p.Mail {
		out = append(out, string(m.Kind)+":"+m.Recipient)
	}
	return out
}

func TestIntakeLookupNamesWhatTheRulesNeed(t *testing.T) {
	e := newArrival()
	got := e.Lookup()
	want := crm.IntakeLookup{Email: "ann@example.org", EarlierSince: arrival.Add(-crm.RelatedWindow),
		EarlierLimit: crm.RelatedLookback, ConfirmationsSince: arrival.Add(-crm.ConfirmationWindow), Treatment: "adhd"}
	if got != want {
		t.Errorf("lookup %+v, want %+v", got, want)
	}
	// The administrators are read only for an enquiry flagged risk that no intake inbox will be told of.
	if riskArrival().Lookup().Admins {
		t.Error("administrators read although the intake inbox is told")
	}
	r := riskArrival()
	r.IntakeInbox = ""
	if !r.Lookup().Admins {
		t.Error("administrators not read for a risk enquiry without an intake inbox")
	}
	s := newArrival()
	s.Spam = true
	if got := s.Lookup(); got != (crm.IntakeLookup{}) {
		t.Errorf("spam reads %+v, want nothing", got)
	}
	// Only the accounts that treat the enquiry's own treatment are candidates: those are the ones read.
	p := newArrival()
	p.Treatment = "ptsd"
	if got := p.Lookup().Treatment; got != "ptsd" {
		t.Errorf("a ptsd enquiry reads the staff of %q", got)
	}
}

func TestSpamIsStoredAsSpamAndSendsNothing(t *testing.T) {
	e := newArrival()
	e.Spam = true
	// Even facts that would link, assign and mail an ordinary enquiry change nothing for spam.
	p := plan(t, e, crm.IntakeFacts{
		Earlier: []crm.EarlierEnquiry{{ID: 7, CreatedAt: arrival.Add(-time.Hour), Status: crm.StatusNew}},
		Staff:   []crm.IntakeStaff{clinician(1, 0)},
		Admins:  []string{"admin@clinic.example"},
	})
	if p.Status != crm.StatusSpam || p.RelatedID != 0 || p.AssigneeID != 0 || len(p.Mail) != 0 || p.Priority != "normal" {
		t.Errorf("spam plan %+v", p)
	}
	if p := plan(t, newArrival(), crm.IntakeFacts{}); p.Status != crm.StatusNew {
		t.Errorf("an ordinary enquiry is %s", p.Status)
	}
}

func TestRelatedEnquiryWindowAndWhatIsSkipped(t *testing.T) {
	edge := arrival.Add(-crm.RelatedWindow)
	cases := []struct {
		name    string
		earlier []crm.EarlierEnquiry
		want    int64
	}{
		{"none", nil, 0},
		{"exactly at the window's edge is linked", []crm.EarlierEnquiry{{ID: 1, CreatedAt: edge, Status: crm.StatusLost}}, 1},
		{"a millisecond older is not", []crm.EarlierEnquiry{{ID: 1, CreatedAt: edge.Add(-time.Millisecond), Status: crm.StatusNew}}, 0},
		{"the newest wins, in any order", []crm.EarlierEnquiry{
			{ID: 2, CreatedAt: arrival.Add(-48 * time.Hour), Status: crm.StatusNew},
			{ID: 3, CreatedAt: arrival.Add(-time.Hour), Status: crm.StatusContacted},
			{ID: 4, CreatedAt: arrival.Add(-24 * time.Hour), Status: crm.StatusNew}}, 3},
		{"spam and erased are stepped over", []crm.EarlierEnquiry{
			{ID: 9, CreatedAt: arrival.Add(-time.Minute), Status: crm.StatusSpam},
			{ID: 8, CreatedAt: arrival.Add(-2 * time.Minute), Status: crm.StatusLost, Erased: true},
			{ID: 5, CreatedAt: arrival.Add(-time.Hour), Status: crm.StatusInTreatment}}, 5},
		{"only spam and erased: none", []crm.EarlierEnquiry{
			{ID: 9, CreatedAt: arrival.Add(-time.Minute), Status: crm.StatusSpam},
			{ID: 8, CreatedAt: arrival.Add(-2 * time.Minute), Status: crm.StatusNew, Erased: true}}, 0},
		{"same moment: the higher id", []crm.EarlierEnquiry{
			{ID: 11, CreatedAt: arrival.Add(-time.Hour), Status: crm.StatusNew},
			{ID: 12, CreatedAt: arrival.Add(-time.Hour), Status: crm.StatusNew}}, 12},
	}
	for _, tc := range cases {
		if got := plan(t, newArrival(), crm.IntakeFacts{Earlier: tc.earlier}).RelatedID; got != tc.want {
			t.Errorf("%s: related %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestAssignmentCandidates(t *testing.T) {
	disabled := clinician(1, 0)
	disabled.Disabled = true
	coordinator := clinician(2, 0)
	coordinator.Role = crm.RoleCoordinator
	admin := clinician(3, 0)
	admin.Role = crm.RoleAdmin
	busy := clinician(5, 4)
	free := clinician(6, 1)

	p := plan(t, newArrival(), crm.IntakeFacts{Staff: []crm.IntakeStaff{disabled, coordinator, admin, busy, free}})
	if p.AssigneeID != free.ID {
		t.Errorf("assigned to %d, want %d (the active clinician of adhd with fewest open)", p.AssigneeID, free.ID)
	}
	if got, want := mails(p), []string{"confirmation:ann@example.org", "staff_new:" + inbox, "staff_assigned:" + free.Email}; !slices.Equal(got, want) {
		t.Errorf("mail %v, want %v", got, want)
	}
	// Nobody who may take it: unassigned, and only the patient and the inbox are mailed.
	p = plan(t, newArrival(), crm.IntakeFacts{Staff: []crm.IntakeStaff{disabled, coordinator, admin}})
	if p.AssigneeID != 0 {
		t.Errorf("assigned to %d, want nobody", p.AssigneeID)
	}
	if got, want := mails(p), []string{"confirmation:ann@example.org", "staff_new:" + inbox}; !slices.Equal(got, want) {
		t.Errorf("mail %v, want %v", got, want)
	}
	// The tie-break is ChooseAssignee's: the least recently assigned.
	a, b := clinician(7, 2), clinician(8, 2)
	a.LastAssignedAt, b.LastAssignedAt = arrival.Add(-time.Hour), arrival.Add(-2*time.Hour)
	if p := plan(t, newArrival(), crm.IntakeFacts{Staff: []crm.IntakeStaff{a, b}}); p.AssigneeID != b.ID {
		t.Errorf("tie went to %d, want %d", p.AssigneeID, b.ID)
	}
}

func TestConfirmationsStopAtTheDaysLimit(t *testing.T) {
	last := plan(t, newArrival(), crm.IntakeFacts{ConfirmationsSent: crm.MaxConfirmationsPerDay - 1})
	if got, want := mails(last), []string{"confirmation:ann@example.org", "staff_new:" + inbox}; !slices.Equal(got, want) {
		t.Errorf("the day's last confirmation: %v, want %v", got, want)
	}
	if last.Mail[0].LinkToken != "link-token" {
		t.Errorf("the confirmation carries %q, want the screening link's token", last.Mail[0].LinkToken)
	}
	past := plan(t, newArrival(), crm.IntakeFacts{ConfirmationsSent: crm.MaxConfirmationsPerDay})
	if got, want := mails(past), []string{"staff_new:" + inbox}; !slices.Equal(got, want) {
		t.Errorf("past the limit: %v, want %v (staff still told)", got, want)
	}
}

func TestRiskSendsUrgentNoticesAndFallsBackToTheAdministrators(t *testing.T) {
	admins := []string{"admin1@clinic.example", "admin2@clinic.example"}
	clin := clinician(1, 0)

	p := plan(t, riskArrival(), crm.IntakeFacts{Staff: []crm.IntakeStaff{clin}, Admins: admins})
	if got, want := mails(p), []string{"confirmation:ann@example.org", "staff_urgent:" + inbox, "staff_urgent:" + clin.Email}; !slices.Equal(got, want) {
		t.Errorf("risk with inbox and assignee: %v, want %v", got, want)
	}
	if p.Priority != crm.PriorityUrgent || !slices.Equal(p.Flags, []string{screening.FlagRisk}) || p.FlagReason != "risk: message" {
		t.Errorf("risk plan %+v", p)
	}

	noInbox := riskArrival()
	noInbox.IntakeInbox = ""
	p = plan(t, noInbox, crm.IntakeFacts{Staff: []crm.IntakeStaff{clin}, Admins: admins})
	if got, want := mails(p), []string{"confirmation:ann@example.org", "staff_urgent:" + clin.Email}; !slices.Equal(got, want) {
		t.Errorf("risk told to its assignee: %v, want %v (no administrators)", got, want)
	}

	p = plan(t, noInbox, crm.IntakeFacts{Admins: admins})
	if got, want := mails(p), []string{"confirmation:ann@example.org", "staff_urgent:" + admins[0], "staff_urgent:" + admins[1]}; !slices.Equal(got, want) {
		t.Errorf("risk nobody is set to be told of: %v, want %v", got, want)
	}

	plain := newArrival()
	plain.IntakeInbox = ""
	p = plan(t, plain, crm.IntakeFacts{Admins: admins})
	if got, want := mails(p), []string{"confirmation:ann@example.org"}; !slices.Equal(got, want) {
		t.Errorf("an ordinary enquiry nobody is set to be told of: %v, want %v", got, want)
	}
}

func TestPriorityAndFlagsOfANewEnquiry(t *testing.T) {
	e := newArrival()
	e.Priority = ""
	e.Assessment = screening.Assessment{Flags: []string{screening.FlagReview}, Review: []string{"liver_disease"}}
	p := plan(t, e, crm.IntakeFacts{})
	if p.Priority != "normal" || !slices.Equal(p.Flags, []string{screening.FlagReview}) || p.FlagReason != "review: liver_disease" {
		t.Errorf("plan %+v", p)
	}
	if p := plan(t, newArrival(), crm.IntakeFacts{}); len(p.Flags) != 0 || p.FlagReason != "" {
		t.Errorf("an enquiry without flags: %+v", p)
	}
}
