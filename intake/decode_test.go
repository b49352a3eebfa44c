package intake

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestDecodeJSON(t *testing.T) {
	cases := []struct {
		name        string
		body        string
		malformed   bool
		fieldErrors []string
		check       func(t *testing.T, s Submission)
	}{
		{name: "full object", body: `{"name":"Ann","email":"a@b.org","phone":"07700900123","preferred_contact":"email",
			"treatment":"ptsd","message":"hi","date_of_birth":"1990-01-01","referral_source":"gp","consent":true,
			"website":"","utm_source":"s","utm_medium":"m","utm_campaign":"c"}`,
			check: func(t *testing.T, s Submission) {
				if s.Name != "Ann" || s.Treatment != "ptsd" || !s.Consent || s.UTMCampaign != "c" || s.ReferralSource != "gp" {
					t.Errorf("decoded %+v", s)
				}
			}},
		{name: "nulls are empty", body: `{"name":null,"consent":null}`, check: func(t *testing.T, s Submission) {
			if s.Name != "" || s.Consent {
				t.Errorf("decoded %+v", s)
			}
		}},
		{name: "unknown fields ignored", body: `{"name":"Ann","favourite_colour":"blue"}`},
		{name: "consent as string true", body: `{"consent":"true"}`, check: func(t *testing.T, s Submission) {
			if !s.Consent {
				t.Error("consent \"true\" not read as agreement")
			}
		}},
		{name: "consent false", body: `{"consent":false}`, check: func(t *testing.T, s Submission) {
			if s.Consent {
				t.Error("consent false read as agreement")
			}
		}},
		{name: "number for name", body: `{"name":1}`, fieldErrors: []string{"name"}},
		{name: "object for email and array for phone", body: `{"email":{},"phone":[]}`, fieldErrors: []string{"email", "phone"}},
		{name: "number for consent", body: `{"consent":1}`, fieldErrors: []string{"consent"}},
		{name: "not JSON", body: `{bad`, malformed: true},
		{name: "empty body", body: ``, malformed: true},
		{name: "array", body: `[1,2]`, malformed: true},
		{name: "string", body: `"hello"`, malformed: true},
		{name: "null", body: `null`, malformed: true},
		{name: "two objects", body: `{"name":"a"} {"name":"b"}`, malformed: true},
		{name: "trailing garbage", body: `{"name":"a"} x`, malformed: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := DecodeJSON([]byte(tc.body))
			var me *MalformedError
			var ve ValidationErrors
			switch {
			case tc.malformed:
				if !errors.As(err, &me) {
					t.Fatalf("want MalformedError, got %T %v", err, err)
				}
				if strings.Contains(me.Reason, tc.body) && tc.body != "" {
					t.Errorf("reason repeats the body: %q", me.Reason)
				}
			case tc.fieldErrors != nil:
				if !errors.As(err, &ve) {
					t.Fatalf("want ValidationErrors, got %T %v", err, err)
				}
				for _, f := range tc.fieldErrors {
					if _, ok := ve[f]; !ok {
						t.Errorf("no error for %s in %v", f, ve)
					}
				}
				if len(ve) != len(tc.fieldErrors) {
					t.Errorf("errors = %v, want only %v", ve, tc.fieldErrors)
				}
			default:
				if err != nil {
					t.Fatalf("DecodeJSON: %v", err)
				}
				if tc.check != nil {
					tc.check(t, s)
				}
			}
		})
	}
}

func TestFromForm(t *testing.T) {
	vals := map[string]string{"name": "Ann", "email": "a@b.org", "treatment": "adhd", "consent": "on", "website": "x"}
	s := FromForm(func(k string) string { return vals[k] })
	if s.Name != "Ann" || s.Email != "a@b.org" || s.Treatment != "adhd" || !s.Consent || s.Website != "x" {
		t.Errorf("FromForm = %+v", s)
	}
	for _, v := range []string{"", "off", "no", "false"} {
		if FromForm(func(k string) string {
			if k == "consent" {
				return v
			}
			return ""
		}).Consent {
			t.Errorf("consent %q read as agreement", v)
		}
	}
}

