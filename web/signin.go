package web

import (
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/gofiber/fiber/v2/middleware/session"
)

// SecondFactorWait is how long a correct password waits for its second factor before sign-in starts again.
const SecondFactorWait = 5 * time.Minute

// enrolPath is the second-factor page; an account that must enrol can reach nothing else until it has.
const enrolPath = "/account/2fa"

// Messages of the sign-in pages.
const (
	msgWrongPassword = "That email and password do not match an active account."
	msgLocked        = "This account has had too many failed sign-ins and is locked. Ask an administrator to reset its password."
	msgWrongCode     = "That code is not right. Enter the 6-digit code your authenticator app shows now, or one of your recovery codes."
	msgReusedCode    = "That code has been used already. Wait for your app to show the next one, then enter it."
	msgPendingGone   = "Your sign-in took too long. Please sign in again."
)

// setupLimit limits guesses of the setup code: 20 failures per client address in 15 minutes.
func (s *server) setupLimit() fiber.Handler {
	return limiter.New(limiter.Config{
		Max: failuresPerClient, Expiration: signInWindow, SkipSuccessfulRequests: true, Storage: s.deps.Limits,
		KeyGenerator: func(c *fiber.Ctx) string { return "setup:" + c.IP() },
		LimitReached: func(c *fiber.Ctx) error {
			return errClient(fiber.StatusTooManyRequests, "Too many failed attempts. Please wait 15 minutes and try again.")
		},
	})
}

// loginForm shows the sign-in page (or sends signed-in staff on to the board).
func (s *server) loginForm(c *fiber.Ctx) error {
	if _, _, ok := s.loadActor(c); ok {
		return c.Redirect(defaultNext, fiber.StatusSeeOther)
	}
	if need, err := s.deps.Accounts.SetupNeeded(c.UserContext()); err == nil && need {
		return c.Redirect("/setup", fiber.StatusSeeOther)
	}
	data := fiber.Map{"CSRF": csrfToken(c), "Next": safeNext(c.Query("next"))}
	switch {
	case c.Query("expired") != "":
		data["Error"] = msgPendingGone
	case c.Query("locked") != "":
		data["Error"] = msgLocked
	}
	return s.renderPage(c, fiber.StatusOK, "login", "Sign in", data)
}

