package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// withScreening is validJSON (treatment adhd) with a screening object.
func withScreening(screening string) string {
	return strings.TrimSuffix(validJSON, "}") + `,"screening":` + screening + `}`
}

func TestAPIScreeningValidation(t *testing.T) {
	h := newHarness(t, nil)
	for _, c := range []struct {
		name, screening string
		fields          []string
	}{
		{"out of range", `{"phq9":[0,0,0,0,0,0,0,0,4]}`, []string{"screening.phq9[8]"}},
		{"negative", `{"gad7":[0,-1,0,0,0,0,0]}`, []string{"screening.gad7[1]"}},
		{"not a number", `{"audit_c":[0,"2",0]}`, []string{"screening.audit_c[1]"}},
		{"a fraction", `{"asrs_a":[0,0,1.5,0,0,0]}`, []string{"screening.asrs_a[2]"}},
		{"PC-PTSD-5 is yes or no", `{"pc_ptsd5":[0,0,0,2,0]}`, []string{"screening.pc_ptsd5[3]"}},
		{"some answers only", `{"phq9":[1,1,1]}`, []string{"screening.phq9"}},
		{"unknown questionnaire", `{"phq2":[1,1]}`, []string{"screening.phq2"}},
		{"not an object", `[1,2,3]`, []string{"screening"}},
		{"unknown safety question", `{"safety":{"smoker":true}}`, []string{"screening.safety.smoker"}},
		{"safety is yes or no", `{"safety":{"liver_disease":"no"}}`, []string{"screening.safety.liver_disease"}},
		{"every problem at once", `{"phq9":[9,0,0,0,0,0,0,0,9],"gad7":[1]}`,
			[]string{"screening.phq9[0]", "screening.phq9[8]", "screening.gad7"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := h.postJSON("/api/v1/enquiries", withScreening(c.screening))
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %s", resp.StatusCode, body(t, resp))
			}
			got := decode(t, resp)
			fields, _ := got["fields"].(map[string]any)
			if got["error"] != "validation" || len(fields) != len(c.fields) {
				t.Fatalf("body %v, want errors on exactly %v", got, c.fields)
			}
			for _, f := range c.fields {
				if msg, _ := fields[f].(string); msg == "" {
					t.Errorf("no message for %s in %v", f, fields)
				}
			}
		})
	}
	// A bad screening is reported together with the enquiry's own fields.
	resp := h.postJSON("/api/v1/enquiries", `{"name":"A","email":"ann@example.org","treatment":"adhd","consent":true,
		"screening":{"phq9":[0,0,0,0,0,0,0,0,4]}}`)
	fields, _ := decode(t, resp)["fields"].(map[string]any)
	if fields["name"] == nil || fields["screening.phq9[8]"] == nil {
		t.Errorf("errors %v: want name and screening.phq9[8] together", fields)
	}
	if n := h.count(`SELECT count(*) FROM enquiries`) + h.count(`SELECT count(*) FROM screenings`) +
		h.count(`SELECT count(*) FROM outbox`); n != 0 {
		t.Errorf("invalid screenings stored %d rows", n)
	}

	// Valid answers are stored with their score; null means not answered.
	resp = h.postJSON("/api/v1/enquiries", withScreening(`{"phq9":[1,1,1,1,1,1,1,1,0],"asrs_a":[2,2,2,3,3,1],
		"gad7":null,"safety":{"liver_disease":false,"pregnant_or_breastfeeding":null}}`))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("valid screening: status %d: %s", resp.StatusCode, body(t, resp))
	}
	ref, _ := decode(t, resp)["reference"].(string)
	for q, want := range map[string]int{
		`SELECT count(*) FROM screenings s JOIN enquiries e ON e.id = s.enquiry_id WHERE e.reference = ?
			AND s.instrument = 'phq9' AND s.total = 8 AND s.band = 'mild' AND s.answers = '[1,1,1,1,1,1,1,1,0]'`: 1,
		`SELECT count(*) FROM screenings s JOIN enquiries e ON e.id = s.enquiry_id WHERE e.reference = ?
			AND s.instrument = 'asrs_a' AND s.total = 5 AND s.band = 'positive'`: 1,
		`SELECT count(*) FROM screenings s JOIN enquiries e ON e.id = s.enquiry_id WHERE e.reference = ?
			AND s.instrument = 'safety' AND s.answers = '{"liver_disease":false}'`: 1,
		`SELECT count(*) FROM screenings s JOIN enquiries e ON e.id = s.enquiry_id WHERE e.reference = ?`: 3,
		`SELECT count(*) FROM enquiries WHERE reference = ? AND flag_risk_at IS NULL AND flag_review_at IS NULL
			AND priority = 'normal'`: 1,
	} {
		if n := h.count(q, ref); n != want {
			t.Errorf("%s: %d, want %d", q, n, want)
		}
	}
	for _, pii := range []string{"[1,1,1,1", "liver"} {
		if strings.Contains(h.logs.String(), pii) {
			t.Errorf("the log carries the answers (%q)", pii)
		}
	}
}

