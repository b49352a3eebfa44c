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
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/gofiber/fiber/v2"
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
	// Location is the clinic's time zone, for dates shown to people.
	Location *time.Location
}

// Readiness reports whether the service can do its work; /readyz calls it.
type Readiness interface {
	// Ping returns an error when the database does not answer.
	Ping(ctx context.Context) error
}

// Deps are the services the handlers call.
type Deps struct {
	Intake *crm.IntakeService
	Ready  Readiness
	Log    *slog.Logger
}

// server holds what every handler shares.
type server struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
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
	s := &server{cfg: cfg, deps: deps, log: deps.Log}

	views, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		return nil, err
	}
	engine := html.NewFileSystem(http.FS(views), ".html")
	engine.AddFuncMap(s.templateFuncs())
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
	return template.FuncMap{
		"label":          intake.Label,
		"treatmentLabel": func(v string) string { return intake.Label(intake.Treatments, v) },
		"year":           func() int { return time.Now().In(s.cfg.Location).Year() },
		"lower":          strings.ToLower,
	}
}
