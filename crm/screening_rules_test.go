package crm_test

import (
	"slices"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake/screening"
)

// answered is answers through a screening link raising flags (risk from the self-harm question, review from
// the one about being safe at home), told to inbox.
func answered(inbox string, flags ...string) crm.ScreeningAnswers {
	a := crm.ScreeningAnswers{Hash: "link-hash", At: arrival, IntakeInbox: inbox}
	if slices.Contains(flags, screening.FlagRisk) {
		a.Assessment.Flags = append(a.Assessment.Flags, screening.FlagRisk)
		a.Assessment.RiskSources = []string{"phq9 item 9", "self_harm_thoughts"}
	}
	if slices.Contains(flags, screening.FlagReview) {
		a.Assessment.Flags = append(a.Assessment.Flags, screening.FlagReview)
		a.Assessment.Review = []string{"unsafe_at_home"}
	}
	return a
}

func TestPlanScreeningAnswers(t *testing.T) {
	const (
		risk     = screening.FlagRisk
		review   = screening.FlagReview
		assignee = "clin@clinic.example"
	)
	admins := []string{"admin1@clinic.example", "admin2@clinic.example"}
	facts := func(edit func(*crm.ScreeningFacts)) crm.ScreeningFacts {
		f := crm.ScreeningFacts{Reference: "ENQ-1", Priority: "normal", AssigneeEmail: assignee, Admins: admins}
		if edit != nil {
			edit(&f)
		}
		return f
	}
	cases := []struct {
		name   string
		a      crm.ScreeningAnswers
		f      crm.ScreeningFacts
		raise  []string
		reason string
		urgent bool
		mail   []string
		flags  []string
	}{
		{name: "new risk tells the inbox and the assignee and makes it urgent",
			a: answered(inbox, risk), f: facts(nil),
			raise: []string{risk}, reason: "risk: phq9 item 9, self_harm_thoughts", urgent: true,
			mail: []string{"staff_urgent:" + inbox, "staff_urgent:" + assignee}, flags: []string{risk}},
		{name: "risk already flagged raises nothing, tells nobody, leaves the priority",
			a: answered(inbox, risk), f: facts(func(f *crm.ScreeningFacts) { f.RiskFlagged = true }),
			flags: []string{risk}},
		{name: "new risk on an enquiry already urgent is raised and told, with no priority change",
			a: answered(inbox, risk), f: facts(func(f *crm.ScreeningFacts) { f.Priority = crm.PriorityUrgent }),
			raise: []string{risk}, reason: "risk: phq9 item 9, self_harm_thoughts",
			mail: []string{"staff_urgent:" + inbox, "staff_urgent:" + assignee}, flags: []string{risk}},
		{name: "no assignee and no inbox: every active administrator",
			a: answered("", risk), f: facts(func(f *crm.ScreeningFacts) { f.AssigneeEmail = "" }),
			raise: []string{risk}, reason: "risk: phq9 item 9, self_harm_thoughts", urgent: true,
			mail: []string{"staff_urgent:" + admins[0], "staff_urgent:" + admins[1]}, flags: []string{risk}},
		{name: "no administrators either: nobody",
			a: answered("", risk), f: facts(func(f *crm.ScreeningFacts) { f.AssigneeEmail, f.Admins = "", nil }),
			raise: []string{risk}, reason: "risk: phq9 item 9, self_harm_thoughts", urgent: true, flags: []string{risk}},
		{name: "no inbox: the assignee alone, not the administrators",
			a: answered("", risk), f: facts(nil),
			raise: []string{risk}, reason: "risk: phq9 item 9, self_harm_thoughts", urgent: true,
			mail: []string{"staff_urgent:" + assignee}, flags: []string{risk}},
		{name: "no assignee: the inbox alone, not the administrators",
			a: answered(inbox, risk), f: facts(func(f *crm.ScreeningFacts) { f.AssigneeEmail = "" }),
			raise: []string{risk}, reason: "risk: phq9 item 9, self_harm_thoughts", urgent: true,
			mail: []string{"staff_urgent:" + inbox}, flags: []string{risk}},
		{name: "the assignee is the inbox: told once",
			a: answered(inbox, risk), f: facts(func(f *crm.ScreeningFacts) { f.AssigneeEmail = inbox }),
			raise: []string{risk}, reason: "risk: phq9 item 9, self_harm_thoughts", urgent: true,
			mail: []string{"staff_urgent:" + inbox}, flags: []string{risk}},
		{name: "review only: raised, no priority change, nobody told",
			a: answered(inbox, review), f: facts(nil),
			raise: []string{review}, reason: "review: unsafe_at_home", flags: []string{review}},
		{name: "review already flagged: nothing",
			a: answered(inbox, review), f: facts(func(f *crm.ScreeningFacts) { f.ReviewFlagged = true }),
			flags: []string{review}},
		{name: "both new: both raised, one reason",
			a: answered(inbox, risk, review), f: facts(nil),
			raise: []string{risk, review}, reason: "risk: phq9 item 9, self_harm_thoughts; review: unsafe_at_home",
			urgent: true, mail: []string{"staff_urgent:" + inbox, "staff_urgent:" + assignee},
			flags: []string{risk, review}},
		{name: "both, review already flagged: only risk is raised and named",
			a: answered(inbox, risk, review), f: facts(func(f *crm.ScreeningFacts) { f.ReviewFlagged = true }),
			raise: []string{risk}, reason: "risk: phq9 item 9, self_harm_thoughts", urgent: true,
			mail: []string{"staff_urgent:" + inbox, "staff_urgent:" + assignee}, flags: []string{risk, review}},
		{name: "both, risk already flagged: only review is raised, nobody told",
			a: answered(inbox, risk, review), f: facts(func(f *crm.ScreeningFacts) { f.RiskFlagged = true }),
			raise: []string{review}, reason: "review: unsafe_at_home", flags: []string{risk, review}},
		{name: "no flag in the answers keeps the enquiry's flags",
			a: answered(inbox), f: facts(func(f *crm.ScreeningFacts) { f.RiskFlagged, f.ReviewFlagged = true, true }),
			flags: []string{risk, review}},
		{name: "nothing flagged anywhere",
			a: answered(""), f: facts(func(f *crm.ScreeningFacts) { f.AssigneeEmail = "" }),
			flags: []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := crm.PlanScreeningAnswers(c.a, c.f)
			if !slices.Equal(p.Raise, c.raise) || p.FlagReason != c.reason {
				t.Errorf("raise %q for %q, want %q for %q", p.Raise, p.FlagReason, c.raise, c.reason)
			}
			if p.Urgent != c.urgent {
				t.Errorf("urgent %v, want %v", p.Urgent, c.urgent)
			}
			var got []string
			for _, m := range p.Mail {
				got = append(got, string(m.Kind)+":"+m.Recipient)
			}
			if !slices.Equal(got, c.mail) {
				t.Errorf("mail %q, want %q", got, c.mail)
			}
			o := p.Outcome
			if o.Reference != "ENQ-1" || o.Flags == nil || !slices.Equal(o.Flags, c.flags) || !slices.Equal(o.Raised, c.raise) {
				t.Errorf("outcome %+v, want flags %q raised %q", o, c.flags, c.raise)
			}
			// The administrators the plan mailed were read: a store reads them only when NeedsAdmins says so.
			if slices.ContainsFunc(p.Mail, func(m crm.Mail) bool { return slices.Contains(admins, m.Recipient) }) &&
				!c.a.NeedsAdmins() {
				t.Errorf("the plan mails administrators the store was not asked to read")
			}
		})
	}
}

// The administrators are read only for answers raising risk that no intake inbox will be told of.
func TestScreeningAnswersNeedAdminsOnlyForRiskWithoutInbox(t *testing.T) {
	for _, c := range []struct {
		a    crm.ScreeningAnswers
		want bool
	}{
		{answered("", screening.FlagRisk), true},
		{answered("", screening.FlagRisk, screening.FlagReview), true},
		{answered(inbox, screening.FlagRisk), false},
		{answered("", screening.FlagReview), false},
		{answered(""), false},
	} {
		if got := c.a.NeedsAdmins(); got != c.want {
			t.Errorf("flags %q, inbox %q: NeedsAdmins %v, want %v", c.a.Assessment.Flags, c.a.IntakeInbox, got, c.want)
		}
	}
}
