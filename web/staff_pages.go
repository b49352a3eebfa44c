package web

import (
	"errors"
	"net/url"
	"strings"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/gofiber/fiber/v2"
)

// staffPage renders a signed-in page with the fields its header needs (the actor, the CSRF token, a flash).
func (s *server) staffPage(c *fiber.Ctx, status int, name, title string, data fiber.Map) error {
	if data == nil {
		data = fiber.Map{}
	}
	data["Actor"] = actor(c)
	data["CSRF"] = csrfToken(c)
	msg, notice := pageFlash(c)
	if msg != "" {
		data["Flash"] = msg
	}
	if notice != nil {
		data["Undo"] = notice
	}
	// A boosted form answered with its errors (not a redirect) would leave the POST address in the address bar,
	// where a reload finds no page: keep the address the form was on, unless the handler chose one.
	if c.Method() == fiber.MethodPost && c.Get("HX-Request") == "true" && len(c.Response().Header.Peek("HX-Push-Url")) == 0 {
		c.Set("HX-Push-Url", "false")
	}
	return s.renderPage(c, status, name, title, data)
}

// listFilter reads a listing's filters from the query string.
func listFilter(c *fiber.Ctx) crm.ListFilter {
	return crm.ListFilter{
		Status: c.Query("status"), Treatment: c.Query("treatment"), Assignee: c.Query("assignee"),
		Q: c.Query("q"), From: c.Query("from"), To: c.Query("to"), Overdue: c.Query("overdue"),
		Flag: c.Query("flag"), Cursor: c.Query("cursor"),
	}
}

// activeFilters counts the filters a listing applies, for the folded filters' summary on a phone.
func activeFilters(f crm.ListFilter) int {
	n := 0
	for _, v := range []string{f.Status, f.Treatment, f.Assignee, strings.TrimSpace(f.Q), f.From, f.To, f.Flag} {
		if v != "" {
			n++
		}
	}
	if f.Overdue == "true" {
		n++
	}
	return n
}

// flagChoices are the flag filter's options.
var flagChoices = []intake.Choice{{Value: "risk", Label: "Risk"}, {Value: "review", Label: "Review"}}

// filterOptions is what the filter forms offer.
func (s *server) filterOptions(c *fiber.Ctx, f crm.ListFilter) (fiber.Map, error) {
	m := fiber.Map{
		"Filter":     f,
		"Statuses":   crm.AllStatuses,
		"Treatments": intake.Treatments,
		"Flags":      flagChoices,
	}
	if a := actor(c); a.SeesAll() {
		staff, err := s.deps.Accounts.ListAssignees(c.UserContext(), a)
		if err != nil {
			return nil, err
		}
		m["Staff"] = staff
	}
	return m, nil
}

// board shows a column per active status with the oldest-waiting enquiries on top.
func (s *server) board(c *fiber.Ctx) error {
	f := crm.ListFilter{Treatment: c.Query("treatment"), Assignee: c.Query("assignee"), Flag: c.Query("flag")}
	cols, err := s.deps.Workspace.Board(c.UserContext(), actor(c), f)
	var invalid crm.InputError
	if errors.As(err, &invalid) {
		f = crm.ListFilter{}
		cols, err = s.deps.Workspace.Board(c.UserContext(), actor(c), f)
	}
	if err != nil {
		return err
	}
	data, err := s.filterOptions(c, f)
	if err != nil {
		return err
	}
	data["Columns"] = cols
	data["FilterErrors"] = invalid
	_, notice := pageFlash(c)
	data["Stage"] = boardStage(c, cols, notice)
	if notice != nil && notice.Kind != flashRefused {
		data["MovedRef"] = notice.Ref
	}
	// The stage tabs (on a phone) keep the filters.
	q := url.Values{}
	for k, v := range map[string]string{"treatment": f.Treatment, "assignee": f.Assignee, "flag": f.Flag} {
		if v != "" {
			q.Set(k, v)
		}
	}
	links := map[crm.Status]string{}
	for _, col := range cols {
		q.Set("stage", string(col.Status))
		links[col.Status] = "/board?" + q.Encode()
	}
	data["StageLinks"] = links
	data["ActiveFilters"] = activeFilters(f)
	return s.staffPage(c, fiber.StatusOK, "board", "Board", data)
}

// enquiries lists enquiries with filters and search, a page at a time.
func (s *server) enquiries(c *fiber.Ctx) error {
	f := listFilter(c)
	page, err := s.deps.Workspace.List(c.UserContext(), actor(c), f)
	status := fiber.StatusOK
	var invalid crm.InputError
	if errors.As(err, &invalid) {
		status = fiber.StatusUnprocessableEntity
		err = nil
	}
	if err != nil {
		return err
	}
	data, err := s.filterOptions(c, f)
	if err != nil {
		return err
	}
	data["Page"] = page
	data["FilterErrors"] = invalid
	data["ActiveFilters"] = activeFilters(f)
	// The first page of the plain listing pins the risk-flagged enquiries still waiting for first contact.
	if invalid == nil && f.Cursor == "" && f.Flag == "" {
		risk, more, err := s.deps.Workspace.RiskQueue(c.UserContext(), actor(c))
		if err != nil {
			return err
		}
		data["Risk"], data["RiskMore"] = risk, more
		data["UrgentHours"] = s.deps.Workspace.UrgentContactTarget().Hours()
	}
	if page.NextCursor != "" {
		q := c.Context().QueryArgs()
		vals := url.Values{}
		q.VisitAll(func(k, v []byte) { vals.Set(string(k), string(v)) })
		vals.Set("cursor", page.NextCursor)
		data["NextURL"] = "/enquiries?" + vals.Encode()
	}
	return s.staffPage(c, status, "enquiries", "Enquiries", data)
}

