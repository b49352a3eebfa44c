package web

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// healthz answers 200 while the process serves.
func (s *server) healthz(c *fiber.Ctx) error {
	return c.SendString("ok")
}

// readyz answers 200 when the database answers, else 503.
func (s *server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.deps.Ready.Ping(ctx); err != nil {
		s.log.Warn("not ready", "request_id", requestID(c), "error", err)
		return c.Status(fiber.StatusServiceUnavailable).SendString("database unavailable")
	}
	return c.SendString("ready")
}
