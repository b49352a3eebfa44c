package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake/screening"
	"github.com/gofiber/fiber/v2"
)

// screeningPath is where a patient's link to the questionnaires lives; the token follows it.
const screeningPath = "/enquire/screening/"

// screeningCookie carries the token of the patient's screening link from POST /enquire (and from the
// questionnaire page) to the thanks page, which then knows it may lead with the crisis help and invite the
// patient to the questionnaires. It lives for an hour, only under /enquire.
const screeningCookie = "fd_screening"

// screeningCookieAge is how long the thanks page recognises the patient's enquiry.
const screeningCookieAge = 3600

// setScreeningCookie hands token to the thanks page (HttpOnly, SameSite=Lax, Secure on an https site; when other
// sites may frame the patient pages, SameSite=None and Partitioned instead: setFramedCookie).
func (s *server) setScreeningCookie(c *fiber.Ctx, token string) {
	if s.framedCookies() { // embed.go: the thanks page may be inside the clinic's own page
		setFramedCookie(c, screeningCookie, token, "/enquire", screeningCookieAge)
		return
	}
	c.Cookie(&fiber.Cookie{Name: screeningCookie, Value: token, Path: "/enquire", MaxAge: screeningCookieAge,
		Secure: s.httpsBase() || s.cfg.SecureCookies, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode})
}

// privateLinkHeaders keep a page whose address carries a secret out of caches and out of other sites'
// Referer headers.
func privateLinkHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderCacheControl, "no-store")
}

// screeningOption is one answer radio button.
type screeningOption struct {
	ID, Value, Label string
	Checked          bool
}

// screeningItem is one question: a fieldset whose legend is the question.
type screeningItem struct {
	Field  string
	Number int
	Legend string
	Hint   string
	Error  string
	// DescribedBy lists the ids of the hint and the error, for the fieldset's aria-describedby.
	DescribedBy string
	// Crisis shows the crisis help beside the question (those about thoughts of self-harm).
	Crisis  bool
	Options []screeningOption
}

// screeningSection is one questionnaire as the page shows it.
type screeningSection struct {
	ID, Title, Attribution, Preamble, Stem string
	Items                                  []screeningItem
}

// errorLink is one line of the error summary: the message, linking to the question's first answer.
type errorLink struct{ Href, Text string }

// screeningView lays out the page for p: each questionnaire, then the safety questions, with the answers given
// (get) kept and errs beside their questions; summary lists the errors in page order.
func screeningView(p crm.ScreeningPage, get func(string) string, errs screening.Errors) (sections []screeningSection, safety []screeningItem, summary []errorLink) {
	note := func(it *screeningItem, where string) {
		var ids []string
		if it.Hint != "" {
			ids = append(ids, it.Field+"-hint")
		}
		if it.Error != "" {
			ids = append(ids, it.Field+"-error")
		}
		it.DescribedBy = strings.Join(ids, " ")
		if it.Error != "" {
			summary = append(summary, errorLink{Href: "#" + it.Options[0].ID,
				Text: fmt.Sprintf("%s, question %d: %s", where, it.Number, it.Error)})
		}
	}
	for _, in := range p.Questionnaires {
		sec := screeningSection{ID: in.ID, Title: in.Title, Attribution: in.Attribution, Preamble: in.Preamble,
			Stem: in.Stem}
		for i, q := range in.Items {
			f := screening.FormField(in.ID, i)
			it := screeningItem{Field: f, Number: i + 1, Legend: q.Text, Error: errs[f],
				Crisis: q.Flag == screening.FlagRisk}
			for _, o := range in.OptionsOf(i) {
				v := strconv.Itoa(o.Value)
				it.Options = append(it.Options, screeningOption{ID: f + "-" + v, Value: v, Label: o.Label,
					Checked: get(f) == v})
			}
			note(&it, in.Short)
			sec.Items = append(sec.Items, it)
		}
		sections = append(sections, sec)
	}
	for i, q := range p.Safety {
		f := screening.SafetyField(q.Key)
		it := screeningItem{Field: f, Number: i + 1, Legend: q.Text, Hint: q.Hint, Error: errs[f],
			Crisis: q.Flag == screening.FlagRisk}
		for _, o := range []struct{ v, label string }{{"yes", "Yes"}, {"no", "No"}} {
			it.Options = append(it.Options, screeningOption{ID: f + "-" + o.v, Value: o.v, Label: o.label,
				Checked: get(f) == o.v})
		}
		note(&it, "Safety")
		safety = append(safety, it)
	}
	return sections, safety, summary
}

