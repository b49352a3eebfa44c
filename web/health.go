package web

import (
	"context"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
)

// healthz answers 200 while the process serves.
func (s *server) healthz(c *fiber.Ctx) error {
	return c.SendString("ok")
}

// readyz answers 200 when the database answers and takes writes, else 503 — a full disk, a read-only file
// system or failing writes make the service unready, since no enquiry could be stored. It is 200 again as soon
// as a write (or the probe readyz runs when none was recent) commits, with no restart. Mail that has waited
// too long to be sent adds a warning line but does not make the service unready: intake still works, and the
// mail is still queued.
func (s *server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.deps.Ready.Ping(ctx); err != nil {
		s.log.Warn("not ready", "request_id", requestID(c), "error", err)
		return c.Status(fiber.StatusServiceUnavailable).SendString("database unavailable")
	}
	if err := s.deps.Ready.WriteHealth(ctx); err != nil {
		s.log.Warn("not ready", "request_id", requestID(c), "error", err)
		c.Set(fiber.HeaderRetryAfter, retryAfterUnavailable)
		return c.Status(fiber.StatusServiceUnavailable).SendString("database does not accept writes")
	}
	body := "ready"
	if s.deps.Mail != nil {
		n, after, err := s.deps.Mail.StaleMail(ctx)
		switch {
		case err != nil:
			s.log.Warn("readyz: count unsent mail", "request_id", requestID(c), "error", err)
		case n > 0:
			body += fmt.Sprintf("\nwarning: %s unsent for over %s", countOf(n, "email", "emails"), spokenDuration(after))
		}
	}
	return c.SendString(body)
}

// countOf writes "1 email" or "3 emails".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// spokenDuration writes a duration as people say it: "15 minutes", "1 hour", "90 seconds".
func spokenDuration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return countOf(int(d/time.Hour), "hour", "hours")
	case d >= time.Minute && d%time.Minute == 0:
		return countOf(int(d/time.Minute), "minute", "minutes")
	default:
		return countOf(int(d.Round(time.Second)/time.Second), "second", "seconds")
	}
}
