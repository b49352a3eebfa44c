// Package intake is the patient's side of Frontdesk: the enquiry as a patient submits it, its normalisation
// (trimmed, Unicode NFC, lower-cased email, E.164 phone), its validation with plain-English messages per field,
// spam defence and the consent record. It knows nothing of HTTP or SQL.
package intake

import (
	"time"

	"github.com/frontdesk/frontdesk/intake/screening"
)

// Treatments lists the treatment codes a patient may ask about, in the order forms show them.
var Treatments = []Choice{
	{"adhd", "ADHD"},
	{"depression", "Depression"},
	{"anxiety", "Anxiety"},
	{"ptsd", "PTSD"},
	{"addiction", "Addiction"},
	{"chronic_pain", "Chronic pain"},
	{"other", "Something else"},
}

// ReferralSources lists how a patient may say they heard of the clinic.
var ReferralSources = []Choice{
	{"gp", "My GP or another clinician"},
	{"self", "I found you myself"},
	{"search", "A search engine"},
	{"social", "Social media"},
	{"friend", "A friend or family member"},
	{"other", "Somewhere else"},
}

// ContactPreferences lists how a patient may prefer to be contacted.
var ContactPreferences = []Choice{
	{"either", "Either"},
	{"email", "Email"},
	{"phone", "Phone"},
}

// Choice is one allowed value of an enumerated field with the label shown to people.
type Choice struct {
	Value string
	Label string
}

// Label returns the human label of value in choices, or value itself when it is not one of them.
func Label(choices []Choice, value string) string {
	for _, c := range choices {
		if c.Value == value {
			return c.Label
		}
	}
	return value
}

func isChoice(choices []Choice, value string) bool {
	for _, c := range choices {
		if c.Value == value {
			return true
		}
	}
	return false
}

// PrivacyNoticeVersion identifies the wording of the privacy notice shown at /privacy. A consent records the
// version it was given against; change it whenever the notice's wording changes.
const PrivacyNoticeVersion = "2026-12-02"

// MinimumAge is the youngest age, in whole years, at which the clinic accepts an enquiry.
const MinimumAge = 18

// Submission is an enquiry exactly as the patient sent it, before normalisation. JSON names and HTML form names
// are the same. Use Normalise then Validate; Enquiry holds the result.
type Submission struct {
	Name             string `json:"name" validate:"required,min=2,max=100"`
	Email            string `json:"email" validate:"required,max=254,email"`
	Phone            string `json:"phone" validate:"omitempty,max=40,phone"`
	PreferredContact string `json:"preferred_contact" validate:"required,oneof=email phone either"`
	Treatment        string `json:"treatment" validate:"required,treatment"`
	Message          string `json:"message" validate:"max=5000"`
	DateOfBirth      string `json:"date_of_birth" validate:"omitempty,dob"`
	ReferralSource   string `json:"referral_source" validate:"omitempty,referral"`
	// OKToLeaveMessage is the patient's yes to a voicemail or text message from the clinic (a family may share
	// the phone); false unless they ticked the box, or sent true.
	OKToLeaveMessage bool   `json:"ok_to_leave_message"`
	Consent          bool   `json:"consent" validate:"consent"`
	Website          string `json:"website"`
	UTMSource        string `json:"utm_source" validate:"max=100"`
	UTMMedium        string `json:"utm_medium" validate:"max=100"`
	UTMCampaign      string `json:"utm_campaign" validate:"max=100"`
	// DOB is the date of birth as the HTML form's three fields (dob_day, dob_month, dob_year); when any of them
	// was given, Check joins them into DateOfBirth. The JSON API sends date_of_birth instead.
	DOB DateParts `json:"-" validate:"-"`
	// Screening holds the optional questionnaire answers sent with the enquiry (the API's screening object, read
	// and checked by DecodeJSON); the HTML form never carries them.
	Screening screening.Answers `json:"-" validate:"-"`

	// screeningErrors are DecodeJSON's problems with the screening object, reported by Check together with the
	// other fields'.
	screeningErrors screening.Errors
}

// Enquiry is a submission that passed validation, normalised and ready to store. Phone is E.164 or empty,
// DateOfBirth is YYYY-MM-DD or empty.
type Enquiry struct {
	Name             string
	Email            string
	Phone            string
	PreferredContact string
	Treatment        string
	Message          string
	DateOfBirth      string
	ReferralSource   string
	// OKToLeaveMessage says the clinic may leave a voicemail or text message; false: leave none.
	OKToLeaveMessage bool
	UTMSource        string
	UTMMedium        string
	UTMCampaign      string
	// Screening is what the patient answered of the questionnaires (nothing for most enquiries).
	Screening screening.Answers
	// Spam is true when the honeypot was filled: the enquiry is kept with status spam and never emailed.
	Spam bool
	// Consent records the agreement to be contacted and to the privacy notice.
	Consent Consent
}

// Consent is the record of a patient's agreement: when it was given and against which privacy notice wording.
type Consent struct {
	GivenAt time.Time
	Version string
}
