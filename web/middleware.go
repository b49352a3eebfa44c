package web

import (
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
)

// requestID returns the request's ID, set by the requestid middleware.
func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals("requestid").(string)
	return id
}

// logRequests writes one structured line per request. It logs the path, never the query string (a search may
// carry a patient's name) and never a body.
func (s *server) logRequests(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		// The error handler has not run yet; it will set the status. Log what it will map to.
		status = statusOf(err)
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.LogAttrs(c.UserContext(), level, "request",
		slog.String("request_id", requestID(c)),
		slog.String("method", c.Method()),
		slog.String("path", loggedPath(c.Path())),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
	)
	return err
}

// loggedPath is the path as the log may show it: the token of a password reset link or of a patient's
// screening link is a secret, and is left out. Routing ignores case, so the check does too.
func loggedPath(path string) string {
	lower := strings.ToLower(path)
	switch {
	case strings.HasPrefix(lower, "/reset/"):
		return "/reset/[token]"
	case strings.HasPrefix(lower, screeningPath):
		return screeningPath + "[token]"
	}
	return path
}

// intakeLimit limits how many enquiries one client may send a minute (FRONTDESK_INTAKE_PER_MINUTE). A client
// over the limit gets 429 with Retry-After: JSON for the API, a page for the form. Limit 0 turns it off.
func (s *server) intakeLimit() fiber.Handler {
	if s.cfg.IntakePerMinute <= 0 {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	return limiter.New(limiter.Config{
		Max:        s.cfg.IntakePerMinute,
		Expiration: time.Minute,
		Storage:    s.deps.Limits, // nil: memory
		KeyGenerator: func(c *fiber.Ctx) string {
			return "intake:" + c.IP()
		},
		LimitReached: func(c *fiber.Ctx) error {
			retry := string(c.Response().Header.Peek(fiber.HeaderRetryAfter))
			if retry == "" {
				c.Set(fiber.HeaderRetryAfter, strconv.Itoa(60))
			}
			s.log.Warn("intake rate limit reached", "request_id", requestID(c))
			if isAPI(c) {
				return c.Status(fiber.StatusTooManyRequests).JSON(fiber.Map{
					"error": "Too many enquiries from this address; please wait and try again.",
				})
			}
			return s.renderPage(c, fiber.StatusTooManyRequests, "error", "Please wait a moment", fiber.Map{
				"Heading": "Please wait a moment before trying again",
				"Detail":  "We have received several enquiries from your connection in the last minute. Please wait a minute, then send your enquiry again. If you need help now, please call us.",
			})
		},
	})
}
