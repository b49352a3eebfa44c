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

// textFields maps each JSON text field to where it goes in a Submission.
func textFields(s *Submission) map[string]*string {
	return map[string]*string{
		"name": &s.Name, "email": &s.Email, "phone": &s.Phone, "preferred_contact": &s.PreferredContact,
		"treatment": &s.Treatment, "message": &s.Message, "date_of_birth": &s.DateOfBirth,
		"referral_source": &s.ReferralSource, "website": &s.Website, "utm_source": &s.UTMSource,
		"utm_medium": &s.UTMMedium, "utm_campaign": &s.UTMCampaign,
	}
}

// DecodeJSON reads a submission from a JSON object. A body that is not one JSON object is a *MalformedError;
// a field of the wrong type (a number for a name, say) is reported in ValidationErrors with a plain message, so
// the sender learns which field to fix. Unknown fields are ignored.
func DecodeJSON(body []byte) (Submission, error) {
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
	for name, dst := range textFields(&sub) {
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
	for name, dst := range textFields(&sub) {
		*dst = get(name)
	}
	sub.Consent = truthy(get("consent"))
	return sub
}
