package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/frontdesk/frontdesk/intake/screening"
)

// MalformedError is returned by DecodeJSON when the body is not a single JSON object. Its text is safe to show
// to the sender: it never repeats the body.
type MalformedError struct{ Reason string }

func (e *MalformedError) Error() string { return e.Reason }

// textFields are the JSON text fields and where each goes in a Submission.
var textFields = []struct {
	name string
	dst  func(*Submission) *string
}{
	{"name", func(s *Submission) *string { return &s.Name }},
	{"email", func(s *Submission) *string { return &s.Email }},
	{"phone", func(s *Submission) *string { return &s.Phone }},
	{"preferred_contact", func(s *Submission) *string { return &s.PreferredContact }},
	{"treatment", func(s *Submission) *string { return &s.Treatment }},
	{"message", func(s *Submission) *string { return &s.Message }},
	{"date_of_birth", func(s *Submission) *string { return &s.DateOfBirth }},
	{"referral_source", func(s *Submission) *string { return &s.ReferralSource }},
	{"website", func(s *Submission) *string { return &s.Website }},
	{"utm_source", func(s *Submission) *string { return &s.UTMSource }},
	{"utm_medium", func(s *Submission) *string { return &s.UTMMedium }},
	{"utm_campaign", func(s *Submission) *string { return &s.UTMCampaign }},
}

// DecodeJSON reads a submission from a JSON object. A body that is not one JSON object is a *MalformedError;
// a field of the wrong type (a number for a name, say) is reported in ValidationErrors with a plain message, so
// the sender learns which field to fix. Unknown fields are ignored.
func DecodeJSON(body []byte) (Submission, error) {
	var sub Submission
	raw, err := readObject(body)
	if err != nil {
		return sub, err
	}
	errs := ValidationErrors{}
	for _, f := range textFields {
		v, ok := raw[f.name]
		if !ok || isNull(v) {
			continue
		}
		if !readString(v, f.dst(&sub)) {
			errs[f.name] = f.name + " must be a JSON string."
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

// readObject reads body as one JSON object, its values left raw. A body json.Unmarshal takes is one JSON value
// and nothing else, so only a body it refuses needs the decoder, which tells the sender what is wrong.
func readObject(body []byte) (map[string]json.RawMessage, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		raw = nil
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&raw); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) {
				return nil, &MalformedError{Reason: "The body must be a JSON object of enquiry fields."}
			}
			return nil, &MalformedError{Reason: "The body is not valid JSON."}
		}
		if raw != nil {
			if _, err := dec.Token(); !errors.Is(err, io.EOF) {
				return nil, &MalformedError{Reason: "The body must hold a single JSON object and nothing after it."}
			}
		}
	}
	if raw == nil {
		return nil, &MalformedError{Reason: "The body must be a JSON object of enquiry fields."}
	}
	return raw, nil
}

// readString sets *dst to the JSON string v and reports whether v is one. A string of printable ASCII without
// escapes, as most are, is taken as it is; json.Unmarshal reads the others.
func readString(v json.RawMessage, dst *string) bool {
	if n := len(v); n >= 2 && v[0] == '"' && v[n-1] == '"' {
		plain := true
		for _, c := range v[1 : n-1] {
			if c < ' ' || c > '~' || c == '"' || c == '\\' {
				plain = false
				break
			}
		}
		if plain {
			*dst = string(v[1 : n-1])
			return true
		}
	}
	return json.Unmarshal(v, dst) == nil
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

// truthy reads a checkbox or text value as agreement: "true", "on", "yes" or "1".
func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "on", "yes", "1":
		return true
	}
	return false
}

// FromForm reads a submission from form values; get returns a field's value or "".
func FromForm(get func(name string) string) Submission {
	var sub Submission
	for _, f := range textFields {
		*f.dst(&sub) = get(f.name)
	}
	sub.Consent = truthy(get("consent"))
	return sub
}
