package web

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/gofiber/fiber/v2"
)

// A change decided on a stale view of an enquiry is refused (crm.ConflictError): the API answers 409
// {"error":"conflict"} and the pages show the enquiry as it is now with who changed it and when.

// versionMessage is what a client is told of a version that is not a positive whole number.
const versionMessage = "version must be a positive whole number: the enquiry's version you saw."

// apiVersion reads the optional "version" of a JSON change: absent or null is 0 (no check).
func apiVersion(v *int64) (int64, error) {
	if v == nil {
		return 0, nil
	}
	if *v < 1 {
		return 0, crm.InputError{"version": versionMessage}
	}
	return *v, nil
}

// formVersion reads the hidden "version" field of a staff form: absent or empty is 0 (a form from before
// versions, applied as it always was).
func formVersion(c *fiber.Ctx) (int64, error) {
	s := strings.TrimSpace(c.FormValue("version"))
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 1 {
		return 0, crm.InputError{"version": "This form is damaged or out of date: reload the page and try again."}
	}
	return v, nil
}

// conflictNotice says who changed an enquiry and when, in the clinic's time, for the person whose change was
// refused.
type conflictNotice struct {
	Who  string // "Dr Rivers", "You" (in another tab), "Frontdesk", or "Someone" when unknown
	What string // "moved this enquiry", "added a note to this enquiry", …
	When string // "14:02", or "14:02 on 9 Mar 2026" before today; "" when unknown
}

func newConflictNotice(ce *crm.ConflictError, me crm.Actor, loc *time.Location, now time.Time) conflictNotice {
	n := conflictNotice{Who: "Someone", What: "changed this enquiry"}
	switch {
	case ce.ChangedBy != nil && ce.ChangedBy.ID == me.ID:
		n.Who = "You"
	case ce.ChangedBy != nil:
		n.Who = ce.ChangedBy.Name
	case !ce.ChangedAt.IsZero():
		n.Who = "Frontdesk"
	}
	switch ce.ChangeKind {
	case "status":
		n.What = "moved this enquiry"
	case "assigned":
		n.What = "reassigned this enquiry"
	case "priority":
		n.What = "changed this enquiry's priority"
	case "note":
		n.What = "added a note to this enquiry"
	case "erased":
		n.What = "erased this enquiry's personal data"
	}
	if !ce.ChangedAt.IsZero() {
		at, today := ce.ChangedAt.In(loc), now.In(loc)
		n.When = at.Format("15:04")
		if at.YearDay() != today.YearDay() || at.Year() != today.Year() {
			n.When += " on " + at.Format("2 Jan 2006")
		}
	}
	return n
}

// Sentence is the whole message, with the status the enquiry has now: "Dr Rivers moved this enquiry at 14:02
// — it is now Not suitable. Your change was not made."
func (n conflictNotice) Sentence(now crm.Status) string {
	var b strings.Builder
	b.WriteString(n.Who + " " + n.What)
	if n.When != "" {
		b.WriteString(" at " + n.When)
	} else {
		b.WriteString(" since you opened it")
	}
	b.WriteString(" — it is now " + now.Label() + ". Your change was not made.")
	return b.String()
}

// apiConflict answers a refused stale change: 409 {"error":"conflict"} with the current version and status,
// who changed it and when, so a client can read the enquiry again and decide.
func (s *server) apiConflict(c *fiber.Ctx, ce *crm.ConflictError) error {
	n := newConflictNotice(ce, actor(c), s.cfg.Location, time.Now())
	body := fiber.Map{
		"error":      "conflict",
		"message":    n.Sentence(ce.Current.Status),
		"version":    ce.Current.Version,
		"status":     ce.Current.Status,
		"changed_by": staffRefJSON(ce.ChangedBy),
		"changed_at": nil,
	}
	if !ce.ChangedAt.IsZero() {
		body["changed_at"] = rfc3339(ce.ChangedAt)
	}
	return c.Status(fiber.StatusConflict).JSON(body)
}

// conflictPage answers a refused stale change from a staff form (the enquiry page or the board) with the
// enquiry page as it is now, the notice at its top, and 409. With htmx the page is swapped in and the address
// bar shows the enquiry's own page, so reloading it reads the enquiry rather than posting again.
func (s *server) conflictPage(c *fiber.Ctx, ce *crm.ConflictError) error {
	c.Set("HX-Push-Url", "/enquiries/"+url.PathEscape(ce.Current.Reference))
	n := newConflictNotice(ce, actor(c), s.cfg.Location, time.Now())
	return s.enquiryPageWith(c, fiber.StatusConflict, nil, fiber.Map{"Conflict": n})
}
