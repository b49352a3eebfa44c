package crm

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/frontdesk/frontdesk/intake"
)

// Role is what a member of staff may do.
type Role string

// The roles, as the README gives them.
const (
	// RoleAdmin may do everything.
	RoleAdmin Role = "admin"
	// RoleCoordinator sees and works every enquiry, assigns, moves and adds notes; no accounts, no exports.
	RoleCoordinator Role = "coordinator"
	// RoleClinician sees the enquiries assigned to them and the unassigned ones, and may take an unassigned one
	// for themselves, but may not assign anyone else.
	RoleClinician Role = "clinician"
)

// Roles lists the roles, most powerful first.
var Roles = []Role{RoleAdmin, RoleCoordinator, RoleClinician}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Label is the role as people read it.
func (r Role) Label() string {
	switch r {
	case RoleAdmin:
		return "Administrator"
	case RoleCoordinator:
		return "Coordinator"
	case RoleClinician:
		return "Clinician"
	}
	return string(r)
}

// Staff is a member of the clinic's staff with an account.
type Staff struct {
	ID    int64
	Email string
	Name  string
	Role  Role
	// Treatments are the treatment codes a clinician takes new enquiries for.
	Treatments     []string
	Disabled       bool
	CreatedAt      time.Time
	LastAssignedAt *time.Time
	// OpenEnquiries is how many active enquiries are assigned to them (filled by listings).
	OpenEnquiries int
	// SecondFactor reports whether the account has enrolled an authenticator app (TOTP).
	SecondFactor bool
	// FailedSignIns counts the consecutive failed sign-ins on the account, from every client; at
	// MaxFailedSignIns the account is refused until its password is reset.
	FailedSignIns int
}

// Ref is the short form of the account, as shown beside an enquiry.
func (s Staff) Ref() *StaffRef { return &StaffRef{ID: s.ID, Email: s.Email, Name: s.Name} }

// StaffRef names a member of staff on an enquiry, a note or an event.
type StaffRef struct {
	ID    int64
	Email string
	Name  string
}

// Actor is the signed-in member of staff on whose behalf a service acts. Every read and change is checked
// against the actor's role and recorded with its ID.
type Actor struct {
	ID    int64
	Email string
	Name  string
	Role  Role
	// SecondFactor reports whether the account has enrolled an authenticator app; the sign-in pages send an
	// account that must have one and has not to enrolment.
	SecondFactor bool
}

// Ref is the actor as an audit entry or a timeline names them; nil for Frontdesk itself.
func (a Actor) Ref() *StaffRef {
	if a.IsSystem() {
		return nil
	}
	return &StaffRef{ID: a.ID, Email: a.Email, Name: a.Name}
}

// System is the actor for changes Frontdesk makes itself (reminders, assignment at intake, the CLI).
var System = Actor{Role: RoleAdmin, Name: "Frontdesk"}

// IsSystem reports whether a is Frontdesk itself rather than a person.
func (a Actor) IsSystem() bool { return a.ID == 0 }

// SeesAll reports whether the actor may see every enquiry (admins and coordinators).
func (a Actor) SeesAll() bool { return a.Role == RoleAdmin || a.Role == RoleCoordinator }

// CanSee reports whether the actor may see an enquiry assigned to assigneeID (0: unassigned). Spam is hidden
// from clinicians.
func (a Actor) CanSee(assigneeID int64, status Status) bool {
	if a.SeesAll() {
		return true
	}
	if status == StatusSpam {
		return false
	}
	return assigneeID == 0 || assigneeID == a.ID
}

// NewStaff is an account to create.
type NewStaff struct {
	Email      string
	Name       string
	Role       Role
	Treatments []string
	Password   string
}

// Normalise trims and lower-cases what it should, and validates every field, returning an InputError naming
// each bad one. related are further words kept out of the password (the clinic's name), besides the account's
// own email and name.
func (n *NewStaff) Normalise(related ...string) error {
	errs := InputError{}
	n.Email = strings.ToLower(strings.TrimSpace(n.Email))
	n.Name = strings.Join(strings.Fields(n.Name), " ")
	if a, err := mail.ParseAddress(n.Email); err != nil || a.Address != n.Email {
		errs["email"] = "Give a valid email address, like name@clinic.example."
	}
	if l := utf8.RuneCountInString(n.Name); l < 2 || l > 100 {
		errs["name"] = "Give a name of 2 to 100 characters."
	}
	if !n.Role.Valid() {
		errs["role"] = "Choose a role: admin, coordinator or clinician."
	}
	treatments, err := ParseTreatments(n.Treatments)
	if err != nil {
		errs["treatments"] = err.Error()
	}
	n.Treatments = treatments
	if msg := PasswordProblem(n.Password, append([]string{n.Email, n.Name}, related...)...); msg != "" {
		errs["password"] = msg
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// ParseTreatments checks treatment codes (each may itself be a comma-separated list) and returns them sorted
// without duplicates.
func ParseTreatments(in []string) ([]string, error) {
	var out []string
	for _, item := range in {
		for _, t := range strings.Split(item, ",") {
			t = strings.ToLower(strings.TrimSpace(t))
			if t == "" {
				continue
			}
			if intake.Label(intake.Treatments, t) == t {
				return nil, fmt.Errorf("Unknown treatment %q: use adhd, depression, anxiety, ptsd, addiction, chronic_pain or other.", t)
			}
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
