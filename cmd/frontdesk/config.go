package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	opening "github.com/frontdesk/frontdesk/crm/hours"
	"github.com/frontdesk/frontdesk/db"
	"github.com/frontdesk/frontdesk/web"
)

// config is every setting the README lists, read once at start from FRONTDESK_* variables (and, for serve,
// flags), validated, and passed down as values. Nothing else reads the environment.
type config struct {
	Addr string
	// MetricsAddr is FRONTDESK_METRICS_ADDR: where serve answers /metrics ("" for nowhere).
	MetricsAddr string
	DB          string
	BaseURL     *url.URL
	ClinicName  string
	ClinicPhone string
	ClinicEmail string
	// ClinicLogo is FRONTDESK_CLINIC_LOGO: an https URL or an image file, read at start.
	ClinicLogo web.Logo
	// ClinicICONumber is FRONTDESK_CLINIC_ICO_NUMBER, for the privacy notice ("" when not set).
	ClinicICONumber   string
	MailTransport     string
	MailDir           string
	MailFrom          *mail.Address
	MailTemplates     string
	IntakeInbox       string
	SMTPHost          string
	SMTPPort          int
	SMTPUsername      string
	SMTPPassword      string
	SMTPTLS           string
	FirstContactHours int
	// UrgentContactHours is the first-contact target of an enquiry flagged risk, from its flag.
	UrgentContactHours int
	IntakePerMinute    int
	AllowedOrigins     []string
	TrustedProxies     []string
	Timezone           *time.Location
	Require2FA         crm.TwoFactorPolicy
	// RetentionMonths and SpamRetentionDays are the retention policy (0: never).
	RetentionMonths   int
	SpamRetentionDays int
	TokenDays         int
	// OpeningHours are the clinic's opening hours in Timezone (FRONTDESK_OPENING_HOURS); nil: round the clock.
	OpeningHours *opening.Schedule
	// WebhookURL is FRONTDESK_WEBHOOK_URL, where events are POSTed ("" for no webhooks); WebhookKey is the
	// decoded FRONTDESK_WEBHOOK_SECRET they are signed with. Both or neither.
	WebhookURL string
	WebhookKey []byte

	// FrameAncestors are the origins that may show the patient pages in an iframe (FRONTDESK_FRAME_ANCESTORS).
	FrameAncestors []string
	// BookingURL is the booking page offered to an enquiry without a risk flag (FRONTDESK_BOOKING_URL; "" when
	// not set).
	BookingURL string
	// LitestreamSocket is FRONTDESK_LITESTREAM_SOCKET: the control socket of a Litestream replicating the SQLite
	// database, paused while an erasure empties the WAL ("" for none).
	LitestreamSocket string
}

// setting is one configurable value: its variable, its flag, its default and how to check it.
type setting struct {
	env, flag, def, usage string
	// parse checks raw and stores it in c; its error says what a valid value looks like.
	parse func(c *config, raw string) error
}

// usageError is a bad flag or value: the command exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

