package web

import (
	"errors"
	"strings"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/gofiber/fiber/v2"
)

// errorActor is the member of staff an error page is for: the one the staff routes signed in, or, for an
// address no route has (a mistyped link), whoever the session cookie names. Zero for a patient.
func (s *server) errorActor(c *fiber.Ctx) crm.Actor {
	if a := actor(c); a.ID != 0 {
		return a
	}
	if c.Cookies("frontdesk_session") == "" || strings.HasPrefix(c.Path(), "/enquire") {
		return crm.Actor{}
	}
	a, _, ok := s.loadActor(c)
	if !ok {
		return crm.Actor{}
	}
	return a
}

// nextStep is a way on from a staff error page.
type nextStep struct{ Href, Label string }

// staffErrorPage answers an error to signed-in staff in their own layout (their navigation; no crisis box and
// no link to the patients' form), saying what to do next. msg is what the error handler would tell anyone.
func (s *server) staffErrorPage(c *fiber.Ctx, a crm.Actor, status int, err error, msg string) error {
	heading, detail := "Something went wrong", msg
	links := []nextStep{{"/board", "Go to the board"}}
	var ce *clientError
	switch {
	case status == fiber.StatusNotFound && strings.HasPrefix(c.Path(), "/enquiries/"):
		heading = "No enquiry has that reference"
		detail = "Check the reference: it may be mistyped, the enquiry may have been erased, or it may be assigned to someone whose enquiries your role does not show."
		links = []nextStep{{"/enquiries", "Search the list of enquiries"}, {"/board", "Go to the board"}}
	case status == fiber.StatusNotFound:
		heading = "There is no page at this address"
		detail = "The link may be old or mistyped."
		links = append(links, nextStep{"/enquiries", "Search the list of enquiries"})
	case status == fiber.StatusForbidden && errors.As(err, &ce):
		heading = "That was not done"
		detail = ce.Msg // the CSRF check's own advice: reload and try again
	case status == fiber.StatusForbidden:
		heading = "Your role cannot do that"
		detail = "Your role (" + a.Role.Label() + ") cannot open this page or take this action. If you need to, ask an administrator."
	case status == fiber.StatusServiceUnavailable:
		heading = "Not saved: please try again in a few minutes"
	case status >= 500:
		heading = "Something went wrong on our side"
		detail = "What you last did may not have been saved: check it before doing it again. If this keeps happening, tell your administrator and give them the reference below."
	case status == fiber.StatusConflict:
		heading = "That change was not made"
	}
	data := fiber.Map{"Heading": heading, "Detail": detail, "Links": links, "Actor": a, "CSRF": csrfToken(c)}
	if status >= 500 {
		data["RequestID"] = requestID(c)
	}
	if rerr := s.renderPage(c, status, "error", heading, data); rerr != nil {
		s.log.Error("render error page", "request_id", requestID(c), "error", rerr)
		return c.Status(status).SendString(detail)
	}
	return nil
}
