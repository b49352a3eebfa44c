package crm

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/frontdesk/frontdesk/intake/screening"
	"golang.org/x/sync/errgroup"
)

// BoardCardLimit is how many cards each board column shows; the column's count and a link to the full list
// cover the rest. A screenful or two is what anyone works from, and it keeps the board quick to draw.
const BoardCardLimit = 25

// boardCountCap bounds each column's count, so the board stays instant with a million enquiries.
const boardCountCap = 1000

// ListFilter is a listing as people and API clients ask for it; every field is optional text, checked by
// List. Dates are YYYY-MM-DD in the clinic's time zone, inclusive.
type ListFilter struct {
	Status    string // one status, or several separated by commas
	Treatment string
	Assignee  string // an email, "me", or "none" for unassigned
	Q         string
	From      string
	To        string
	Overdue   string // "true" keeps overdue enquiries only
	Flag      string // "risk" or "review" keeps the enquiries carrying that flag
	Cursor    string
	Limit     int
}

// query turns a filter into a store query for the actor, or an InputError naming each bad field.
func (w *Workspace) query(ctx context.Context, actor Actor, f ListFilter) (ListQuery, error) {
	var q ListQuery
	sel, problems := ParseEnquiryFilter(EnquiryFilter{From: f.From, To: f.To, Status: f.Status,
		Treatment: f.Treatment, Assignee: f.Assignee}, w.loc)
	if sel.AssigneeEmail == "me" {
		sel.AssigneeEmail, sel.AssigneeID = "", actor.ID
	}
	unknown, err := sel.FindAssignee(ctx, w.staff)
	if err != nil {
		return q, err
	}
	errs := InputError{}
	append(problems, unknown...).WordInto(errs, listingWords)
	q.From, q.To, q.Statuses, q.Treatment = sel.From, sel.To, sel.Statuses, sel.Treatment
	q.AssigneeID, q.Unassigned = sel.AssigneeID, sel.Unassigned
	switch strings.ToLower(f.Overdue) {
	case "", "false", "0":
	case "true", "1", "on":
		q.OverdueBefore, q.UrgentBefore = w.targets.Cutoffs(w.now())
	default:
		errs["overdue"] = "overdue must be true or false."
	}
	switch fl := strings.ToLower(strings.TrimSpace(f.Flag)); fl {
	case "":
	case screening.FlagRisk, screening.FlagReview:
		q.Flags = []string{fl}
	default:
		errs["flag"] = fmt.Sprintf("Unknown flag %q: use risk or review.", f.Flag)
	}
	if len(f.Q) > 200 {
		errs["q"] = "Search for at most 200 characters."
	}
	q.Text = strings.TrimSpace(f.Q)
	q.Cursor = f.Cursor
	q.Limit = f.Limit
	if !actor.SeesAll() {
		q.VisibleTo = actor.ID
		if slices.Contains(q.Statuses, StatusSpam) {
			errs["status"] = "Spam is not shown to clinicians."
		}
	}
	if len(errs) > 0 {
		return q, errs
	}
	return q, nil
}

// listingWords words a filter's problems beside the listing's fields.
func listingWords(p FilterProblem) string {
	switch p.Kind {
	case FilterBadDate:
		return "Give the date as YYYY-MM-DD."
	case FilterEndBeforeStart:
		return "The end date must not be before the start date."
	case FilterUnknownStatus:
		return fmt.Sprintf("Unknown status %q.", p.Value)
	case FilterUnknownTreatment:
		return fmt.Sprintf("Unknown treatment %q.", p.Value)
	case FilterUnknownAssignee:
		return fmt.Sprintf("No member of staff has the email %q.", p.Value)
	}
	return "Check this value."
}

// List returns one page of the enquiries the actor may see that match f. A search is recorded in the audit
// log. Bad filter values are an InputError naming each.
func (w *Workspace) List(ctx context.Context, actor Actor, f ListFilter) (Page, error) {
	q, err := w.query(ctx, actor, f)
	if err != nil {
		return Page{}, err
	}
	page, err := w.enquiries.ListEnquiries(ctx, q)
	if err != nil {
		return Page{}, fmt.Errorf("list enquiries: %w", err)
	}
	now := w.now()
	for i := range page.Items {
		w.annotate(&page.Items[i], now)
	}
	// Which patients a listing showed is recorded, page by page (never the search text, which may be a name).
	action, detail := "list", fmt.Sprintf("%d shown", len(page.Items))
	if q.Text != "" {
		action, detail = "search", fmt.Sprintf("%d results", len(page.Items))
	}
	if err := w.recordShown(ctx, actor, action, page.Items, detail); err != nil {
		return Page{}, err
	}
	return page, nil
}