// FuzzDecodeJSON: no input may panic, and every input is either decoded or refused with one of our two error
// types (which web maps to 400 and 422; anything else would be a 500).
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{`{"name":"Ann","email":"a@b.org","consent":true}`, `{"name":1}`, `[`, `null`,
		`{"consent":"yes"}`, `{"phone":{"a":[1,2,{}]}}`, "{\"name\":\"\xff\xfe\"}", `{"a":1}{"b":2}`, `{"message":"\u0000"}`} {
		f.Add([]byte(seed))
	}
	v := testValidator()
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := DecodeJSON(body)
		var me *MalformedError
		var ve ValidationErrors
		if err != nil && !errors.As(err, &me) && !errors.As(err, &ve) {
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
		if err == nil {
			if _, err := v.Check(s); err != nil && !errors.As(err, &ve) {
				t.Fatalf("Check returned %T: %v", err, err)
			}
		}
	})
}

// FuzzCheck: validation never panics and never returns anything but ValidationErrors.
func FuzzCheck(f *testing.F) {
	f.Add("Ann", "a@b.org", "07700 900123", "either", "adhd", "hello", "1990-01-01", "gp", true)
	f.Add("", "", "", "", "", "", "", "", false)
	f.Add("\u0301\u0301", "A@B", "+", "PHONE", "Other", "\r\n\r", "0000-00-00", "GP", true)
	v := testValidator()
	f.Fuzz(func(t *testing.T, name, email, phone, pc, treatment, message, dob, ref string, consent bool) {
		e, err := v.Check(Submission{Name: name, Email: email, Phone: phone, PreferredContact: pc, Treatment: treatment,
			Message: message, DateOfBirth: dob, ReferralSource: ref, Consent: consent})
		var ve ValidationErrors
		if err != nil {
			if !errors.As(err, &ve) {
				t.Fatalf("Check returned %T: %v", err, err)
			}
			return
		}
		if e.Email != strings.ToLower(e.Email) || (e.Phone != "" && !strings.HasPrefix(e.Phone, "+")) {
			t.Fatalf("accepted but not normalised: %+v", e)
		}
	})
}

// FuzzFromForm: whatever a form post carries — repeated, missing, oversized or invalid UTF-8 fields — reading it
// never panics, and checking it gives an enquiry or ValidationErrors, nothing else (web maps those to 303 and
// 422; anything else would be a 500).
func FuzzFromForm(f *testing.F) {
	for _, seed := range []string{
		"name=Ann+Example&email=ann%40example.org&treatment=adhd&consent=on",
		"name=Ann&name=Bob&email=&consent=yes&consent=no",
		"phone=07700+900123&preferred_contact=phone&date_of_birth=2015-02-30",
		"name=%FF%FE&email=a%00b%40c.d&website=http%3A%2F%2Fspam.example",
		"treatment=Other&referral_source=GP&utm_source=" + strings.Repeat("x", 300),
		"%zz=1&&=&consent",
	} {
		f.Add(seed)
	}
	v := testValidator()
	f.Fuzz(func(t *testing.T, body string) {
		vals, _ := url.ParseQuery(body) // a body that does not parse is read as far as it goes, as Fiber does
		sub := FromForm(vals.Get)
		e, err := v.Check(sub)
		var ve ValidationErrors
		if err != nil {
			if !errors.As(err, &ve) {
				t.Fatalf("Check returned %T: %v", err, err)
			}
			return
		}
		if e.Name == "" || e.Email == "" || !e.Consent.GivenAt.Equal(fixedNow) {
			t.Fatalf("accepted without a name, an email or a consent: %+v", e)
		}
	})
}
