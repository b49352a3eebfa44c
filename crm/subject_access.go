package crm

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/frontdesk/frontdesk/intake/screening"
)

// SubjectAccessDocument is everything Frontdesk holds about one email address (UK GDPR article 15): every
// enquiry of that address with its notes, timeline, the emails sent about it, and who read it and when. It is
// the JSON document `frontdesk sar`, /admin/privacy and GET /api/v1/subject-access give; times are UTC.
type SubjectAccessDocument struct {
	Email       string           `json:"email"`
	GeneratedAt time.Time        `json:"generated_at"`
	Enquiries   []SubjectEnquiry `json:"enquiries"`
}

// SubjectEnquiry is one enquiry in a subject access document: every stored field and what hangs off it.
type SubjectEnquiry struct {
	Reference        string     `json:"reference"`
	Status           Status     `json:"status"`
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
	ConsentAt        time.Time  `json:"consent_at"`
	ConsentVersion   string     `json:"consent_version"`
	Priority         string     `json:"priority"`
	Assignee         *string    `json:"assignee"` // the assignee's name, null when unassigned
	CloseReason      string     `json:"close_reason"`
	Related          string     `json:"related_reference"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	FirstContactedAt *time.Time `json:"first_contacted_at"`
	// Flags are the screening flags (risk, review) the enquiry carries.
	Flags []string `json:"flags"`
	// Screening is every questionnaire answered, with the questions as asked and the answers as given.
	Screening []SubjectScreening `json:"screening"`

	Notes    []SubjectNote  `json:"notes"`
	Timeline []SubjectEvent `json:"timeline"`
	Emails   []SubjectEmail `json:"emails"`
	// Notifications are the webhook events sent about the enquiry to the clinic's other systems.
	Notifications []SubjectNotification `json:"notifications"`
	Access        []SubjectAccessEntry  `json:"access"`
}

// SubjectScreening is one questionnaire the patient answered (or the safety questions).
type SubjectScreening struct {
	Questionnaire string          `json:"questionnaire"`
	Title         string          `json:"title"`
	Answers       []SubjectAnswer `json:"answers"`
	// Total and Band are the score (absent for the safety questions).
	Total      *int      `json:"total,omitempty"`
	Band       string    `json:"band,omitempty"`
	Source     string    `json:"source"`
	AnsweredAt time.Time `json:"answered_at"`
}

// SubjectAnswer is one question and the answer given.
type SubjectAnswer struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
	Value    *int   `json:"value,omitempty"`
}

// SubjectNote is a member of staff's note on the enquiry.
type SubjectNote struct {
	Author    *string   `json:"author"` // the author's name; null for Frontdesk itself
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// SubjectEvent is one event of the enquiry's timeline.
type SubjectEvent struct {
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"`
	Actor    *string   `json:"actor"` // the name of who did it; null for Frontdesk itself or the patient
	From     Status    `json:"from_status,omitempty"`
	To       Status    `json:"to_status,omitempty"`
	Reason   string    `json:"reason,omitempty"`   // for a "priority" event, its priority too until the next release
	Priority string    `json:"priority,omitempty"` // for a "priority" event: the priority set
	Assignee *string   `json:"assignee,omitempty"`
}

// SubjectEmail is an email queued about the enquiry.
type SubjectEmail struct {
	Kind      MailKind   `json:"kind"`
	Status    string     `json:"status"`
	To        string     `json:"to"`
	Attempts  int        `json:"attempts"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at"`
}

// SubjectNotification is a webhook event about the enquiry (FRONTDESK_WEBHOOK_URL): its type, such as
// "enquiry.created", and where it went, in words. Events carry the reference and the change, never the
// patient's details.
type SubjectNotification struct {
	Event     string     `json:"event"`
	To        string     `json:"to"`
	Status    string     `json:"status"`
	Attempts  int        `json:"attempts"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at"`
}

// webhookRecipient is where a webhook event went, as the subject access document says it.
const webhookRecipient = "the clinic's other systems (the reference and the change, no personal details)"

