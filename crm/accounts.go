package crm

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// ErrUnauthenticated: no such account, a wrong password, a disabled account, an unknown, revoked or expired
// token, or a session that was ended. Sign-in does not say which.
var ErrUnauthenticated = errors.New("unauthenticated")

// Accounts manages staff accounts, sign-in and API tokens.
type Accounts struct {
	staff StaffStore
	audit AuditStore
	now   func() time.Time
	log   *slog.Logger
	// tokenDays is the lifetime of a new API token when none is asked for.
	tokenDays int
	// clinicWords are the clinic's own name, word by word, kept out of its staff's passwords.
	clinicWords []string

	mu        sync.Mutex
	setupCode string
}

// NewAccounts returns the accounts service.
func NewAccounts(s StaffStore, a AuditStore, log *slog.Logger) *Accounts {
	return &Accounts{staff: s, audit: a, now: time.Now, log: log, tokenDays: DefaultTokenDays}
}

// SetClinic names the clinic, whose name counts against a password built on it, like the account's own name
// (ContextWords are the product's and the trade's words, always counted).
func (a *Accounts) SetClinic(name string) {
	a.clinicWords = append([]string{name}, strings.Fields(name)...)
}

// passwordProblem is PasswordProblem for an account with that email and name, in this clinic.
func (a *Accounts) passwordProblem(password, email, name string) string {
	return PasswordProblem(password, append([]string{email, name}, a.clinicWords...)...)
}

// SetClock replaces the accounts' clock (tests of time-based codes).
func (a *Accounts) SetClock(now func() time.Time) { a.now = now }

// SetupCode returns the one-time code that /setup asks for while no account exists, making one on first use;
// "" once an account exists. serve prints it to its log, so only someone with access to the server can claim
// the clinic.
func (a *Accounts) SetupCode(ctx context.Context) (string, error) {
	n, err := a.staff.CountStaff(ctx)
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if n > 0 {
		a.setupCode = ""
		return "", nil
	}
	if a.setupCode == "" {
		a.setupCode = NewSetupCode()
	}
	return a.setupCode, nil
}

// SetupNeeded reports whether no account exists yet.
func (a *Accounts) SetupNeeded(ctx context.Context) (bool, error) {
	n, err := a.staff.CountStaff(ctx)
	return n == 0, err
}

// Setup creates the first administrator when code matches the setup code and no account exists yet.
// ErrConflict once an account exists; an InputError naming the code or any bad field otherwise.
func (a *Accounts) Setup(ctx context.Context, code string, n NewStaff) (Staff, error) {
	want, err := a.SetupCode(ctx)
	if err != nil {
		return Staff{}, err
	}
	if want == "" {
		return Staff{}, fmt.Errorf("%w: an account already exists", ErrConflict)
	}
	n.Role = RoleAdmin
	errs := InputError{}
	if err := n.Normalise(a.clinicWords...); err != nil {
		errs = err.(InputError)
	}
	code = strings.ToUpper(strings.TrimSpace(code))
	if subtle.ConstantTimeCompare([]byte(code), []byte(want)) != 1 {
		errs["code"] = "That is not the setup code. Find it in the log of frontdesk serve."
	}
	if len(errs) > 0 {
		return Staff{}, errs
	}
	s, err := a.create(ctx, System, n)
	if err != nil {
		return Staff{}, err
	}
	a.mu.Lock()
	a.setupCode = ""
	a.mu.Unlock()
	return s, nil
}

// Create adds an account. Only admins (and Frontdesk itself, for the CLI) may; ErrForbidden otherwise. An
// InputError names each bad field; ErrConflict when the email is taken.
func (a *Accounts) Create(ctx context.Context, actor Actor, n NewStaff) (Staff, error) {
	if actor.Role != RoleAdmin {
		return Staff{}, ErrForbidden
	}
	if err := n.Normalise(a.clinicWords...); err != nil {
		return Staff{}, err
	}
	return a.create(ctx, actor, n)
}

func (a *Accounts) create(ctx context.Context, actor Actor, n NewStaff) (Staff, error) {
	hash, err := HashPassword(n.Password)
	if err != nil {
		return Staff{}, err
	}
	s, err := a.staff.CreateStaff(ctx, n, hash, a.change(actor, "staff_add",
		fmt.Sprintf("%s (%s) as %s", n.Name, n.Email, n.Role)))
	if errors.Is(err, ErrConflict) {
		return Staff{}, InputError{"email": fmt.Sprintf("An account with the email %s already exists.", n.Email)}
	}
	if err != nil {
		return Staff{}, err
	}
	return s, nil
}