var settings = []setting{
	{"FRONTDESK_ADDR", "addr", "127.0.0.1:8080", "listen address (host:port)", func(c *config, s string) error {
		if err := checkListenAddr(s, "127.0.0.1:8080"); err != nil {
			return err
		}
		c.Addr = s
		return nil
	}},
	{"FRONTDESK_METRICS_ADDR", "metrics-addr", "", "private address (host:port) serving Prometheus metrics at /metrics (empty: none)", func(c *config, s string) error {
		if s == "" {
			return nil
		}
		if err := checkListenAddr(s, "127.0.0.1:9090"); err != nil {
			return err
		}
		c.MetricsAddr = s
		return nil
	}},
	{"FRONTDESK_DB", "db", "data/frontdesk.db", "SQLite database file (created with its folder), or a PostgreSQL URL postgres://user:password@host:5432/database", func(c *config, s string) error {
		if strings.TrimSpace(s) == "" {
			return errors.New("must not be empty")
		}
		if db.IsPostgresURL(strings.TrimSpace(s)) {
			s = strings.TrimSpace(s)
			if err := checkPostgresURL(s); err != nil {
				return err
			}
		}
		c.DB = s
		return nil
	}},
	{"FRONTDESK_LITESTREAM_SOCKET", "litestream-socket", "", "control socket of the Litestream replicating the SQLite database (its socket: path), paused while an erasure empties the write-ahead log (empty: none)", parseLitestreamSocket},
	{"FRONTDESK_BASE_URL", "base-url", "http://localhost:8080", "public address used for links in emails", func(c *config, s string) error {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return errors.New("must be an absolute http or https URL such as https://enquiries.example.org")
		}
		u.Path = strings.TrimRight(u.Path, "/")
		c.BaseURL = u
		return nil
	}},
	{"FRONTDESK_CLINIC_NAME", "clinic-name", "Frontdesk Clinic", "clinic name shown on pages and in emails", func(c *config, s string) error {
		s = strings.TrimSpace(s)
		if s == "" || len(s) > 100 {
			return errors.New("must be 1 to 100 characters")
		}
		c.ClinicName = s
		return nil
	}},
	{"FRONTDESK_CLINIC_PHONE", "clinic-phone", "", "clinic phone number given to patients (optional)", func(c *config, s string) error {
		if len(s) > 40 {
			return errors.New("must be at most 40 characters")
		}
		c.ClinicPhone = strings.TrimSpace(s)
		return nil
	}},
	{"FRONTDESK_CLINIC_EMAIL", "clinic-email", "", "clinic email address given to patients (optional)", func(c *config, s string) error {
		if s == "" {
			return nil
		}
		a, err := mail.ParseAddress(s)
		if err != nil || a.Name != "" {
			return errors.New("must be a plain email address such as hello@clinic.example")
		}
		c.ClinicEmail = a.Address
		return nil
	}},
	{"FRONTDESK_CLINIC_LOGO", "clinic-logo", "", "clinic logo shown on pages and in HTML emails: an https URL or an image file (PNG, JPEG, GIF, WebP or SVG; optional)", func(c *config, s string) error {
		l, err := web.LoadLogo(s)
		if err != nil {
			return err
		}
		c.ClinicLogo = l
		return nil
	}},
	{"FRONTDESK_CLINIC_ICO_NUMBER", "clinic-ico-number", "", "the clinic's ICO registration number, stated in the privacy notice (optional)", func(c *config, s string) error {
		s = strings.ToUpper(strings.TrimSpace(s))
		if len(s) > 20 || strings.IndexFunc(s, func(r rune) bool { return (r < 'A' || r > 'Z') && (r < '0' || r > '9') }) >= 0 {
			return errors.New("must be the registration number as the ICO gives it, letters and digits such as ZA123456")
		}
		c.ClinicICONumber = s
		return nil
	}},
	{"FRONTDESK_MAIL_TRANSPORT", "mail-transport", "file", "file (write .eml files) or smtp", func(c *config, s string) error {
		if s != "file" && s != "smtp" {
			return errors.New("must be file or smtp")
		}
		c.MailTransport = s
		return nil
	}},
	{"FRONTDESK_MAIL_DIR", "mail-dir", "data/mail", "folder the file transport writes .eml files to", func(c *config, s string) error {
		if strings.TrimSpace(s) == "" {
			return errors.New("must not be empty")
		}
		c.MailDir = s
		return nil
	}},
	{"FRONTDESK_MAIL_FROM", "mail-from", "Frontdesk <no-reply@localhost>", "sender of every email", func(c *config, s string) error {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return errors.New("must be an address such as \"Clinic <no-reply@clinic.example>\"")
		}
		c.MailFrom = a
		return nil
	}},
	{"FRONTDESK_MAIL_TEMPLATES", "mail-templates", "", "folder of email templates overriding the built-in ones (optional)", func(c *config, s string) error {
		if s == "" {
			return nil
		}
		if fi, err := os.Stat(s); err != nil || !fi.IsDir() {
			return errors.New("must be an existing folder")
		}
		c.MailTemplates = s
		return nil
	}},
	{"FRONTDESK_INTAKE_INBOX", "intake-inbox", "", "address told of every new enquiry (optional)", func(c *config, s string) error {
		if s == "" {
			return nil
		}
		a, err := mail.ParseAddress(s)
		if err != nil {
			return errors.New("must be an email address")
		}
		c.IntakeInbox = strings.ToLower(a.Address)
		return nil
	}},
	{"FRONTDESK_SMTP_HOST", "smtp-host", "localhost", "SMTP server", func(c *config, s string) error {
		if strings.TrimSpace(s) == "" || strings.ContainsAny(s, " /:") && net.ParseIP(s) == nil {
			return errors.New("must be a host name or IP address")
		}
		c.SMTPHost = s
		return nil
	}},
	{"FRONTDESK_SMTP_PORT", "smtp-port", "587", "SMTP port", func(c *config, s string) error {
		p, err := strconv.Atoi(s)
		if err != nil || p < 1 || p > 65535 {
			return errors.New("must be a number from 1 to 65535")
		}
		c.SMTPPort = p
		return nil
	}},
	{"FRONTDESK_SMTP_USERNAME", "smtp-username", "", "SMTP user name (authentication is used when set)", func(c *config, s string) error {
		c.SMTPUsername = s
		return nil
	}},
	{"FRONTDESK_SMTP_PASSWORD", "smtp-password", "", "SMTP password", func(c *config, s string) error {
		c.SMTPPassword = s
		return nil
	}},
	{"FRONTDESK_SMTP_TLS", "smtp-tls", "starttls", "none, starttls (required) or tls (implicit)", func(c *config, s string) error {
		if s != "none" && s != "starttls" && s != "tls" {
			return errors.New("must be none, starttls or tls")
		}
		c.SMTPTLS = s
		return nil
	}},
	{"FRONTDESK_FIRST_CONTACT_HOURS", "first-contact-hours", "24", "hours within which a new enquiry should be contacted", func(c *config, s string) error {
		h, err := strconv.Atoi(s)
		if err != nil || h < 1 || h > 24*30 {
			return errors.New("must be a whole number of hours from 1 to 720")
		}
		c.FirstContactHours = h
		return nil
	}},
	{"FRONTDESK_URGENT_CONTACT_HOURS", "urgent-contact-hours", "4", "hours within which an enquiry flagged risk should be contacted, from its flag", func(c *config, s string) error {
		h, err := strconv.Atoi(s)
		if err != nil || h < 1 || h > 24*30 {
			return errors.New("must be a whole number of hours from 1 to 720")
		}
		c.UrgentContactHours = h
		return nil
	}},
	{"FRONTDESK_INTAKE_PER_MINUTE", "intake-per-minute", "10", "enquiries one client may send a minute (0: no limit)", func(c *config, s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 1000000 {
			return errors.New("must be a whole number, 0 or more (0 turns the limit off)")
		}
		c.IntakePerMinute = n
		return nil
	}},
	{"FRONTDESK_ALLOWED_ORIGINS", "allowed-origins", "", "comma-separated origins allowed to post the JSON API from a browser", func(c *config, s string) error {
		c.AllowedOrigins = nil
		for _, o := range splitList(s) {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
				return fmt.Errorf("%q is not an origin such as https://www.clinic.example", o)
			}
			c.AllowedOrigins = append(c.AllowedOrigins, u.Scheme+"://"+strings.ToLower(u.Host))
		}
		return nil
	}},
	{"FRONTDESK_FRAME_ANCESTORS", "frame-ancestors", "", "origins (space- or comma-separated) allowed to show /enquire in an iframe on the clinic's own site", func(c *config, s string) error {
		c.FrameAncestors = nil
		for _, o := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			origin, ok := parseOrigin(o)
			if !ok {
				return fmt.Errorf("%q is not an origin such as https://www.clinic.example (http or https, no path)", o)
			}
			c.FrameAncestors = append(c.FrameAncestors, origin)
		}
		return nil
	}},
	{"FRONTDESK_BOOKING_URL", "booking-url", "", "a booking page (https) offered to an enquiry without a risk flag, with its reference as ?ref=", func(c *config, s string) error {
		c.BookingURL = ""
		if s == "" {
			return nil
		}
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
			return errors.New("must be an https URL such as https://cal.com/clinic/introduction")
		}
		c.BookingURL = u.String()
		return nil
	}},
	{"FRONTDESK_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated proxy IPs or CIDR ranges whose X-Forwarded-For is believed", func(c *config, s string) error {
		c.TrustedProxies = nil
		for _, p := range splitList(s) {
			if _, err := netip.ParsePrefix(p); err != nil {
				if _, err := netip.ParseAddr(p); err != nil {
					return fmt.Errorf("%q is not an IP address or CIDR range", p)
				}
			}
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
		return nil
	}},
	{"FRONTDESK_REQUIRE_2FA", "require-2fa", "all", "who must sign in with a second factor (TOTP): all, admins or off", func(c *config, s string) error {
		p, err := crm.ParseTwoFactorPolicy(s)
		if err != nil {
			return err
		}
		c.Require2FA = p
		return nil
	}},
	{"FRONTDESK_RETENTION_MONTHS", "retention-months", "24", "closed enquiries are anonymised this many months after they closed (0: never)", func(c *config, s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 1200 {
			return errors.New("must be a whole number of months from 0 to 1200 (0: never)")
		}
		c.RetentionMonths = n
		return nil
	}},
	{"FRONTDESK_SPAM_RETENTION_DAYS", "spam-retention-days", "30", "spam is deleted this many days after it arrived (0: never)", func(c *config, s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 36500 {
			return errors.New("must be a whole number of days from 0 to 36500 (0: never)")
		}
		c.SpamRetentionDays = n
		return nil
	}},
	{"FRONTDESK_TOKEN_DAYS", "token-days", "90", "days a new API token lasts when no --days is given", func(c *config, s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < crm.MinTokenDays || n > crm.MaxTokenDays {
			return fmt.Errorf("must be a whole number of days from %d to %d", crm.MinTokenDays, crm.MaxTokenDays)
		}
		c.TokenDays = n
		return nil
	}},
	{"FRONTDESK_TIMEZONE", "timezone", "Europe/London", "the clinic's time zone, for dates on pages, reports and exports", func(c *config, s string) error {
		loc, err := time.LoadLocation(s)
		if err != nil {
			return errors.New("must be an IANA time zone such as Europe/London")
		}
		c.Timezone = loc
		return nil
	}},
	// After FRONTDESK_TIMEZONE: the hours are read in the clinic's time zone.
	{"FRONTDESK_OPENING_HOURS", "opening-hours", "", "the clinic's opening hours, such as \"Mon-Fri 09:00-17:30,Sat 10:00-13:00\": first-contact targets then count only them (empty: round the clock)", func(c *config, s string) error {
		oh, err := opening.Parse(s, c.Timezone)
		if err != nil {
			return err
		}
		c.OpeningHours = oh
		return nil
	}},
	{"FRONTDESK_WEBHOOK_URL", "webhook-url", "", "where enquiry events are POSTed, signed (an http or https URL; empty: no webhooks)", func(c *config, s string) error {
		if s = strings.TrimSpace(s); s == "" {
			return nil
		}
		// The URL may hold the receiver's token (a Zapier catch hook's does): errors never repeat it.
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("must be an absolute http or https URL such as https://hooks.zapier.com/hooks/catch/…")
		}
		c.WebhookURL = s
		return nil
	}},
	{"FRONTDESK_WEBHOOK_SECRET", "webhook-secret", "", "the secret webhooks are signed with: whsec_ followed by base64 (required with FRONTDESK_WEBHOOK_URL)", func(c *config, s string) error {
		if s = strings.TrimSpace(s); s == "" {
			return nil
		}
		key, err := crm.ParseWebhookSecret(s)
		if err != nil {
			return err
		}
		c.WebhookKey = key
		return nil
	}},
}

