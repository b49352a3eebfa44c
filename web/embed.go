package web

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The enquiry form on a clinic's own website. With FRONTDESK_FRAME_ANCESTORS set, the patient pages (the form,
// its answer, the thanks page, the questionnaires and the privacy notice) may be shown in an iframe on those
// origins; every other page keeps frame-ancestors 'none'. /embed.js, one script tag on the clinic's page, inserts
// that iframe and sizes it to the page inside, which reports its height with postMessage (static/frame.js).

// localFramable marks a request as a patient page that the configured origins may frame; renderPage then adds
// the framed-page script.
const localFramable = "frontdesk.framable"

// frameAncestors is the frame-ancestors source list of the patient pages: this site and the configured origins.
func (s *server) frameAncestors() string {
	return strings.Join(append([]string{"'self'"}, s.cfg.FrameAncestors...), " ")
}

// patientFrame lets the configured origins frame a patient page: it replaces the helmet's frame-ancestors 'none'
// in the Content-Security-Policy and drops X-Frame-Options, which knows no list of origins and would contradict
// it in browsers that read both. Without FRAME_ANCESTORS it does nothing.
func (s *server) patientFrame() fiber.Handler {
	if len(s.cfg.FrameAncestors) == 0 {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	csp := strings.Replace(contentSecurityPolicy(s.cfg.Logo.origin()), "frame-ancestors 'none'",
		"frame-ancestors "+s.frameAncestors(), 1)
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentSecurityPolicy, csp)
		c.Response().Header.Del(fiber.HeaderXFrameOptions)
		c.Locals(localFramable, true)
		return c.Next()
	}
}

// frameOrigins is what the framed-page script may post its height to (space-separated), or "" when this page
// may not be framed by another site.
func (s *server) frameOrigins(c *fiber.Ctx) string {
	if ok, _ := c.Locals(localFramable).(bool); !ok {
		return ""
	}
	return strings.Join(s.cfg.FrameAncestors, " ")
}

// embedScript serves /embed.js for the clinic's own pages. Any site may load it (a script is not data), and
// browsers may keep it for an hour; it inserts an iframe of /enquire, which only the configured origins may show.
func (s *server) embedScript(c *fiber.Ctx) error {
	js, err := staticFiles.ReadFile("static/embed.js")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	// The helmet's same-origin would stop the clinic's page from loading it.
	c.Set("Cross-Origin-Resource-Policy", "cross-origin")
	return c.Status(http.StatusOK).Send(js)
}

// setFramedCookie sets the screening cookie so that it also reaches the thanks page inside another site's
// iframe: SameSite=None (a Lax cookie is neither set nor sent in a cross-site frame), Secure (which None needs;
// browsers accept it over https and on localhost), and Partitioned (CHIPS), so that the browser keeps it for this
// embedding site only: it cannot follow the patient from one site to another. A browser that refuses
// third-party cookies altogether shows the plain thanks page, which neither names the address nor offers links.
func setFramedCookie(c *fiber.Ctx, name, value, path string, maxAge int) {
	ck := &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, Secure: true, HttpOnly: true,
		SameSite: http.SameSiteNoneMode, Partitioned: true}
	c.Response().Header.Add(fiber.HeaderSetCookie, ck.String())
}

// framedCookies reports whether the patient's cookie is set for a cross-site frame (setFramedCookie): when other
// sites may frame the pages, and browsers will keep a Secure cookie from this site (https, or a loopback address
// while trying it out). Otherwise the cookie stays SameSite=Lax.
func (s *server) framedCookies() bool {
	if len(s.cfg.FrameAncestors) == 0 {
		return false
	}
	if s.httpsBase() || s.cfg.SecureCookies {
		return true
	}
	u, err := url.Parse(s.cfg.BaseURL)
	if err != nil {
		return false
	}
	host := u.Hostname()
	ip, err := netip.ParseAddr(host)
	return host == "localhost" || (err == nil && ip.IsLoopback())
}
