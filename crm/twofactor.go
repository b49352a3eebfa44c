package crm

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// TwoFactorPolicy says which staff must sign in with a second factor (FRONTDESK_REQUIRE_2FA). Its zero value
// is the safe one: everybody.
type TwoFactorPolicy string

// The policies.
const (
	// TwoFactorAll: every account must enrol an authenticator app, at its first sign-in.
	TwoFactorAll TwoFactorPolicy = "all"
	// TwoFactorAdmins: administrators must; others may.
	TwoFactorAdmins TwoFactorPolicy = "admins"
	// TwoFactorOff: nobody must; an account that has enrolled is still asked for its code.
	TwoFactorOff TwoFactorPolicy = "off"
)

// ParseTwoFactorPolicy reads a policy name; an error says which names there are.
func ParseTwoFactorPolicy(s string) (TwoFactorPolicy, error) {
	switch p := TwoFactorPolicy(strings.ToLower(strings.TrimSpace(s))); p {
	case TwoFactorAll, TwoFactorAdmins, TwoFactorOff:
		return p, nil
	}
	return "", errors.New("must be all, admins or off")
}

// Requires reports whether an account of that role must have a second factor. The zero policy requires it
// of everybody.
func (p TwoFactorPolicy) Requires(r Role) bool {
	switch p {
	case TwoFactorOff:
		return false
	case TwoFactorAdmins:
		return r == RoleAdmin
	}
	return true
}

// TOTP parameters (RFC 6238 as authenticator apps use it): SHA-1, 6 digits, a 30-second step. A code is
// accepted for its own step and one step either side (clocks drift), never twice.
const (
	TOTPPeriod = 30
	totpDigits = otp.DigitsSix
	totpSkew   = 1
)

// RecoveryCodeCount is how many single-use recovery codes an account gets at enrolment.
const RecoveryCodeCount = 10

// ErrCodeRefused: a second-factor code that is wrong, or that was accepted before (a replay). The failure is
// recorded as a failed sign-in.
var ErrCodeRefused = errors.New("second-factor code refused")

// ErrCodeReused is an ErrCodeRefused for a correct code that has been used already; wrapping ErrCodeRefused,
// it lets the page say "wait for the next code".
var ErrCodeReused = fmt.Errorf("%w: already used", ErrCodeRefused)

// SecondFactor is an account's enrolled authenticator: its secret (base32), when it was enrolled, the time
// step of the last code accepted, and its unused recovery codes.
type SecondFactor struct {
	StaffID       int64
	Secret        string
	EnrolledAt    time.Time
	LastStep      int64
	RecoveryCodes []RecoveryCode
}

// RecoveryCode is an unused recovery code as stored: its hash only.
type RecoveryCode struct {
	ID   int64
	Hash string
}

// FactorUse is an accepted second-factor proof for the store to record.
type FactorUse struct {
	StaffID int64
	// Step is the TOTP time step of the code accepted (0 when a recovery code was used).
	Step int64
	// RecoveryCodeID is the recovery code used (0 when a TOTP code was).
	RecoveryCodeID int64
	At             time.Time
	// SignIn: the proof completes a sign-in, so the account's failed sign-in count returns to 0.
	SignIn bool
	// NewRecoveryCodes, when not nil, are the hashes that replace every recovery code of the account.
	NewRecoveryCodes []string
	// Audit are the entries written in the same transaction.
	Audit []AuditEntry
}

// TwoFactorStore keeps the staff's second factors and failed sign-in counts.
type TwoFactorStore interface {
	// SecondFactor returns the account's second factor with its unused recovery codes; ErrNotFound when it
	// has none.
	SecondFactor(ctx context.Context, staffID int64) (SecondFactor, error)
	// EnrolSecondFactor stores f (its secret proved by a code of time step f.LastStep) and codeHashes as the
	// account's recovery codes, writing e, in one transaction; ErrConflict when the account has one already.
	EnrolSecondFactor(ctx context.Context, f SecondFactor, codeHashes []string, e AuditEntry) error
	// UseSecondFactor records u and its audit entries in one transaction. ErrCodeReused, and nothing changes,
	// when u.Step is not after the last step accepted or the recovery code has been used (a replay, or two
	// requests racing with one code); ErrNotFound when the account has no second factor.
	UseSecondFactor(ctx context.Context, u FactorUse) error
	// ResetSecondFactor removes the account's secret and recovery codes and applies ch (its audit entry, and
	// ending its access when asked), in one transaction. It reports whether the account had a second factor; ch
	// is applied even when it had none, since ending access is worth recording either way.
	ResetSecondFactor(ctx context.Context, staffID int64, ch StaffChange) (bool, error)
	// RecordSignIn writes e and sets the account's count of consecutive failed sign-ins to 0 when ok, or adds
	// one when not, in one transaction. staffID 0 (an unknown account) writes e alone.
	RecordSignIn(ctx context.Context, staffID int64, ok bool, e AuditEntry) error
	// ClearFailedSignIns sets the account's failed sign-in count to 0, writing e, in one transaction;
	// ErrNotFound when there is no such account.
	ClearFailedSignIns(ctx context.Context, staffID int64, e AuditEntry) error
}

