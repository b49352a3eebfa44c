package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/gofiber/fiber/v2"
)

// newFormKey returns a random key for the hidden idempotency field of a fresh form.
func newFormKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validKey reports whether an idempotency key is one we accept: 1 to 255 visible ASCII characters.
func validKey(k string) bool {
	if len(k) == 0 || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// enquiryFormData is what the enquiry form template shows: the answers (sub) with errs beside their fields and,
// when there are errors, the error summary (Summary), in form order, each line linking to its field.
func (s *server) enquiryFormData(sub intake.Submission, errs intake.ValidationErrors, key string) fiber.Map {
	dob := sub.DOB
	if dob.Empty() && len(sub.DateOfBirth) == len("2006-01-02") {
		// A clinic's own page may post date_of_birth as one field: shown again, it fills the three.
		dob = intake.DateParts{Year: sub.DateOfBirth[:4], Month: sub.DateOfBirth[5:7], Day: sub.DateOfBirth[8:]}
	}
	faulty := map[string]bool{}
	if errs["date_of_birth"] != "" {
		_, _, parts := dob.Check()
		if len(parts) == 0 { // the date is one, but not acceptable (in the future, under 18): all three
			parts = []string{intake.PartDay, intake.PartMonth, intake.PartYear}
		}
		for _, p := range parts {
			faulty[p] = true
		}
	}
	var summary []errorLink
	for _, f := range errs.Fields() {
		summary = append(summary, errorLink{Href: "#" + errorTarget(f, faulty), Text: fieldLabels[f] + ": " + errs[f]})
	}
	return fiber.Map{
		"Values":         sub,
		"Errors":         errs,
		"Summary":        summary,
		"DOB":            dob,
		"DOBFaulty":      faulty,
		"Key":            key,
		"Treatments":     intake.Treatments,
		"Referrals":      intake.ReferralSources,
		"Contacts":       intake.ContactPreferences,
		"FirstContact":   s.cfg.FirstContactHours,
		"PrivacyVersion": intake.PrivacyNoticeVersion,
	}
}

// errorTarget is the id of the control the error summary's line for field leads to: the field itself, the
// first radio button of a choice, the first wrong part of the date of birth, or the form for the hidden
// campaign fields.
func errorTarget(field string, dobFaulty map[string]bool) string {
	switch field {
	case "preferred_contact":
		return "preferred_contact-" + intake.ContactPreferences[0].Value
	case "date_of_birth":
		for _, p := range []string{intake.PartDay, intake.PartMonth, intake.PartYear} {
			if dobFaulty[p] {
				return "dob_" + p
			}
		}
		return "dob_day"
	case "utm_source", "utm_medium", "utm_campaign":
		return "enquiry-form"
	}
	return field
}

// fieldLabels names each field as the form labels it, for the error summary.
var fieldLabels = map[string]string{
	"name": "Your name", "email": "Email address", "phone": "Phone number", "preferred_contact": "How to contact you",
	"treatment": "Treatment", "message": "Your message", "date_of_birth": "Date of birth",
	"referral_source": "How you heard about us", "consent": "Agreement", "utm_source": "Campaign source",
	"utm_medium": "Campaign medium", "utm_campaign": "Campaign", "ok_to_leave_message": "Voicemail or text message",
}

// enquireForm shows an empty form. Links from a clinic's pages may preselect the treatment (?treatment=adhd) and
// carry campaign tags (utm_source, utm_medium, utm_campaign), kept in hidden fields.
func (s *server) enquireForm(c *fiber.Ctx) error {
	sub := intake.Submission{
		PreferredContact: "either",
		UTMSource:        c.Query("utm_source"),
		UTMMedium:        c.Query("utm_medium"),
		UTMCampaign:      c.Query("utm_campaign"),
	}
	if t := c.Query("treatment"); t != "" && intake.Label(intake.Treatments, t) != t {
		sub.Treatment = t
	}
	return s.renderPage(c, fiber.StatusOK, "enquire", "Enquire about treatment", s.enquiryFormData(sub, nil, newFormKey()))
}

// enquireSubmit takes the posted form: invalid → 422 with the form shown again, each error beside its field and
// the answers kept; valid → 303 to the thanks page. It needs no CSRF token, so a clinic's own page may post here.
func (s *server) enquireSubmit(c *fiber.Ctx) error {
	sub := intake.FromForm(func(name string) string { return c.FormValue(name) })
	key := c.FormValue("idempotency_key")
	if !validKey(key) {
		key = ""
	}
	rec, err := s.deps.Intake.SubmitForm(c.UserContext(), sub, key)
	var invalid intake.ValidationErrors
	if errors.As(err, &invalid) {
		if key == "" {
			key = newFormKey()
		}
		// "Error: " first, as GOV.UK does: the title is what a screen reader announces of the new page.
		return s.renderPage(c, fiber.StatusUnprocessableEntity, "enquire", "Error: Enquire about treatment",
			s.enquiryFormData(sub, invalid, key))
	}
	if errors.Is(err, crm.ErrUnavailable) {
		return s.enquiryNotSent(c, sub, key, err)
	}
	if err != nil {
		return err
	}
	noteIntakeOutcome(c, sub, rec)
	if rec.ScreeningToken != "" { // a replay keeps the first answer's cookie
		s.setScreeningCookie(c, rec.ScreeningToken)
	}
	return c.Redirect("/enquire/thanks?ref="+url.QueryEscape(rec.Reference), fiber.StatusSeeOther)
}

// enquiryNotSent answers a valid enquiry the database could not store (disk full, read-only, I/O error): 503
// with Retry-After and the form shown again with everything the patient typed, under a banner that says the
// enquiry was NOT sent and to try again in a few minutes or phone the clinic. The idempotency key is kept, so
// sending again cannot store it twice.
func (s *server) enquiryNotSent(c *fiber.Ctx, sub intake.Submission, key string, err error) error {
	s.log.Error("enquiry not stored: the database cannot take writes", "request_id", requestID(c), "error", err)
	if key == "" {
		key = newFormKey()
	}
	data := s.enquiryFormData(sub, nil, key)
	data["NotSent"] = true
	c.Set(fiber.HeaderRetryAfter, retryAfterUnavailable)
	return s.renderPage(c, fiber.StatusServiceUnavailable, "enquire", "Your enquiry was not sent", data)
}

// enquireThanks confirms the enquiry and shows its reference. When the screening cookie's token belongs to
// that enquiry, it also repeats the email address given (so a typo is seen), leads with the crisis help if the
// enquiry is flagged risk, offers the booking page (FRONTDESK_BOOKING_URL) if it is not, and invites the
// patient to the questionnaires while the link works; without the
// cookie (or for another reference) it is the plain page, which shows no address: a reference is not a secret.
func (s *server) enquireThanks(c *fiber.Ctx) error {
	ref, _ := intake.ParseReference(c.Query("ref"))
	data := fiber.Map{
		"Reference":    ref,
		"FirstContact": s.cfg.FirstContactHours,
	}
	var received time.Time
	var riskAt *time.Time
	if token := c.Cookies(screeningCookie); token != "" && ref != "" && s.deps.Screening != nil {
		// The page may hold the link's token: it is not cached, and links from it tell no other site about it.
		privateLinkHeaders(c)
		th, err := s.deps.Screening.Thanks(c.UserContext(), token)
		switch {
		case err == nil && th.Reference == ref:
			data["Risk"], received, riskAt = th.Risk, th.Received, th.RiskAt
			// Repeated so that a mistyped address is noticed; only this browser holds the cookie, and the
			// reference alone never shows it.
			data["Email"] = th.Email
			data["UrgentContact"] = s.cfg.UrgentContactHours
			if th.Invite {
				data["ScreeningLink"] = screeningPath + token
			}
			if !th.Risk {
				// A patient flagged risk (by an answer or by the words of the message) is called by a person,
				// never sent to book themselves.
				data["BookingLink"] = crm.BookingLink(s.cfg.BookingURL, ref)
			}
		case err != nil && !errors.Is(err, crm.ErrScreeningLinkGone):
			return err
		}
	}
	if s.cfg.OpeningHours != nil {
		// Counted from the enquiry's own times when this browser sent it (the page may be shown again after the
		// questionnaires, hours or days later); otherwise the page follows the enquiry within seconds.
		if received.IsZero() {
			received = time.Now()
		}
		data["ContactBy"] = s.contactBy(received, riskAt)
	}
	return s.renderPage(c, fiber.StatusOK, "thanks", "Thank you — we have your enquiry", data)
}

// contactBy is when first contact is due for an enquiry sent at sent and flagged risk at riskAt (nil when it
// is not), counted in the clinic's opening hours, as the confirmation email states it.
func (s *server) contactBy(sent time.Time, riskAt *time.Time) time.Time {
	t := crm.Targets{FirstContact: time.Duration(s.cfg.FirstContactHours) * time.Hour,
		Urgent: time.Duration(s.cfg.UrgentContactHours) * time.Hour, Hours: s.cfg.OpeningHours}
	return t.Due(sent, riskAt)
}

// privacy shows the privacy notice whose version each consent records.
func (s *server) privacy(c *fiber.Ctx) error {
	data := s.privacyNotice()
	data["Version"] = intake.PrivacyNoticeVersion
	data["ICONumber"] = s.cfg.ICONumber
	return s.renderPage(c, fiber.StatusOK, "privacy", "Privacy notice", data)
}
