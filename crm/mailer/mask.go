package mailer

import (
	"regexp"
	"strings"
)

var addressLike = regexp.MustCompile(`[^\s<>"'(),;:]+@[^\s<>"'(),;:]+`)

// MaskAddress keeps the first character of the local part and the domain: enough to tell the intake inbox
// from a patient, not enough to read who the patient is. Listings of the outbox show recipients this way.
func MaskAddress(a string) string {
	at := strings.LastIndexByte(a, '@')
	if at <= 0 {
		return "***"
	}
	return a[:1] + "***" + a[at:]
}

// MaskAddresses masks every email address inside s (an SMTP server's reply often quotes the recipient).
func MaskAddresses(s string) string { return addressLike.ReplaceAllStringFunc(s, MaskAddress) }