// Enrolment is a new authenticator secret offered to an account, not yet proved by a code: Secret in base32
// (to type into an app) and URI, the otpauth:// link a QR code carries.
type Enrolment struct {
	Secret string
	URI    string
}

// NewEnrolment makes a new random TOTP secret for the actor, named in authenticator apps as issuer (the
// clinic) and the account's email. Nothing is stored: Enrol stores it once a code proves the app has it.
func (a *Accounts) NewEnrolment(actor Actor, issuer string) (Enrolment, error) {
	issuer = strings.TrimSpace(strings.ReplaceAll(issuer, ":", " ")) // ":" separates issuer and account in the URI
	if issuer == "" {
		issuer = "Frontdesk"
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: actor.Email, Period: TOTPPeriod,
		Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return Enrolment{}, fmt.Errorf("new TOTP secret: %w", err)
	}
	return Enrolment{Secret: key.Secret(), URI: key.URL()}, nil
}

// Enrol makes secret the actor's second factor once code, from their authenticator app, proves they have it,
// and returns the ten recovery codes — shown once, only their hashes kept. An InputError names "code" when
// the code does not match; ErrConflict when the account has a second factor already.
func (a *Accounts) Enrol(ctx context.Context, actor Actor, secret, code string) ([]string, error) {
	if actor.IsSystem() {
		return nil, ErrForbidden
	}
	step, ok := matchTOTP(secret, code, a.now(), 0)
	if !ok {
		return nil, InputError{"code": "That code does not match. Enter the 6-digit code your app shows now for this account."}
	}
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	now := a.now().UTC()
	f := SecondFactor{StaffID: actor.ID, Secret: secret, EnrolledAt: now, LastStep: step}
	e := a.entry(actor, "2fa_enrol", fmt.Sprintf("authenticator app enrolled, %d recovery codes made", len(codes)))
	if err := a.staff.EnrolSecondFactor(ctx, f, hashes, e); err != nil {
		return nil, fmt.Errorf("enrol second factor of staff %d: %w", actor.ID, err)
	}
	return codes, nil
}

// TwoFactorStatus is what an account's own page shows of its second factor.
type TwoFactorStatus struct {
	Enrolled          bool
	EnrolledAt        time.Time
	RecoveryCodesLeft int
}

// TwoFactorStatus returns the actor's own second-factor status.
func (a *Accounts) TwoFactorStatus(ctx context.Context, actor Actor) (TwoFactorStatus, error) {
	f, err := a.staff.SecondFactor(ctx, actor.ID)
	if errors.Is(err, ErrNotFound) {
		return TwoFactorStatus{}, nil
	}
	if err != nil {
		return TwoFactorStatus{}, err
	}
	return TwoFactorStatus{Enrolled: true, EnrolledAt: f.EnrolledAt, RecoveryCodesLeft: len(f.RecoveryCodes)}, nil
}

