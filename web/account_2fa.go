package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"image/png"
	"strings"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/gofiber/fiber/v2"
	"github.com/pquerna/otp"
)

// qrSize is the QR code's width and height in pixels.
const qrSize = 240

// twoFactorPage shows the actor's second factor: the enrolment (QR code, secret, code field) when they have
// none, their status and a way to replace their recovery codes when they have one.
func (s *server) twoFactorPage(c *fiber.Ctx) error {
	return s.twoFactorPageWith(c, fiber.StatusOK, nil)
}

func (s *server) twoFactorPageWith(c *fiber.Ctx, status int, errs map[string]string) error {
	a := actor(c)
	data := fiber.Map{"Errors": errs, "Required": s.cfg.Require2FA.Requires(a.Role)}
	if a.SecondFactor {
		st, err := s.deps.Accounts.TwoFactorStatus(c.UserContext(), a)
		if err != nil {
			return err
		}
		data["Status"] = st
		return s.staffPage(c, status, "account_2fa", "Two-factor sign-in", data)
	}
	e, err := s.enrolment(c, a)
	if err != nil {
		return err
	}
	qr, err := qrDataURI(e.URI)
	if err != nil {
		return err
	}
	data["QR"], data["URI"], data["Secret"] = qr, e.URI, groupSecret(e.Secret)
	return s.staffPage(c, status, "account_2fa", "Set up two-factor sign-in", data)
}

// enrolment returns the secret offered to the actor in this session, making one the first time: the same QR
// code is shown again on reload or after a wrong code, so an app that has scanned it keeps working.
func (s *server) enrolment(c *fiber.Ctx, a crm.Actor) (crm.Enrolment, error) {
	sess, err := s.sessions.Get(c)
	if err != nil {
		return crm.Enrolment{}, err
	}
	secret, _ := sess.Get(sessEnrolSecret).(string)
	uri, _ := sess.Get(sessEnrolURI).(string)
	if secret != "" && uri != "" {
		return crm.Enrolment{Secret: secret, URI: uri}, nil
	}
	e, err := s.deps.Accounts.NewEnrolment(a, s.cfg.ClinicName)
	if err != nil {
		return crm.Enrolment{}, err
	}
	sess.Set(sessEnrolSecret, e.Secret)
	sess.Set(sessEnrolURI, e.URI)
	return e, sess.Save()
}

// enrol checks the code against the secret offered in this session and, when it matches, makes it the
// actor's second factor and shows the ten recovery codes, once.
func (s *server) enrol(c *fiber.Ctx) error {
	a := actor(c)
	if a.SecondFactor {
		return c.Redirect(enrolPath, fiber.StatusSeeOther)
	}
	sess, err := s.sessions.Get(c)
	if err != nil {
		return err
	}
	secret, _ := sess.Get(sessEnrolSecret).(string)
	if secret == "" {
		return c.Redirect(enrolPath, fiber.StatusSeeOther)
	}
	codes, err := s.deps.Accounts.Enrol(c.UserContext(), a, secret, c.FormValue("code"))
	var invalid crm.InputError
	switch {
	case errors.As(err, &invalid):
		return s.twoFactorPageWith(c, fiber.StatusUnprocessableEntity, invalid)
	case errors.Is(err, crm.ErrConflict):
		return c.Redirect(enrolPath, fiber.StatusSeeOther)
	case err != nil:
		return err
	}
	sess.Delete(sessEnrolSecret)
	sess.Delete(sessEnrolURI)
	if err := sess.Save(); err != nil {
		return err
	}
	s.log.Info("second factor enrolled", "request_id", requestID(c), "staff", a.ID)
	return s.recoveryCodesPage(c, codes, true)
}

// newRecoveryCodes replaces the actor's recovery codes, given a current code from their app.
func (s *server) newRecoveryCodes(c *fiber.Ctx) error {
	a := actor(c)
	if !a.SecondFactor {
		return c.Redirect(enrolPath, fiber.StatusSeeOther)
	}
	codes, err := s.deps.Accounts.NewRecoveryCodes(c.UserContext(), a, c.FormValue("code"))
	var invalid crm.InputError
	if errors.As(err, &invalid) {
		return s.twoFactorPageWith(c, fiber.StatusUnprocessableEntity, invalid)
	}
	if err != nil {
		return err
	}
	return s.recoveryCodesPage(c, codes, false)
}

// recoveryCodesPage shows new recovery codes: the only time they are ever shown.
func (s *server) recoveryCodesPage(c *fiber.Ctx, codes []string, enrolled bool) error {
	next := defaultNext
	if !enrolled {
		next = enrolPath
	}
	return s.staffPage(c, fiber.StatusOK, "recovery_codes", "Save your recovery codes", fiber.Map{
		"Codes": codes, "Enrolled": enrolled, "Next": next,
	})
}

// qrDataURI draws uri as a QR code, on the server, as a PNG data: URI for an <img> (the CSP allows data:
// images; no external service sees the secret).
func qrDataURI(uri string) (template.URL, error) {
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return "", fmt.Errorf("read otpauth URI: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return "", fmt.Errorf("draw QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("encode QR code: %w", err)
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

// groupSecret shows a base32 secret in groups of four, easier to type into an app by hand.
func groupSecret(secret string) string {
	var groups []string
	for len(secret) > 4 {
		groups = append(groups, secret[:4])
		secret = secret[4:]
	}
	return strings.Join(append(groups, secret), " ")
}
