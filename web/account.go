package web

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/gofiber/fiber/v2"
)

// account is the signed-in person's own page: their password, second factor, sessions and API tokens.
func (s *server) account(c *fiber.Ctx) error {
	return s.accountPage(c, fiber.StatusOK, fiber.Map{})
}

// sessionView is a session as the account page lists it.
type sessionView struct {
	crm.StaffSession
	Current bool
	Browser string
}

// tokenView is a token as the account page lists it.
type tokenView struct {
	crm.Token
	Active  bool
	Expired bool
}

// accountPage renders /account with data (errors, values, a token just made) added to the lists.
func (s *server) accountPage(c *fiber.Ctx, status int, data fiber.Map) error {
	a := actor(c)
	ctx := c.UserContext()
	sess, err := s.sessions.Get(c)
	if err != nil {
		return err
	}
	current := sess.ID()
	sessions, err := s.deps.Accounts.Sessions(ctx, a, time.Now().Add(-s.cfg.SessionAbsolute))
	if err != nil {
		return err
	}
	sv := make([]sessionView, len(sessions))
	others := 0
	for i, ss := range sessions {
		sv[i] = sessionView{StaffSession: ss, Current: ss.Key == current, Browser: browserName(ss.UserAgent)}
		if !sv[i].Current {
			others++
		}
	}
	tokens, err := s.deps.Accounts.Tokens(ctx, a, a.ID)
	if err != nil {
		return err
	}
	now := time.Now()
	tv := make([]tokenView, len(tokens))
	for i, t := range tokens {
		tv[i] = tokenView{Token: t, Active: t.Active(now), Expired: t.RevokedAt == nil && !now.Before(t.ExpiresAt)}
	}
	data["Sessions"], data["OtherSessions"], data["Tokens"] = sv, others, tv
	if _, ok := data["Values"]; !ok {
		data["Values"] = fiber.Map{"days": strconv.Itoa(s.deps.Accounts.TokenDays())}
	}
	data["MaxTokenDays"] = crm.MaxTokenDays
	return s.staffPage(c, status, "account", "Your account", data)
}

// changePassword sets the person's own password (fields current_password, new_password). Every session of the
// account ends and every token is revoked; this browser is signed in again with a new session.
func (s *server) changePassword(c *fiber.Ctx) error {
	a := actor(c)
	// Read the session before the change ends it: its data (the CSRF token) moves to the new session.
	sess, err := s.sessions.Get(c)
	if err != nil {
		return err
	}
	err = s.deps.Accounts.ChangePassword(c.UserContext(), a, c.FormValue("current_password"), c.FormValue("new_password"))
	var invalid crm.InputError
	if errors.As(err, &invalid) {
		return s.accountPage(c, fiber.StatusUnprocessableEntity, fiber.Map{"Errors": invalid, "Form": "password"})
	}
	if err != nil {
		return err
	}
	if err := sess.Regenerate(); err != nil {
		return err
	}
	if err := s.startStaffSession(c, sess, a); err != nil {
		return err
	}
	sess.Set(sessFlash, "Your password was changed. Every other session of your account was signed out and your API tokens were revoked.")
	if err := sess.Save(); err != nil {
		return err
	}
	s.log.Info("password changed", "request_id", requestID(c), "staff", a.ID)
	return c.Redirect("/account", fiber.StatusSeeOther)
}

// endSession signs out one of the person's other sessions.
func (s *server) endSession(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.ErrNotFound
	}
	if err := s.deps.Accounts.EndSession(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	s.flash(c, "That session was signed out.")
	return c.Redirect("/account", fiber.StatusSeeOther)
}

// endOtherSessions signs out every session of the person but this one.
func (s *server) endOtherSessions(c *fiber.Ctx) error {
	sess, err := s.sessions.Get(c)
	if err != nil {
		return err
	}
	n, err := s.deps.Accounts.EndOtherSessions(c.UserContext(), actor(c), sess.ID())
	if err != nil {
		return err
	}
	msg := "No other session was signed in."
	switch {
	case n == 1:
		msg = "1 other session was signed out."
	case n > 1:
		msg = fmt.Sprintf("%d other sessions were signed out.", n)
	}
	s.flash(c, msg)
	return c.Redirect("/account", fiber.StatusSeeOther)
}

// createOwnToken makes an API token for the person (fields label, days) and shows it, once.
func (s *server) createOwnToken(c *fiber.Ctx) error {
	a := actor(c)
	label, daysText := c.FormValue("label"), strings.TrimSpace(c.FormValue("days"))
	values := fiber.Map{"label": label, "days": daysText}
	days, err := strconv.Atoi(daysText)
	if err != nil || days == 0 {
		errs := crm.InputError{"days": fmt.Sprintf("Give a whole number of days from %d to %d.", crm.MinTokenDays, crm.MaxTokenDays)}
		if strings.TrimSpace(label) == "" {
			errs["label"] = "Give the token a label of 1 to 100 characters, saying where it is used."
		}
		return s.accountPage(c, fiber.StatusUnprocessableEntity, fiber.Map{"Errors": errs, "Values": values, "Form": "token"})
	}
	token, t, err := s.deps.Accounts.IssueToken(c.UserContext(), a, a.Email, label, days)
	var invalid crm.InputError
	if errors.As(err, &invalid) {
		return s.accountPage(c, fiber.StatusUnprocessableEntity, fiber.Map{"Errors": invalid, "Values": values, "Form": "token"})
	}
	if err != nil {
		return err
	}
	s.log.Info("token created", "request_id", requestID(c), "staff", a.ID, "token", t.ID)
	return s.accountPage(c, fiber.StatusOK, fiber.Map{"NewToken": token, "NewTokenRecord": t})
}

// revokeOwnToken revokes one of the person's tokens at once.
func (s *server) revokeOwnToken(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.ErrNotFound
	}
	a := actor(c)
	t, err := s.deps.Accounts.Tokens(c.UserContext(), a, a.ID)
	if err != nil {
		return err
	}
	if !ownsToken(t, id) {
		// Even an administrator revokes others' tokens with the CLI or the API, not from their own page.
		return fiber.ErrNotFound
	}
	if _, err := s.deps.Accounts.RevokeTokenByID(c.UserContext(), a, id); err != nil {
		return err
	}
	s.flash(c, "The token was revoked: it no longer opens the API.")
	return c.Redirect("/account", fiber.StatusSeeOther)
}

func ownsToken(tokens []crm.Token, id int64) bool {
	for _, t := range tokens {
		if t.ID == id {
			return true
		}
	}
	return false
}

// browserName names the browser and system of a User-Agent header briefly ("Firefox on Windows"), or gives the
// header itself, shortened, when it is not recognised.
func browserName(ua string) string {
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
		{"curl/", "curl"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case ua == "":
		return "Unknown browser"
	}
	if r := []rune(ua); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return ua
}
