package web

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/gofiber/fiber/v2"
)

// users lists the staff accounts, with forms to add one and to change role, treatments or access.
func (s *server) users(c *fiber.Ctx) error {
	return s.usersPage(c, fiber.StatusOK, nil, fiber.Map{})
}

func (s *server) usersPage(c *fiber.Ctx, status int, errs crm.InputError, values fiber.Map) error {
	staff, err := s.deps.Accounts.List(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	if values["role"] == nil || values["role"] == "" {
		// The form starts at the least privilege: an administrator is made on purpose, never by a slip.
		values["role"] = string(crm.RoleClinician)
	}
	return s.staffPage(c, status, "admin_users", "Staff", fiber.Map{
		"Staff": staff, "Roles": crm.Roles, "Treatments": intake.Treatments, "Errors": errs, "Values": values,
	})
}

// addUser creates an account (fields email, name, role, treatments (repeated), password).
func (s *server) addUser(c *fiber.Ctx) error {
	n := crm.NewStaff{
		Email: c.FormValue("email"), Name: c.FormValue("name"), Role: crm.Role(c.FormValue("role")),
		Treatments: formValues(c, "treatments"), Password: c.FormValue("password"),
	}
	st, err := s.deps.Accounts.Create(c.UserContext(), actor(c), n)
	var invalid crm.InputError
	if errors.As(err, &invalid) {
		return s.usersPage(c, fiber.StatusUnprocessableEntity, invalid, fiber.Map{
			"email": n.Email, "name": n.Name, "role": string(n.Role), "treatments": n.Treatments,
		})
	}
	if err != nil {
		return err
	}
	s.flash(c, "Account created for "+st.Name+".")
	return c.Redirect("/admin/users", fiber.StatusSeeOther)
}

// updateUser changes an account (fields email, role, treatments (repeated), and action enable/disable).
func (s *server) updateUser(c *fiber.Ctx) error {
	var u crm.StaffUpdate
	switch c.FormValue("action") {
	case "disable":
		t := true
		u.Disabled = &t
	case "enable":
		f := false
		u.Disabled = &f
	default:
		role := crm.Role(c.FormValue("role"))
		treatments := formValues(c, "treatments")
		u.Role, u.Treatments = &role, &treatments
	}
	st, err := s.deps.Accounts.Update(c.UserContext(), actor(c), c.FormValue("email"), u)
	var invalid crm.InputError
	if errors.As(err, &invalid) {
		return s.usersPage(c, fiber.StatusUnprocessableEntity, invalid, fiber.Map{})
	}
	if err != nil {
		return err
	}
	s.flash(c, "Account of "+st.Name+" updated.")
	return c.Redirect("/admin/users", fiber.StatusSeeOther)
}

// sendPasswordReset emails an account a single-use link to choose a new password (field email).
func (s *server) sendPasswordReset(c *fiber.Ctx) error {
	st, err := s.deps.Accounts.SendPasswordReset(c.UserContext(), actor(c), c.FormValue("email"))
	var invalid crm.InputError
	if errors.As(err, &invalid) {
		return s.usersPage(c, fiber.StatusUnprocessableEntity, invalid, fiber.Map{})
	}
	if err != nil {
		return err
	}
	s.flash(c, "A link to choose a new password was emailed to "+st.Email+". It works once, for one hour.")
	return c.Redirect("/admin/users", fiber.StatusSeeOther)
}

// signOutEverywhere ends every session and token of an account (admins).
func (s *server) signOutEverywhere(c *fiber.Ctx) error {
	st, err := s.deps.Accounts.SignOutEverywhere(c.UserContext(), actor(c), c.FormValue("email"))
	var invalid crm.InputError
	if errors.As(err, &invalid) {
		return s.usersPage(c, fiber.StatusUnprocessableEntity, invalid, fiber.Map{})
	}
	if err != nil {
		return err
	}
	s.flash(c, st.Name+" was signed out everywhere, and their API tokens revoked.")
	return c.Redirect("/admin/users", fiber.StatusSeeOther)
}

// signOutEveryone ends every session of every account but this one (admins).
func (s *server) signOutEveryone(c *fiber.Ctx) error {
	sess, err := s.sessions.Get(c)
	if err != nil {
		return err
	}
	n, err := s.deps.Accounts.SignOutEveryone(c.UserContext(), actor(c), sess.ID())
	if err != nil {
		return err
	}
	s.flash(c, fmt.Sprintf("Every other session was ended: %d %s. Everyone signs in again; API tokens still work.",
		n, plural(n, "session", "sessions")))
	return c.Redirect("/admin/users", fiber.StatusSeeOther)
}

// resetSecondFactor removes an account's second factor (a lost phone) and ends its access (admins).
func (s *server) resetSecondFactor(c *fiber.Ctx) error {
	email := c.FormValue("email")
	_, err := s.deps.Accounts.ResetSecondFactor(c.UserContext(), actor(c), email)
	var invalid crm.InputError
	if errors.As(err, &invalid) {
		return s.usersPage(c, fiber.StatusUnprocessableEntity, invalid, fiber.Map{})
	}
	if err != nil {
		return err
	}
	s.flash(c, "Two-factor sign-in was reset for "+strings.ToLower(strings.TrimSpace(email))+
		": they were signed out everywhere, and set up a new authenticator app at their next sign-in.")
	return c.Redirect("/admin/users", fiber.StatusSeeOther)
}

// formValues returns every value of a repeated form field (checkboxes).
func formValues(c *fiber.Ctx, name string) []string {
	var out []string
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		if string(k) == name {
			out = append(out, string(v))
		}
	})
	if mf, err := c.MultipartForm(); err == nil && mf != nil {
		out = append(out, mf.Value[name]...)
	}
	return out
}

// audit shows who read or changed what, newest first.
func (s *server) audit(c *fiber.Ctx) error {
	q := crm.AuditQuery{Reference: c.Query("ref"), Action: c.Query("action"), Cursor: c.Query("cursor"), Limit: 100}
	if id, err := strconv.ParseInt(c.Query("actor"), 10, 64); err == nil {
		q.ActorID = id
	}
	entries, next, err := s.deps.Workspace.Audit(c.UserContext(), actor(c), q)
	var invalid crm.InputError
	if errors.As(err, &invalid) {
		entries, next, err = s.deps.Workspace.Audit(c.UserContext(), actor(c), crm.AuditQuery{Limit: 100})
	}
	if err != nil {
		return err
	}
	staff, err := s.deps.Accounts.List(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	nextURL := ""
	if next != "" {
		nextURL = "/admin/audit?" + url.Values{"cursor": {next}, "ref": {q.Reference}, "action": {q.Action},
			"actor": {c.Query("actor")}}.Encode()
	}
	return s.staffPage(c, fiber.StatusOK, "admin_audit", "Audit log", fiber.Map{
		"Entries": entries, "NextURL": nextURL, "Query": q, "Actions": crm.AuditActions, "Staff": staff,
	})
}
