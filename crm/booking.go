package crm

import "net/url"

// BookingLink is the clinic's booking page (FRONTDESK_BOOKING_URL) with the enquiry's reference added as the
// query parameter ref, the page's own query kept, so that the booking tool can tie the booking to the enquiry.
// It returns "" when there is no booking page or it does not parse. Only an enquiry without a risk flag is ever
// offered it: a person calls those patients (see the thanks page and the confirmation email).
func BookingLink(bookingURL, ref string) string {
	if bookingURL == "" || ref == "" {
		return ""
	}
	u, err := url.Parse(bookingURL)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("ref", ref)
	u.RawQuery = q.Encode()
	return u.String()
}