// Column is one board column: a status, how many enquiries the actor may see in it (capped: Capped means
// "Count or more"), and its oldest cards.
type Column struct {
	Status Status
	Count  int
	Capped bool
	Cards  []Enquiry
}

// Board returns a column per active status with the enquiries the actor may see: those flagged risk first, then
// the rest, each oldest first (the longest waiting at the top), BoardCardLimit in all. The columns are read
// concurrently: each is an independent indexed read (two, when a column has cards flagged risk).
func (w *Workspace) Board(ctx context.Context, actor Actor, f ListFilter) ([]Column, error) {
	f.Status, f.Cursor, f.Limit = "", "", BoardCardLimit
	base, err := w.query(ctx, actor, f)
	if err != nil {
		return nil, err
	}
	now := w.now()
	cols := make([]Column, len(ActiveStatuses))
	g, gctx := errgroup.WithContext(ctx)
	for i, st := range ActiveStatuses {
		g.Go(func() error {
			q := base
			q.Statuses, q.Oldest = []Status{st}, true
			page, err := w.riskFirst(gctx, q)
			if err != nil {
				return fmt.Errorf("board column %s: %w", st, err)
			}
			n := len(page.Items)
			if page.NextCursor != "" {
				if n, err = w.enquiries.CountEnquiries(gctx, q, boardCountCap); err != nil {
					return fmt.Errorf("board column %s: %w", st, err)
				}
			}
			for i := range page.Items {
				w.annotate(&page.Items[i], now)
			}
			cols[i] = Column{Status: st, Count: n, Capped: n >= boardCountCap, Cards: page.Items}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var shown []Enquiry
	for _, col := range cols {
		shown = append(shown, col.Cards...)
	}
	if err := w.recordShown(ctx, actor, "list", shown, fmt.Sprintf("board: %d shown", len(shown))); err != nil {
		return nil, err
	}
	return cols, nil
}

// riskFirst reads the first page of q with the enquiries flagged risk first: those of q that carry the flag,
// then the page of q without them, cut to q's limit. NextCursor is q's own (set when q selects more than a page),
// so the caller can tell a full column.
func (w *Workspace) riskFirst(ctx context.Context, q ListQuery) (Page, error) {
	if slices.Contains(q.Flags, screening.FlagRisk) {
		return w.enquiries.ListEnquiries(ctx, q)
	}
	rq := q
	rq.Flags = append(slices.Clone(q.Flags), screening.FlagRisk)
	risk, err := w.enquiries.ListEnquiries(ctx, rq)
	if err != nil {
		return Page{}, err
	}
	page, err := w.enquiries.ListEnquiries(ctx, q)
	if err != nil || len(risk.Items) == 0 {
		return page, err
	}
	items := risk.Items
	for _, e := range page.Items {
		if e.RiskAt == nil && len(items) < q.Limit {
			items = append(items, e)
		}
	}
	page.Items = items
	return page, nil
}

// RiskQueueLimit is how many risk-flagged enquiries the list page pins above the list.
const RiskQueueLimit = 50

// RiskQueue returns the enquiries flagged risk that are still new and the actor may see, the longest waiting
// first (at most RiskQueueLimit; more is true when there are others), and records them as shown. The list page
// pins them above every listing, whatever its filters, so that none waits unseen.
func (w *Workspace) RiskQueue(ctx context.Context, actor Actor) (items []Enquiry, more bool, err error) {
	q, err := w.query(ctx, actor, ListFilter{Status: string(StatusNew), Flag: screening.FlagRisk})
	if err != nil {
		return nil, false, err
	}
	q.Oldest, q.Limit = true, RiskQueueLimit
	page, err := w.enquiries.ListEnquiries(ctx, q)
	if err != nil {
		return nil, false, fmt.Errorf("risk queue: %w", err)
	}
	now := w.now()
	for i := range page.Items {
		w.annotate(&page.Items[i], now)
	}
	if len(page.Items) > 0 {
		if err := w.recordShown(ctx, actor, "list", page.Items, fmt.Sprintf("risk queue: %d shown", len(page.Items))); err != nil {
			return nil, false, err
		}
	}
	return page.Items, page.NextCursor != "", nil
}
