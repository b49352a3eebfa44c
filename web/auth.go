package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/csrf"
	"github.com/gofiber/fiber/v2/middleware/session"
)

// Session limits: a session ends after 30 minutes without a request, and 12 hours after sign-in whatever
// happens.
const (
	SessionIdle     = 30 * time.Minute
	SessionAbsolute = 12 * time.Hour
)

// Keys of the values kept in a staff session.
const (
	sessStaff    = "staff"     // int64: the signed-in account
	sessSignedIn = "signed_in" // int64: unix seconds of sign-in, for the absolute timeout
	sessFlash    = "flash"     // string: a message for the next page
	// A sign-in waiting for its second factor (not signed in): the account, when its password was checked,
	// the page to go on to, and the account as the throttle names it.
	sessPending     = "pending_staff" // int64
	sessPendingAt   = "pending_at"    // int64: unix seconds
	sessPendingNext = "pending_next"  // string
	sessPendingKey  = "pending_key"   // string
	// An enrolment in progress: the authenticator secret offered, not yet proved by a code.
	sessEnrolSecret = "enrol_secret" // string
	sessEnrolURI    = "enrol_uri"    // string
)

// csrfSessionKey is where the CSRF middleware keeps the session's token.
const csrfSessionKey = "csrf"

const localActor = "actor"

// clearSiteData asks the browser to drop its cached staff pages and any storage when a session ends.
const clearSiteData = `"cache", "storage"`

// newSessionStore returns the server-side session store: data in our SQLite, an HttpOnly SameSite=Lax cookie,
// Secure whenever the public address is https.
func (s *server) newSessionStore() *session.Store {
	return session.New(session.Config{
		Storage:        s.deps.Sessions,
		Expiration:     s.cfg.SessionIdle,
		KeyLookup:      "cookie:frontdesk_session",
		CookieHTTPOnly: true,
		CookieSecure:   s.cfg.SecureCookies,
		CookieSameSite: "Lax",
		CookiePath:     "/",
		KeyGenerator:   randomKey,
	})
}

// randomKey is a session ID or CSRF token: 256 bits from the system's CSPRNG, URL-safe (Fiber's default, a
// UUIDv4, carries 122).
func randomKey() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("web: crypto/rand failed: " + err.Error()) // never happens on a supported system
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// newCSRF protects every state-changing staff form: the token lives in the session and comes back in the
// hidden form field _csrf (or, for a script, the X-CSRF-Token header). A POST without it is 403 and changes
// nothing. Signing in starts a new session, so the token a visitor had before no longer works.
func (s *server) newCSRF() fiber.Handler {
	return csrf.New(csrf.Config{
		Extractor:      csrfFromBodyOrHeader,
		KeyGenerator:   randomKey,
		CookieName:     "frontdesk_csrf",
		CookieSameSite: "Lax",
		CookieSecure:   s.cfg.SecureCookies,
		CookieHTTPOnly: true,
		Expiration:     s.cfg.SessionAbsolute,
		Session:        s.sessions,
		SessionKey:     csrfSessionKey,
		ContextKey:     "csrf",
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			s.log.Warn("csrf refused", "request_id", requestID(c), "path", loggedPath(c.Path()), "reason", err.Error())
			return errClient(fiber.StatusForbidden, "This form has expired or did not come from Frontdesk. Go back, reload the page and try again.")
		},
	})
}

// csrfFromBodyOrHeader reads the CSRF token from the form body or the X-CSRF-Token header, never from the query
// string: Fiber's own form extractor uses FormValue, which looks in the query string first, and a token in a
// URL leaks through logs, history and Referer.
func csrfFromBodyOrHeader(c *fiber.Ctx) (string, error) {
	if v := c.Request().PostArgs().Peek("_csrf"); len(v) > 0 {
		return string(v), nil
	}
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEMultipartForm) {
		if form, err := c.MultipartForm(); err == nil && len(form.Value["_csrf"]) > 0 && form.Value["_csrf"][0] != "" {
			return form.Value["_csrf"][0], nil
		}
	}
	if v := c.Get(csrf.HeaderName); v != "" {
		return v, nil
	}
	return "", csrf.ErrMissingForm
}

