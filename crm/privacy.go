package crm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/intake"
)

// PrivacyStore is the storage the Privacy service needs: the patient's records found by address, their
// erasure, retention, and the scrubbing that leaves no byte of erased data behind.
type PrivacyStore interface {
	// EnquiriesByEmail returns every enquiry whose (lower-case) email is email, oldest first; none is an
	// empty list, not an error. Erased enquiries have no email left, so they are never found.
	EnquiriesByEmail(ctx context.Context, email string) ([]Enquiry, error)
	// Timeline returns every event of the enquiry, oldest first.
	Timeline(ctx context.Context, enquiryID int64) ([]Event, error)
	// ScreeningStore gives the questionnaires answered.
	ScreeningStore
	// Notes returns the enquiry's notes, oldest first.
	Notes(ctx context.Context, enquiryID int64) ([]Note, error)
	// EnquiryMail returns the emails queued about the enquiry, oldest first.
	EnquiryMail(ctx context.Context, enquiryID int64) ([]SentMail, error)
	// AuditOfReferences returns every audit entry that concerns any of refs (as its reference or among those
	// a list showed), oldest first, with the actor's name and email.
	AuditOfReferences(ctx context.Context, refs []string) ([]AuditEntry, error)
	// EraseEnquiries erases the personal data of each enquiry of refs in one transaction — name, contact
	// details, message, date of birth, campaign tags, notes, reasons, unsent mail, every outbox address,
	// idempotency keys and the search entry — records an 'erased' event by actor at at and the audit entry
	// entry(ref) for each, and merges the search index in the same transaction so no token of the erased
	// text survives in its segments. Reference, treatment, source, statuses and times stay for the counts.
	// ErrNotFound (and nothing changed) when one of refs does not exist; erasing twice is harmless.
	EraseEnquiries(ctx context.Context, refs []string, actor Actor, at time.Time, entry func(ref string) AuditEntry) error
	// ApplyRetention anonymises (as EraseEnquiries does) at most b.Limit enquiries in one of b.Closed that
	// closed before b.ClosedBefore, and deletes at most b.Limit spam enquiries that arrived before
	// b.SpamBefore with all their rows; a zero time does none of that kind. It records the audit entry
	// entry(result) in the same transaction, also when nothing was due, and returns what it did.
	ApplyRetention(ctx context.Context, b RetentionBatch, at time.Time, entry func(RetentionResult) AuditEntry) (RetentionResult, error)
	// Scrub leaves no byte of erased or deleted data in the database's files: on SQLite it merges the search
	// index's segments and then checkpoints the write-ahead log and truncates it to nothing (it fails when
	// readers keep the log in use for too long); on PostgreSQL it vacuums the tables and rebuilds the search
	// index. Calling it again later finishes the job.
	Scrub(ctx context.Context) error
}

// MailCopies are the copies kept of delivered mail (the file mail transport's .eml files).
type MailCopies interface {
	// ForgetEnquiry deletes every copy kept of mail about the enquiry ref and returns how many it deleted.
	ForgetEnquiry(ctx context.Context, ref string) (int, error)
}

// SentMail is an email queued about an enquiry, as the subject access document shows it.
type SentMail struct {
	Kind MailKind
	// Status is queued, sent or failed.
	Status string
	// Recipient is the address it went to ("" once erased).
	Recipient string
	Attempts  int
	CreatedAt time.Time
	SentAt    *time.Time
}

// PrivacyConfig is the clinic's retention policy.
type PrivacyConfig struct {
	// RetentionMonths: closed enquiries are anonymised this many months after they closed (0: never).
	RetentionMonths int
	// SpamRetentionDays: spam is deleted this many days after it arrived (0: never).
	SpamRetentionDays int
}

// Privacy serves the patient's rights and the clinic's retention policy: subject access, erasure (of one
// enquiry or of every enquiry of one address) and the retention run. Only administrators (and Frontdesk
// itself, crm.System) may use it; every use is in the audit log, without the patient's address.
type Privacy struct {
	store PrivacyStore
	audit AuditStore
	mail  MailCopies
	cfg   PrivacyConfig
	now   func() time.Time
	log   *slog.Logger
}

// NewPrivacy returns the service over store. mail may be nil when no copies of mail are kept.
func NewPrivacy(store PrivacyStore, audit AuditStore, mail MailCopies, cfg PrivacyConfig, log *slog.Logger) *Privacy {
	if log == nil {
		log = slog.Default()
	}
	return &Privacy{store: store, audit: audit, mail: mail, cfg: cfg, now: time.Now, log: log}
}

// SetClock replaces the service's clock (tests).
func (p *Privacy) SetClock(now func() time.Time) { p.now = now }

