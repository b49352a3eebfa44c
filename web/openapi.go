package web

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"

	"github.com/gofiber/fiber/v2"
)

// openAPIDocument is the OpenAPI 3.1 document of every /api/v1 route. The web tests validate every API request
// and answer they make against it, so a handler that answers what it does not describe fails them.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPIETag names this build's document, so a client's cached copy is revalidated cheaply.
var openAPIETag = func() string {
	sum := sha256.Sum256(openAPIDocument)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// openAPI is GET /api/v1/openapi.json: the document, public (no token) and cacheable for an hour.
func (s *server) openAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	c.Set(fiber.HeaderETag, openAPIETag)
	if c.Get(fiber.HeaderIfNoneMatch) == openAPIETag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(openAPIDocument)
}