// Authenticate checks an email and password. It returns ErrUnauthenticated for an unknown account, a wrong
// password or a disabled account alike, taking the same time for each.
func (a *Accounts) Authenticate(ctx context.Context, email, password string) (Actor, error) {
	s, hash, err := a.staff.StaffByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, ErrNotFound) {
		_, _ = CheckPassword(dummyHash(), password)
		return Actor{}, ErrUnauthenticated
	}
	if err != nil {
		return Actor{}, err
	}
	ok, err := CheckPassword(hash, password)
	if err != nil {
		return Actor{}, fmt.Errorf("check password of staff %d: %w", s.ID, err)
	}
	if !ok || s.Disabled {
		return Actor{}, ErrUnauthenticated
	}
	return actorOf(s), nil
}

func actorOf(s Staff) Actor {
	return Actor{ID: s.ID, Email: s.Email, Name: s.Name, Role: s.Role, SecondFactor: s.SecondFactor}
}

// Actor returns the signed-in actor for an account ID, checked again on every request so that disabling an
// account or changing its role takes effect at once. ErrUnauthenticated when it is gone or disabled.
func (a *Accounts) Actor(ctx context.Context, id int64) (Actor, error) {
	s, err := a.staff.GetStaff(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && s.Disabled) {
		return Actor{}, ErrUnauthenticated
	}
	if err != nil {
		return Actor{}, err
	}
	return actorOf(s), nil
}

// List returns every account; admins only.
func (a *Accounts) List(ctx context.Context, actor Actor) ([]Staff, error) {
	if actor.Role != RoleAdmin {
		return nil, ErrForbidden
	}
	return a.staff.ListStaff(ctx)
}

// ListAssignees returns the active accounts an enquiry may be assigned to, for admins and coordinators (a
// clinician may only take enquiries for themselves: ErrForbidden).
func (a *Accounts) ListAssignees(ctx context.Context, actor Actor) ([]Staff, error) {
	if !actor.SeesAll() {
		return nil, ErrForbidden
	}
	all, err := a.staff.ListStaff(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Staff, 0, len(all))
	for _, s := range all {
		if !s.Disabled {
			out = append(out, s)
		}
	}
	return out, nil
}

// StaffUpdate is a change to an account; nil fields stay as they are.
type StaffUpdate struct {
	Role       *Role
	Treatments *[]string
	Disabled   *bool
}

// accountByEmail returns the account with that email (any case, spaces trimmed); an InputError names "email"
// when no account has it.
func (a *Accounts) accountByEmail(ctx context.Context, email string) (Staff, error) {
	s, _, err := a.staff.StaffByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, ErrNotFound) {
		return Staff{}, InputError{"email": fmt.Sprintf("No account has the email %q.", email)}
	}
	return s, err
}

// Update changes an account's role, treatments or disabled state; admins only. An admin cannot disable or
// demote themselves, so the clinic is never left without one. Disabling ends every session of the account and
// revokes every token it has, in the same transaction as the change and its audit entry.
func (a *Accounts) Update(ctx context.Context, actor Actor, email string, u StaffUpdate) (Staff, error) {
	if actor.Role != RoleAdmin {
		return Staff{}, ErrForbidden
	}
	target, err := a.accountByEmail(ctx, email)
	if err != nil {
		return Staff{}, err
	}
	errs := InputError{}
	var treatments []string
	if u.Role != nil && !u.Role.Valid() {
		errs["role"] = "Choose a role: admin, coordinator or clinician."
	}
	if u.Treatments != nil {
		if treatments, err = ParseTreatments(*u.Treatments); err != nil {
			errs["treatments"] = err.Error()
		}
	}
	if target.ID == actor.ID && ((u.Disabled != nil && *u.Disabled) || (u.Role != nil && *u.Role != RoleAdmin)) {
		errs["email"] = "You cannot disable or demote your own account; ask another administrator."
	}
	if len(errs) > 0 {
		return Staff{}, errs
	}
	s, err := a.staff.UpdateStaff(ctx, target.ID, func(s *Staff) (StaffChange, error) {
		if u.Role != nil {
			s.Role = *u.Role
		}
		if u.Treatments != nil {
			s.Treatments = treatments
		}
		if u.Disabled != nil {
			s.Disabled = *u.Disabled
		}
		ch := a.change(actor, "staff_update", fmt.Sprintf("%s: role %s, treatments %s, disabled %v", s.Email,
			s.Role, strings.Join(s.Treatments, ","), s.Disabled))
		// Disabling ends the account's sessions and revokes its tokens at once (again, when it was already
		// disabled: an account disabled before tokens could be revoked may still have some); enabling again
		// brings neither back.
		ch.EndAccess = u.Disabled != nil && *u.Disabled
		if ch.EndAccess {
			ch.Audit.Detail += "; every session ended and every token revoked"
		}
		return ch, nil
	})
	if err != nil {
		return Staff{}, err
	}
	return s, nil
}

// change is a StaffChange at this moment, audited as action by actor (Frontdesk itself when actor.IsSystem).
func (a *Accounts) change(actor Actor, action, detail string) StaffChange {
	at := a.now().UTC()
	return StaffChange{At: at, Audit: AuditEntry{At: at, Actor: actor.Ref(), Action: action, Detail: detail}}
}
