package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/intake/screening"
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
		{name: "ok_to_leave_message true", body: `{"ok_to_leave_message":true}`, check: func(t *testing.T, s Submission) {
			if !s.OKToLeaveMessage {
				t.Error("ok_to_leave_message true not read as a yes")
			}
		}},
		{name: "ok_to_leave_message left out is no", body: `{"name":"Ann"}`, check: func(t *testing.T, s Submission) {
			if s.OKToLeaveMessage {
				t.Error("no ok_to_leave_message read as a yes")
			}
		}},
		{name: "string for ok_to_leave_message", body: `{"ok_to_leave_message":"no"}`, fieldErrors: []string{"ok_to_leave_message"}},
		{name: "number for ok_to_leave_message", body: `{"ok_to_leave_message":1}`, fieldErrors: []string{"ok_to_leave_message"}},
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
	if s.OKToLeaveMessage {
		t.Error("ok_to_leave_message unticked read as a yes")
	}
	vals["ok_to_leave_message"], vals["dob_day"], vals["dob_month"], vals["dob_year"] = "yes", " 7", "3", "1990"
	s = FromForm(func(k string) string { return vals[k] })
	if !s.OKToLeaveMessage || s.DOB != (DateParts{Day: " 7", Month: "3", Year: "1990"}) {
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

// referenceDecodeJSON is DecodeJSON as it was first written: the decoder for the object, json.Unmarshal for
// every field. DecodeJSON must answer exactly as it does.
func referenceDecodeJSON(body []byte) (Submission, error) {
	var sub Submission
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return sub, &MalformedError{Reason: "The body must be a JSON object of enquiry fields."}
		}
		return sub, &MalformedError{Reason: "The body is not valid JSON."}
	}
	if raw == nil {
		return sub, &MalformedError{Reason: "The body must be a JSON object of enquiry fields."}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return sub, &MalformedError{Reason: "The body must hold a single JSON object and nothing after it."}
	}
	errs := ValidationErrors{}
	for name, dst := range map[string]*string{
		"name": &sub.Name, "email": &sub.Email, "phone": &sub.Phone, "preferred_contact": &sub.PreferredContact,
		"treatment": &sub.Treatment, "message": &sub.Message, "date_of_birth": &sub.DateOfBirth,
		"referral_source": &sub.ReferralSource, "website": &sub.Website, "utm_source": &sub.UTMSource,
		"utm_medium": &sub.UTMMedium, "utm_campaign": &sub.UTMCampaign,
	} {
		v, ok := raw[name]
		if !ok || isNull(v) {
			continue
		}
		if err := json.Unmarshal(v, dst); err != nil {
			errs[name] = name + " must be a JSON string."
		}
	}
	if v, ok := raw["consent"]; ok && !isNull(v) {
		var b bool
		var s string
		switch {
		case json.Unmarshal(v, &b) == nil:
			sub.Consent = b
		case json.Unmarshal(v, &s) == nil:
			sub.Consent = truthy(s)
		default:
			errs["consent"] = "consent must be true (a JSON boolean)."
		}
	}
	if v, ok := raw["ok_to_leave_message"]; ok && !isNull(v) {
		if err := json.Unmarshal(v, &sub.OKToLeaveMessage); err != nil {
			errs["ok_to_leave_message"] = "ok_to_leave_message must be true or false (a JSON boolean)."
		}
	}
	if v, ok := raw["screening"]; ok {
		a, err := screening.Default().DecodeJSON(v)
		var serrs screening.Errors
		switch {
		case errors.As(err, &serrs):
			sub.screeningErrors = serrs
		case err != nil:
			return sub, err
		default:
			sub.Screening = a
		}
	}
	if len(errs) > 0 {
		for k, m := range sub.screeningErrors {
			errs[k] = m
		}
		return sub, errs
	}
	return sub, nil
}

// sameDecoding fails t unless DecodeJSON and the reference give body the same submission and the same error.
func sameDecoding(t *testing.T, body []byte) {
	t.Helper()
	got, gotErr := DecodeJSON(body)
	want, wantErr := referenceDecodeJSON(body)
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotErr, wantErr) {
		t.Fatalf("DecodeJSON(%q)\n = %#v, %#v\nwant %#v, %#v", body, got, gotErr, want, wantErr)
	}
}

