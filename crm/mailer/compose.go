package mailer

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/hours"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/wneessen/go-mail"
)

// ErrEnquiryGone is returned by Compose for a message whose enquiry no longer exists or was erased: nothing is
// sent about it, and the worker marks the message failed.
var ErrEnquiryGone = errors.New("the enquiry no longer exists or was erased")

// ErrLinkGone is returned by Compose for a password reset whose link no longer works (used, or its token
// already forgotten): it is not sent, and the worker marks the message failed.
var ErrLinkGone = errors.New("the password reset link no longer works")

// RenderConfig is what messages need to know of the clinic and its deployment.
type RenderConfig struct {
	Clinic Clinic
	// From is the sender (FRONTDESK_MAIL_FROM); its domain is the right-hand side of every Message-ID.
	From *netmail.Address
	// BaseURL is the public address, without a trailing slash; staff links are BaseURL/enquiries/REF.
	BaseURL string
	// FirstContactHours is the promised time to first contact.
	FirstContactHours int
	// UrgentContactHours is the first-contact target of an enquiry flagged risk, counted from when it was
	// flagged (crm.DefaultUrgentContactHours when 0).
	UrgentContactHours int
	// OpeningHours, when not nil, are the clinic's opening hours (FRONTDESK_OPENING_HOURS): the due time then
	// counts only them, and messages say so (TemplateData.ClinicHours).
	OpeningHours *hours.Schedule
	// Location is the clinic's time zone, for the times written in messages (default UTC).
	Location *time.Location
	// TemplatesDir, when set, is a folder whose files replace the embedded templates of the same name.
	TemplatesDir string
	// BookingURL is the booking page (FRONTDESK_BOOKING_URL) that the confirmation of an enquiry without a risk
	// flag offers, with the reference as ?ref=; empty: none.
	BookingURL string
}

// Renderer turns claimed outbox messages into emails. It is safe for concurrent use.
type Renderer struct {
	cfg    RenderConfig
	tpl    *Templates
	domain string
}

