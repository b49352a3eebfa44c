package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm/report"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
)

// contentSecurityPolicy allows only our own styles, scripts and images (and the clinic's logo, when it is kept
// elsewhere: logoOrigin), and no framing (the patient pages may allow the clinic's own site: embed.go).
func contentSecurityPolicy(logoOrigin string) string {
	img := "img-src 'self' data:"
	if logoOrigin != "" {
		img += " " + logoOrigin
	}
	return "default-src 'self'; " + img + "; style-src 'self'; script-src 'self'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
}

// hsts tells browsers to use only https for this site for a year.
const hsts = "max-age=31536000; includeSubDomains"

// httpsBase reports whether the configured public address is https: then every answer carries
// Strict-Transport-Security, whether or not the proxy in front says the request came over TLS; over http, never.
func (s *server) httpsBase() bool {
	return strings.HasPrefix(strings.ToLower(s.cfg.BaseURL), "https://")
}

// aroundEveryRequest installs what wraps every request: its ID, the request log and the metrics, and inside
// them the recovery from a handler's panic, so that a panic is answered 500 and still logged and counted as one
// (recovered outside them, it was neither). The outermost recovery is for those three themselves.
func (s *server) aroundEveryRequest(app *fiber.App) {
	app.Use(recover.New(recover.Config{EnableStackTrace: false}))
	app.Use(requestid.New())
	app.Use(s.logRequests)
	if s.deps.Metrics != nil {
		app.Use(s.deps.Metrics.countRequests)
	}
	app.Use(recover.New(recover.Config{EnableStackTrace: false}))
}