// enquiry shows one enquiry with everything staff can do with it. Each view is recorded.
func (s *server) enquiry(c *fiber.Ctx) error {
	return s.enquiryPage(c, fiber.StatusOK, nil)
}

// enquiryPage renders the enquiry page, with errors of a refused action beside its form.
func (s *server) enquiryPage(c *fiber.Ctx, status int, formErrs map[string]string) error {
	return s.enquiryPageWith(c, status, formErrs, nil)
}

// enquiryPageWith renders the enquiry page as it is now, with extra fields for its template (a conflict notice).
func (s *server) enquiryPageWith(c *fiber.Ctx, status int, formErrs map[string]string, extra fiber.Map) error {
	d, err := s.deps.Workspace.Detail(c.UserContext(), actor(c), c.Params("ref"))
	if err != nil {
		return err
	}
	data := fiber.Map{
		"D":          d,
		"Errors":     formErrs,
		"Priorities": crm.Priorities,
		"Values": fiber.Map{
			"to": c.FormValue("to"), "reason": c.FormValue("reason"), "body": c.FormValue("body"),
		},
	}
	for k, v := range extra {
		data[k] = v
	}
	return s.staffPage(c, status, "enquiry", d.Enquiry.Reference, data)
}

// afterAction answers a staff form: on success a flash and a redirect (to next, if it is ours); on a refusal the
// enquiry page again with the message beside the form.
func (s *server) afterAction(c *fiber.Ctx, err error, field, done string) error {
	ref := c.Params("ref")
	var invalid crm.InputError
	var conflict *crm.ConflictError
	switch {
	case errors.As(err, &conflict):
		return s.conflictPage(c, conflict)
	case errors.As(err, &invalid):
		return s.enquiryPage(c, fiber.StatusUnprocessableEntity, invalid)
	case errors.Is(err, crm.ErrTransitionNotAllowed):
		return s.enquiryPage(c, fiber.StatusConflict, map[string]string{field: "That move is not allowed from the enquiry's current status; it may have just been changed by someone else."})
	case errors.Is(err, crm.ErrForbidden):
		return s.enquiryPage(c, fiber.StatusForbidden, map[string]string{field: "Your role does not allow that."})
	case err != nil:
		return err
	}
	s.flash(c, done)
	next := "/enquiries/" + url.PathEscape(ref)
	if n := c.FormValue("next"); n != "" && safeNext(n) == n {
		next = n
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// transition moves an enquiry (form fields to, reason, and version: the one the page showed).
func (s *server) transition(c *fiber.Ctx) error {
	to := crm.Status(c.FormValue("to"))
	version, err := formVersion(c)
	var e crm.Enquiry
	if err == nil {
		e, err = s.deps.Workspace.Transition(c.UserContext(), actor(c), c.Params("ref"), to, c.FormValue("reason"), version)
	}
	// The next page says what moved where and offers to undo it (board_undo.go).
	return s.afterAction(c, err, "to", movedFlash(e))
}

// assign gives an enquiry to someone (form field assignee: an email, or empty to unassign; and version).
func (s *server) assign(c *fiber.Ctx) error {
	version, err := formVersion(c)
	var e crm.Enquiry
	if err == nil {
		e, err = s.deps.Workspace.Assign(c.UserContext(), actor(c), c.Params("ref"), c.FormValue("assignee"), version)
	}
	msg := e.Reference + " is now unassigned."
	if e.Assignee != nil {
		msg = e.Reference + " assigned to " + e.Assignee.Name + "."
	}
	return s.afterAction(c, err, "assignee", msg)
}

// note adds a note (form field body). A note is never refused for a stale page: it decides nothing on the
// enquiry's state.
func (s *server) note(c *fiber.Ctx) error {
	_, err := s.deps.Workspace.AddNote(c.UserContext(), actor(c), c.Params("ref"), c.FormValue("body"))
	return s.afterAction(c, err, "body", "Note added.")
}

// priority sets an enquiry's priority (form fields priority and version).
func (s *server) priority(c *fiber.Ctx) error {
	version, err := formVersion(c)
	var e crm.Enquiry
	if err == nil {
		e, err = s.deps.Workspace.SetPriority(c.UserContext(), actor(c), c.Params("ref"), c.FormValue("priority"), version)
	}
	return s.afterAction(c, err, "priority", "Priority of "+e.Reference+" set to "+e.Priority+".")
}
