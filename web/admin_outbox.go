package web

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/gofiber/fiber/v2"
)

// outboxPage shows queued, sent and failed mail, newest first; the outbox service masks the recipients.
func (s *server) outboxPage(c *fiber.Ctx) error {
	if s.deps.Outbox == nil {
		return fiber.ErrNotFound
	}
	f := crm.OutboxFilter{Status: crm.OutboxStatus(c.Query("status")), Limit: 200}
	if !f.Status.Valid() {
		f.Status = "" // an unknown choice shows everything
	}
	entries, err := s.deps.Outbox.List(c.UserContext(), actor(c), f)
	if err != nil {
		return err
	}
	return s.staffPage(c, fiber.StatusOK, "admin_outbox", "Outbox", fiber.Map{"Rows": entries, "Status": string(f.Status),
		"MailFileDir": s.cfg.MailFileDir})
}

// outboxRetry queues a failed message again (form field id); the outbox service checks the role and records it.
func (s *server) outboxRetry(c *fiber.Ctx) error {
	if s.deps.Outbox == nil {
		return fiber.ErrNotFound
	}
	id, err := strconv.ParseInt(c.FormValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errClient(fiber.StatusUnprocessableEntity, "Choose an email to retry.")
	}
	err = s.deps.Outbox.Retry(c.UserContext(), actor(c), id)
	var state *crm.OutboxStateError
	switch {
	case errors.Is(err, crm.ErrNotFound):
		return errClient(fiber.StatusNotFound, "There is no such email.")
	case errors.As(err, &state):
		s.flash(c, fmt.Sprintf("Message %d is not failed, so there is nothing to retry.", id))
	case err != nil:
		return err
	default:
		s.flash(c, fmt.Sprintf("Message %d queued again; it will be sent within a few seconds.", id))
	}
	return c.Redirect("/admin/outbox?status=failed", fiber.StatusSeeOther)
}