// renderScreening shows the questionnaire page; with errs, as 422 with the errors at the top and beside their
// questions. Scores, bands and flags are never shown to the patient.
func (s *server) renderScreening(c *fiber.Ctx, status int, token string, p crm.ScreeningPage,
	get func(string) string, errs screening.Errors) error {
	sections, safety, summary := screeningView(p, get, errs)
	title := "Help us prepare for your call"
	if len(summary) > 0 {
		title = "Error: " + title
	}
	return s.renderPage(c, status, "screening", title, fiber.Map{
		"Action":    screeningPath + token,
		"Reference": p.Reference,
		"Sections":  sections,
		"Safety":    safety,
		"Summary":   summary,
	})
}

// screeningGone answers every link that does not work — unknown, expired, used, or its enquiry erased or spam —
// with the same 410 page, so nobody learns which. The reason goes to the log, never the token.
func (s *server) screeningGone(c *fiber.Ctx, err error) error {
	var le *crm.ScreeningLinkError
	problem := ""
	if errors.As(err, &le) {
		problem = string(le.Problem)
	}
	s.log.LogAttrs(c.UserContext(), slog.LevelInfo, "screening link refused",
		slog.String("request_id", requestID(c)), slog.String("problem", problem))
	return s.renderPage(c, fiber.StatusGone, "screening", "This link no longer works", fiber.Map{"Gone": true})
}

// screeningForm shows the questionnaires of a patient's link (GET /enquire/screening/:token).
func (s *server) screeningForm(c *fiber.Ctx) error {
	token, p, ok, err := s.openScreeningLink(c)
	if !ok {
		return err
	}
	return s.renderScreening(c, fiber.StatusOK, token, p, func(string) string { return "" }, nil)
}

// openScreeningLink opens the link of the request's token for either handler. When it cannot (ok false) the
// answer is already rendered — the 410 page for a link that no longer works — or err says what failed.
func (s *server) openScreeningLink(c *fiber.Ctx) (token string, p crm.ScreeningPage, ok bool, err error) {
	privateLinkHeaders(c)
	token = c.Params("token")
	p, err = s.deps.Screening.Open(c.UserContext(), token)
	if errors.Is(err, crm.ErrScreeningLinkGone) {
		return token, p, false, s.screeningGone(c, err)
	}
	return token, p, err == nil, err
}

// screeningSubmit takes the answers (POST /enquire/screening/:token): a partly answered questionnaire → 422
// with every answer kept and nothing stored; otherwise the answers are stored, the link used up, and the
// patient sent (303) to the thanks page, which leads with the crisis help if the answers raised risk. Nothing
// answered at all stores nothing and leaves the link working.
func (s *server) screeningSubmit(c *fiber.Ctx) error {
	token, p, ok, err := s.openScreeningLink(c)
	if !ok {
		return err
	}
	get := func(name string) string { return c.FormValue(name) }
	answers, errs := screening.Default().FromForm(p.Questionnaires, get)
	if len(errs) > 0 {
		return s.renderScreening(c, fiber.StatusUnprocessableEntity, token, p, get, errs)
	}
	out, err := s.deps.Screening.Submit(c.UserContext(), token, answers)
	if errors.Is(err, crm.ErrScreeningLinkGone) {
		return s.screeningGone(c, err) // used by another submission a moment ago
	}
	if err != nil {
		return err
	}
	s.setScreeningCookie(c, token)
	return c.Redirect("/enquire/thanks?ref="+url.QueryEscape(out.Reference), fiber.StatusSeeOther)
}
