package web

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/mailer"
	"github.com/gofiber/fiber/v2"
)

// Outbox is what the admin outbox page needs of the mail store.
type Outbox interface {
	// List returns the messages f selects, newest first.
	List(ctx context.Context, f mailer.ListFilter) ([]mailer.Entry, error)
	// Requeue queues a failed message again; crm.ErrNotFound / crm.ErrConflict (not failed).
	Requeue(ctx context.Context, id int64, now time.Time) error
}

// outboxPage shows queued, sent and failed mail, newest first, with recipients masked.
func (s *server) outboxPage(c *fiber.Ctx) error {
	f := mailer.ListFilter{Status: mailer.Status(c.Query("status")), Limit: 200}
	switch f.Status {
	case "", mailer.StatusQueued, mailer.StatusSent, mailer.StatusFailed:
	default:
		f.Status = ""
	}
	entries, err := s.deps.Outbox.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	type row struct {
		mailer.Entry
		Masked    string
		LastError string
	}
	rows := make([]row, len(entries))
	for i, e := range entries {
		rows[i] = row{Entry: e, Masked: mailer.MaskAddress(e.Recipient), LastError: mailer.MaskAddresses(e.LastError)}
	}
	return s.staffPage(c, fiber.StatusOK, "admin_outbox", "Outbox", fiber.Map{"Rows": rows, "Status": string(f.Status)})
}

// outboxRetry queues a failed message again (form field id).
func (s *server) outboxRetry(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.FormValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errClient(fiber.StatusUnprocessableEntity, "Choose an email to retry.")
	}
	err = s.deps.Outbox.Requeue(c.UserContext(), id, time.Now())
	switch {
	case errors.Is(err, crm.ErrNotFound):
		return errClient(fiber.StatusNotFound, "There is no such email.")
	case errors.Is(err, crm.ErrConflict):
		s.flash(c, fmt.Sprintf("Email %d is not failed, so there is nothing to retry.", id))
	case err != nil:
		return err
	default:
		_ = s.deps.Workspace.Record(c.UserContext(), actor(c), "outbox_retry", "", fmt.Sprintf("email %d", id))
		s.flash(c, fmt.Sprintf("Email %d queued again; it will be sent within a few seconds.", id))
	}
	return c.Redirect("/admin/outbox?status=failed", fiber.StatusSeeOther)
}