// routes is the whole route table.
func (s *server) routes(app *fiber.App) {
	s.aroundEveryRequest(app)
	app.Use(helmet.New(helmet.Config{
		ContentSecurityPolicy: contentSecurityPolicy(s.cfg.Logo.origin()),
		XFrameOptions:         "DENY", // as frame-ancestors 'none'; the patient pages drop it when framable
		ReferrerPolicy:        "same-origin",
		PermissionPolicy:      "camera=(), microphone=(), geolocation=()",
		HSTSMaxAge:            0, // sent below, by the configured address rather than the connection
	}))
	if s.httpsBase() {
		app.Use(func(c *fiber.Ctx) error {
			c.Set(fiber.HeaderStrictTransportSecurity, hsts)
			return c.Next()
		})
	}

	// Health, for load balancers and monitoring.
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)

	// Static assets, embedded.
	app.Use("/static", filesystem.New(filesystem.Config{
		Root:       http.FS(staticFiles),
		PathPrefix: "static",
		MaxAge:     int((24 * time.Hour).Seconds()),
	}))

	// The icon browsers ask for at the root, and the clinic's logo when it is a file.
	app.Get("/favicon.ico", s.favicon)
	app.Get("/logo", s.logo)
	app.Get("/embed.js", s.embedScript) // the enquiry form on the clinic's own page (embed.go)

	// The patient's side.
	app.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/enquire", fiber.StatusSeeOther) })
	framable := s.patientFrame() // FRONTDESK_FRAME_ANCESTORS may show these pages in an iframe
	app.Get("/enquire", framable, s.enquireForm)
	limit := s.intakeLimit() // one count per client, shared by the form and the API
	app.Post("/enquire", s.countedIntake(channelForm, framable, limit, s.enquireSubmit)...)
	app.Get("/enquire/thanks", framable, s.enquireThanks)
	if s.deps.Screening != nil {
		app.Get("/enquire/screening/:token", framable, s.screeningForm)
		app.Post("/enquire/screening/:token", framable, s.screeningSubmit)
	}
	app.Get("/privacy", framable, s.privacy)

	// The public JSON intake API, which a clinic's own site may call from the browser.
	api := app.Group("/api/v1")
	if len(s.cfg.AllowedOrigins) > 0 {
		allow := s.intakeCORS()
		app.Use("/api/v1/enquiries", func(c *fiber.Ctx) error {
			// CORS covers only the public intake route, never the staff API.
			if c.Path() != "/api/v1/enquiries" {
				return c.Next()
			}
			return allow(c)
		})
	}
	api.Post("/enquiries", s.countedIntake(channelAPI, limit, s.apiCreateEnquiry)...)
	api.Get("/openapi.json", s.openAPI) // the OpenAPI document of this API: public, cacheable

	// The staff API: bearer tokens, JSON errors, the same role rules as the pages (enforced in crm).
	token := s.requireToken
	api.Get("/enquiries", token, s.apiListEnquiries)
	api.Get("/enquiries/:ref", token, s.apiGetEnquiry)
	api.Post("/enquiries/:ref/transitions", token, s.apiTransition)
	api.Post("/enquiries/:ref/assign", token, s.apiAssign)
	api.Post("/enquiries/:ref/priority", token, s.apiPriority)
	api.Post("/enquiries/:ref/notes", token, s.apiAddNote)
	api.Get("/enquiries/:ref/timeline", token, s.apiTimeline)
	api.Get("/tokens", token, s.apiListTokens)
	api.Delete("/tokens/:id", token, s.apiRevokeToken)
	// Reports and exports: administrators only (the report service refuses other roles with 403).
	api.Get("/reports/funnel", token, s.apiReport("funnel"))
	api.Get("/reports/first-contact", token, s.apiReport("first-contact"))
	api.Get("/reports/sources", token, s.apiReport("sources"))
	api.Get("/reports/workload", token, s.apiReport("workload"))
	api.Get("/exports/enquiries.csv", token, s.apiExport(report.CSV))
	api.Get("/exports/enquiries.xlsx", token, s.apiExport(report.XLSX))
	// Subject access: administrators only (the privacy service refuses other roles with 403).
	if s.deps.Privacy != nil {
		api.Get("/subject-access", token, s.apiSubjectAccess)
	}

	// Staff pages: a session cookie, and a CSRF token in every form (the middleware runs on GETs too, to
	// issue it). Without a session a page redirects to /login.
	protect := s.newCSRF()
	app.Get("/login", protect, s.loginForm)
	app.Post("/login", protect, s.login) // throttled per account and client inside (signin.go)
	app.Get("/login/2fa", protect, s.secondFactorForm)
	app.Post("/login/2fa", protect, s.secondFactor)
	app.Post("/logout", protect, s.logout)
	app.Get("/reset", protect, s.resetRequestForm)
	resetLimits := s.resetRequestLimits()
	app.Post("/reset", protect, resetLimits[0], resetLimits[1], s.resetRequest)
	app.Get("/reset/:token", protect, s.resetForm)
	app.Post("/reset/:token", protect, s.reset)
	app.Get("/setup", protect, s.setupForm)
	app.Post("/setup", protect, s.setupLimit(), s.setup)

	staff := []fiber.Handler{protect, s.requireStaff}
	admin := []fiber.Handler{protect, s.requireStaff, s.requireAdmin}
	app.Get(enrolPath, append(staff, s.twoFactorPage)...)
	app.Post(enrolPath, append(staff, s.enrol)...)
	app.Post(enrolPath+"/recovery-codes", append(staff, s.newRecoveryCodes)...)
	app.Get("/board", append(staff, s.board)...)
	app.Get("/enquiries", append(staff, s.enquiries)...)
	app.Get("/enquiries/:ref", append(staff, s.enquiry)...)
	app.Post("/enquiries/:ref/transitions", append(staff, s.transition)...)
	app.Post("/enquiries/:ref/undo", append(staff, s.undoMove)...)
	app.Post("/enquiries/:ref/assign", append(staff, s.assign)...)
	app.Post("/enquiries/:ref/notes", append(staff, s.note)...)
	app.Post("/enquiries/:ref/priority", append(staff, s.priority)...)
	app.Get("/account", append(staff, s.account)...)
	app.Post("/account/password", append(staff, s.changePassword)...)
	app.Post("/account/sessions/end-others", append(staff, s.endOtherSessions)...)
	app.Post("/account/sessions/:id/end", append(staff, s.endSession)...)
	app.Post("/account/tokens", append(staff, s.createOwnToken)...)
	app.Post("/account/tokens/:id/revoke", append(staff, s.revokeOwnToken)...)
	app.Get("/admin/users", append(admin, s.users)...)
	app.Post("/admin/users", append(admin, s.addUser)...)
	app.Post("/admin/users/update", append(admin, s.updateUser)...)
	app.Post("/admin/users/reset", append(admin, s.sendPasswordReset)...)
	app.Post("/admin/users/sign-out", append(admin, s.signOutEverywhere)...)
	app.Post("/admin/users/sign-out-all", append(admin, s.signOutEveryone)...)
	app.Post("/admin/users/reset-2fa", append(admin, s.resetSecondFactor)...)
	app.Get("/admin/audit", append(admin, s.audit)...)
	app.Get("/admin/reports", append(admin, s.reports)...)
	app.Get("/admin/reports/:name.csv", append(admin, s.reportTableCSV)...)
	app.Get("/admin/exports/enquiries.csv", append(admin, s.adminExport(report.CSV))...)
	app.Get("/admin/exports/enquiries.xlsx", append(admin, s.adminExport(report.XLSX))...)
	app.Get("/admin/outbox", append(admin, s.outboxPage)...)
	app.Post("/admin/outbox/retry", append(admin, s.outboxRetry)...)
	if s.deps.Privacy != nil {
		app.Get("/admin/privacy", append(admin, s.privacyPage)...)
		app.Post("/admin/privacy/access", append(admin, s.privacyAccess)...)
		app.Post("/admin/privacy/erase", append(admin, s.privacyErase)...)
	}

	app.Use(func(c *fiber.Ctx) error {
		// A signed-in member of staff who follows a dead link gets the staff error page, whose header has the
		// sign-out form: it needs the session's CSRF token, which the middleware only reads on a GET.
		if c.Method() == fiber.MethodGet && c.Cookies("frontdesk_session") != "" {
			if err := protect(c); err != nil {
				return err
			}
		}
		return fiber.ErrNotFound
	})
}

// intakeCORS lets the configured origins post enquiries from a browser. Credentials are never allowed, so the
// staff API cannot be reached this way.
func (s *server) intakeCORS() fiber.Handler {
	return cors.New(cors.Config{
		AllowOrigins:     strings.Join(s.cfg.AllowedOrigins, ","),
		AllowMethods:     "POST,OPTIONS",
		AllowHeaders:     "Content-Type,Idempotency-Key",
		ExposeHeaders:    "Retry-After",
		AllowCredentials: false,
		MaxAge:           600,
	})
}