// NewRecoveryCodes replaces the actor's recovery codes by ten new ones, given a current code from their
// authenticator app (which is then used up), and returns them. An InputError names "code" when it is wrong
// or used; ErrNotFound when the account has no second factor.
func (a *Accounts) NewRecoveryCodes(ctx context.Context, actor Actor, code string) ([]string, error) {
	f, err := a.staff.SecondFactor(ctx, actor.ID)
	if err != nil {
		return nil, err
	}
	step, ok := matchTOTP(f.Secret, code, a.now(), f.LastStep)
	if !ok {
		return nil, InputError{"code": "That code does not match, or has been used. Enter the code your app shows now."}
	}
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	err = a.staff.UseSecondFactor(ctx, FactorUse{StaffID: actor.ID, Step: step, At: a.now().UTC(), NewRecoveryCodes: hashes,
		Audit: []AuditEntry{a.entry(actor, "recovery_codes_new", fmt.Sprintf("%d new recovery codes replace the old ones", len(codes)))}})
	if errors.Is(err, ErrCodeRefused) {
		return nil, InputError{"code": "That code has been used already. Wait for the next one."}
	}
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// ResetSecondFactor removes the second factor and recovery codes of the account with that email (admins and
// Frontdesk itself only), so it enrols again at its next sign-in. It reports whether there was one; an
// InputError names "email" when no account has it.
func (a *Accounts) ResetSecondFactor(ctx context.Context, actor Actor, email string) (bool, error) {
	if actor.Role != RoleAdmin {
		return false, ErrForbidden
	}
	s, err := a.accountByEmail(ctx, email)
	if err != nil {
		return false, err
	}
	// Whoever holds the lost phone may be signed in: every session and token of the account ends with it.
	ch := a.change(actor, "2fa_reset", fmt.Sprintf("second factor of %s removed; its sessions ended and tokens revoked", s.Email))
	ch.EndAccess = true
	had, err := a.staff.ResetSecondFactor(ctx, s.ID, ch)
	if err != nil {
		return false, fmt.Errorf("reset second factor of staff %d: %w", s.ID, err)
	}
	return had, nil
}

// matchTOTP finds the time step, within one step of now, whose code is code, and which is after lastStep
// (a code is accepted once). Every candidate is compared in constant time.
func matchTOTP(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	code = strings.Join(strings.Fields(code), "")
	if len(code) != int(totpDigits) {
		return 0, false
	}
	current := now.Unix() / TOTPPeriod
	var found int64
	for step := current - totpSkew; step <= current+totpSkew; step++ {
		want, err := hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > lastStep && found == 0 {
			found = step
		}
	}
	return found, found != 0
}

// codeReused reports whether code is a correct TOTP code of a step already accepted: a replay.
func codeReused(secret, code string, now time.Time, lastStep int64) bool {
	_, anyStep := matchTOTP(secret, code, now, 0)
	_, fresh := matchTOTP(secret, code, now, lastStep)
	return anyStep && !fresh
}

// recoveryAlphabet leaves out letters and digits easily confused when copied by hand (0/o, 1/l/i, u/v).
const recoveryAlphabet = "23456789abcdefghjkmnpqrstwxyz"

// recoveryCodeLength is the characters of a recovery code, not counting its dashes: 12 from an alphabet of 29
// carry about 58 random bits.
const recoveryCodeLength = 12

// newRecoveryCodes returns RecoveryCodeCount random codes ("xxxx-xxxx-xxxx", about 58 bits each) and their
// hashes.
func newRecoveryCodes() (codes, hashes []string, err error) {
	alphabet := big.NewInt(int64(len(recoveryAlphabet)))
	for range RecoveryCodeCount {
		var sb strings.Builder
		for i := range recoveryCodeLength {
			if i > 0 && i%4 == 0 {
				sb.WriteByte('-')
			}
			n, err := rand.Int(rand.Reader, alphabet) // uniform: no letter likelier than another
			if err != nil {
				return nil, nil, fmt.Errorf("recovery code: %w", err)
			}
			sb.WriteByte(recoveryAlphabet[n.Int64()])
		}
		h, err := RecoveryCodeHash(sb.String())
		if err != nil {
			return nil, nil, err
		}
		codes, hashes = append(codes, sb.String()), append(hashes, h)
	}
	return codes, hashes, nil
}

// normaliseRecoveryCode is a code as typed, without spaces or dashes, in lower case; "" when it cannot be a
// recovery code (wrong length or letters), so a mistyped authenticator code costs no hashing.
func normaliseRecoveryCode(code string) string {
	norm := strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
	if len(norm) != recoveryCodeLength || strings.Trim(norm, recoveryAlphabet) != "" {
		return ""
	}
	return norm
}

// RecoveryCodeHash is how a recovery code is stored: like a password (argon2id with its own salt), because
// its 58 random bits are fewer than would make a fast hash safe against someone holding the database.
func RecoveryCodeHash(code string) (string, error) {
	norm := normaliseRecoveryCode(code)
	if norm == "" {
		return "", fmt.Errorf("recovery code hash: not a recovery code")
	}
	return HashPassword(norm)
}

// RecoveryCodeMatches reports whether code is the recovery code stored as hash.
func RecoveryCodeMatches(hash, code string) bool {
	norm := normaliseRecoveryCode(code)
	if norm == "" {
		return false
	}
	ok, err := CheckPassword(hash, norm)
	return err == nil && ok
}

// matchRecoveryCode returns the ID of the unused code that code is; 0 when none matches. Every stored code is
// checked, so the time taken does not say which one matched.
func matchRecoveryCode(codes []RecoveryCode, code string) int64 {
	if normaliseRecoveryCode(code) == "" {
		return 0
	}
	var id int64
	for _, rc := range codes {
		if RecoveryCodeMatches(rc.Hash, code) && id == 0 {
			id = rc.ID
		}
	}
	return id
}

// entry is an audit entry by actor (none for Frontdesk itself), timed now.
func (a *Accounts) entry(actor Actor, action, detail string) AuditEntry {
	return a.change(actor, action, detail).Audit
}
