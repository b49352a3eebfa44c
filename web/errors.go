package web

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/gofiber/fiber/v2"
)

// clientError is an error whose message was written for the client, with the status to answer it with.
type clientError struct {
	Status int
	Msg    string
}

func (e *clientError) Error() string { return e.Msg }

// errClient returns an error answered with status and msg, which must be safe and useful to show.
func errClient(status int, msg string) error { return &clientError{Status: status, Msg: msg} }

// isAPI reports whether the request is for the JSON API, whose errors are JSON.
func isAPI(c *fiber.Ctx) bool { return strings.HasPrefix(c.Path(), "/api/") }

// statusOf maps an error to the status code it is answered with. Only this file decides that.
func statusOf(err error) int {
	var fe *fiber.Error
	var ce *clientError
	var ve intake.ValidationErrors
	var ie crm.InputError
	var me *intake.MalformedError
	switch {
	case errors.As(err, &ce):
		return ce.Status
	case errors.As(err, &fe):
		return fe.Code
	case errors.As(err, &ve), errors.As(err, &ie), errors.Is(err, crm.ErrIdempotencyConflict):
		return fiber.StatusUnprocessableEntity
	case errors.As(err, &me):
		return fiber.StatusBadRequest
	case errors.Is(err, crm.ErrNotFound):
		return fiber.StatusNotFound
	case errors.Is(err, crm.ErrForbidden):
		return fiber.StatusForbidden
	case errors.Is(err, crm.ErrTransitionNotAllowed), errors.Is(err, crm.ErrConflict):
		return fiber.StatusConflict
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, crm.ErrUnavailable):
		return fiber.StatusServiceUnavailable
	}
	return fiber.StatusInternalServerError
}

// retryAfterUnavailable is the Retry-After, in seconds, of a 503: long enough for an operator to free space or
// for a file system to come back, short enough that a client's retry soon finds it.
const retryAfterUnavailable = "30"

// publicMessage is what a client is told for each status when the error carries nothing safe to show.
var publicMessage = map[int]string{
	400: "The request could not be read.",
	401: "Please sign in.",
	403: "You are not allowed to do that.",
	404: "Not found.",
	405: "That method is not allowed here.",
	408: "The request took too long to arrive.",
	409: "That change is not allowed in the enquiry's current state.",
	413: "The request is too large (the limit is 64 KiB).",
	415: "Send the request as JSON (Content-Type: application/json).",
	422: "Some fields need attention.",
	429: "Too many requests; please wait and try again.",
	431: "The request headers are too large.",
	503: "The service is not available just now; please try again shortly.",
	500: "Something went wrong on our side. Please try again; if it keeps happening, contact the clinic by phone.",
}

func messageFor(status int) string {
	if m, ok := publicMessage[status]; ok {
		return m
	}
	if status >= 500 {
		return publicMessage[500]
	}
	return publicMessage[400]
}

// handleError is the app's one error handler: JSON under /api, a friendly page elsewhere. Clients never see the
// text of an internal error; it is logged with the request ID instead.
func (s *server) handleError(c *fiber.Ctx, err error) error {
	status := statusOf(err)
	s.deps.Metrics.countBeforeRouting(c, status)
	msg := messageFor(status)
	var ce *clientError
	var me *intake.MalformedError
	switch {
	case errors.As(err, &me):
		msg = me.Reason
	case errors.Is(err, crm.ErrIdempotencyConflict):
		msg = "This Idempotency-Key was already used for a different enquiry; use a new key for a new enquiry."
	case errors.Is(err, crm.ErrUnavailable):
		msg = "Nothing was saved: the service cannot store anything just now. Please try again in a few minutes."
	case errors.As(err, &ce):
		msg = ce.Msg
	}
	if status == fiber.StatusServiceUnavailable {
		c.Set(fiber.HeaderRetryAfter, retryAfterUnavailable)
	}
	if status >= 500 {
		s.log.LogAttrs(c.UserContext(), slog.LevelError, "request failed",
			slog.String("request_id", requestID(c)), slog.String("path", loggedPath(c.Path())), slog.Any("error", err))
	}
	if isAPI(c) {
		var ve intake.ValidationErrors
		var ie crm.InputError
		switch {
		case errors.As(err, &ve):
			return c.Status(status).JSON(fiber.Map{"error": "validation", "fields": ve})
		case errors.As(err, &ie):
			return c.Status(status).JSON(fiber.Map{"error": "validation", "fields": ie})
		}
		return c.Status(status).JSON(fiber.Map{"error": msg})
	}
	if a := s.errorActor(c); a.ID != 0 {
		return s.staffErrorPage(c, a, status, err, msg)
	}
	heading := "Sorry, something went wrong"
	switch status {
	case 404:
		heading = "We could not find that page"
	case 403:
		heading = "You are not allowed to do that"
	case 413:
		heading = "That was too much to send at once"
	}
	if errors.Is(err, crm.ErrUnavailable) {
		heading = "Not saved: please try again in a few minutes"
	}
	if rerr := s.renderPage(c, status, "error", heading, fiber.Map{"Heading": heading, "Detail": msg}); rerr != nil {
		s.log.Error("render error page", "request_id", requestID(c), "error", rerr)
		return c.Status(status).SendString(msg)
	}
	return nil
}
