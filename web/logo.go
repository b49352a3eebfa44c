package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Logo is the clinic's logo (FRONTDESK_CLINIC_LOGO), shown in the header of every page and in HTML emails.
// Build it with LoadLogo; the zero value is no logo.
type Logo struct {
	// URL is the https address of a logo kept elsewhere, which pages and emails show as it is; empty for a file.
	URL string
	// Image is the file's content, served at /logo with ContentType; nil for a URL.
	Image       []byte
	ContentType string
	// version names this content, so that a changed file is fetched again despite the long cache time.
	version string
}

// MaxLogoBytes is the largest logo file accepted: a header image, not a photograph.
const MaxLogoBytes = 512 << 10

// logoTypes are the image types a logo file may be; others are refused at start, never served.
var logoTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
	"image/svg+xml": true}

// LoadLogo reads FRONTDESK_CLINIC_LOGO's value: "" for none, an https URL, or the path of an image file (PNG,
// JPEG, GIF, WebP or SVG, at most MaxLogoBytes), read once here. Its error says what a valid value looks like,
// without repeating the file's content.
func LoadLogo(value string) (Logo, error) {
	value = strings.TrimSpace(value)
	switch {
	case value == "":
		return Logo{}, nil
	case strings.Contains(value, "://"):
		u, err := url.Parse(value)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
			return Logo{}, errors.New("must be an https URL (such as https://www.clinic.example/logo.png) or the path of an image file")
		}
		return Logo{URL: u.String()}, nil
	}
	fi, err := os.Stat(value)
	if err != nil || !fi.Mode().IsRegular() {
		return Logo{}, errors.New("must be an https URL or the path of an existing image file")
	}
	if fi.Size() > MaxLogoBytes {
		return Logo{}, fmt.Errorf("the file is %d KiB; a logo may be at most %d KiB", fi.Size()>>10, MaxLogoBytes>>10)
	}
	b, err := os.ReadFile(value)
	if err != nil {
		return Logo{}, errors.New("the file cannot be read")
	}
	ct := imageType(b)
	if !logoTypes[ct] {
		return Logo{}, errors.New("the file is not a PNG, JPEG, GIF, WebP or SVG image")
	}
	sum := sha256.Sum256(b)
	return Logo{Image: b, ContentType: ct, version: hex.EncodeToString(sum[:6])}, nil
}

// imageType is the media type of an image by its content ("" when it is none of the logo types).
func imageType(b []byte) string {
	ct := http.DetectContentType(b)
	if logoTypes[ct] {
		return ct
	}
	head := bytes.ToLower(b[:min(len(b), 1024)])
	if bytes.Contains(head, []byte("<svg")) && (strings.HasPrefix(ct, "text/xml") || strings.HasPrefix(ct, "text/plain")) {
		return "image/svg+xml"
	}
	return ""
}

// Src is the address the pages show the logo from: its URL, or /logo with the content's version (so the long
// cache time never keeps an old logo). "" for no logo.
func (l Logo) Src() string {
	switch {
	case l.URL != "":
		return l.URL
	case l.Image != nil:
		return "/logo?v=" + l.version
	}
	return ""
}

// EmailSrc is the absolute address emails show the logo from, with base the public address
// (FRONTDESK_BASE_URL); "" for no logo.
func (l Logo) EmailSrc(base string) string {
	if l.Image != nil {
		return strings.TrimRight(base, "/") + l.Src()
	}
	return l.URL
}

// origin is the scheme and host of a logo kept elsewhere, which the pages' Content-Security-Policy must allow
// images from; "" for none or a file.
func (l Logo) origin() string {
	if l.URL == "" {
		return ""
	}
	u, err := url.Parse(l.URL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// logo serves the logo file (GET /logo): its own type, cached for a year (the pages' address carries the
// content's version), and under a policy that lets an SVG run nothing when opened on its own. 404 without a
// logo file.
func (s *server) logo(c *fiber.Ctx) error {
	l := s.cfg.Logo
	if l.Image == nil {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, l.ContentType)
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	c.Set(fiber.HeaderETag, `"`+l.version+`"`)
	return c.Send(l.Image)
}

// favicon answers /favicon.ico, which browsers ask for whatever the page says, with the embedded icon.
func (s *server) favicon(c *fiber.Ctx) error {
	b, err := staticFiles.ReadFile("static/favicon.ico")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/x-icon")
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return c.Send(b)
}
