package web

import (
	"errors"
	"net/mail"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
)

// resetSentMessage is the one answer to a reset request, whether or not an account has that address, so the
// page cannot be used to find out who works at the clinic.
const resetSentMessage = "If an account with that email address exists, we have sent it a link to choose a new password. The link works once, for one hour. Check your inbox, and your spam folder."

// resetRequestLimits bound reset requests per client address and per email address, so the page cannot be used
// to flood anyone's inbox (the accounts service also sends at most crm.MaxResetsPerHour links an hour to one
// account, however many processes ask).
func (s *server) resetRequestLimits() []fiber.Handler {
	reached := func(c *fiber.Ctx) error {
		s.log.Warn("password reset rate limit reached", "request_id", requestID(c))
		return s.renderPage(c, fiber.StatusTooManyRequests, "reset_request", "Forgotten password", fiber.Map{
			"CSRF": csrfToken(c), "Error": "Too many requests. Please wait an hour and try again, or ask an administrator.",
		})
	}
	perClient := limiter.New(limiter.Config{
		Max: 5, Expiration: 15 * time.Minute, LimitReached: reached, Storage: s.deps.Limits,
		KeyGenerator: func(c *fiber.Ctx) string { return "reset-ip:" + c.IP() },
	})
	perAddress := limiter.New(limiter.Config{
		Max: crm.MaxResetsPerHour, Expiration: time.Hour, LimitReached: reached, Storage: s.deps.Limits,
		KeyGenerator: func(c *fiber.Ctx) string {
			return "reset-address:" + strings.ToLower(strings.TrimSpace(c.FormValue("email")))
		},
	})
	return []fiber.Handler{perClient, perAddress}
}

// resetRequestForm asks for the email address of the account whose password was forgotten.
func (s *server) resetRequestForm(c *fiber.Ctx) error {
	return s.renderPage(c, fiber.StatusOK, "reset_request", "Forgotten password", fiber.Map{"CSRF": csrfToken(c)})
}

// resetRequest emails a reset link when an active account has the address, and answers the same either way.
func (s *server) resetRequest(c *fiber.Ctx) error {
	email := strings.TrimSpace(c.FormValue("email"))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		return s.renderPage(c, fiber.StatusUnprocessableEntity, "reset_request", "Forgotten password", fiber.Map{
			"CSRF": csrfToken(c), "Email": email,
			"Errors": crm.InputError{"email": "Give the email address you sign in with, like name@clinic.example."},
		})
	}
	if err := s.deps.Accounts.ForgotPassword(c.UserContext(), email); err != nil {
		return err
	}
	s.log.Info("password reset asked for", "request_id", requestID(c))
	return s.renderPage(c, fiber.StatusOK, "reset_request", "Forgotten password", fiber.Map{
		"CSRF": csrfToken(c), "Sent": resetSentMessage,
	})
}

// resetForm shows the new-password form of a reset link, or says the link no longer works.
func (s *server) resetForm(c *fiber.Ctx) error {
	token := c.Params("token")
	if _, err := s.deps.Accounts.PasswordResetFor(c.UserContext(), token); err != nil {
		return s.resetGone(c, err)
	}
	return s.renderPage(c, fiber.StatusOK, "reset", "Choose a new password", fiber.Map{"CSRF": csrfToken(c), "Token": token})
}

// reset sets the new password of a reset link (field password). The link is used up, and every session and
// token of the account ended.
func (s *server) reset(c *fiber.Ctx) error {
	token := c.Params("token")
	err := s.deps.Accounts.ResetPassword(c.UserContext(), token, c.FormValue("password"))
	var invalid crm.InputError
	switch {
	case errors.As(err, &invalid):
		return s.renderPage(c, fiber.StatusUnprocessableEntity, "reset", "Choose a new password", fiber.Map{
			"CSRF": csrfToken(c), "Token": token, "Errors": invalid,
		})
	case errors.Is(err, crm.ErrNotFound), errors.Is(err, crm.ErrLinkExpired):
		return s.resetGone(c, err)
	case err != nil:
		return err
	}
	s.log.Info("password reset", "request_id", requestID(c))
	return s.renderPage(c, fiber.StatusOK, "reset", "Password changed", fiber.Map{"Done": true})
}

// resetGone answers a link that does not work: 410 when it was used or has expired, 404 when no link had it.
func (s *server) resetGone(c *fiber.Ctx, err error) error {
	switch {
	case errors.Is(err, crm.ErrLinkExpired):
		return s.renderPage(c, fiber.StatusGone, "reset", "Link expired", fiber.Map{
			"Gone": "This link has expired or was already used. A link works once, for one hour.",
		})
	case errors.Is(err, crm.ErrNotFound):
		return s.renderPage(c, fiber.StatusNotFound, "reset", "Link not valid", fiber.Map{
			"Gone": "This link is not valid. Check that you copied the whole address from the email.",
		})
	}
	return err
}
