package crm

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Webhooks tell the clinic's other tools (Zapier, Make, its own code) that something happened to an enquiry.
// Each event is an outbox message of its own kind, queued in the transaction of the change, with its body built
// then (a snapshot: an enquiry.status_changed says the status it changed to, whatever happens next) and stored;
// the webhook sender (WebhookSender) POSTs it, signed as the Standard Webhooks specification says, and retries
// it as the mail worker retries email. A body carries the reference, the state of the enquiry and a link for
// staff, never the patient's name, contact details, message or answers: a tool that wants more signs in.

// The outbox kinds of webhook events. The event type the body names is WebhookType's.
const (
	// WebhookCreated: an enquiry arrived (spam excepted).
	WebhookCreated MailKind = "webhook_created"
	// WebhookStatusChanged: a member of staff moved an enquiry to another status.
	WebhookStatusChanged MailKind = "webhook_status_changed"
	// WebhookAssigned: a member of staff gave an enquiry to someone, or left it unassigned.
	WebhookAssigned MailKind = "webhook_assigned"
	// WebhookFlagged: an enquiry was flagged risk or review, when it arrived or by later screening answers.
	WebhookFlagged MailKind = "webhook_flagged"
)

// webhookTypes are the event types of the webhook kinds, as the body's "type" says them.
var webhookTypes = map[MailKind]string{
	WebhookCreated:       "enquiry.created",
	WebhookStatusChanged: "enquiry.status_changed",
	WebhookAssigned:      "enquiry.assigned",
	WebhookFlagged:       "enquiry.flagged",
}

// IsWebhook reports whether k is a webhook event rather than an email.
func (k MailKind) IsWebhook() bool { _, ok := webhookTypes[k]; return ok }

// WebhookType is the event type of webhook kind k ("enquiry.created"), or "" when k is not a webhook.
func WebhookType(k MailKind) string { return webhookTypes[k] }

// WebhookData is what an event says of its enquiry, as it was when the event was queued. It deliberately has
// no field for the patient's name, contact details, message, date of birth or answers.
type WebhookData struct {
	Reference string `json:"reference"`
	// Status is the status code (new, contacted, …; see the README's pipeline).
	Status Status `json:"status"`
	// Treatment is the treatment code (adhd, ptsd, …).
	Treatment string `json:"treatment"`
	Priority  string `json:"priority"`
	// Flags are the screening flags it carries ("risk", "review"); never null.
	Flags []string `json:"flags"`
	// Assignee is the email address of the member of staff who has the enquiry; null when nobody has it.
	Assignee *string `json:"assignee"`
	// Link is the enquiry's page for staff (FRONTDESK_BASE_URL + /enquiries/REF); it asks them to sign in.
	Link string `json:"link"`
}

// webhookBody is the JSON body of every event.
type webhookBody struct {
	Type      string      `json:"type"`
	Timestamp string      `json:"timestamp"`
	Data      WebhookData `json:"data"`
}

// WebhookMail returns the outbox message of the event kind about an enquiry whose state is d at at; baseURL
// (FRONTDESK_BASE_URL, no trailing slash) makes d.Link when it is empty. It panics on a kind that is not a
// webhook: that is a programming error.
func WebhookMail(kind MailKind, at time.Time, baseURL string, d WebhookData) Mail {
	t := WebhookType(kind)
	if t == "" {
		panic("crm: WebhookMail of " + string(kind))
	}
	if d.Flags == nil {
		d.Flags = []string{}
	}
	if d.Link == "" {
		d.Link = strings.TrimRight(baseURL, "/") + "/enquiries/" + d.Reference
	}
	body, err := json.Marshal(webhookBody{Type: t, Timestamp: at.UTC().Format(time.RFC3339Nano), Data: d})
	if err != nil {
		panic("crm: encode webhook body: " + err.Error()) // strings only: cannot fail
	}
	return Mail{Kind: kind, Payload: string(body)}
}

// WebhookSecretPrefix starts every webhook secret (FRONTDESK_WEBHOOK_SECRET), as Standard Webhooks writes them.
const WebhookSecretPrefix = "whsec_"

// ParseWebhookSecret returns the key of a secret written "whsec_" + base64: the bytes the signature is made
// with. Its error says what a secret looks like, without repeating it.
func ParseWebhookSecret(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, WebhookSecretPrefix)
	if !ok {
		return nil, errors.New(`must be "whsec_" followed by base64 (make one with: echo whsec_$(openssl rand -base64 32))`)
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, errors.New(`the part after "whsec_" must be standard base64 (make one with: openssl rand -base64 32)`)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, errors.New(`the part after "whsec_" must decode to 24 to 64 bytes (make one with: openssl rand -base64 32)`)
	}
	return key, nil
}

// SignWebhook returns the webhook-signature header of a message: "v1," and the base64 of the HMAC-SHA256,
// keyed with key, of id, the timestamp in seconds and the body, joined by dots.
func SignWebhook(key []byte, id string, at time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(at.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
