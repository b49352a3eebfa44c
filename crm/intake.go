package crm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/intake"
	"github.com/frontdesk/frontdesk/intake/screening"
)

// NewEnquiry is what the intake service asks a store to create.
type NewEnquiry struct {
	intake.Enquiry
	// ReceivedAt is when the enquiry arrived.
	ReceivedAt time.Time
	// IdempotencyKey, when not empty, makes a repeat of the same submission return the first one's receipt.
	IdempotencyKey string
	// Fingerprint identifies the submission's content, to tell a true repeat from a reused key.
	Fingerprint string
	// IntakeInbox is the address told of every new enquiry; empty for nobody.
	IntakeInbox string
	// Assessment scores the screening answers sent with the enquiry and flags them with the message.
	Assessment screening.Assessment
	// Priority is the priority it starts with: PriorityUrgent when flagged risk, else "normal".
	Priority string
	// Link is the single-use link to the questionnaires. Spam has one too, which never opens.
	Link ScreeningLink
}

// IdempotencyWindow is how long an idempotency key is remembered: a repeat within it returns the first
// answer; after it, the same key makes a new enquiry.
const IdempotencyWindow = 24 * time.Hour

// FirstAnswer is the status every accepted enquiry is first answered with — spam too, so a sender never learns
// it was caught — and so what a replay of it is answered, whatever has happened to the enquiry since.
const FirstAnswer = StatusNew

// Receipt is what the patient is told of an accepted enquiry.
type Receipt struct {
	Reference string
	Status    Status
	// ScreeningToken is the token of the link to the questionnaires, for the thanks page; "" for a replay. A spam
	// enquiry's link never opens.
	ScreeningToken string
	// Replayed is true when the submission repeated an earlier one (same idempotency key and content) and
	// nothing new was stored.
	Replayed bool
}

// IntakeStore stores new enquiries.
type IntakeStore interface {
	// CreateEnquiry stores e in one transaction. When e.IdempotencyKey was seen before (within
	// IdempotencyWindow) it stores nothing and returns the earlier receipt with Replayed set, or
	// ErrIdempotencyConflict when the fingerprints differ. Otherwise, inside the transaction, it reads the facts
	// e.Lookup() names, asks decide (PlanIntake, unless a test says otherwise) what e becomes, and stores the
	// plan as it is: the enquiry with its status, priority, flags, related enquiry and assignee; its timeline
	// events ("created", "assigned" when it has an assignee, "flagged" when it has flags); the assignee's last
	// assignment time; its screening answers and the hash of its screening link; its idempotency key; the
	// plan's mail in the outbox. An error from decide is returned unwrapped and nothing is stored. A nil error
	// means the enquiry is durably on disk.
	CreateEnquiry(ctx context.Context, e NewEnquiry, decide func(NewEnquiry, IntakeFacts) (IntakePlan, error)) (Receipt, error)
}

// IntakeService accepts enquiries from patients.
type IntakeService struct {
	store     IntakeStore
	validator *intake.Validator
	inbox     string
	now       func() time.Time
	log       *slog.Logger
}

// NewIntakeService returns the service that validates and stores enquiries. inbox is the address told of each
// new enquiry ("" for none).
func NewIntakeService(store IntakeStore, v *intake.Validator, inbox string, log *slog.Logger) *IntakeService {
	return &IntakeService{store: store, validator: v, inbox: inbox, now: time.Now, log: log}
}

// SetClock replaces the service's clock (the demo backdates enquiries with it).
func (s *IntakeService) SetClock(now func() time.Time) { s.now = now }

// Submit validates sub and stores it. It returns intake.ValidationErrors when a field is invalid (nothing is
// stored), ErrIdempotencyConflict when key was used before for different content, or an internal error. key is
// the API client's Idempotency-Key ("" for none). A filled honeypot is accepted and stored as spam; the receipt
// does not reveal it.
func (s *IntakeService) Submit(ctx context.Context, sub intake.Submission, key string) (Receipt, error) {
	return s.submit(ctx, sub, func(string) string { return IdempotencyKey("api", key) })
}

// SubmitForm is Submit for the HTML form, whose hidden key is scoped to the content: a double click or a
// browser's resubmission of the same answers returns the first receipt, while answers edited after going back
// make a new enquiry rather than an error the patient could do nothing about.
func (s *IntakeService) SubmitForm(ctx context.Context, sub intake.Submission, formKey string) (Receipt, error) {
	return s.submit(ctx, sub, func(fp string) string {
		if k := IdempotencyKey("form", formKey); k != "" {
			return k + ":" + fp[:16]
		}
		return ""
	})
}

func (s *IntakeService) submit(ctx context.Context, sub intake.Submission, key func(fingerprint string) string) (Receipt, error) {
	e, err := s.validator.Check(sub)
	if err != nil {
		return Receipt{}, err
	}
	fp := Fingerprint(e)
	now := s.now().UTC()
	ne := NewEnquiry{
		Enquiry:        e,
		ReceivedAt:     now,
		IdempotencyKey: key(fp),
		Fingerprint:    fp,
		IntakeInbox:    s.inbox,
		Priority:       "normal",
	}
	if !e.Spam {
		if ne.Assessment, err = screening.Default().Assess(e.Screening, e.Message); err != nil {
			return Receipt{}, fmt.Errorf("submit enquiry: %w", err)
		}
		if ne.Assessment.Has(screening.FlagRisk) {
			ne.Priority = PriorityUrgent
		}
	}
	// Spam gets a link too, which never opens (its enquiry is spam): its thanks page looks like any other.
	if ne.Link, err = NewScreeningLink(now); err != nil {
		return Receipt{}, fmt.Errorf("submit enquiry: %w", err)
	}
	rec, err := s.store.CreateEnquiry(ctx, ne, PlanIntake)
	if err != nil {
		return Receipt{}, fmt.Errorf("submit enquiry: %w", err)
	}
	if !rec.Replayed {
		rec.ScreeningToken = ne.Link.Token
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "enquiry received",
		slog.String("ref", rec.Reference), slog.Bool("spam", e.Spam), slog.Bool("replayed", rec.Replayed))
	return rec, nil
}

// Fingerprint identifies the content of an enquiry (not the moment it was sent), so that a resubmission of
// the same form is recognised.
func Fingerprint(e intake.Enquiry) string {
	h := sha256.New()
	for _, f := range []string{e.Name, e.Email, e.Phone, e.PreferredContact, e.Treatment, e.Message,
		e.DateOfBirth, e.ReferralSource, e.UTMSource, e.UTMMedium, e.UTMCampaign, fmt.Sprint(e.Spam)} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	if e.OKToLeaveMessage { // only when set, so that the fingerprints of earlier enquiries stay as they were
		h.Write([]byte("ok_to_leave_message\x00"))
	}
	if !e.Screening.Empty() {
		b, _ := json.Marshal(e.Screening) // maps marshal in key order: the same answers, the same bytes
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// IdempotencyKey namespaces a client's key by where it came from, so a form key never matches an API key.
// It returns "" for an empty key.
func IdempotencyKey(source, key string) string {
	key = strings.TrimSpace(key)
	if key == "" {
		return ""
	}
	return source + ":" + key
}
