package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
)

// tokenJSON is an API token as the API shows it: never the token or its hash.
type tokenJSON struct {
	ID         int64   `json:"id"`
	Label      string  `json:"label"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
	ExpiresAt  string  `json:"expires_at"`
	RevokedAt  *string `json:"revoked_at"`
}

// apiListTokens answers GET /api/v1/tokens: the caller's own tokens, newest first.
func (s *server) apiListTokens(c *fiber.Ctx) error {
	a := actor(c)
	tokens, err := s.deps.Accounts.Tokens(c.UserContext(), a, a.ID)
	if err != nil {
		return err
	}
	items := make([]tokenJSON, len(tokens))
	for i, t := range tokens {
		items[i] = tokenJSON{ID: t.ID, Label: t.Label, CreatedAt: rfc3339(t.CreatedAt), LastUsedAt: optTime(t.LastUsedAt),
			ExpiresAt: rfc3339(t.ExpiresAt), RevokedAt: optTime(t.RevokedAt)}
	}
	return c.JSON(fiber.Map{"items": items})
}

// apiRevokeToken answers DELETE /api/v1/tokens/ID with 204: the token is revoked at once. The caller's own
// token, or any for an administrator; someone else's is 404 to others, as if it did not exist.
func (s *server) apiRevokeToken(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return errClient(fiber.StatusBadRequest, "The token ID must be a positive whole number.")
	}
	t, err := s.deps.Accounts.RevokeTokenByID(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	s.log.Info("token revoked", "request_id", requestID(c), "staff", actor(c).ID, "token", t.ID)
	return c.SendStatus(fiber.StatusNoContent)
}
