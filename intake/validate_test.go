package intake

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// fixedNow is the moment the tests judge ages by: 2026-06-15 10:00 in London.
var london, _ = time.LoadLocation("Europe/London")
var fixedNow = time.Date(2026, 6, 15, 10, 0, 0, 0, london)

func testValidator() *Validator {
	return NewValidator(func() time.Time { return fixedNow }, london)
}

func valid() Submission {
	return Submission{
		Name: "Ann Example", Email: "ann@example.org", Treatment: "adhd", Consent: true,
	}
}

func TestCheckAcceptsAValidSubmission(t *testing.T) {
	e, err := testValidator().Check(valid())
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if e.Name != "Ann Example" || e.Email != "ann@example.org" || e.Treatment != "adhd" || e.PreferredContact != "either" {
		t.Errorf("unexpected enquiry: %+v", e)
	}
	if e.Consent.Version != PrivacyNoticeVersion || !e.Consent.GivenAt.Equal(fixedNow) {
		t.Errorf("consent = %+v, want version %s at %v", e.Consent, PrivacyNoticeVersion, fixedNow)
	}
	if e.Spam {
		t.Error("a submission without the honeypot was marked spam")
	}
}

// TestCheckRules covers every rule of the README's field table: each case changes one field of a valid
// submission and says which field must be reported (or "" when it must pass).
func TestCheckRules(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) } // runes, not bytes, are counted
	cases := []struct {
		name      string
		edit      func(*Submission)
		wantField string
		wantText  string
	}{
		{"name missing", func(s *Submission) { s.Name = "" }, "name", "tell us your name"},
		{"name only spaces", func(s *Submission) { s.Name = "   \t " }, "name", "tell us your name"},
		{"name one character after trim", func(s *Submission) { s.Name = "  A  " }, "name", "at least 2"},
		{"name two characters", func(s *Submission) { s.Name = "Al" }, "", ""},
		{"name 100 characters", func(s *Submission) { s.Name = long(100) }, "", ""},
		{"name 101 characters", func(s *Submission) { s.Name = long(101) }, "name", "100 characters"},
		{"email missing", func(s *Submission) { s.Email = "" }, "email", "give your email"},
		{"email invalid", func(s *Submission) { s.Email = "ann@" }, "email", "valid email"},
		{"email with spaces inside", func(s *Submission) { s.Email = "ann example@example.org" }, "email", "valid email"},
		{"email too long", func(s *Submission) { s.Email = strings.Repeat("a", 250) + "@example.org" }, "email", "valid email"},
		{"phone national UK", func(s *Submission) { s.Phone = "07700 900123" }, "", ""},
		{"phone international", func(s *Submission) { s.Phone = "+1 202 555 0143" }, "", ""},
		{"phone too short", func(s *Submission) { s.Phone = "123" }, "phone", "valid phone"},
		{"phone letters", func(s *Submission) { s.Phone = "call me maybe" }, "phone", "valid phone"},
		{"preferred contact unknown", func(s *Submission) { s.PreferredContact = "pigeon" }, "preferred_contact", "email, phone or either"},
		{"preferred contact phone without phone", func(s *Submission) { s.PreferredContact = "phone" }, "phone", "as you would like us to call"},
		{"preferred contact phone with phone", func(s *Submission) { s.PreferredContact = "phone"; s.Phone = "07911 123456" }, "", ""},
		{"preferred contact email", func(s *Submission) { s.PreferredContact = "email" }, "", ""},
		{"treatment missing", func(s *Submission) { s.Treatment = "" }, "treatment", "choose the treatment"},
		{"treatment unknown", func(s *Submission) { s.Treatment = "ketamine" }, "treatment", "choose the treatment"},
		{"treatment chronic_pain", func(s *Submission) { s.Treatment = "chronic_pain" }, "", ""},
		{"treatment upper case", func(s *Submission) { s.Treatment = "PTSD" }, "", ""},
		{"message 5000", func(s *Submission) { s.Message = long(5000) }, "", ""},
		{"message 5001", func(s *Submission) { s.Message = long(5001) }, "message", "5000 characters"},
		{"dob adult", func(s *Submission) { s.DateOfBirth = "1990-04-23" }, "", ""},
		{"dob 18 today", func(s *Submission) { s.DateOfBirth = "2008-06-15" }, "", ""},
		{"dob 18 tomorrow", func(s *Submission) { s.DateOfBirth = "2008-06-16" }, "date_of_birth", "18 or over"},
		{"dob child", func(s *Submission) { s.DateOfBirth = "2015-01-01" }, "date_of_birth", "18 or over"},
		{"dob future", func(s *Submission) { s.DateOfBirth = "2030-01-01" }, "date_of_birth", "future"},
		{"dob too early", func(s *Submission) { s.DateOfBirth = "1850-01-01" }, "date_of_birth", "too early"},
		{"dob wrong format", func(s *Submission) { s.DateOfBirth = "23/04/1990" }, "date_of_birth", "YYYY-MM-DD"},
		{"dob impossible date", func(s *Submission) { s.DateOfBirth = "1990-02-30" }, "date_of_birth", "YYYY-MM-DD"},
		{"referral gp", func(s *Submission) { s.ReferralSource = "gp" }, "", ""},
		{"referral unknown", func(s *Submission) { s.ReferralSource = "tv" }, "referral_source", "how you heard"},
		{"consent missing", func(s *Submission) { s.Consent = false }, "consent", "tick the box"},
		{"utm_source 100", func(s *Submission) { s.UTMSource = long(100) }, "", ""},
		{"utm_source 101", func(s *Submission) { s.UTMSource = long(101) }, "utm_source", "100 characters"},
		{"utm_medium 101", func(s *Submission) { s.UTMMedium = long(101) }, "utm_medium", "100 characters"},
		{"utm_campaign 101", func(s *Submission) { s.UTMCampaign = long(101) }, "utm_campaign", "100 characters"},
	}
	v := testValidator()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sub := valid()
			tc.edit(&sub)
			_, err := v.Check(sub)
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			errs, ok := err.(ValidationErrors)
			if !ok {
				t.Fatalf("want ValidationErrors, got %T %v", err, err)
			}
			if len(errs) != 1 {
				t.Errorf("want only %s reported, got %v", tc.wantField, errs)
			}
			msg, ok := errs[tc.wantField]
			if !ok {
				t.Fatalf("want error on %s, got %v", tc.wantField, errs)
			}
			if !strings.Contains(msg, tc.wantText) {
				t.Errorf("message %q does not say %q", msg, tc.wantText)
			}
			if strings.Contains(msg, "Key:") || strings.Contains(msg, "Field validation") {
				t.Errorf("message leaks the validator's raw text: %q", msg)
			}
		})
	}
}

