package crm

import (
	"context"
	"time"
)

// Priorities an enquiry may have, lowest first.
var Priorities = []string{"low", "normal", "high", "urgent"}

// Enquiry is a patient's enquiry as the clinic works it.
type Enquiry struct {
	ID               int64
	Reference        string
	Status           Status
	Name             string
	Email            string
	Phone            string
	PreferredContact string
	Treatment        string
	Message          string
	DateOfBirth      string
	ReferralSource   string
	// OKToLeaveMessage is the patient's answer to "may we leave a voicemail or text message?"; false (the
	// default, and after an erasure): leave none, as someone else may share the phone.
	OKToLeaveMessage bool
	UTMSource        string
	UTMMedium        string
	UTMCampaign      string
	ConsentAt        time.Time
	ConsentVersion   string
	Priority         string
	Assignee         *StaffRef
	// Related is the reference of an earlier enquiry from the same email address within RelatedWindow.
	Related     string
	CloseReason string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// FirstContactedAt is when the enquiry first left "new".
	FirstContactedAt *time.Time
	RemindedAt       *time.Time
	Erased           bool
	// RiskAt is when the enquiry was flagged risk (nil when it is not); the urgent first-contact target counts
	// from it. ReviewAt is when it was flagged review (a contraindication answered yes).
	RiskAt   *time.Time
	ReviewAt *time.Time
	// Version grows by one with every change staff can see (status, assignee, priority, a note, an erasure); it
	// is 1 when the enquiry arrives. A reminder leaves it as it is. A change decided on an older version is
	// refused with a *ConflictError.
	Version int64

	// FirstContactDue is when the clinic promised first contact (set by the workspace, not stored).
	FirstContactDue time.Time
	// Overdue is true while the enquiry is still new after FirstContactDue (set by the workspace).
	Overdue bool
}

// AssigneeID is the ID of the assignee, 0 when unassigned.
func (e Enquiry) AssigneeID() int64 {
	if e.Assignee == nil {
		return 0
	}
	return e.Assignee.ID
}

// ListQuery selects enquiries. The zero value selects every enquiry but spam, newest first.
type ListQuery struct {
	// Statuses, when not empty, keeps those statuses only; otherwise spam is left out unless IncludeSpam.
	Statuses    []Status
	IncludeSpam bool
	Treatment   string
	// AssigneeID keeps one member of staff's enquiries; Unassigned keeps the unassigned ones.
	AssigneeID int64
	Unassigned bool
	// VisibleTo, when not 0, keeps what a clinician may see: assigned to them, or unassigned.
	VisibleTo int64
	// Text is a full-text search over name, email, phone, message and notes.
	Text string
	// From and To bound created_at: From <= created_at < To (zero: unbounded).
	From, To time.Time
	// OverdueBefore, when not zero, keeps new enquiries created before it, and those flagged risk before
	// UrgentBefore (when that is not zero): the enquiries past their first-contact target.
	OverdueBefore time.Time
	UrgentBefore  time.Time
	// Flags keeps the enquiries that carry every one of these flags (screening.FlagRisk, screening.FlagReview).
	Flags []string
	// Oldest orders oldest first (the board); the default is newest first.
	Oldest bool
	// Cursor continues a listing where the previous page ended ("" for the first page).
	Cursor string
	// Limit is the page size (the store applies a default and a maximum).
	Limit int
}

// Page is one page of a listing.
type Page struct {
	Items []Enquiry
	// NextCursor continues the listing; "" when this is the last page.
	NextCursor string
}

// Event is one entry of an enquiry's timeline.
type Event struct {
	ID    int64
	At    time.Time
	Actor *StaffRef // nil: Frontdesk itself or the patient
	Kind  string    // created, status, assigned, note, reminder, priority, erased, flagged, screening
	From  Status
	To    Status
	// Reason is, for "status", why (required to close); for "flagged", what raised the flags; for "screening",
	// the questionnaires answered. An erasure empties it.
	Reason   string
	Priority string    // for "priority": the priority set (an erasure keeps it)
	Assignee *StaffRef // for "assigned": the new assignee, nil when unassigned
	Note     string    // for "note": its text
}

// Note is a member of staff's note on an enquiry.
type Note struct {
	ID        int64
	Author    *StaffRef
	Body      string
	CreatedAt time.Time
}

