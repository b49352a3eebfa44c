package crm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/intake"
)

// EnquiryFilter is what the enquiry listings (Workspace.List, the board), the exports (package crm/report) and
// `frontdesk export enquiries` select enquiries by, as people and scripts type it. Every field is optional
// text; ParseEnquiryFilter checks it, once for all of them.
type EnquiryFilter struct {
	// From and To are YYYY-MM-DD dates in the clinic's time zone, both inclusive.
	From, To string
	// Status is one status, or several separated by commas.
	Status string
	// Treatment is a treatment code such as adhd.
	Treatment string
	// Assignee is a member of staff's email, or "none" (or "unassigned") for the unassigned enquiries. A
	// listing also takes "me".
	Assignee string
}

// EnquirySelection is an EnquiryFilter checked: what the store queries select by.
type EnquirySelection struct {
	// From and To bound created_at: From <= created_at < To (zero: unbounded). To is the start of the day after
	// the filter's last day, right across a daylight-saving change.
	From, To time.Time
	// Statuses are the statuses asked for (none: the caller's default).
	Statuses []Status
	// Treatment is the treatment asked for ("": any).
	Treatment string
	// AssigneeEmail is the assignee's email as asked for, lower-case, until FindAssignee looks it up (a caller
	// that takes "me" resolves that first); AssigneeID is then the account's ID.
	AssigneeEmail string
	AssigneeID    int64
	// Unassigned keeps the unassigned enquiries only.
	Unassigned bool
}

// FilterProblem is one value of an EnquiryFilter that is not right. The parser finds problems; each caller words
// them for its audience (FilterWording): the listing's fields, the export form, the command line's flags.
type FilterProblem struct {
	// Field is the filter's field: "from", "to", "status", "treatment" or "assignee".
	Field string
	Kind  FilterProblemKind
	// Value is the value that is wrong, trimmed: for a list of statuses, the one unknown status.
	Value string
}

// FilterProblemKind says what is wrong with a value.
type FilterProblemKind uint8

// The problems a filter can have.
const (
	// FilterBadDate: from or to is not a YYYY-MM-DD date.
	FilterBadDate FilterProblemKind = iota + 1
	// FilterEndBeforeStart: to is before from (Field "to").
	FilterEndBeforeStart
	// FilterUnknownStatus: one of the statuses is not a status.
	FilterUnknownStatus
	// FilterUnknownTreatment: the treatment is not one of intake.Treatments.
	FilterUnknownTreatment
	// FilterUnknownAssignee: no member of staff has the email (found by FindAssignee).
	FilterUnknownAssignee
)

// FilterWording words a problem for one audience.
type FilterWording func(FilterProblem) string

// FilterProblems are the problems of one filter, in field order: from, to, status, treatment, assignee.
type FilterProblems []FilterProblem

// WordInto adds every problem, worded by word, to errs, which the caller fills with its own fields' problems
// too. A field has one message: the last problem of a field wins (a list of statuses names its last unknown one).
func (ps FilterProblems) WordInto(errs InputError, word FilterWording) {
	for _, p := range ps {
		errs[p.Field] = word(p)
	}
}

// dateLayout is how filters write a date.
const dateLayout = "2006-01-02"

// ParseEnquiryFilter checks everything of f that needs no database — the dates (in loc, the clinic's time
// zone), the statuses and the treatment — and returns the selection with the problems it found (none: nil).
// The assignee is only read: "none" or "unassigned" selects the unassigned enquiries, anything else is kept as
// AssigneeEmail for FindAssignee.
func ParseEnquiryFilter(f EnquiryFilter, loc *time.Location) (EnquirySelection, FilterProblems) {
	var sel EnquirySelection
	var ps FilterProblems
	sel.From, sel.To, ps = ParseDateRange(f.From, f.To, loc)
	for _, v := range strings.Split(f.Status, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		st := Status(v)
		if !st.Valid() {
			ps = append(ps, FilterProblem{Field: "status", Kind: FilterUnknownStatus, Value: v})
			continue
		}
		sel.Statuses = append(sel.Statuses, st)
	}
	if t := strings.TrimSpace(f.Treatment); t != "" {
		if intake.Label(intake.Treatments, t) == t {
			ps = append(ps, FilterProblem{Field: "treatment", Kind: FilterUnknownTreatment, Value: t})
		}
		sel.Treatment = t
	}
	switch a := strings.ToLower(strings.TrimSpace(f.Assignee)); a {
	case "":
	case "none", "unassigned":
		sel.Unassigned = true
	default:
		sel.AssigneeEmail = a
	}
	return sel, ps
}

// ParseDateRange reads from and to, YYYY-MM-DD dates in loc, both inclusive and either "" for unbounded, as the
// range [start, end): start is from's midnight, end the midnight after to. A date that does not parse is a
// FilterBadDate problem of its field, and an end before the start a FilterEndBeforeStart problem of "to".
func ParseDateRange(from, to string, loc *time.Location) (start, end time.Time, ps FilterProblems) {
	var err error
	if start, err = parseDate(from, loc); err != nil {
		ps = append(ps, FilterProblem{Field: "from", Kind: FilterBadDate, Value: strings.TrimSpace(from)})
	}
	if end, err = parseDate(to, loc); err != nil {
		ps = append(ps, FilterProblem{Field: "to", Kind: FilterBadDate, Value: strings.TrimSpace(to)})
	} else if !end.IsZero() {
		end = endOfDay(end)
	}
	if len(ps) == 0 && !start.IsZero() && !end.IsZero() && !start.Before(end) {
		ps = append(ps, FilterProblem{Field: "to", Kind: FilterEndBeforeStart, Value: strings.TrimSpace(to)})
	}
	return start, end, ps
}

// parseDate reads a YYYY-MM-DD date as the start of that day in loc ("" is the zero time).
func parseDate(v string, loc *time.Location) (time.Time, error) {
	if v = strings.TrimSpace(v); v == "" {
		return time.Time{}, nil
	}
	return time.ParseInLocation(dateLayout, v, loc)
}

// endOfDay is the start of the day after t's (a local midnight): an inclusive date's exclusive bound, right
// across a daylight-saving change.
func endOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, t.Location())
}

// FindAssignee looks up AssigneeEmail, when set, and selects that member of staff's enquiries (AssigneeID). It
// returns a FilterUnknownAssignee problem when no account has the email, and an error only when staff cannot be
// read.
func (sel *EnquirySelection) FindAssignee(ctx context.Context, staff StaffStore) (FilterProblems, error) {
	if sel.AssigneeEmail == "" {
		return nil, nil
	}
	s, _, err := staff.StaffByEmail(ctx, sel.AssigneeEmail)
	switch {
	case errors.Is(err, ErrNotFound):
		return FilterProblems{{Field: "assignee", Kind: FilterUnknownAssignee, Value: sel.AssigneeEmail}}, nil
	case err != nil:
		return nil, fmt.Errorf("look up assignee: %w", err)
	}
	sel.AssigneeID = s.ID
	return nil, nil
}