// SubjectAccessEntry is one entry of the audit log concerning the enquiry: who viewed, listed, exported or
// changed it, and when.
type SubjectAccessEntry struct {
	At          time.Time `json:"at"`
	Action      string    `json:"action"`
	ActionLabel string    `json:"action_label"`
	// ActorName and ActorEmail are the member of staff's; both empty for Frontdesk itself.
	ActorName  string `json:"actor_name"`
	ActorEmail string `json:"actor_email"`
	Detail     string `json:"detail"`
}

// SubjectAccess gathers everything held about that address into one document and records the request in
// the audit log (action subject_access, the enquiries' references, never the address) before returning it.
// An address no enquiry has gives a document with no enquiries. A malformed address is an InputError naming
// "email"; ErrForbidden for anyone but an administrator.
func (p *Privacy) SubjectAccess(ctx context.Context, actor Actor, email string) (SubjectAccessDocument, error) {
	if err := allowed(actor); err != nil {
		return SubjectAccessDocument{}, err
	}
	email, err := ParseSubjectEmail(email)
	if err != nil {
		return SubjectAccessDocument{}, err
	}
	at := p.now().UTC()
	doc := SubjectAccessDocument{Email: email, GeneratedAt: at, Enquiries: []SubjectEnquiry{}}
	found, err := p.store.EnquiriesByEmail(ctx, email)
	if err != nil {
		return SubjectAccessDocument{}, fmt.Errorf("subject access: %w", err)
	}
	refs := make([]string, len(found))
	for i, e := range found {
		refs[i] = e.Reference
		se, err := p.subjectEnquiry(ctx, e)
		if err != nil {
			return SubjectAccessDocument{}, fmt.Errorf("subject access %s: %w", e.Reference, err)
		}
		doc.Enquiries = append(doc.Enquiries, se)
	}
	if len(refs) > 0 {
		entries, err := p.store.AuditOfReferences(ctx, refs)
		if err != nil {
			return SubjectAccessDocument{}, fmt.Errorf("subject access: %w", err)
		}
		for i := range doc.Enquiries {
			se := &doc.Enquiries[i]
			for _, a := range entries {
				if slices.Contains(a.Refs(), se.Reference) {
					se.Access = append(se.Access, subjectAccessEntry(a))
				}
			}
		}
	}
	err = p.audit.RecordAudit(ctx, AuditEntry{At: at, Actor: actor.Ref(), Action: "subject_access", References: refs,
		Detail: fmt.Sprintf("%d enquiries", len(refs))})
	if err != nil {
		return SubjectAccessDocument{}, fmt.Errorf("record subject access: %w", err)
	}
	return doc, nil
}