// login checks the password. With a second factor enrolled the visitor is not signed in yet: a new session
// holds the pending sign-in, and they go on to /login/2fa. Without one they are signed in (new session: no
// fixation, no CSRF token from before), and sent to enrol if they must.
func (s *server) login(c *fiber.Ctx) error {
	email, password := c.FormValue("email"), c.FormValue("password")
	next, client, account := safeNext(c.FormValue("next")), c.IP(), accountKey(email)
	page := func(status int, msg string) error {
		return s.renderPage(c, status, "login", "Sign in", fiber.Map{"CSRF": csrfToken(c), "Email": email, "Next": next, "Error": msg})
	}
	if wait := s.throttle.wait(client, account); wait > 0 {
		return s.tooManySignIns(c, wait, page)
	}
	check, err := s.deps.Accounts.CheckSignIn(c.UserContext(), email, password, client)
	switch {
	case errors.Is(err, crm.ErrUnauthenticated):
		s.throttle.failed(client, account)
		s.deps.Metrics.signInFailed(signInWrongPassword)
		s.log.Info("sign-in failed", "request_id", requestID(c))
		return page(fiber.StatusUnauthorized, msgWrongPassword)
	case errors.Is(err, crm.ErrSignInLocked):
		s.throttle.failed(client, account)
		s.deps.Metrics.signInFailed(signInLocked)
		s.log.Warn("sign-in refused: account locked after too many failures", "request_id", requestID(c))
		return page(fiber.StatusForbidden, msgLocked)
	case err != nil:
		return err
	}
	sess, err := s.newSession(c)
	if err != nil {
		return err
	}
	if check.SecondFactor {
		sess.Set(sessPending, check.Actor.ID)
		sess.Set(sessPendingAt, time.Now().Unix())
		sess.Set(sessPendingNext, next)
		sess.Set(sessPendingKey, account)
		if err := sess.Save(); err != nil {
			return err
		}
		return c.Redirect("/login/2fa", fiber.StatusSeeOther)
	}
	if err := s.deps.Accounts.CompleteSignIn(c.UserContext(), check.Actor, client); err != nil {
		return err
	}
	s.throttle.succeeded(client, account)
	if err := s.signIn(c, sess, check.Actor); err != nil {
		return err
	}
	if s.cfg.Require2FA.Requires(check.Actor.Role) {
		return c.Redirect(enrolPath, fiber.StatusSeeOther)
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// pendingSignIn is a sign-in whose password was right, waiting for its second factor.
type pendingSignIn struct {
	staffID int64
	next    string
	account string
}

// pending returns the session's pending sign-in, if there is one younger than the second-factor wait.
func (s *server) pending(c *fiber.Ctx) (pendingSignIn, *session.Session, bool) {
	sess, err := s.sessions.Get(c)
	if err != nil {
		return pendingSignIn{}, nil, false
	}
	id, _ := sess.Get(sessPending).(int64)
	at, _ := sess.Get(sessPendingAt).(int64)
	if id == 0 || time.Since(time.Unix(at, 0)) > s.cfg.SecondFactorWait {
		return pendingSignIn{}, sess, false
	}
	next, _ := sess.Get(sessPendingNext).(string)
	account, _ := sess.Get(sessPendingKey).(string)
	return pendingSignIn{staffID: id, next: safeNext(next), account: account}, sess, true
}

// secondFactorForm asks for the code of a pending sign-in; without one (or past its five minutes) it sends
// the visitor back to /login.
func (s *server) secondFactorForm(c *fiber.Ctx) error {
	if _, _, ok := s.pending(c); !ok {
		return c.Redirect("/login?expired=1", fiber.StatusSeeOther)
	}
	return s.renderPage(c, fiber.StatusOK, "login_2fa", "Enter your code", fiber.Map{"CSRF": csrfToken(c)})
}

// secondFactor checks the code of a pending sign-in and, when it is right, signs in (a new session again) and
// goes on to the page first asked for.
func (s *server) secondFactor(c *fiber.Ctx) error {
	p, sess, ok := s.pending(c)
	if !ok {
		return c.Redirect("/login?expired=1", fiber.StatusSeeOther)
	}
	client := c.IP()
	page := func(status int, msg string) error {
		return s.renderPage(c, status, "login_2fa", "Enter your code", fiber.Map{"CSRF": csrfToken(c),
			"Errors": map[string]string{"code": msg}})
	}
	if wait := s.throttle.wait(client, p.account); wait > 0 {
		return s.tooManySignIns(c, wait, page)
	}
	a, err := s.deps.Accounts.VerifySecondFactor(c.UserContext(), p.staffID, c.FormValue("code"), client)
	switch {
	case errors.Is(err, crm.ErrCodeRefused):
		s.throttle.failed(client, p.account)
		s.deps.Metrics.signInFailed(signInWrongCode)
		s.log.Info("second factor refused", "request_id", requestID(c), "staff", p.staffID)
		if errors.Is(err, crm.ErrCodeReused) {
			return page(fiber.StatusUnauthorized, msgReusedCode)
		}
		return page(fiber.StatusUnauthorized, msgWrongCode)
	case errors.Is(err, crm.ErrSignInLocked), errors.Is(err, crm.ErrUnauthenticated):
		if err := sess.Destroy(); err != nil {
			return err
		}
		if errors.Is(err, crm.ErrSignInLocked) {
			return c.Redirect("/login?locked=1", fiber.StatusSeeOther)
		}
		return c.Redirect("/login", fiber.StatusSeeOther)
	case err != nil:
		return err
	}
	s.throttle.succeeded(client, p.account)
	if err := sess.Reset(); err != nil {
		return err
	}
	if err := s.signIn(c, sess, a); err != nil {
		return err
	}
	return c.Redirect(p.next, fiber.StatusSeeOther)
}

// newSession replaces the visitor's session by an empty one under a new ID: whatever was in it before,
// including its CSRF token, is gone (session fixation, CVE-2024-38513).
func (s *server) newSession(c *fiber.Ctx) (*session.Session, error) {
	sess, err := s.sessions.Get(c)
	if err != nil {
		return nil, err
	}
	if err := sess.Reset(); err != nil {
		return nil, err
	}
	return sess, nil
}

// signIn marks sess (new since the password was checked) signed in as a, records the session for the account
// (startStaffSession), and saves it.
func (s *server) signIn(c *fiber.Ctx, sess *session.Session, a crm.Actor) error {
	if err := s.startStaffSession(c, sess, a); err != nil {
		return err
	}
	if err := sess.Save(); err != nil {
		return err
	}
	s.log.Info("signed in", "request_id", requestID(c), "staff", a.ID)
	return nil
}

// tooManySignIns answers a throttled client 429 with Retry-After, on the page it was using.
func (s *server) tooManySignIns(c *fiber.Ctx, wait time.Duration, page func(int, string) error) error {
	minutes := int(math.Ceil(wait.Minutes()))
	s.deps.Metrics.signInFailed(signInThrottled)
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	s.log.Warn("sign-in throttled", "request_id", requestID(c))
	msg := "Too many failed attempts from your connection. Please wait " + strconv.Itoa(minutes) + " minutes and try again, or ask an administrator."
	if minutes == 1 {
		msg = "Too many failed attempts from your connection. Please wait a minute and try again."
	}
	return page(fiber.StatusTooManyRequests, msg)
}
