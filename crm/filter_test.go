package crm_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

func TestParseEnquiryFilter(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	// 29 March 2026 is the day the clocks go forward in London: 23 hours long, 00:00 GMT to 23:00 UTC.
	sel, ps := crm.ParseEnquiryFilter(crm.EnquiryFilter{From: " 2026-03-29", To: "2026-03-29 ", Status: "new, lost",
		Treatment: " adhd ", Assignee: " Lee@Clinic.Example"}, london)
	if ps != nil || !sel.From.Equal(time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)) ||
		!sel.To.Equal(time.Date(2026, 3, 29, 23, 0, 0, 0, time.UTC)) ||
		!reflect.DeepEqual(sel.Statuses, []crm.Status{crm.StatusNew, crm.StatusLost}) || sel.Treatment != "adhd" ||
		sel.AssigneeEmail != "lee@clinic.example" || sel.Unassigned {
		t.Errorf("selection %+v, problems %v", sel, ps)
	}
	for _, none := range []string{"none", "Unassigned"} {
		if sel, _ := crm.ParseEnquiryFilter(crm.EnquiryFilter{Assignee: none}, london); !sel.Unassigned || sel.AssigneeEmail != "" {
			t.Errorf("%s: %+v", none, sel)
		}
	}
	if sel, ps := crm.ParseEnquiryFilter(crm.EnquiryFilter{}, london); ps != nil || !reflect.DeepEqual(sel, crm.EnquirySelection{}) {
		t.Errorf("the empty filter: %+v, %v", sel, ps)
	}

	for _, c := range []struct {
		f    crm.EnquiryFilter
		want crm.FilterProblems
	}{
		{crm.EnquiryFilter{From: "2026-13-01", To: " yesterday "}, crm.FilterProblems{
			{Field: "from", Kind: crm.FilterBadDate, Value: "2026-13-01"},
			{Field: "to", Kind: crm.FilterBadDate, Value: "yesterday"}}},
		{crm.EnquiryFilter{From: "2026-11-30", To: "2026-11-01"}, crm.FilterProblems{
			{Field: "to", Kind: crm.FilterEndBeforeStart, Value: "2026-11-01"}}},
		{crm.EnquiryFilter{Status: "pending,new, lapsed", Treatment: "yoga"}, crm.FilterProblems{
			{Field: "status", Kind: crm.FilterUnknownStatus, Value: "pending"},
			{Field: "status", Kind: crm.FilterUnknownStatus, Value: "lapsed"},
			{Field: "treatment", Kind: crm.FilterUnknownTreatment, Value: "yoga"}}},
	} {
		if _, ps := crm.ParseEnquiryFilter(c.f, london); !reflect.DeepEqual(ps, c.want) {
			t.Errorf("%+v: problems %+v, want %+v", c.f, ps, c.want)
		}
	}
	errs := crm.InputError{}
	crm.FilterProblems{{Field: "status", Kind: crm.FilterUnknownStatus, Value: "pending"},
		{Field: "status", Kind: crm.FilterUnknownStatus, Value: "lapsed"}}.WordInto(errs,
		func(p crm.FilterProblem) string { return p.Value })
	if len(errs) != 1 || errs["status"] != "lapsed" {
		t.Errorf("worded: %v, want one message per field, the last", errs)
	}
}

func TestFindAssignee(t *testing.T) {
	w := newWorld(t)
	sel := crm.EnquirySelection{AssigneeEmail: "clin@clinic.example"}
	if ps, err := sel.FindAssignee(context.Background(), w.db); ps != nil || err != nil || sel.AssigneeID != w.clin.ID {
		t.Errorf("a clinician's email: %+v, %v, %v", sel, ps, err)
	}
	sel = crm.EnquirySelection{AssigneeEmail: "nobody@clinic.example"}
	ps, err := sel.FindAssignee(context.Background(), w.db)
	if err != nil || len(ps) != 1 || ps[0] != (crm.FilterProblem{Field: "assignee", Kind: crm.FilterUnknownAssignee,
		Value: "nobody@clinic.example"}) || sel.AssigneeID != 0 {
		t.Errorf("an unknown email: %+v, %v, %v", sel, ps, err)
	}
}

// The listing words a filter's problems as it always has.
func TestListingNamesEachBadFilterField(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, c := range []struct {
		f    crm.ListFilter
		want crm.InputError
	}{
		{crm.ListFilter{From: "2026-13-01", To: "soon", Status: "new,pending", Treatment: "yoga", Assignee: "nobody@clinic.example"},
			crm.InputError{"from": "Give the date as YYYY-MM-DD.", "to": "Give the date as YYYY-MM-DD.",
				"status": `Unknown status "pending".`, "treatment": `Unknown treatment "yoga".`,
				"assignee": `No member of staff has the email "nobody@clinic.example".`}},
		{crm.ListFilter{From: "2026-11-30", To: "2026-11-01", Overdue: "maybe", Flag: "blue"},
			crm.InputError{"to": "The end date must not be before the start date.", "overdue": "overdue must be true or false.",
				"flag": `Unknown flag "blue": use risk or review.`}},
	} {
		_, err := w.ws.List(ctx, w.admin, c.f)
		var ie crm.InputError
		if !errors.As(err, &ie) || !reflect.DeepEqual(ie, c.want) {
			t.Errorf("%+v: %v (%#v), want %#v", c.f, err, ie, c.want)
		}
	}
	if _, err := w.ws.List(ctx, w.clin, crm.ListFilter{Status: "spam"}); err == nil {
		t.Error("a clinician listed spam")
	}
	w.enquiry(&w.clin)
	if page, err := w.ws.List(ctx, w.clin, crm.ListFilter{Assignee: "me"}); err != nil || len(page.Items) != 1 {
		t.Errorf("assignee me: %d, %v", len(page.Items), err)
	}
}