// loadConfig reads every setting from the environment, lets the flags in fs override them when withFlags is
// true, and validates them all. getenv is os.Getenv outside tests. A bad value is a *usageError naming the
// flag or variable it came from.
func loadConfig(fs *flag.FlagSet, args []string, getenv func(string) string, withFlags bool) (*config, []string, error) {
	raw := make(map[string]*string, len(settings))
	for _, s := range settings {
		v := s.def
		if e, ok := lookup(getenv, s.env); ok {
			v = e
		}
		val := v
		raw[s.env] = &val
		if withFlags {
			fs.StringVar(raw[s.env], s.flag, v, s.usage+" ($"+s.env+")")
		} else if s.env == "FRONTDESK_DB" {
			fs.StringVar(raw[s.env], s.flag, v, s.usage+" ($"+s.env+")")
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, &usageError{msg: err.Error()}
	}
	fromFlag := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { fromFlag[f.Name] = true })
	c := &config{}
	for _, s := range settings {
		if err := s.parse(c, *raw[s.env]); err != nil {
			name := s.env
			if fromFlag[s.flag] {
				name = "--" + s.flag
			}
			return nil, nil, usagef("invalid %s: %v", name, err)
		}
		if s.env == "FRONTDESK_MAIL_FROM" && *raw[s.env] == s.def {
			// Left at its default, the sender is named after the clinic: patients see who wrote to them,
			// not "Frontdesk". The address stays as it is.
			c.MailFrom.Name = c.ClinicName
		}
	}
	switch {
	case c.WebhookURL != "" && c.WebhookKey == nil:
		return nil, nil, usagef("invalid FRONTDESK_WEBHOOK_SECRET: must be set with FRONTDESK_WEBHOOK_URL (whsec_ followed by base64; make one with: echo whsec_$(openssl rand -base64 32))")
	case c.WebhookURL == "" && c.WebhookKey != nil:
		return nil, nil, usagef("invalid FRONTDESK_WEBHOOK_URL: must be set with FRONTDESK_WEBHOOK_SECRET (or unset both for no webhooks)")
	case c.LitestreamSocket != "" && db.IsPostgresURL(c.DB):
		return nil, nil, usagef("invalid FRONTDESK_LITESTREAM_SOCKET: Litestream replicates a SQLite database, and FRONTDESK_DB is PostgreSQL (unset it)")
	}
	return c, fs.Args(), nil
}

// lookup returns a variable's value and whether it is set to something.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// secureCookies reports whether staff cookies must be Secure: whenever the public address is https.
func (c *config) secureCookies() bool { return c.BaseURL.Scheme == "https" }