// randomBody writes a JSON-ish body: the enquiry's fields and others, with values of every JSON type, strings
// with escapes, non-ASCII, control characters and invalid UTF-8, keys in other cases and repeated, spacing,
// and sometimes something broken or trailing.
func randomBody(r *rand.Rand) []byte {
	keys := []string{`"name"`, `"email"`, `"phone"`, `"preferred_contact"`, `"treatment"`, `"message"`,
		`"date_of_birth"`, `"referral_source"`, `"website"`, `"utm_source"`, `"utm_medium"`, `"utm_campaign"`,
		`"consent"`, `"screening"`, `"ok_to_leave_message"`, `"Name"`, `"EMAIL"`, `"other"`, `"na\u006de"`, `"\u0063onsent"`, `"name "`,
		`""`, "\"\xffname\"", `"a\"b"`}
	values := []string{`"Ann Example"`, `"a@b.org"`, `"07700 900123"`, `""`, `"tab\there"`, `"quote \" in"`,
		`"\u00e9t\u00e9"`, `"été"`, "\"\xff\xfe\"", "\"ctl\x01\"", `"~ ok"`, `"\ud83d\ude00"`, `"\ud800"`, `1`,
		`-0.5e3`, `true`, `false`, `null`, `[]`, `["a"]`, `{}`, `{"a":[1,{"b":null}]}`, `"yes"`, `"on"`, `"0"`,
		`{"phq9":[0,1,0,0,0,0,0,0,0]}`, `{"gad7":[9]}`, `{"safety":{"x":true}}`, `null `, ` "spaced" `}
	var b strings.Builder
	if r.IntN(20) == 0 {
		b.WriteString(values[r.IntN(len(values))])
	} else {
		b.WriteString(" {")
		for i := range r.IntN(10) {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%s:%s", keys[r.IntN(len(keys))], values[r.IntN(len(values))])
		}
		b.WriteString("}\n")
	}
	switch r.IntN(12) {
	case 0:
		b.WriteString(" x")
	case 1:
		b.WriteString(`{"name":"b"}`)
	case 2:
		return []byte(b.String()[:r.IntN(b.Len()+1)])
	}
	return []byte(b.String())
}

// TestDecodeJSONMatchesTheReference: on thousands of generated bodies — valid, mistyped, broken — DecodeJSON
// gives what the reference gives.
func TestDecodeJSONMatchesTheReference(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 13))
	decoded, scanned := 0, 0
	for range 20000 {
		body := randomBody(r)
		sameDecoding(t, body)
		if _, err := DecodeJSON(body); err == nil {
			decoded++
		}
		if _, ok := scanObject(body); ok && json.Valid(body) {
			scanned++
		}
	}
	if decoded < 1000 || decoded > 19000 {
		t.Errorf("%d of 20000 bodies decoded without error: the bodies are lopsided", decoded)
	}
	// Both ways of reading the object must be exercised: scanned directly, and through encoding/json.
	if scanned < 1000 || scanned > 19000 {
		t.Errorf("%d of 20000 bodies scanned directly: one way of reading is hardly tested", scanned)
	}
}

// FuzzDecodeJSON: no input may panic, every input is either decoded or refused with one of our two error
// types (which web maps to 400 and 422; anything else would be a 500), and the answer is the reference's.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{`{"name":"Ann","email":"a@b.org","consent":true}`, `{"name":1}`, `[`, `null`,
		`{"consent":"yes"}`, `{"phone":{"a":[1,2,{}]}}`, "{\"name\":\"\xff\xfe\"}", `{"a":1}{"b":2}`, `{"message":"\u0000"}`,
		`null x`, `{"name":"a\\b"}`, `{"name":"\u0041"} `, `{"name":"x","name":2}`} {
		f.Add([]byte(seed))
	}
	v := testValidator()
	f.Fuzz(func(t *testing.T, body []byte) {
		scanObject(body) // meant for valid JSON, but must not panic on anything
		sameDecoding(t, body)
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
		"dob_day=31&dob_month=feb&dob_year=1990&ok_to_leave_message=on",
		"dob_day=%EF%BC%91&dob_month=99&dob_year=19900",
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