// ParseSubjectEmail checks an address a request names and returns it trimmed and lower-cased (as enquiries
// store it). A missing or malformed address is an InputError naming "email".
func ParseSubjectEmail(raw string) (string, error) {
	email := strings.ToLower(strings.TrimSpace(raw))
	if email == "" {
		return "", InputError{"email": "Give the patient's email address."}
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		return "", InputError{"email": "Give a valid email address, like name@example.org."}
	}
	return email, nil
}

// allowed refuses everyone but administrators and Frontdesk itself.
func allowed(actor Actor) error {
	if actor.Role != RoleAdmin {
		return fmt.Errorf("%w: only an administrator may do this", ErrForbidden)
	}
	return nil
}

// EraseReference erases the personal data of one enquiry (the right to erasure): see EraseEnquiries. The
// erasure and its audit entry are one transaction; then the copies of its mail are deleted and the database
// scrubbed. ErrNotFound when there is no such enquiry (or ref is malformed); ErrForbidden for anyone but an
// administrator. An *UnfinishedError says the erasure committed but the clean-up after did not finish
// (running it again does).
func (p *Privacy) EraseReference(ctx context.Context, actor Actor, ref string) error {
	if err := allowed(actor); err != nil {
		return err
	}
	canon, ok := intake.ParseReference(ref)
	if !ok {
		return fmt.Errorf("enquiry %q: %w", ref, ErrNotFound)
	}
	return p.erase(ctx, actor, []string{canon}, "personal data erased")
}

// EraseEmail erases the personal data of every enquiry of that address (compared without regard to case)
// in one transaction, one audit entry each, and returns their references, oldest first. A malformed address
// is an InputError naming "email"; ErrNotFound when no enquiry has it; ErrForbidden for anyone but an
// administrator. With an *UnfinishedError the enquiries were erased (their references are returned) but the
// clean-up after was not finished; with any other error nothing was erased.
func (p *Privacy) EraseEmail(ctx context.Context, actor Actor, email string) ([]string, error) {
	if err := allowed(actor); err != nil {
		return nil, err
	}
	email, err := ParseSubjectEmail(email)
	if err != nil {
		return nil, err
	}
	found, err := p.store.EnquiriesByEmail(ctx, email)
	if err != nil {
		return nil, fmt.Errorf("erase by email: %w", err)
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("no enquiry has that email address: %w", ErrNotFound)
	}
	refs := make([]string, len(found))
	for i, e := range found {
		refs[i] = e.Reference
	}
	detail := fmt.Sprintf("personal data erased (request for every enquiry of one address: %d)", len(refs))
	if err := p.erase(ctx, actor, refs, detail); err != nil {
		var unfinished *UnfinishedError
		if errors.As(err, &unfinished) {
			return refs, err // erased; only the clean-up is left
		}
		return nil, err
	}
	return refs, nil
}

// UnfinishedError says an erasure (or retention run) committed but what follows it did not all succeed: the
// copies of its mail were not all deleted, or the database could not be scrubbed yet. Repeating the erasure
// (or the next retention run) finishes it.
type UnfinishedError struct{ Err error }

func (e *UnfinishedError) Error() string {
	return "erased, but not finished (run it again): " + e.Err.Error()
}
func (e *UnfinishedError) Unwrap() error { return e.Err }

// erase erases refs with one audit entry each, then deletes their mail copies and scrubs the database.
func (p *Privacy) erase(ctx context.Context, actor Actor, refs []string, detail string) error {
	at := p.now().UTC()
	err := p.store.EraseEnquiries(ctx, refs, actor, at, func(ref string) AuditEntry {
		return AuditEntry{At: at, Actor: actor.Ref(), Action: "erase", Reference: ref, Detail: detail}
	})
	if err != nil {
		return err
	}
	for _, ref := range refs {
		p.log.Info("enquiry erased", "ref", ref, "actor", actor.ID)
	}
	return p.cleanUp(ctx, refs)
}

// cleanUp deletes the mail copies of refs and scrubs the database, after their erasure or deletion.
func (p *Privacy) cleanUp(ctx context.Context, refs []string) error {
	var errs []error
	if p.mail != nil {
		for _, ref := range refs {
			if _, err := p.mail.ForgetEnquiry(ctx, ref); err != nil {
				errs = append(errs, fmt.Errorf("the copies of the mail about %s were not all deleted: %w", ref, err))
			}
		}
	}
	if err := p.store.Scrub(ctx); err != nil {
		errs = append(errs, fmt.Errorf("the database was not scrubbed of the erased data yet: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return &UnfinishedError{Err: err}
	}
	return nil
}

// Scrub merges the search index and empties the write-ahead log, so nothing erased or deleted before is left
// in the database's files (serve does it at start, in case it stopped between an erasure and its scrub).
func (p *Privacy) Scrub(ctx context.Context) error { return p.store.Scrub(ctx) }
