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
var textFields = [...]struct {
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

// The object's members DecodeJSON reads: the text fields (by their index in textFields), then these.
const (
	consentField = len(textFields) + iota
	screeningField
	leaveMessageField
	knownFields
)

// knownField is the index of a member DecodeJSON reads, or -1.
func knownField(name string) int {
	switch name {
	case "consent":
		return consentField
	case "screening":
		return screeningField
	case "ok_to_leave_message":
		return leaveMessageField
	}
	for i, f := range textFields {
		if f.name == name {
			return i
		}
	}
	return -1
}

// members are the raw values of the members DecodeJSON reads, by knownField; nil for one not sent. A member
// sent more than once has its last value, as with encoding/json.
type members [knownFields]json.RawMessage

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
	for i, f := range textFields {
		v := raw[i]
		if v == nil || isNull(v) {
			continue
		}
		if !readString(v, f.dst(&sub)) {
			errs[f.name] = f.name + " must be a JSON string."
		}
	}
	if v := raw[consentField]; v != nil && !isNull(v) {
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
	if v := raw[leaveMessageField]; v != nil && !isNull(v) {
		// A boolean only: a string such as "no" must not be read as a yes, nor silently as a no.
		if json.Unmarshal(v, &sub.OKToLeaveMessage) != nil {
			errs["ok_to_leave_message"] = "ok_to_leave_message must be true or false (a JSON boolean)."
		}
	}
	if v := raw[screeningField]; v != nil {
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

// readObject reads body as one JSON object and returns the values of the members DecodeJSON reads, raw (they
// may share body's memory). A valid body whose keys have no escapes, as every real one, is scanned directly;
// any other goes through encoding/json, whose decoder also says what is wrong with a body it refuses.
func readObject(body []byte) (*members, error) {
	if json.Valid(body) {
		if m, ok := scanObject(body); ok {
			return m, nil
		}
	}
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
	m := new(members)
	for name, v := range raw {
		if i := knownField(name); i >= 0 {
			m[i] = v
		}
	}
	return m, nil
}

// scanObject reads the members of body, which must be valid JSON (json.Valid). It gives up (false) when body is
// not an object or a key has an escape, which encoding/json then reads.
func scanObject(body []byte) (*members, bool) {
	m := new(members)
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return nil, false
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		return m, true
	}
	for i < len(body) && body[i] == '"' {
		end := skipString(body, i)
		if end < 0 {
			return nil, false
		}
		key := body[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return nil, false
		}
		i = skipSpace(body, end)
		if i >= len(body) || body[i] != ':' {
			return nil, false
		}
		start := skipSpace(body, i+1)
		end = skipValue(body, start)
		if end <= start {
			return nil, false
		}
		if k := knownField(string(key)); k >= 0 {
			m[k] = body[start:end]
		}
		i = skipSpace(body, end)
		if i < len(body) && body[i] == ',' {
			i = skipSpace(body, i+1)
			continue
		}
		if i < len(body) && body[i] == '}' {
			return m, true
		}
		return nil, false
	}
	return nil, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just after the string that starts at b[i] (a quote), or -1 when it does not end.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index just after the value that starts at b[i] (valid JSON), or -1 when it does not
// end.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
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

// FromForm reads a submission from form values; get returns a field's value or "". The date of birth comes
// as three fields, dob_day, dob_month and dob_year (Check joins them); a form that sends date_of_birth as one
// YYYY-MM-DD field (a clinic's own page) works as before.
func FromForm(get func(name string) string) Submission {
	var sub Submission
	for _, f := range textFields {
		*f.dst(&sub) = get(f.name)
	}
	sub.Consent = truthy(get("consent"))
	sub.OKToLeaveMessage = truthy(get("ok_to_leave_message"))
	sub.DOB = DateParts{Day: get("dob_day"), Month: get("dob_month"), Year: get("dob_year")}
	return sub
}