// csrfToken is the token to put in the hidden _csrf field of this page's forms.
func csrfToken(c *fiber.Ctx) string {
	t, _ := c.Locals("csrf").(string)
	return t
}

// actor is the signed-in member of staff (set by requireStaff or requireToken).
func actor(c *fiber.Ctx) crm.Actor {
	a, _ := c.Locals(localActor).(crm.Actor)
	return a
}

// loadActor reads the session and returns the signed-in actor, ending sessions past their absolute limit. The
// session must have been started with startStaffSession and not ended since (signed out from another browser,
// the password changed, the account disabled): otherwise it is destroyed and nobody is signed in.
func (s *server) loadActor(c *fiber.Ctx) (crm.Actor, *session.Session, bool) {
	sess, err := s.sessions.Get(c)
	if err != nil {
		return crm.Actor{}, nil, false
	}
	id, _ := sess.Get(sessStaff).(int64)
	signedIn, _ := sess.Get(sessSignedIn).(int64)
	if id == 0 {
		return crm.Actor{}, sess, false
	}
	if time.Since(time.Unix(signedIn, 0)) > s.cfg.SessionAbsolute {
		_ = sess.Destroy()
		return crm.Actor{}, nil, false
	}
	a, err := s.deps.Accounts.SessionActor(c.UserContext(), sess.ID(), id)
	if err != nil {
		if errors.Is(err, crm.ErrUnauthenticated) {
			_ = sess.Destroy()
		}
		return crm.Actor{}, nil, false
	}
	return a, sess, true
}

