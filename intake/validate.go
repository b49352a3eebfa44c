package intake

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"
)

// DefaultPhoneRegion is the region assumed for phone numbers given in national form (07700 900123).
const DefaultPhoneRegion = "GB"

// FieldOrder is the order in which enquiry fields appear on the form; errors are listed in this order.
var FieldOrder = []string{
	"name", "email", "phone", "preferred_contact", "treatment", "message", "date_of_birth",
	"referral_source", "consent", "utm_source", "utm_medium", "utm_campaign",
}

// ValidationErrors maps a field's JSON name to a plain-English sentence saying what is wrong with it and how to
// put it right. Every invalid field is present at once.
type ValidationErrors map[string]string

// Error lists the invalid fields, in form order, without their values.
func (v ValidationErrors) Error() string {
	return "invalid enquiry fields: " + strings.Join(v.Fields(), ", ")
}

// Fields returns the invalid fields in form order (unknown names last, sorted).
func (v ValidationErrors) Fields() []string {
	out := make([]string, 0, len(v))
	seen := map[string]bool{}
	for _, f := range FieldOrder {
		if _, ok := v[f]; ok {
			out = append(out, f)
			seen[f] = true
		}
	}
	var rest []string
	for f := range v {
		if !seen[f] {
			rest = append(rest, f)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// Validator normalises and validates submissions. Build one with NewValidator at start and share it: it is safe
// for concurrent use (the underlying validator caches struct metadata).
type Validator struct {
	v        *validator.Validate
	now      func() time.Time
	location *time.Location
}

// NewValidator returns a Validator that judges ages by now in loc (the clinic's time zone). A nil now means
// time.Now; a nil loc means time.Local. It panics only if a custom rule cannot be registered, which is a
// programming error caught by the package's tests.
func NewValidator(now func() time.Time, loc *time.Location) *Validator {
	if now == nil {
		now = time.Now
	}
	if loc == nil {
		loc = time.Local
	}
	val := &Validator{v: validator.New(validator.WithRequiredStructEnabled()), now: now, location: loc}
	val.v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	must := func(tag string, fn validator.Func) {
		if err := val.v.RegisterValidation(tag, fn); err != nil {
			panic(fmt.Sprintf("intake: register validation %q: %v", tag, err))
		}
	}
	// The phone rule hands the number it parsed to Check (through the context of StructCtx), so a number is
	// parsed once.
	if err := val.v.RegisterValidationCtx("phone", func(ctx context.Context, fl validator.FieldLevel) bool {
		e164, ok := parsePhone(fl.Field().String())
		if p, _ := ctx.Value(parsedPhoneKey{}).(*string); p != nil {
			*p = e164
		}
		return ok
	}); err != nil {
		panic(fmt.Sprintf("intake: register validation %q: %v", "phone", err))
	}
	must("treatment", func(fl validator.FieldLevel) bool { return isChoice(Treatments, fl.Field().String()) })
	must("referral", func(fl validator.FieldLevel) bool { return isChoice(ReferralSources, fl.Field().String()) })
	must("consent", func(fl validator.FieldLevel) bool { return fl.Field().Bool() })
	must("dob", func(fl validator.FieldLevel) bool { return val.dobProblem(fl.Field().String()) == "" })
	return val
}

// Check normalises sub and validates it. It returns the enquiry ready to store, or ValidationErrors naming every
// invalid field. The consent is stamped with the time of the check and the current privacy notice version.
func (val *Validator) Check(sub Submission) (Enquiry, error) {
	sub = Normalise(sub)
	errs := ValidationErrors{}
	if !sub.DOB.Empty() {
		// The form's three fields: a date that does not hold together is reported here, naming the part;
		// one that does goes through the same rules (not in the future, 18 or over) as date_of_birth.
		date, problem, _ := sub.DOB.Check()
		sub.DateOfBirth = date
		if problem != "" {
			errs["date_of_birth"] = problem
		}
	}
	var phone string // E.164, set by the phone rule
	if err := val.v.StructCtx(context.WithValue(context.Background(), parsedPhoneKey{}, &phone), sub); err != nil {
		fieldErrs, ok := err.(validator.ValidationErrors)
		if !ok {
			return Enquiry{}, fmt.Errorf("validate enquiry: %w", err)
		}
		for _, fe := range fieldErrs {
			if _, dup := errs[fe.Field()]; !dup {
				errs[fe.Field()] = val.message(fe, sub)
			}
		}
	}
	if sub.PreferredContact == "phone" && sub.Phone == "" {
		if _, has := errs["phone"]; !has {
			errs["phone"] = "Please give a phone number, as you would like us to call you."
		}
	}
	for k, m := range sub.screeningErrors {
		errs[k] = m
	}
	if len(errs) > 0 {
		return Enquiry{}, errs
	}
	if sub.Phone != "" && phone == "" { // the rule always runs for a number that passed; this is a safety net
		phone, _ = parsePhone(sub.Phone)
	}
	return Enquiry{
		Name:             sub.Name,
		Email:            sub.Email,
		Phone:            phone,
		PreferredContact: sub.PreferredContact,
		Treatment:        sub.Treatment,
		Message:          sub.Message,
		DateOfBirth:      sub.DateOfBirth,
		ReferralSource:   sub.ReferralSource,
		OKToLeaveMessage: sub.OKToLeaveMessage,
		UTMSource:        sub.UTMSource,
		UTMMedium:        sub.UTMMedium,
		UTMCampaign:      sub.UTMCampaign,
		Screening:        sub.Screening,
		Spam:             sub.Website != "",
		Consent:          Consent{GivenAt: val.now().UTC(), Version: PrivacyNoticeVersion},
	}, nil
}

// Normalise returns sub with every text trimmed and in Unicode NFC, control characters removed (the message
// keeps its line breaks, normalised to \n), runs of spaces in the name collapsed, the email and the enumerated
// values lower-cased, and an empty preferred contact set to "either". It does not validate.
func Normalise(sub Submission) Submission {
	line := func(s string) string {
		if plainASCII(s, false) {
			return s
		}
		return strings.Join(strings.Fields(clean(s, false)), " ")
	}
	sub.Name = line(sub.Name)
	sub.Email = strings.ToLower(line(sub.Email))
	sub.Phone = line(sub.Phone)
	sub.PreferredContact = strings.ToLower(line(sub.PreferredContact))
	if sub.PreferredContact == "" {
		sub.PreferredContact = "either"
	}
	sub.Treatment = strings.ToLower(line(sub.Treatment))
	if !plainASCII(sub.Message, true) {
		sub.Message = clean(sub.Message, true)
	}
	sub.Message = strings.TrimSpace(sub.Message)
	sub.DateOfBirth = line(sub.DateOfBirth)
	sub.ReferralSource = strings.ToLower(line(sub.ReferralSource))
	sub.Website = line(sub.Website)
	sub.UTMSource = line(sub.UTMSource)
	sub.UTMMedium = line(sub.UTMMedium)
	sub.UTMCampaign = line(sub.UTMCampaign)
	return sub
}

// plainASCII reports whether s is already as Normalise leaves it, which most fields are: printable ASCII
// (which NFC and clean leave alone) with, for a line, single spaces between words and none at either end, or,
// multiline, also line feeds and tabs (the caller trims the ends).
func plainASCII(s string, multiline bool) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ':
			if !multiline && (i == 0 || i == len(s)-1 || s[i-1] == ' ') {
				return false
			}
		case c > ' ' && c < 0x7f:
		case multiline && (c == '\n' || c == '\t'):
		default:
			return false
		}
	}
	return true
}

