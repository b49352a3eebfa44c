package web

import (
	"html/template"
	"strings"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/frontdesk/frontdesk/intake/screening"
	"github.com/gofiber/fiber/v2"
	"github.com/nyaruka/phonenumbers"
)

// renderPage renders the named template with the fields every page needs. The template is executed into a
// buffer before anything is sent, so a failing template yields a clean 500 rather than half a page.
func (s *server) renderPage(c *fiber.Ctx, status int, name, title string, data fiber.Map) error {
	if data == nil {
		data = fiber.Map{}
	}
	data["Title"] = title
	data["Clinic"] = s.cfg.ClinicName
	data["ClinicPhone"] = s.cfg.ClinicPhone
	data["ClinicEmail"] = s.cfg.ClinicEmail
	data["ClinicTel"] = crm.TelURI(s.cfg.ClinicPhone) // for tel: links to the clinic ("" when it has no digits)
	data["Logo"] = s.cfg.Logo.Src()
	data["Path"] = c.Path()
	data["FrameOrigins"] = s.frameOrigins(c) // embed.go: a patient page tells the clinic's page its height
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).Render(name, data)
}

// Labels. Every code a person might read on a staff page goes through one of these template functions, so
// that pages show plain English ("Assignment notice to staff", "Normal", "07700 900123"), never the stored
// code. A code no table knows (one added later, say) is still shown as words: humanise turns "staff_foo" into
// "Staff foo" rather than letting the underscore reach the page.

// mailKindLabels name each kind of email as the outbox page shows it.
var mailKindLabels = map[crm.MailKind]string{
	crm.MailConfirmation:  "Confirmation to the patient",
	crm.MailNewEnquiry:    "New enquiry notice to staff",
	crm.MailAssigned:      "Assignment notice to staff",
	crm.MailOverdue:       "Overdue reminder to staff",
	crm.MailUrgent:        "Urgent (risk) notice to staff",
	crm.MailPasswordReset: "Password reset link to staff",
	// Webhook events go to the clinic's other tools (FRONTDESK_WEBHOOK_URL), not to a person.
	crm.WebhookCreated:       "Webhook: enquiry received",
	crm.WebhookStatusChanged: "Webhook: enquiry moved",
	crm.WebhookAssigned:      "Webhook: enquiry assigned",
	crm.WebhookFlagged:       "Webhook: enquiry flagged",
}

// priorityLabels name the priorities (crm.Priorities).
var priorityLabels = map[string]string{"low": "Low", "normal": "Normal", "high": "High", "urgent": "Urgent"}

// eventLabels name a timeline event of a kind the enquiry page has no sentence for.
var eventLabels = map[string]string{
	"created": "received the enquiry", "status": "moved it", "assigned": "assigned it", "note": "added a note",
	"reminder": "sent a reminder", "priority": "set the priority", "erased": "erased the patient's personal data",
	"flagged": "flagged it", "screening": "received screening answers", "undone": "undid a move",
}

// humanise shows an unknown code as words: "staff_foo" → "Staff foo".
func humanise(code string) string {
	s := strings.TrimSpace(strings.ReplaceAll(code, "_", " "))
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func mailKindLabel(k crm.MailKind) string {
	if l, ok := mailKindLabels[k]; ok {
		return l
	}
	return humanise(string(k))
}

func priorityLabel(p string) string {
	if l, ok := priorityLabels[p]; ok {
		return l
	}
	return humanise(p)
}

func eventLabel(kind string) string {
	if l, ok := eventLabels[kind]; ok {
		return l
	}
	return strings.ToLower(humanise(kind))
}

// screeningSourceLabel names what raised a flag or was answered: a questionnaire ("phq9" → "PHQ-9"), one of its
// items ("phq9 item 9" → "PHQ-9 item 9"), a safety question (by its staff wording), or the message.
func screeningSourceLabel(code string) string {
	cat := screening.Default()
	id, item, hasItem := strings.Cut(code, " item ")
	if in, ok := cat.Instrument(id); ok {
		if hasItem {
			return in.Short + " item " + item
		}
		return in.Short
	}
	if q, ok := cat.SafetyQuestion(code); ok && q.Staff != "" {
		return q.Staff
	}
	switch code {
	case "message":
		return "words in the message"
	case "safety":
		return "safety questions"
	}
	return strings.ToLower(humanise(code))
}

// screeningReasonLabel words a "flagged" or "screening" timeline event's reason: "risk: phq9 item 9,
// self_harm_thoughts; review: liver_disease" → "risk: PHQ-9 item 9, …; review: …"; "phq9, safety" →
// "PHQ-9, safety questions".
func screeningReasonLabel(reason string) string {
	parts := strings.Split(reason, "; ")
	for i, part := range parts {
		prefix, list, ok := strings.Cut(part, ": ")
		if !ok {
			prefix, list = "", part
		} else {
			prefix += ": "
		}
		items := strings.Split(list, ", ")
		for j, it := range items {
			items[j] = screeningSourceLabel(strings.TrimSpace(it))
		}
		parts[i] = prefix + strings.Join(items, ", ")
	}
	return strings.Join(parts, "; ")
}

// phoneLabel shows an E.164 number as staff dial it: UK numbers in national form ("+447700900123" →
// "07700 900123"), others in international form ("+1 415-555-2671"); anything unparsable as stored.
func phoneLabel(e164 string) string {
	n, err := phonenumbers.Parse(e164, "GB")
	if err != nil {
		return e164
	}
	// By country code, not region: the numbers Ofcom keeps for drama and tests (07700 900xxx) are in no region.
	if n.GetCountryCode() == 44 {
		return phonenumbers.Format(n, phonenumbers.NATIONAL)
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

// treatmentLabels names a list of treatment codes: "adhd, ptsd" → "ADHD, PTSD".
func treatmentLabels(codes []string) string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = intake.Label(intake.Treatments, c)
	}
	return strings.Join(out, ", ")
}

// labelFuncs are the label template functions (added to the engine beside templateFuncs).
func (s *server) labelFuncs() template.FuncMap {
	return template.FuncMap{
		"mailKindLabel":        mailKindLabel,
		"outboxStatusLabel":    s.outboxStatusLabel,
		"priorityLabel":        priorityLabel,
		"eventLabel":           eventLabel,
		"screeningReasonLabel": screeningReasonLabel,
		"phone":                phoneLabel,
		"treatmentLabels":      treatmentLabels,
	}
}

// outboxStatusLabel names where an email stands; with the file transport nothing is sent, so "sent" says
// where it was written instead.
func (s *server) outboxStatusLabel(st crm.OutboxStatus) string {
	switch st {
	case crm.OutboxQueued:
		return "Queued"
	case crm.OutboxSent:
		if s.cfg.MailFileDir != "" {
			return "Written to a file"
		}
		return "Sent"
	case crm.OutboxFailed:
		return "Failed"
	}
	return humanise(string(st))
}