// Change is what one update does to an enquiry. The store records a timeline event for each part that
// changes something (status, assignee, priority, note) with the actor and time of the update, and adds one to
// the enquiry's Version when any part does (the zero Change leaves it as it is).
type Change struct {
	// Status, when not "", moves the enquiry; Reason goes with it (required for closing statuses).
	Status Status
	Reason string
	// FirstContact records first_contacted_at (when leaving new for the first time).
	FirstContact bool
	// ClearFirstContact empties first_contacted_at (an undone move that had recorded it).
	ClearFirstContact bool
	// Undoes, when not "", marks the status change as the undo of a move to that status: its timeline event's
	// reason is UndoReason(Undoes) while Reason is still the closing reason restored (see UndoMove).
	Undoes Status
	// Assign, when not nil, gives the enquiry to that member of staff; 0 leaves it unassigned.
	Assign *int64
	// Priority, when not "", sets the priority.
	Priority string
	// Note, when not "", adds a note.
	Note string
	// Mail is queued in the outbox in the same transaction.
	Mail []Mail
}

// EnquiryStore is the storage the workspace needs.
type EnquiryStore interface {
	// GetEnquiry returns the enquiry with that reference (canonical form), or ErrNotFound.
	GetEnquiry(ctx context.Context, ref string) (Enquiry, error)
	// ListEnquiries returns one page of the enquiries q selects.
	ListEnquiries(ctx context.Context, q ListQuery) (Page, error)
	// CountEnquiries counts what q selects, stopping at max (so a count of max means "max or more").
	CountEnquiries(ctx context.Context, q ListQuery, max int) (int, error)
	// UpdateEnquiry loads the enquiry ref inside a write transaction, asks decide what to change, and applies
	// the change with its events, note and outbox mail, recorded as done by actor at at, all in that
	// transaction. It returns the enquiry as changed. An error from decide is returned unwrapped and nothing
	// changes; ErrNotFound when there is no such enquiry.
	UpdateEnquiry(ctx context.Context, ref string, actor Actor, at time.Time, decide func(Enquiry) (Change, error)) (Enquiry, error)
	// Timeline returns every event of the enquiry, oldest first.
	Timeline(ctx context.Context, enquiryID int64) ([]Event, error)
	// Notes returns the enquiry's notes, oldest first.
	Notes(ctx context.Context, enquiryID int64) ([]Note, error)
	// QueueOverdueReminders finds the enquiries still new that were created before dueBefore, or flagged risk
	// before urgentBefore (those first), and have had no reminder, queues one MailOverdue to the assignee (or to inbox when unassigned; none when inbox is ""),
	// marks them reminded with a timeline event, and returns how many it reminded. Spam is never reminded.
	QueueOverdueReminders(ctx context.Context, dueBefore, urgentBefore time.Time, inbox string, at time.Time) (int, error)
	// ScreeningStore reads the questionnaires answered with each enquiry.
	ScreeningStore
}

// StaffStore keeps accounts, their API tokens, sign-in sessions, password resets, second factors and failed
// sign-in counts. Every method that changes
// an account takes a StaffChange and writes its audit entry (and, when asked, ends the account's access) in the
// same transaction as the change.
type StaffStore interface {
	TwoFactorStore
	// CreateStaff stores a new account with a password hash at ch.At; ErrConflict when the email is taken.
	CreateStaff(ctx context.Context, s NewStaff, passwordHash string, ch StaffChange) (Staff, error)
	// GetStaff returns the account with that ID, or ErrNotFound.
	GetStaff(ctx context.Context, id int64) (Staff, error)
	// StaffByEmail returns the account with that (lower-case) email and its password hash, or ErrNotFound.
	StaffByEmail(ctx context.Context, email string) (Staff, string, error)
	// ListStaff returns every account ordered by name, with OpenEnquiries filled.
	ListStaff(ctx context.Context) ([]Staff, error)
	// CountStaff returns how many accounts exist (disabled ones included).
	CountStaff(ctx context.Context) (int, error)
	// UpdateStaff changes role, treatments and disabled state of the account id as update decides, and applies
	// the StaffChange update returns, all in one transaction; ErrNotFound when there is no such account;
	// update's error is returned unwrapped and nothing changes.
	UpdateStaff(ctx context.Context, id int64, update func(*Staff) (StaffChange, error)) (Staff, error)
	// SetPassword replaces the account's password hash, sets its failed sign-in count to 0 (a new password is
	// the way back after MaxFailedSignIns) and applies ch, in one transaction; ErrNotFound when there is no such
	// account.
	SetPassword(ctx context.Context, id int64, passwordHash string, ch StaffChange) error
	// EndStaffAccess ends every session of the account and revokes every token it has, and writes ch.Audit, in
	// one transaction (ch.EndAccess is implied). ErrNotFound when there is no such account.
	EndStaffAccess(ctx context.Context, id int64, ch StaffChange) error
	TokenStore
	StaffSessionStore
	PasswordResetStore
}