// subjectEnquiry reads one enquiry's notes, timeline and mail into its part of the document.
func (p *Privacy) subjectEnquiry(ctx context.Context, e Enquiry) (SubjectEnquiry, error) {
	se := SubjectEnquiry{
		Reference: e.Reference, Status: e.Status, Name: e.Name, Email: e.Email, Phone: e.Phone,
		PreferredContact: e.PreferredContact, Treatment: e.Treatment, Message: e.Message,
		DateOfBirth: e.DateOfBirth, ReferralSource: e.ReferralSource, OKToLeaveMessage: e.OKToLeaveMessage,
		UTMSource: e.UTMSource,
		UTMMedium: e.UTMMedium, UTMCampaign: e.UTMCampaign, ConsentAt: e.ConsentAt.UTC(),
		ConsentVersion: e.ConsentVersion, Priority: e.Priority, CloseReason: e.CloseReason, Related: e.Related,
		CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC(), FirstContactedAt: utcPtr(e.FirstContactedAt),
		Notes: []SubjectNote{}, Timeline: []SubjectEvent{}, Emails: []SubjectEmail{}, Notifications: []SubjectNotification{},
		Access: []SubjectAccessEntry{},
		Flags:  e.Flags(), Screening: []SubjectScreening{},
	}
	if e.Assignee != nil {
		se.Assignee = &e.Assignee.Name
	}
	answered, err := p.store.ScreeningsOf(ctx, []int64{e.ID})
	if err != nil {
		return se, err
	}
	for _, s := range answered[e.ID] {
		se.Screening = append(se.Screening, subjectScreening(s))
	}
	notes, err := p.store.Notes(ctx, e.ID)
	if err != nil {
		return se, err
	}
	for _, n := range notes {
		se.Notes = append(se.Notes, SubjectNote{Author: nameOf(n.Author), Body: n.Body, CreatedAt: n.CreatedAt.UTC()})
	}
	events, err := p.store.Timeline(ctx, e.ID)
	if err != nil {
		return se, err
	}
	for _, v := range events {
		reason := v.Reason
		if v.Kind == "priority" {
			reason = v.Priority // where earlier releases put it
		}
		se.Timeline = append(se.Timeline, SubjectEvent{At: v.At.UTC(), Kind: v.Kind, Actor: nameOf(v.Actor),
			From: v.From, To: v.To, Reason: reason, Priority: v.Priority, Assignee: nameOf(v.Assignee)})
	}
	mails, err := p.store.EnquiryMail(ctx, e.ID)
	if err != nil {
		return se, err
	}
	for _, m := range mails {
		if m.Kind.IsWebhook() {
			se.Notifications = append(se.Notifications, SubjectNotification{Event: WebhookType(m.Kind), To: webhookRecipient,
				Status: m.Status, Attempts: m.Attempts, CreatedAt: m.CreatedAt.UTC(), SentAt: utcPtr(m.SentAt)})
			continue
		}
		// The patient's own address is theirs to see; staff addresses are not part of their data.
		to := "clinic staff"
		if m.Kind == MailConfirmation {
			to = m.Recipient
		}
		se.Emails = append(se.Emails, SubjectEmail{Kind: m.Kind, Status: m.Status, To: to, Attempts: m.Attempts,
			CreatedAt: m.CreatedAt.UTC(), SentAt: utcPtr(m.SentAt)})
	}
	return se, nil
}

// subjectScreening writes out stored answers with the questions as the patient read them.
func subjectScreening(s Screening) SubjectScreening {
	out := SubjectScreening{Questionnaire: s.Instrument, Source: s.Source, AnsweredAt: s.At.UTC(),
		Answers: []SubjectAnswer{}}
	cat := screening.Default()
	if s.Instrument == SafetyInstrument {
		out.Title = "Safety questions"
		for _, q := range cat.Safety() {
			if v, ok := s.Safety[q.Key]; ok {
				a := "No"
				if v {
					a = "Yes"
				}
				out.Answers = append(out.Answers, SubjectAnswer{Question: q.Text, Answer: a})
			}
		}
		return out
	}
	total := s.Total
	out.Total, out.Band, out.Title = &total, s.Band, s.Instrument
	in, ok := cat.Instrument(s.Instrument)
	if ok {
		out.Title = in.Title
	}
	for i, v := range s.Answers {
		a := SubjectAnswer{Question: fmt.Sprintf("Question %d", i+1), Answer: fmt.Sprint(v), Value: &v}
		if ok && i < len(in.Items) {
			a.Question = in.Items[i].Text
			for _, o := range in.OptionsOf(i) {
				if o.Value == v {
					a.Answer = o.Label
				}
			}
		}
		out.Answers = append(out.Answers, a)
	}
	return out
}

func subjectAccessEntry(a AuditEntry) SubjectAccessEntry {
	s := SubjectAccessEntry{At: a.At.UTC(), Action: a.Action, ActionLabel: AuditActionLabel(a.Action), Detail: a.Detail}
	if a.Actor != nil {
		s.ActorName, s.ActorEmail = a.Actor.Name, a.Actor.Email
	}
	return s
}

func nameOf(r *StaffRef) *string {
	if r == nil {
		return nil
	}
	return &r.Name
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
