package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/gofiber/fiber/v2"
)

// privacyPage is /admin/privacy: subject access and erasure by email address, for administrators.
func (s *server) privacyPage(c *fiber.Ctx) error {
	return s.privacyForms(c, fiber.StatusOK, nil, nil, fiber.Map{})
}

// privacyForms renders the page with each form's errors (field → message) and entered values.
func (s *server) privacyForms(c *fiber.Ctx, status int, accessErrs, eraseErrs crm.InputError, values fiber.Map) error {
	data := s.privacyNotice()
	data["AccessErrors"], data["EraseErrors"], data["Values"] = accessErrs, eraseErrs, values
	return s.staffPage(c, status, "admin_privacy", "Patient data", data)
}

// privacyAccess is POST /admin/privacy/access (field email): the subject access document, as a JSON file
// to save. A missing or malformed address shows the page again with the error beside the field.
func (s *server) privacyAccess(c *fiber.Ctx) error {
	email := c.FormValue("email")
	doc, err := s.deps.Privacy.SubjectAccess(c.UserContext(), actor(c), email)
	var invalid crm.InputError
	if errors.As(err, &invalid) {
		return s.privacyForms(c, fiber.StatusUnprocessableEntity, invalid, nil, fiber.Map{"access_email": email})
	}
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	name := fmt.Sprintf("subject-access-%s.json", doc.GeneratedAt.In(s.cfg.Location).Format("2006-01-02-150405"))
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(append(b, '\n'))
}

// privacyErase is POST /admin/privacy/erase (fields email and confirm_email, which must match): the personal
// data of every enquiry of that address is erased. Each error is shown beside its field; the page after
// names the references erased, never the address.
func (s *server) privacyErase(c *fiber.Ctx) error {
	email, confirm := c.FormValue("email"), c.FormValue("confirm_email")
	values := fiber.Map{"erase_email": email}
	canon, err := crm.ParseSubjectEmail(email)
	var invalid crm.InputError
	if errors.As(err, &invalid) {
		return s.privacyForms(c, fiber.StatusUnprocessableEntity, nil, invalid, values)
	}
	if c2, _ := crm.ParseSubjectEmail(confirm); c2 != canon {
		return s.privacyForms(c, fiber.StatusUnprocessableEntity, nil,
			crm.InputError{"confirm_email": "Type the same address again to confirm the erasure."}, values)
	}
	refs, err := s.deps.Privacy.EraseEmail(c.UserContext(), actor(c), canon)
	switch {
	case errors.As(err, &invalid):
		return s.privacyForms(c, fiber.StatusUnprocessableEntity, nil, invalid, values)
	case errors.Is(err, crm.ErrNotFound):
		return s.privacyForms(c, fiber.StatusUnprocessableEntity, nil,
			crm.InputError{"email": "No enquiry has this address (an enquiry already erased has none). Nothing was erased."}, values)
	case err != nil && len(refs) == 0:
		return err
	case err != nil:
		// Erased, but the scrub or the mail copies are not finished: say so, and how to finish.
		s.log.Error("erase by email: not finished", "request_id", requestID(c), "refs", strings.Join(refs, " "), "error", err)
		s.flash(c, fmt.Sprintf("Erased the personal data of %s, but not every trace is gone yet (the database's free space or "+
			"the copies of emails could not be cleaned). On the server, run frontdesk erase --ref for each to finish.",
			strings.Join(refs, ", ")))
	default:
		s.flash(c, fmt.Sprintf("Erased the personal data of %d %s: %s. Their anonymous counts remain.",
			len(refs), plural(len(refs), "enquiry", "enquiries"), strings.Join(refs, ", ")))
	}
	return c.Redirect("/admin/privacy", fiber.StatusSeeOther)
}

// apiSubjectAccess is GET /api/v1/subject-access?email=: the subject access document; administrators only.
func (s *server) apiSubjectAccess(c *fiber.Ctx) error {
	doc, err := s.deps.Privacy.SubjectAccess(c.UserContext(), actor(c), c.Query("email"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(doc)
}

// privacyNotice is the privacy notice's retention wording: how long each kind of enquiry is kept.
func (s *server) privacyNotice() fiber.Map {
	return fiber.Map{
		"Retention": retentionPeriod(s.cfg.RetentionMonths), "SpamRetention": spamPeriod(s.cfg.SpamRetentionDays),
	}
}

// retentionPeriod says a number of months in plain English ("" for never): "24 months (2 years)".
func retentionPeriod(months int) string {
	switch {
	case months <= 0:
		return ""
	case months == 1:
		return "1 month"
	case months%12 == 0:
		return fmt.Sprintf("%d months (%d %s)", months, months/12, plural(months/12, "year", "years"))
	}
	return fmt.Sprintf("%d months", months)
}

// spamPeriod says a number of days in plain English ("" for never).
func spamPeriod(days int) string {
	if days <= 0 {
		return ""
	}
	return fmt.Sprintf("%d %s", days, plural(days, "day", "days"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
