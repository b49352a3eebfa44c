package web

import (
	"github.com/gofiber/fiber/v2"
)

// renderPage renders the named template with the fields every page needs. The template is executed into a
// buffer before anything is sent, so a failing template yields a clean 500 rather than half a page.
func (s *server) renderPage(c *fiber.Ctx, status int, name, title string, data fiber.Map) error {
	if data == nil {
		data = fiber.Map{}
	}
	data["Title"] = title
	data["Clinic"] = s.cfg.ClinicName
	data["ClinicPhone"] = s.cfg.ClinicPhone
	data["ClinicEmail"] = s.cfg.ClinicEmail
	data["ClinicTel"] = telURI(s.cfg.ClinicPhone) // for tel: links to the clinic ("" when it has no digits)
	data["Logo"] = s.cfg.Logo.Src()
	data["Path"] = c.Path()
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).Render(name, data)
}
