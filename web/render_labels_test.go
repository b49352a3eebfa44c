package web

import (
	"testing"

	"github.com/frontdesk/frontdesk/crm"
)

// The label functions turn codes into words, and a code they do not know into words too.
func TestLabelsAreWords(t *testing.T) {
	for got, want := range map[string]string{
		mailKindLabel(crm.MailAssigned):                   "Assignment notice to staff",
		mailKindLabel(crm.MailNewEnquiry):                 "New enquiry notice to staff",
		mailKindLabel("webhook_retry"):                    "Webhook retry",
		priorityLabel("normal"):                           "Normal",
		eventLabel("undone"):                              "undid a move",
		eventLabel("some_new_kind"):                       "some new kind",
		phoneLabel("+447700900123"):                       "07700 900123",
		phoneLabel("+442079460018"):                       "020 7946 0018",
		phoneLabel("+14155552671"):                        "+1 415-555-2671",
		phoneLabel("not a number"):                        "not a number",
		screeningReasonLabel("phq9, gad7, safety"):        "PHQ-9, GAD-7, safety questions",
		screeningReasonLabel("risk: message"):             "risk: words in the message",
		treatmentLabels([]string{"adhd", "chronic_pain"}): "ADHD, Chronic pain",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if l := screeningReasonLabel("risk: phq9 item 9, self_harm_thoughts; review: liver_disease"); l == "" ||
		containsUnderscore(l) {
		t.Errorf("flag reason worded as %q", l)
	}
}

func containsUnderscore(s string) bool {
	for _, r := range s {
		if r == '_' {
			return true
		}
	}
	return false
}