func TestRiskFromEachSourceQueuesUrgentNotice(t *testing.T) {
	h := newHarness(t, nil)
	for _, c := range []struct{ name, body, source string }{
		{"PHQ-9 item 9", withScreening(`{"phq9":[0,0,0,0,0,0,0,0,1]}`), "risk: phq9 item 9"},
		{"the self-harm question", withScreening(`{"safety":{"self_harm_thoughts":true}}`), "risk: self_harm_thoughts"},
		{"the message", strings.Replace(validJSON, "I have struggled to focus for years.",
			"Honestly I keep thinking about ending my life.", 1), "risk: message"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := h.postJSON("/api/v1/enquiries", c.body)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("status %d: %s", resp.StatusCode, body(t, resp))
			}
			got := decode(t, resp)
			ref, _ := got["reference"].(string)
			if got["status"] != "new" || len(got) != 2 {
				t.Errorf("the patient's answer %v tells more than the reference and status", got)
			}
			if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND priority = 'urgent'
				AND flag_risk_at = created_at`, ref); n != 1 {
				t.Errorf("%s is not urgent and flagged risk", ref)
			}
			if n := h.count(`SELECT count(*) FROM events v JOIN enquiries e ON e.id = v.enquiry_id
				WHERE e.reference = ? AND v.kind = 'flagged' AND v.reason = ?`, ref, c.source); n != 1 {
				t.Errorf("no 'flagged' event saying %q", c.source)
			}
			// The intake inbox gets the urgent notice instead of the ordinary one, in the enquiry's transaction.
			if n := h.count(`SELECT count(*) FROM outbox o JOIN enquiries e ON e.id = o.enquiry_id
				WHERE e.reference = ? AND o.kind = 'staff_urgent' AND o.recipient = 'intake@clinic.example'
				AND o.link_token IS NULL`, ref); n != 1 {
				t.Errorf("no urgent notice queued to the intake inbox for %s", ref)
			}
			if n := h.count(`SELECT count(*) FROM outbox o JOIN enquiries e ON e.id = o.enquiry_id
				WHERE e.reference = ? AND o.kind = 'staff_new'`, ref); n != 0 {
				t.Errorf("an ordinary notice was queued as well")
			}
		})
	}
	// A contraindication flags review only: no urgency, no urgent notice, never a refusal.
	resp := h.postJSON("/api/v1/enquiries", withScreening(`{"safety":{"ketamine_reaction":true,"self_harm_thoughts":false}}`))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("review: status %d", resp.StatusCode)
	}
	ref, _ := decode(t, resp)["reference"].(string)
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND priority = 'normal'
		AND flag_risk_at IS NULL AND flag_review_at IS NOT NULL`, ref); n != 1 {
		t.Errorf("a contraindication answer did not flag review only")
	}
	if n := h.count(`SELECT count(*) FROM outbox o JOIN enquiries e ON e.id = o.enquiry_id
		WHERE e.reference = ? AND o.kind = 'staff_urgent'`, ref); n != 0 {
		t.Errorf("a review flag sent an urgent notice")
	}
	// Figures of speech about pain are not risk.
	resp = h.postJSON("/api/v1/enquiries", strings.Replace(validJSON, "I have struggled to focus for years.",
		"My back pain is killing me.", 1))
	ref, _ = decode(t, resp)["reference"].(string)
	if n := h.count(`SELECT count(*) FROM enquiries WHERE reference = ? AND flag_risk_at IS NULL`, ref); n != 1 {
		t.Errorf("\"my pain is killing me\" flagged risk")
	}
}