// clean puts s into NFC, replaces invalid UTF-8, and drops control and format characters; with multiline it
// keeps line breaks (CRLF and CR become LF) and tabs.
func clean(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = norm.NFC.String(s)
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			if multiline {
				return r
			}
			return ' '
		case unicode.IsControl(r), r == '\u2028', r == '\u2029', r == '\uFEFF', r == '\u200B':
			return -1
		}
		return r
	}, s)
}

// parsedPhoneKey is the context key under which Check asks the phone rule for the number it parsed.
type parsedPhoneKey struct{}

// parsePhone returns the number in E.164 when it is a valid number (national UK form allowed).
func parsePhone(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	n, err := phonenumbers.Parse(s, DefaultPhoneRegion)
	if err != nil {
		return "", false
	}
	// A number of a possible length for its country is accepted even when libphonenumber does not know its
	// range as assigned: Ofcom's numbers for drama and testing (07700 900123) are such, and a new range would
	// be too. Only numbers that cannot be real are refused. The length check comes first: it is cheap, and
	// decides nearly every number, where IsValidNumber tries the patterns of each region sharing the country
	// code (GB, GG, IM and JE for +44).
	if phonenumbers.IsPossibleNumberWithReason(n) != phonenumbers.IS_POSSIBLE && !phonenumbers.IsValidNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// NormalisePhone returns s in E.164 when it reads as a valid phone number (UK national form allowed).
func NormalisePhone(s string) (string, bool) { return parsePhone(strings.TrimSpace(s)) }

// dobProblem says what is wrong with a date of birth, or "" when it is acceptable.
func (val *Validator) dobProblem(s string) string {
	d, err := time.ParseInLocation("2006-01-02", s, val.location)
	if err != nil {
		return "Please give your date of birth as YYYY-MM-DD, for example 1990-04-23."
	}
	today := val.now().In(val.location)
	if d.After(today) {
		return "Your date of birth cannot be in the future; please check it."
	}
	if d.Year() < 1900 {
		return "Please check your date of birth; the year looks too early."
	}
	if age(d, today) < MinimumAge {
		return fmt.Sprintf("We can only accept enquiries from people aged %d or over. If you are younger, please speak to your GP, or call NHS 111 for advice.", MinimumAge)
	}
	return ""
}

// age returns the whole years between birth and today, by calendar date.
func age(birth, today time.Time) int {
	years := today.Year() - birth.Year()
	if today.Month() < birth.Month() || (today.Month() == birth.Month() && today.Day() < birth.Day()) {
		years--
	}
	return years
}

// message turns one validator failure into a plain-English sentence for the patient.
func (val *Validator) message(fe validator.FieldError, sub Submission) string {
	field, tag := fe.Field(), fe.Tag()
	switch field {
	case "name":
		switch tag {
		case "required":
			return "Please tell us your name."
		case "min":
			return "Please give at least 2 characters for your name."
		default:
			return fmt.Sprintf("Please shorten your name to 100 characters or fewer (it has %d).", utf8.RuneCountInString(sub.Name))
		}
	case "email":
		if tag == "required" {
			return "Please give your email address, so we can confirm we received your enquiry."
		}
		return "Please give a valid email address, like name@example.com."
	case "phone":
		return "Please give a valid phone number, like 07700 900123 or +44 7700 900123."
	case "preferred_contact":
		return "Please choose how you would like us to contact you: email, phone or either."
	case "treatment":
		return "Please choose the treatment you are asking about."
	case "message":
		return fmt.Sprintf("Please shorten your message to 5000 characters or fewer (it has %d).", utf8.RuneCountInString(sub.Message))
	case "date_of_birth":
		return val.dobProblem(sub.DateOfBirth)
	case "referral_source":
		return "Please choose how you heard about us from the list."
	case "consent":
		return "Please tick the box to agree that we may contact you and that you have read the privacy notice."
	case "utm_source", "utm_medium", "utm_campaign":
		return fmt.Sprintf("%s must be 100 characters or fewer.", field)
	}
	return fmt.Sprintf("Please check %s.", strings.ReplaceAll(field, "_", " "))
}
