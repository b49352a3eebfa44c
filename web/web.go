// Package web is Frontdesk's HTTP side: the Fiber app, its route table (routes.go), one handler file per page or
// resource, the middleware, and the one error handler that maps domain errors to status codes. Templates and
// static files are embedded. It is the only package that imports Fiber, and it never imports db.
package web

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/hours"
	"github.com/frontdesk/frontdesk/crm/report"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"
	"github.com/gofiber/template/html/v2"
)

//go:embed templates
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// BodyLimit is the largest request body accepted; a larger one is answered 413.
const BodyLimit = 64 << 10

// Config is what the web layer needs to know of the clinic and its deployment.
type Config struct {
	ClinicName  string
	ClinicPhone string
	ClinicEmail string
	// BaseURL is the public address, without a trailing slash.
	BaseURL string
	// IntakePerMinute is how many enquiries one client may send a minute; 0 turns the limit off.
	IntakePerMinute int
	// AllowedOrigins may post the JSON intake API from a browser (CORS).
	AllowedOrigins []string
	// TrustedProxies are believed when they send X-Forwarded-For.
	TrustedProxies []string
	// FirstContactHours is the promised time to first contact, told to patients.
	FirstContactHours int
	// UrgentContactHours is the time to first contact of an enquiry flagged risk, told to the patient on the
	// thanks page (FRONTDESK_URGENT_CONTACT_HOURS); zero means crm.DefaultUrgentContactHours.
	UrgentContactHours int
	// OpeningHours, when not nil, are the clinic's opening hours (FRONTDESK_OPENING_HOURS): the targets count
	// only them, and every page that states a deadline says so (the template function clinicHours).
	OpeningHours *hours.Schedule
	// Location is the clinic's time zone, for dates shown to people.
	Location *time.Location
	// SecureCookies marks staff cookies Secure (set when the public address is https).
	SecureCookies bool
	// SessionIdle and SessionAbsolute override the session limits (zero: 30 minutes idle, 12 hours in all).
	SessionIdle, SessionAbsolute time.Duration
	// SecondFactorWait overrides how long a correct password waits for its second factor (zero: 5 minutes).
	SecondFactorWait time.Duration
	// Require2FA says who must sign in with a second factor (FRONTDESK_REQUIRE_2FA); the zero value is
	// crm.TwoFactorAll, everybody.
	Require2FA crm.TwoFactorPolicy
	// RetentionMonths and SpamRetentionDays are the retention policy the privacy notice states (0: never).
	RetentionMonths   int
	SpamRetentionDays int
	// Logo is the clinic's logo (FRONTDESK_CLINIC_LOGO, read by LoadLogo), shown in every page's header; the
	// zero value shows the clinic's name alone.
	Logo Logo
	// ICONumber is the clinic's registration number with the Information Commissioner's Office
	// (FRONTDESK_CLINIC_ICO_NUMBER), stated in the privacy notice when set.
	ICONumber string
	// MailFileDir, when set, is the folder the file transport writes email into (FRONTDESK_MAIL_TRANSPORT=file):
	// the outbox page then says the messages were written there, not sent.
	MailFileDir string
	// FrameAncestors are the origins (FRONTDESK_FRAME_ANCESTORS) whose pages may show the patient pages in an
	// iframe (embed.go); empty: no site may, as for every staff page.
	FrameAncestors []string
	// BookingURL is the booking page (FRONTDESK_BOOKING_URL) that the thanks page offers an enquiry without a
	// risk flag; empty: none.
	BookingURL string
}

// Readiness reports whether the service can do its work; /readyz calls it.
type Readiness interface {
	// Ping returns an error when the database does not answer.
	Ping(ctx context.Context) error
	// WriteHealth returns an error when the database does not take writes (disk full, read-only, I/O error),
	// from the last write's outcome or a write probe; nil once it takes them again.
	WriteHealth(ctx context.Context) error
}

// MailBacklog reports mail that has waited too long to be sent; /readyz shows it as a warning, not a failure.
type MailBacklog interface {
	// StaleMail returns how many emails have been waiting unsent for longer than after, and after itself.
	StaleMail(ctx context.Context) (count int, after time.Duration, err error)
}

// Deps are the services the handlers call.
type Deps struct {
	Intake    *crm.IntakeService
	Workspace *crm.Workspace
	Accounts  *crm.Accounts
	// Privacy serves subject access and erasure by address; without it their routes answer 404.
	Privacy *crm.Privacy
	// Reports makes the administrators' reports and exports; without it their routes answer 404.
	Reports *report.Service
	// Screening serves the patient's link to the questionnaires (/enquire/screening/TOKEN); without it those
	// routes answer 404 and the thanks page neither invites nor looks the enquiry up.
	Screening *crm.ScreeningService
	// Sessions stores staff sessions (Fiber's storage interface; db implements it), so that a session started
	// on one process works on every other process on the same database.
	Sessions fiber.Storage
	// Limits, when set, keeps the counters of every rate limit (intake, password reset requests, second-factor
	// setup guesses), so that several processes on one database count together; nil keeps them in this
	// process's memory. Each limit's keys start with its own prefix.
	Limits fiber.Storage
	Ready  Readiness
	// Mail is optional: without it /readyz says nothing of mail.
	Mail MailBacklog
	// Outbox lists mail and queues failed mail again, for the admin outbox page; without it that page answers
	// 404.
	Outbox *crm.Outbox
	// Metrics, when set, counts requests, enquiries and failed sign-ins (FRONTDESK_METRICS_ADDR; served by its
	// own Handler, never by this app); nil counts nothing.
	Metrics *Metrics
	Log     *slog.Logger
}

