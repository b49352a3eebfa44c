package web

import (
	"encoding/json"
	"errors"
	"mime"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/gofiber/fiber/v2"
)

// staffJSON is a member of staff as the API shows them.
type staffJSON struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

func staffRefJSON(r *crm.StaffRef) *staffJSON {
	if r == nil {
		return nil
	}
	return &staffJSON{Email: r.Email, Name: r.Name}
}

// enquiryJSON is an enquiry as the staff API shows it (the README's fields, and a few more).
type enquiryJSON struct {
	Reference        string     `json:"reference"`
	Status           string     `json:"status"`
	Name             string     `json:"name"`
	Email            string     `json:"email"`
	Phone            string     `json:"phone"`
	PreferredContact string     `json:"preferred_contact"`
	Treatment        string     `json:"treatment"`
	Message          string     `json:"message"`
	DateOfBirth      string     `json:"date_of_birth"`
	ReferralSource   string     `json:"referral_source"`
	OKToLeaveMessage bool       `json:"ok_to_leave_message"`
	UTMSource        string     `json:"utm_source"`
	UTMMedium        string     `json:"utm_medium"`
	UTMCampaign      string     `json:"utm_campaign"`
	Assignee         *staffJSON `json:"assignee"`
	Priority         string     `json:"priority"`
	Overdue          bool       `json:"overdue"`
	CreatedAt        string     `json:"created_at"`
	FirstContactDue  string     `json:"first_contact_due"`
	FirstContactedAt *string    `json:"first_contacted_at"`
	CloseReason      string     `json:"close_reason,omitempty"`
	Related          string     `json:"related_reference,omitempty"`
	ConsentAt        string     `json:"consent_at"`
	ConsentVersion   string     `json:"consent_version"`
	Version          int64      `json:"version"`
	// Flags is always a list: "risk", "review".
	Flags []string `json:"flags"`
	// Screening is always an object: each questionnaire's score, with the answers for those who may see them.
	Screening screeningJSON `json:"screening"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := rfc3339(*t)
	return &s
}

func toEnquiryJSON(e crm.Enquiry) enquiryJSON {
	return enquiryJSON{
		Reference: e.Reference, Status: string(e.Status), Name: e.Name, Email: e.Email, Phone: e.Phone,
		PreferredContact: e.PreferredContact, Treatment: e.Treatment, Message: e.Message, DateOfBirth: e.DateOfBirth,
		ReferralSource: e.ReferralSource, OKToLeaveMessage: e.OKToLeaveMessage, UTMSource: e.UTMSource, UTMMedium: e.UTMMedium, UTMCampaign: e.UTMCampaign,
		Assignee: staffRefJSON(e.Assignee), Priority: e.Priority, Overdue: e.Overdue,
		CreatedAt: rfc3339(e.CreatedAt), FirstContactDue: rfc3339(e.FirstContactDue),
		FirstContactedAt: optTime(e.FirstContactedAt), CloseReason: e.CloseReason, Related: e.Related,
		ConsentAt: rfc3339(e.ConsentAt), ConsentVersion: e.ConsentVersion, Version: e.Version,
		Flags: e.Flags(), Screening: screeningJSON{},
	}
}

// screeningJSON is an enquiry's screening in the API: {"phq9":{"total":8,"band":"mild"}, …}, with "answers" in
// each questionnaire and "safety":{"answers":{key:bool}} only for those who may see answers.
type screeningJSON map[string]any

type questionnaireJSON struct {
	Total   int    `json:"total"`
	Band    string `json:"band"`
	Answers []int  `json:"answers,omitempty"`
}

type safetyJSON struct {
	Answers map[string]bool `json:"answers"`
}

func toScreeningJSON(s crm.ScreeningSummary) screeningJSON {
	out := screeningJSON{}
	for _, q := range s.Questionnaires {
		v := questionnaireJSON{Total: q.Total, Band: q.Band.Name}
		if q.Answers != nil {
			v.Answers = make([]int, len(q.Answers))
			for i, a := range q.Answers {
				v.Answers[i] = a.Value
			}
		}
		out[q.Instrument.ID] = v
	}
	if s.Safety != nil {
		answers := map[string]bool{}
		for _, a := range s.Safety.Answers {
			answers[a.Key] = a.Yes
		}
		out[crm.SafetyInstrument] = safetyJSON{Answers: answers}
	}
	return out
}

// withScreening turns enquiries into their JSON with their screening as the actor may see it (which records a
// view of answers, when there are any).
func (s *server) withScreening(c *fiber.Ctx, es []crm.Enquiry) ([]enquiryJSON, error) {
	scr, err := s.deps.Workspace.Screening(c.UserContext(), actor(c), es)
	if err != nil {
		return nil, err
	}
	out := make([]enquiryJSON, len(es))
	for i, e := range es {
		out[i] = toEnquiryJSON(e)
		out[i].Screening = toScreeningJSON(scr[e.ID])
	}
	return out, nil
}

// decodeBody reads a JSON request body into dst: 415 when it is not JSON, 400 when it is malformed.
func decodeBody(c *fiber.Ctx, dst any) error {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != fiber.MIMEApplicationJSON {
		return errClient(fiber.StatusUnsupportedMediaType, "Send JSON with Content-Type: application/json.")
	}
	if err := json.Unmarshal(c.Body(), dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return crm.InputError{typeErr.Field: typeErr.Field + " has the wrong type."}
		}
		return errClient(fiber.StatusBadRequest, "The body is not a valid JSON object.")
	}
	return nil
}

// apiListEnquiries is GET /api/v1/enquiries: one page of what the token's account may see, in the listing's
// plain order (newest first; risk-flagged enquiries are not moved to the top: filter with flag=risk for them).
func (s *server) apiListEnquiries(c *fiber.Ctx) error {
	f := listFilter(c)
	f.Limit = c.QueryInt("limit", 0)
	page, err := s.deps.Workspace.List(c.UserContext(), actor(c), f)
	if err != nil {
		return err
	}
	items, err := s.withScreening(c, page.Items)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": page.NextCursor})
}

// apiGetEnquiry is GET /api/v1/enquiries/REF; the read is recorded (and the view of answers, when shown).
func (s *server) apiGetEnquiry(c *fiber.Ctx) error {
	e, err := s.deps.Workspace.Get(c.UserContext(), actor(c), c.Params("ref"))
	if err != nil {
		return err
	}
	out, err := s.withScreening(c, []crm.Enquiry{e})
	if err != nil {
		return err
	}
	return c.JSON(out[0])
}

// apiTransition is POST /api/v1/enquiries/REF/transitions {"to","reason","version"}.
func (s *server) apiTransition(c *fiber.Ctx) error {
	var body struct {
		To      string `json:"to"`
		Reason  string `json:"reason"`
		Version *int64 `json:"version"`
	}
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	version, err := apiVersion(body.Version)
	if err != nil {
		return err
	}
	e, err := s.deps.Workspace.Transition(c.UserContext(), actor(c), c.Params("ref"), crm.Status(body.To), body.Reason, version)
	return s.apiChanged(c, e, err)
}

// apiAssign is POST /api/v1/enquiries/REF/assign {"assignee": email or null, "version"}.
func (s *server) apiAssign(c *fiber.Ctx) error {
	var body struct {
		Assignee *string `json:"assignee"`
		Version  *int64  `json:"version"`
	}
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	version, err := apiVersion(body.Version)
	if err != nil {
		return err
	}
	email := ""
	if body.Assignee != nil {
		email = *body.Assignee
	}
	e, err := s.deps.Workspace.Assign(c.UserContext(), actor(c), c.Params("ref"), email, version)
	return s.apiChanged(c, e, err)
}

// apiPriority is POST /api/v1/enquiries/REF/priority {"priority": low|normal|high|urgent, "version"}.
func (s *server) apiPriority(c *fiber.Ctx) error {
	var body struct {
		Priority string `json:"priority"`
		Version  *int64 `json:"version"`
	}
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	version, err := apiVersion(body.Version)
	if err != nil {
		return err
	}
	e, err := s.deps.Workspace.SetPriority(c.UserContext(), actor(c), c.Params("ref"), body.Priority, version)
	return s.apiChanged(c, e, err)
}

// apiChanged answers a change: the enquiry as changed (with its screening, as a read would show it), 409
// {"error":"conflict"} for a stale version, or the error for the error handler.
func (s *server) apiChanged(c *fiber.Ctx, e crm.Enquiry, err error) error {
	var conflict *crm.ConflictError
	if errors.As(err, &conflict) {
		return s.apiConflict(c, conflict)
	}
	if err != nil {
		return err
	}
	out, err := s.withScreening(c, []crm.Enquiry{e})
	if err != nil {
		return err
	}
	return c.JSON(out[0])
}

// apiAddNote is POST /api/v1/enquiries/REF/notes {"body"} → 201.
func (s *server) apiAddNote(c *fiber.Ctx) error {
	var body struct {
		Body string `json:"body"`
	}
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	n, err := s.deps.Workspace.AddNote(c.UserContext(), actor(c), c.Params("ref"), body.Body)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{
		"id": n.ID, "body": n.Body, "author": staffRefJSON(n.Author), "created_at": rfc3339(n.CreatedAt),
	})
}

// apiTimeline is GET /api/v1/enquiries/REF/timeline: every event, oldest first.
func (s *server) apiTimeline(c *fiber.Ctx) error {
	events, err := s.deps.Workspace.Timeline(c.UserContext(), actor(c), c.Params("ref"))
	if err != nil {
		return err
	}
	type eventJSON struct {
		At       string     `json:"at"`
		Kind     string     `json:"kind"`
		Actor    *staffJSON `json:"actor"`
		From     string     `json:"from,omitempty"`
		To       string     `json:"to,omitempty"`
		Reason   string     `json:"reason,omitempty"`   // for a "priority" event, its priority too until the next release
		Priority string     `json:"priority,omitempty"` // for a "priority" event: the priority set
		Assignee *staffJSON `json:"assignee,omitempty"`
		Note     string     `json:"note,omitempty"`
	}
	out := make([]eventJSON, len(events))
	for i, e := range events {
		out[i] = eventJSON{At: rfc3339(e.At), Kind: e.Kind, Actor: staffRefJSON(e.Actor), From: string(e.From),
			To: string(e.To), Reason: e.Reason, Priority: e.Priority, Assignee: staffRefJSON(e.Assignee), Note: e.Note}
		if e.Kind == "priority" {
			out[i].Reason = e.Priority // where earlier releases put it
		}
	}
	return c.JSON(fiber.Map{"items": out})
}