func TestCheckReportsEveryFieldAtOnce(t *testing.T) {
	_, err := testValidator().Check(Submission{Name: "A", Email: "nope", Phone: "1", Treatment: "x",
		DateOfBirth: "2020-01-01", ReferralSource: "x", PreferredContact: "x", Message: strings.Repeat("m", 5001)})
	errs, ok := err.(ValidationErrors)
	if !ok {
		t.Fatalf("want ValidationErrors, got %v", err)
	}
	want := []string{"name", "email", "phone", "preferred_contact", "treatment", "message", "date_of_birth", "referral_source", "consent"}
	if got := errs.Fields(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("fields = %v, want %v (in form order)", got, want)
	}
	if !strings.Contains(errs.Error(), "name, email") || strings.Contains(errs.Error(), "nope") {
		t.Errorf("Error() = %q: should name fields and never carry values", errs.Error())
	}
}

func TestCheckNormalises(t *testing.T) {
	sub := Submission{
		Name:             "  Zoe\u0301   \t  O'Brien\u200b ",         // decomposed é, tab, zero-width space
		Email:            "  Zoe.OBrien@Example.ORG ",                // upper case, spaces
		Phone:            " 07700 900123 ",                           // national UK form
		PreferredContact: "PHONE",                                    // upper case enum
		Treatment:        " Depression ",                             // spaces and case
		Message:          "  Line one\r\nLine two\rLine three\x07  ", // CRLF, CR, a bell
		DateOfBirth:      " 1985-11-02 ",
		ReferralSource:   "GP",
		Consent:          true,
		UTMSource:        " newsletter ",
	}
	e, err := testValidator().Check(sub)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	checks := []struct{ field, got, want string }{
		{"name", e.Name, "Zoé O'Brien"},
		{"email", e.Email, "zoe.obrien@example.org"},
		{"phone", e.Phone, "+447700900123"},
		{"preferred_contact", e.PreferredContact, "phone"},
		{"treatment", e.Treatment, "depression"},
		{"message", e.Message, "Line one\nLine two\nLine three"},
		{"date_of_birth", e.DateOfBirth, "1985-11-02"},
		{"referral_source", e.ReferralSource, "gp"},
		{"utm_source", e.UTMSource, "newsletter"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if e.Name != "Zo\u00e9 O'Brien" {
		t.Errorf("name not in NFC: %+q", e.Name)
	}
}

func TestPhoneFormsAreStoredInE164(t *testing.T) {
	v := testValidator()
	for in, want := range map[string]string{
		"07700 900123":      "+447700900123",
		"+44 7700 900123":   "+447700900123",
		"0044 7700 900123":  "+447700900123",
		"(020) 7946 0018":   "+442079460018",
		"+1 (202) 555-0143": "+12025550143",
	} {
		sub := valid()
		sub.Phone = in
		e, err := v.Check(sub)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if e.Phone != want {
			t.Errorf("%q stored as %q, want %q", in, e.Phone, want)
		}
	}
}

func TestHoneypotMarksSpam(t *testing.T) {
	sub := valid()
	sub.Website = "http://spam.example"
	e, err := testValidator().Check(sub)
	if err != nil {
		t.Fatalf("a filled honeypot must still be accepted (answered as success): %v", err)
	}
	if !e.Spam {
		t.Error("filled honeypot not marked spam")
	}
}

func TestEveryFieldHasAPlainMessageForEveryTag(t *testing.T) {
	// A rule whose message fell through to the generic text would show "Please check ..." — make sure every
	// field of the form reports something specific.
	v := testValidator()
	_, err := v.Check(Submission{Name: strings.Repeat("n", 101), Email: strings.Repeat("e", 300), Phone: "x",
		PreferredContact: "x", Treatment: "x", Message: strings.Repeat("m", 5001), DateOfBirth: "x",
		ReferralSource: "x", UTMSource: strings.Repeat("u", 101), UTMMedium: strings.Repeat("u", 101),
		UTMCampaign: strings.Repeat("u", 101)})
	errs := err.(ValidationErrors)
	for _, f := range FieldOrder {
		msg, ok := errs[f]
		if !ok {
			t.Errorf("%s: no error reported", f)
			continue
		}
		if strings.HasPrefix(msg, "Please check "+strings.ReplaceAll(f, "_", " ")) {
			t.Errorf("%s: generic message %q", f, msg)
		}
	}
}

// referenceParsePhone is parsePhone as it was first written, IsValidNumber asked before the length check. The
// order changed for speed; what is accepted and how it is written must not.
func referenceParsePhone(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	n, err := phonenumbers.Parse(s, DefaultPhoneRegion)
	if err != nil {
		return "", false
	}
	if !phonenumbers.IsValidNumber(n) && phonenumbers.IsPossibleNumberWithReason(n) != phonenumbers.IS_POSSIBLE {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// TestPhoneRuleMatchesTheReference: parsePhone, and Check's phone field, accept and write exactly the numbers
// the reference does — written the ways patients write them, from many countries, of every length, valid or
// not.
func TestPhoneRuleMatchesTheReference(t *testing.T) {
	inputs := []string{"07700 900123", "07700900456", "+44 7700 900789", "+447700900321", "0044 7700 900654",
		"(020) 7946 0018", "020 7946 0991", "+44 (0)20 7946 0123", "0113 496 0555", "0161 496 0777",
		"+353 1 555 0123", "+1 202 555 0143", "+33 6 12 34 56 78", "+49 30 1234567", "+61 491 570 156",
		"07911 123456", "123", "1", "x", "call me maybe", "+", "+44", "+44 7700", "07700 900123 ext. 12",
		"07700 900123 x12", "07700 900123#", "tel:+44-7700-900123", "+800 1234 5678", "+882 1234 5678",
		"+999 1234", "0800 123 4567", "999", "112", "+44 7700 900123 9999", "00 1 202 555 0143"}
	r := rand.New(rand.NewPCG(44, 7700))
	prefixes := []string{"", "0", "07", "01", "02", "08", "09", "+44", "+44 0", "0044", "+1", "+353", "+33", "+49",
		"+61", "+91", "+86", "+7", "+", "00"}
	seps := []string{"", " ", "-", ".", " (", ") "}
	for range 3000 {
		var b strings.Builder
		b.WriteString(prefixes[r.IntN(len(prefixes))])
		for range 2 + r.IntN(13) {
			if r.IntN(4) == 0 {
				b.WriteString(seps[r.IntN(len(seps))])
			}
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		inputs = append(inputs, b.String())
	}
	v := testValidator()
	accepted := 0
	for _, in := range inputs {
		want, wantOK := referenceParsePhone(in)
		got, ok := parsePhone(in)
		if got != want || ok != wantOK {
			t.Errorf("parsePhone(%q) = %q, %v; the reference says %q, %v", in, got, ok, want, wantOK)
		}
		if wantOK {
			accepted++
		}
		sub := valid()
		sub.Phone = in
		e, err := v.Check(sub)
		switch {
		case utf8.RuneCountInString(strings.TrimSpace(in)) > 40:
		case wantOK && (err != nil || e.Phone != want):
			t.Errorf("Check with phone %q: %q, %v; want %q", in, e.Phone, err, want)
		case !wantOK && in != "" && err == nil:
			t.Errorf("Check accepted phone %q", in)
		}
	}
	if accepted < 500 || accepted > len(inputs)-500 {
		t.Errorf("%d of %d numbers accepted: the inputs are lopsided", accepted, len(inputs))
	}
}

// referenceNormalise is Normalise as it was before its fast path for plain ASCII: every field through clean,
// then Fields and Join.
func referenceNormalise(sub Submission) Submission {
	line := func(s string) string { return strings.Join(strings.Fields(clean(s, false)), " ") }
	sub.Name = line(sub.Name)
	sub.Email = strings.ToLower(line(sub.Email))
	sub.Phone = line(sub.Phone)
	sub.PreferredContact = strings.ToLower(line(sub.PreferredContact))
	if sub.PreferredContact == "" {
		sub.PreferredContact = "either"
	}
	sub.Treatment = strings.ToLower(line(sub.Treatment))
	sub.Message = strings.TrimSpace(clean(sub.Message, true))
	sub.DateOfBirth = line(sub.DateOfBirth)
	sub.ReferralSource = strings.ToLower(line(sub.ReferralSource))
	sub.Website = line(sub.Website)
	sub.UTMSource = line(sub.UTMSource)
	sub.UTMMedium = line(sub.UTMMedium)
	sub.UTMCampaign = line(sub.UTMCampaign)
	return sub
}

// randomText is a short string over an alphabet chosen to reach both paths of Normalise: plain ASCII, spaces
// at the ends and doubled, tabs, line breaks of each kind, control and format characters, accents composed and
// combining, separators, invalid UTF-8 and DEL.
func randomText(r *rand.Rand) string {
	alphabet := []string{"a", "Z", "0", "@", ".", "'", " ", " ", "  ", "\t", "\n", "\r\n", "\r", "\x00", "\x1b",
		"\x7f", "é", "e\u0301", "\u0301", "\u2028", "\u2029", "\uFEFF", "\u200B", "\u00A0", "\xff", "Å", "ﬁ"}
	var b strings.Builder
	for range r.IntN(12) {
		if r.IntN(3) == 0 {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		} else {
			b.WriteString(alphabet[r.IntN(3)])
		}
	}
	return b.String()
}

// TestNormaliseMatchesTheReference: the fast path for plain ASCII changes nothing Normalise returns.
func TestNormaliseMatchesTheReference(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 12))
	fast := 0
	for range 20000 {
		sub := Submission{Name: randomText(r), Email: randomText(r), Phone: randomText(r),
			PreferredContact: randomText(r), Treatment: randomText(r), Message: randomText(r) + randomText(r),
			DateOfBirth: randomText(r), ReferralSource: randomText(r), Website: randomText(r),
			UTMSource: randomText(r), UTMMedium: randomText(r), UTMCampaign: randomText(r)}
		if got, want := Normalise(sub), referenceNormalise(sub); !reflect.DeepEqual(got, want) {
			t.Fatalf("Normalise(%#v)\n = %#v\nwant %#v", sub, got, want)
		}
		if plainASCII(sub.Name, false) {
			fast++
		}
	}
	if fast < 1000 {
		t.Errorf("only %d names took the fast path: the test does not reach it", fast)
	}
}

// FuzzNormalise: for any field values, Normalise returns what the reference returns.
func FuzzNormalise(f *testing.F) {
	f.Add("Ann Example", "ann@example.org", " 07700 900123 ", "hello\r\nthere\t", "\u00e9 e\u0301")
	f.Add("  two  spaces ", "A@B.C", "\x00", "\xff\xfe", "\u2028")
	f.Fuzz(func(t *testing.T, name, email, phone, message, other string) {
		sub := Submission{Name: name, Email: email, Phone: phone, Message: message, PreferredContact: other,
			Treatment: other, DateOfBirth: other, ReferralSource: other, Website: other, UTMSource: other}
		if got, want := Normalise(sub), referenceNormalise(sub); !reflect.DeepEqual(got, want) {
			t.Fatalf("Normalise(%#v)\n = %#v\nwant %#v", sub, got, want)
		}
	})
}

// TestDateOfBirthFromThreeFields: the form's day, month and year are joined into date_of_birth and then meet
// the same rules; a date that does not hold together is reported naming the part that is wrong.
func TestDateOfBirthFromThreeFields(t *testing.T) {
	cases := []struct {
		d, m, y  string
		want     string // the stored date, or "" when refused
		wantText string // part of the message when refused
	}{
		{"27", "3", "1990", "1990-03-27", ""},
		{" 07 ", "03", "1990", "1990-03-07", ""},
		{"7", "March", "1990", "1990-03-07", ""},
		{"7", "mar", "1990", "1990-03-07", ""},
		{"", "", "", "", ""}, // optional: nothing given, nothing stored, no error
		{"27", "3", "", "", "Date of birth must include a year"},
		{"", "3", "1990", "", "Date of birth must include a day"},
		{"27", "", "", "", "Date of birth must include a month and year"},
		{"32", "3", "1990", "", "day of your date of birth"},
		{"27", "13", "1990", "", "month of your date of birth"},
		{"27", "3", "90", "", "year of your date of birth must have 4 numbers"},
		{"x", "y", "1990", "", "must be a real date"},
		{"29", "2", "1991", "", "February 1991 has 28 days"},
		{"29", "2", "1992", "1992-02-29", ""},
		{"16", "6", "2008", "", "18 or over"}, // 17 the day before their birthday
		{"15", "6", "2008", "2008-06-15", ""},
		{"1", "1", "2030", "", "cannot be in the future"},
	}
	v := testValidator()
	for _, tc := range cases {
		sub := valid()
		sub.DOB = DateParts{Day: tc.d, Month: tc.m, Year: tc.y}
		e, err := v.Check(sub)
		label := tc.d + "/" + tc.m + "/" + tc.y
		if tc.wantText == "" {
			if err != nil || e.DateOfBirth != tc.want {
				t.Errorf("%s: got %q, %v; want %q", label, e.DateOfBirth, err, tc.want)
			}
			continue
		}
		errs, ok := err.(ValidationErrors)
		if !ok || !strings.Contains(errs["date_of_birth"], tc.wantText) {
			t.Errorf("%s: error %v; want date_of_birth saying %q", label, err, tc.wantText)
		}
	}
	_, _, faulty := DateParts{Day: "27", Month: "13", Year: "1990"}.Check()
	if !reflect.DeepEqual(faulty, []string{PartMonth}) {
		t.Errorf("faulty parts %v, want [month]", faulty)
	}
}

// TestOKToLeaveMessageIsKept: the patient's answer reaches the enquiry; no answer is a no.
func TestOKToLeaveMessageIsKept(t *testing.T) {
	sub := valid()
	if e, err := testValidator().Check(sub); err != nil || e.OKToLeaveMessage {
		t.Fatalf("no answer: %+v, %v", e, err)
	}
	sub.OKToLeaveMessage = true
	if e, err := testValidator().Check(sub); err != nil || !e.OKToLeaveMessage {
		t.Fatalf("yes: %+v, %v", e, err)
	}
}