// server holds what every handler shares.
type server struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	sessions *session.Store
	throttle *signInThrottle
	exports  exportsInFlight // exports written from hijacked connections (export_stream.go)
}

// New builds the Fiber app with every route, ready for Listen. It fails only when the embedded templates do
// not parse, which the package's tests catch.
func New(cfg Config, deps Deps) (*fiber.App, error) {
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = SessionIdle
	}
	if cfg.SessionAbsolute <= 0 {
		cfg.SessionAbsolute = SessionAbsolute
	}
	if cfg.SecondFactorWait <= 0 {
		cfg.SecondFactorWait = SecondFactorWait
	}
	if cfg.UrgentContactHours <= 0 {
		cfg.UrgentContactHours = crm.DefaultUrgentContactHours
	}
	s := &server{cfg: cfg, deps: deps, log: deps.Log, throttle: newSignInThrottle()}
	s.sessions = s.newSessionStore()

	views, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		return nil, err
	}
	engine := html.NewFileSystem(http.FS(views), ".html")
	engine.AddFuncMap(s.templateFuncs())
	engine.AddFuncMap(s.labelFuncs()) // render.go: every code a person reads, as words
	if err := engine.Load(); err != nil {
		return nil, fmt.Errorf("load templates: %w", err)
	}

	app := fiber.New(fiber.Config{
		AppName:                 "Frontdesk",
		Views:                   engine,
		ErrorHandler:            s.handleError,
		Immutable:               true, // values handed on after a handler must not change under it
		BodyLimit:               BodyLimit,
		ReadTimeout:             15 * time.Second,
		WriteTimeout:            60 * time.Second,
		IdleTimeout:             120 * time.Second,
		ReadBufferSize:          8192,
		DisableStartupMessage:   true,
		Prefork:                 false,
		EnableTrustedProxyCheck: true,
		TrustedProxies:          cfg.TrustedProxies,
		ProxyHeader:             proxyHeader(cfg.TrustedProxies),
		EnableIPValidation:      true,
		ServerHeader:            "",
	})
	s.routes(app)
	app.Hooks().OnShutdown(func() error {
		if !s.exports.wait(exportDrain) {
			s.log.Warn("shutdown: exports still being sent were cut off")
		}
		return nil
	})
	// Render one page before serving. Fiber fills a table on the first Render that its error handler reads
	// without a lock; done here, the first requests cannot race on it (seen with -race when a 413 and a page
	// came together).
	req, err := http.NewRequest(fiber.MethodGet, "http://localhost/privacy", nil)
	if err != nil {
		return nil, err
	}
	warm, err := app.Test(req, -1)
	if err != nil {
		return nil, fmt.Errorf("warm up: %w", err)
	}
	warm.Body.Close()
	if warm.StatusCode != fiber.StatusOK {
		return nil, fmt.Errorf("warm up: /privacy answered %d", warm.StatusCode)
	}
	return app, nil
}

// proxyHeader is X-Forwarded-For when some proxy is trusted; with none, the header is never read.
func proxyHeader(trusted []string) string {
	if len(trusted) == 0 {
		return ""
	}
	return fiber.HeaderXForwardedFor
}

func (s *server) templateFuncs() template.FuncMap {
	loc := s.cfg.Location
	return template.FuncMap{
		"label":          intake.Label,
		"treatmentLabel": func(v string) string { return intake.Label(intake.Treatments, v) },
		"referralLabel":  func(v string) string { return intake.Label(intake.ReferralSources, v) },
		"contactLabel":   func(v string) string { return intake.Label(intake.ContactPreferences, v) },
		"year":           func() int { return time.Now().In(loc).Year() },
		"lower":          strings.ToLower,
		"join":           strings.Join,
		"has":            slices.Contains[[]string],
		"dt": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(loc).Format("2 Jan 2006, 15:04")
		},
		"dtp": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.In(loc).Format("2 Jan 2006, 15:04")
		},
		"iso":        func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"auditLabel": crm.AuditActionLabel,
		"ago":        ago,
		"statusLabel": func(st any) string {
			switch v := st.(type) {
			case crm.Status:
				return v.Label()
			case string:
				return crm.Status(v).Label()
			}
			return ""
		},
		"roleLabel": func(r crm.Role) string { return r.Label() },
		"dict":      dict,
		"tel":       telURL,
		"fieldErr":  fieldErr,
		"nextActive": func(st crm.Status) crm.Status {
			for _, n := range crm.NextStatuses(st) {
				if n.Active() {
					return n
				}
			}
			return ""
		},
		// clinicHours is the opening hours the targets count, as people read them; "" when they count round the
		// clock.
		"clinicHours": s.cfg.OpeningHours.Describe,
		// contactBy writes a due time for a patient: "Monday 7 December, 12:30".
		"contactBy": func(t time.Time) string { return t.In(loc).Format("Monday 2 January, 15:04") },
	}
}

// ago says how long ago t was, briefly: "just now", "25 min", "3 h", "2 days".
func ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
}

// dict builds a map from alternating keys and values, for passing several values to a partial template.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// fieldErr returns the error for a field from any map of field errors, or "" (also when there is no map).
func fieldErr(errs any, field string) string {
	switch m := errs.(type) {
	case crm.InputError:
		return m[field]
	case map[string]string:
		return m[field]
	case intake.ValidationErrors:
		return m[field]
	}
	return ""
}

// telURL is a tel: link for an E.164 number (html/template refuses tel: URLs it cannot check itself).
func telURL(phone string) template.URL {
	if len(phone) < 3 || phone[0] != '+' {
		return ""
	}
	for _, r := range phone[1:] {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return template.URL("tel:" + phone)
}