// requireStaff lets signed-in staff through and sends everyone else to /login (303). The session's idle
// timer restarts with each request.
func (s *server) requireStaff(c *fiber.Ctx) error {
	a, sess, ok := s.loadActor(c)
	if !ok {
		// A session that ended by itself (idle, absolute limit, ended elsewhere) clears what the browser kept,
		// as signing out does.
		c.Set("Clear-Site-Data", clearSiteData)
		if next := safeNext(c.OriginalURL()); c.Method() == fiber.MethodGet && next != defaultNext {
			return c.Redirect("/login?next="+url.QueryEscape(next), fiber.StatusSeeOther)
		}
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	// An account that must have a second factor and has none may only enrol (or sign out) until it has.
	if s.cfg.Require2FA.Requires(a.Role) && !a.SecondFactor && !strings.HasPrefix(c.Path(), enrolPath) {
		return c.Redirect(enrolPath, fiber.StatusSeeOther)
	}
	c.Locals(localActor, a)
	if msg, ok := sess.Get(sessFlash).(string); ok && msg != "" {
		c.Locals(sessFlash, msg)
		sess.Delete(sessFlash)
		if err := sess.Save(); err != nil {
			return err
		}
	}
	// The idle timer restarts with every request: the CSRF middleware, which runs first on every staff page,
	// saves the session each time.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// requireAdmin refuses anyone but an administrator with 403.
func (s *server) requireAdmin(c *fiber.Ctx) error {
	if actor(c).Role != crm.RoleAdmin {
		return crm.ErrForbidden
	}
	return c.Next()
}

// flash keeps a message to show on the next page.
func (s *server) flash(c *fiber.Ctx, msg string) {
	sess, err := s.sessions.Get(c)
	if err != nil {
		return
	}
	sess.Set(sessFlash, msg)
	_ = sess.Save()
}

// requireToken authenticates the staff API with Authorization: Bearer TOKEN; 401 without a valid one.
func (s *server) requireToken(c *fiber.Ctx) error {
	auth := c.Get(fiber.HeaderAuthorization)
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="frontdesk"`)
		return errClient(fiber.StatusUnauthorized, "Send an API token: Authorization: Bearer TOKEN.")
	}
	a, err := s.deps.Accounts.ActorByToken(c.UserContext(), strings.TrimSpace(token))
	if errors.Is(err, crm.ErrUnauthenticated) {
		s.deps.Metrics.signInFailed(signInBadToken)
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="frontdesk", error="invalid_token"`)
		return errClient(fiber.StatusUnauthorized, "The API token is not valid, or has been revoked.")
	}
	if err != nil {
		return err
	}
	c.Locals(localActor, a)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// startStaffSession signs actor in on sess: it records the session for the account (so the person can see and
// end it, and ending the account's access ends it) and puts the account and the time of sign-in in it. Call it
// after sess.Regenerate (a new ID at every sign-in: no fixation) and before sess.Save, which the caller does.
func (s *server) startStaffSession(c *fiber.Ctx, sess *session.Session, a crm.Actor) error {
	if err := s.deps.Accounts.StartSession(c.UserContext(), a, sess.ID(), c.IP(), c.Get(fiber.HeaderUserAgent)); err != nil {
		return err
	}
	sess.Set(sessStaff, a.ID)
	sess.Set(sessSignedIn, time.Now().Unix())
	return nil
}

// logout ends the session, and its record.
func (s *server) logout(c *fiber.Ctx) error {
	if a, sess, ok := s.loadActor(c); ok {
		if err := s.deps.Accounts.SignOut(c.UserContext(), a, sess.ID()); err != nil {
			return err
		}
	}
	if sess, err := s.sessions.Get(c); err == nil {
		if err := sess.Destroy(); err != nil {
			return err
		}
	}
	c.ClearCookie("frontdesk_session")
	// Patient data the browser kept (its cache of staff pages, any storage) goes with the session.
	c.Set("Clear-Site-Data", clearSiteData)
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// setupForm shows the first-administrator form while no account exists.
func (s *server) setupForm(c *fiber.Ctx) error {
	need, err := s.deps.Accounts.SetupNeeded(c.UserContext())
	if err != nil {
		return err
	}
	if !need {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	return s.renderPage(c, fiber.StatusOK, "setup", "Set up Frontdesk", fiber.Map{"CSRF": csrfToken(c)})
}

// setup creates the first administrator, given the one-time code from serve's log, and signs them in.
func (s *server) setup(c *fiber.Ctx) error {
	staff, err := s.deps.Accounts.Setup(c.UserContext(), c.FormValue("code"), crm.NewStaff{
		Email: c.FormValue("email"), Name: c.FormValue("name"), Password: c.FormValue("password"),
	})
	var invalid crm.InputError
	switch {
	case errors.As(err, &invalid):
		return s.renderPage(c, fiber.StatusUnprocessableEntity, "setup", "Set up Frontdesk", fiber.Map{
			"CSRF": csrfToken(c), "Errors": invalid, "Name": c.FormValue("name"), "Email": c.FormValue("email"),
		})
	case errors.Is(err, crm.ErrConflict):
		return c.Redirect("/login", fiber.StatusSeeOther)
	case err != nil:
		return err
	}
	s.log.Info("first administrator created", "request_id", requestID(c), "staff", staff.ID)
	if err := s.deps.Accounts.CompleteSignIn(c.UserContext(), crm.Actor{ID: staff.ID}, c.IP()); err != nil {
		return err
	}
	sess, err := s.sessions.Get(c)
	if err != nil {
		return err
	}
	if err := sess.Reset(); err != nil { // a new session: new ID, and no token from before sign-in
		return err
	}
	if err := s.startStaffSession(c, sess, crm.Actor{ID: staff.ID, Email: staff.Email, Name: staff.Name, Role: staff.Role}); err != nil {
		return err
	}
	sess.Set(sessFlash, "Welcome. Your administrator account is ready: add your team under Staff.")
	if err := sess.Save(); err != nil {
		return err
	}
	return c.Redirect("/admin/users", fiber.StatusSeeOther)
}
