package crm

import "strings"

// TelURI is a phone number as the part of a tel: link after "tel:" — its digits, and a leading + — so that a
// patient reading on a phone can tap it; "" when it has no digits. Pages and emails both link the clinic's
// number with it.
func TelURI(phone string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(phone) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		}
	}
	if strings.Trim(b.String(), "+") == "" {
		return ""
	}
	return b.String()
}