// NewRenderer loads the templates (see LoadTemplates: a broken override is an error naming its file and line)
// and returns the renderer. cfg.From is required.
func NewRenderer(cfg RenderConfig) (*Renderer, error) {
	if cfg.From == nil || cfg.From.Address == "" {
		return nil, errors.New("mail renderer: no sender address")
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.UrgentContactHours <= 0 {
		cfg.UrgentContactHours = crm.DefaultUrgentContactHours
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	cfg.Clinic.PhoneLink = phoneLink(cfg.Clinic.Phone)
	tpl, err := LoadTemplates(cfg.TemplatesDir)
	if err != nil {
		return nil, err
	}
	domain := "localhost"
	if i := strings.LastIndexByte(cfg.From.Address, '@'); i >= 0 && i < len(cfg.From.Address)-1 {
		domain = cfg.From.Address[i+1:]
	}
	return &Renderer{cfg: cfg, tpl: tpl, domain: domain}, nil
}

// Data is the template data of m. It returns ErrEnquiryGone when m's enquiry no longer exists or was erased,
// and ErrLinkGone for a password reset without its token.
func (r *Renderer) Data(m crm.OutboxMessage) (TemplateData, error) {
	if m.Kind == crm.MailPasswordReset {
		if m.LinkToken == "" {
			return TemplateData{}, ErrLinkGone
		}
		return TemplateData{
			Clinic:     r.cfg.Clinic,
			Link:       r.cfg.BaseURL + "/reset/" + m.LinkToken,
			ValidUntil: formatTime(m.CreatedAt.Add(crm.ResetLinkValid).In(r.cfg.Location)),
		}, nil
	}
	e := m.Enquiry
	if e.Reference == "" || e.Erased {
		return TemplateData{}, ErrEnquiryGone
	}
	received := e.ReceivedAt.In(r.cfg.Location)
	oh := r.cfg.OpeningHours
	target := r.cfg.FirstContactHours
	by := oh.Add(received, time.Duration(target)*time.Hour).In(r.cfg.Location)
	risk := !e.RiskAt.IsZero()
	if risk {
		// The urgent target counts from the flag, and is never later than the ordinary one.
		if urgent := oh.Add(e.RiskAt, time.Duration(r.cfg.UrgentContactHours)*time.Hour); urgent.Before(by) {
			by = urgent.In(r.cfg.Location)
			target = r.cfg.UrgentContactHours
		}
	}
	d := TemplateData{
		Clinic:            r.cfg.Clinic,
		Reference:         e.Reference,
		PatientName:       e.PatientName,
		Treatment:         intake.Label(intake.Treatments, e.Treatment),
		ReceivedAt:        received,
		Received:          formatTime(received),
		FirstContactHours: target,
		ContactBy:         formatTime(by),
		ClinicHours:       oh.Describe(),
		Assigned:          e.Assigned,
		AssigneeName:      e.AssigneeName,
		Link:              r.cfg.BaseURL + "/enquiries/" + e.Reference,
		Risk:              risk,
	}
	if m.Kind == crm.MailConfirmation && m.LinkToken != "" {
		d.ScreeningLink = r.cfg.BaseURL + "/enquire/screening/" + m.LinkToken
	}
	if m.Kind == crm.MailConfirmation && !risk {
		// A patient flagged risk is called by a person, never sent to book themselves.
		d.BookingLink = crm.BookingLink(r.cfg.BookingURL, e.Reference)
	}
	return limitData(m.Kind, d), nil
}

// Render executes m's templates.
func (r *Renderer) Render(m crm.OutboxMessage) (Rendered, error) {
	d, err := r.Data(m)
	if err != nil {
		return Rendered{}, err
	}
	return r.tpl.Execute(m.Kind, d)
}

// MessageID is the Message-ID of m without its angle brackets: the stored random id at the sender's domain,
// the same on every attempt.
func (r *Renderer) MessageID(m crm.OutboxMessage) string { return m.MessageID + "@" + r.domain }

// Compose renders m into a multipart/alternative email (plain text and HTML) from the configured sender, dated
// when m was queued and with its stable Message-ID, so every attempt produces the same message. Names and
// subjects are encoded for any UTF-8 text. It returns ErrEnquiryGone when m's enquiry no longer exists or was
// erased, and an error when the recipient is not a valid address; neither gets better by retrying.
func (r *Renderer) Compose(m crm.OutboxMessage) (*mail.Msg, error) {
	out, err := r.Render(m)
	if err != nil {
		return nil, err
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	msg.FromMailAddress(r.cfg.From)
	if err := msg.To(m.Recipient); err != nil {
		return nil, fmt.Errorf("recipient of outbox message %d: %w", m.ID, err)
	}
	if m.Kind == crm.MailConfirmation && r.cfg.Clinic.Email != "" {
		// The sender is often a no-reply address: a patient's reply should reach the clinic.
		if err := msg.ReplyTo(r.cfg.Clinic.Email); err != nil {
			return nil, fmt.Errorf("reply-to of outbox message %d: %w", m.ID, err)
		}
	}
	msg.Subject(out.Subject)
	msg.SetDateWithValue(m.CreatedAt.In(r.cfg.Location))
	msg.SetMessageIDWithValue(r.MessageID(m))
	// RFC 3834: an automatic message; out-of-office replies should not answer it.
	msg.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(mail.TypeTextPlain, out.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, out.HTML)
	return msg, nil
}

// phoneLink is a tel: link to phone (crm.TelURI), so a patient reading on a phone can tap it; "" when phone has
// no digits. html/template refuses a tel: URL it did not check itself, hence the type.
func phoneLink(phone string) htmltemplate.URL {
	if uri := crm.TelURI(phone); uri != "" {
		return htmltemplate.URL("tel:" + uri)
	}
	return ""
}
