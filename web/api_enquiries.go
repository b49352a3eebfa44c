package web

import (
	"mime"

	"github.com/frontdesk/frontdesk/intake"
	"github.com/gofiber/fiber/v2"
)

// apiCreateEnquiry is POST /api/v1/enquiries: 201 {"reference","status"}; 415 when not JSON; 400 when malformed;
// 422 with every invalid field; a repeated Idempotency-Key with the same body returns the same reference.
func (s *server) apiCreateEnquiry(c *fiber.Ctx) error {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != fiber.MIMEApplicationJSON {
		return errClient(fiber.StatusUnsupportedMediaType, "Send the enquiry as JSON with Content-Type: application/json.")
	}
	key := c.Get("Idempotency-Key")
	if key != "" && !validKey(key) {
		return errClient(fiber.StatusBadRequest, "Idempotency-Key must be 1 to 255 visible ASCII characters.")
	}
	sub, err := intake.DecodeJSON(c.Body())
	if err != nil {
		return err
	}
	rec, err := s.deps.Intake.Submit(c.UserContext(), sub, key)
	if err != nil {
		return err
	}
	if rec.Replayed {
		c.Set("Idempotent-Replayed", "true")
	}
	noteIntakeOutcome(c, sub, rec)
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"reference": rec.Reference, "status": rec.Status})
}
