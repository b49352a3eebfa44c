package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	crmreport "github.com/frontdesk/frontdesk/crm/report" // "report" is main's error reporter
	"github.com/frontdesk/frontdesk/crm/report/xlsx"
	"github.com/frontdesk/frontdesk/db"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/frontdesk/frontdesk/web"
)

// shutdownGrace is how long serve waits for requests in flight when asked to stop.
const shutdownGrace = 20 * time.Second

// configure reads the configuration for a command; serve takes every setting as a flag too.
func configure(name string, args []string, e env, allFlags bool, extra func(*flag.FlagSet)) (*config, []string, error) {
	fs := newFlagSet(name, e)
	if extra != nil {
		extra(fs)
	}
	c, rest, err := loadConfig(fs, args, e.getenv, allFlags)
	var ue *usageError
	if errors.As(err, &ue) && ue.msg == flag.ErrHelp.Error() {
		return nil, nil, flagError(fs, flag.ErrHelp, e)
	}
	return c, rest, err
}

// openDB opens and migrates the database named by the configuration.
func openDB(ctx context.Context, c *config) (*db.DB, error) {
	d, err := db.Open(c.DB, db.Options{LitestreamSocket: c.LitestreamSocket})
	if err != nil {
		return nil, err
	}
	if _, err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func cmdServe(args []string, e env) error {
	c, rest, err := configure("serve", args, e, true, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("serve takes no arguments, got %q", rest[0])
	}
	log := newLogger(e.stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	store, err := openDB(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()

	worker, err := newMailWorker(c, store, log)
	if err != nil {
		return err
	}
	// The worker has its own context: it stops only after the HTTP server has drained, so the mail of the
	// last requests is still sent, and it finishes the message in flight before Run returns.
	mailCtx, stopMail := context.WithCancel(context.Background())
	mailDone := make(chan struct{})
	go func() { defer close(mailDone); worker.Run(mailCtx) }()
	defer func() { stopMail(); <-mailDone }()
	store.OnMailQueued(worker.Wake)
	if c.WebhookURL != "" {
		// A sibling of the mail worker, with its own claims: a slow receiver never holds up email.
		hooks := crm.NewWebhookSender(store, crm.WebhookConfig{URL: c.WebhookURL, Key: c.WebhookKey},
			log.With("component", "webhooks"))
		store.EnableWebhooks(c.BaseURL.String())
		hooksDone := make(chan struct{})
		go func() { defer close(hooksDone); hooks.Run(mailCtx) }()
		defer func() { stopMail(); <-hooksDone }()
		store.OnMailQueued(func() { worker.Wake(); hooks.Wake() })
	}

	validator := intake.NewValidator(nil, c.Timezone)
	accounts, err := newAccounts(c, store, log)
	if err != nil {
		return err
	}
	workspace := crm.NewWorkspace(store.EnquiryStore, store.StaffStore, store.AuditStore, crm.WorkspaceConfig{
		FirstContact: hours(c.FirstContactHours), UrgentContact: hours(c.UrgentContactHours),
		OpeningHours: c.OpeningHours, IntakeInbox: c.IntakeInbox, Location: c.Timezone,
	}, log)
	if code, err := accounts.SetupCode(ctx); err != nil {
		return err
	} else if code != "" {
		// Printed only while no account exists, so only someone who can read the server's log can claim it.
		log.Warn("no staff account yet: open /setup and enter this one-time setup code", "setup_code", code,
			"url", c.BaseURL.String()+"/setup")
	}
	if c.IntakeInbox == "" {
		// A risk-flagged enquiry that nobody is assigned then reaches only the administrators (README,
		// "Screening questionnaires").
		log.Warn("FRONTDESK_INTAKE_INBOX is not set: new enquiries are told only to their assignee, and urgent (risk) notices of unassigned ones only to the administrators")
	}
	mailFileDir := ""
	if c.MailTransport == "file" {
		// The default transport sends nothing: say so where the person trying Frontdesk looks first.
		mailFileDir = c.MailDir
		log.Warn("email is written to " + c.MailDir + " (not sent: the file transport is for trying Frontdesk); set FRONTDESK_MAIL_TRANSPORT=smtp to send it")
	}
	privacy := newPrivacy(c, store, log)
	jobsCtx, stopJobs := context.WithCancel(context.Background())
	jobsDone := make(chan struct{})
	go func() { defer close(jobsDone); runJobs(jobsCtx, workspace, store, log) }()
	retentionDone := make(chan struct{})
	go func() { defer close(retentionDone); runRetention(jobsCtx, privacy, log) }()
	defer func() { stopJobs(); <-jobsDone; <-retentionDone }()

	reports := crmreport.New(store.ReportStore, store.StaffStore, store.AuditStore, crmreport.Config{
		FirstContact: hours(c.FirstContactHours), UrgentContact: hours(c.UrgentContactHours), Location: c.Timezone,
		OpeningHours: c.OpeningHours, XLSX: xlsx.Write,
	}, log)
	deps := web.Deps{
		Intake:    crm.NewIntakeService(store.EnquiryStore, validator, c.IntakeInbox, log),
		Screening: crm.NewScreeningService(store.EnquiryStore, c.IntakeInbox, log),
		Workspace: workspace,
		Privacy:   privacy,
		Accounts:  accounts,
		Reports:   reports,
		Sessions:  store.Sessions(),
		Ready:     store,
		Mail:      worker,
		Outbox:    crm.NewOutbox(store.OutboxStore, log),
		Log:       log,
	}
	if c.MetricsAddr != "" {
		deps.Metrics = web.NewMetrics(web.MetricsSources{Store: store, Ready: store, Log: log, Targets: crm.Targets{
			FirstContact: hours(c.FirstContactHours), Urgent: hours(c.UrgentContactHours), Hours: c.OpeningHours}})
		store.OnWriteBatch(deps.Metrics.ObserveWriteBatch)
	}
	if store.IsPostgres() {
		// Several processes may serve one PostgreSQL database: their rate limits count together, in the database.
		deps.Limits = store.RateLimits()
	}
	app, err := web.New(web.Config{
		ClinicName:         c.ClinicName,
		ClinicPhone:        c.ClinicPhone,
		ClinicEmail:        c.ClinicEmail,
		BaseURL:            c.BaseURL.String(),
		IntakePerMinute:    c.IntakePerMinute,
		AllowedOrigins:     c.AllowedOrigins,
		TrustedProxies:     c.TrustedProxies,
		FirstContactHours:  c.FirstContactHours,
		UrgentContactHours: c.UrgentContactHours,
		OpeningHours:       c.OpeningHours,
		Location:           c.Timezone,
		SecureCookies:      c.secureCookies(),
		Require2FA:         c.Require2FA,
		RetentionMonths:    c.RetentionMonths,
		SpamRetentionDays:  c.SpamRetentionDays,
		Logo:               c.ClinicLogo,
		ICONumber:          c.ClinicICONumber,
		MailFileDir:        mailFileDir,
		FrameAncestors:     c.FrameAncestors,
		BookingURL:         c.BookingURL,
	}, deps)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	log.Info("serving", "addr", ln.Addr().String(), "db", redactDB(c.DB), "mail_transport", c.MailTransport)
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	if deps.Metrics != nil {
		stopMetrics, err := serveMetrics(c.MetricsAddr, deps.Metrics.Handler(), log)
		if err != nil {
			_ = app.Shutdown()
			return err
		}
		defer stopMetrics()
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests")
	if err := app.ShutdownWithTimeout(shutdownGrace); err != nil {
		log.Warn("shutdown: requests still in flight were cut off", "error", err)
	}
	log.Info("shutting down: finishing the mail being sent")
	stopMail()
	<-mailDone
	log.Info("stopped")
	return nil
}

// cmdMigrate applies migrations, or lists them with "migrate status".
func cmdMigrate(args []string, e env) error {
	c, rest, err := configure("migrate", args, e, false, nil)
	if err != nil {
		return err
	}
	if len(rest) > 1 || (len(rest) == 1 && rest[0] != "status") {
		return usagef("migrate takes no argument but \"status\", got %q", rest[len(rest)-1])
	}
	ctx := context.Background()
	d, err := db.Open(c.DB, db.Options{Readers: 1})
	if err != nil {
		return err
	}
	defer d.Close()
	if len(rest) == 1 {
		ms, err := d.Migrations(ctx)
		if err != nil {
			return err
		}
		for _, m := range ms {
			state := "pending"
			if m.Applied {
				state = "applied " + m.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(e.stdout, "%05d  %-40s  %s\n", m.Version, m.Name, state)
		}
		return nil
	}
	n, err := d.Migrate(ctx)
	if err != nil {
		return err
	}
	slog.New(slog.NewTextHandler(e.stderr, nil)).Info("migrated", "applied", n, "db", redactDB(c.DB))
	return nil
}

// jobInterval is how often serve looks for overdue enquiries and expired sessions.
const jobInterval = time.Minute

// runJobs does serve's periodic work until ctx ends: one reminder for each enquiry past its first-contact
// target, and removing expired sessions and idempotency keys.
func runJobs(ctx context.Context, ws *crm.Workspace, store *db.DB, log *slog.Logger) {
	tick := time.NewTicker(jobInterval)
	defer tick.Stop()
	for {
		if _, err := ws.SendOverdueReminders(ctx); err != nil && ctx.Err() == nil {
			log.Error("overdue reminders", "error", err)
		}
		if _, err := store.PurgeExpiredSessions(ctx); err != nil && ctx.Err() == nil {
			log.Error("purge expired sessions", "error", err)
		}
		if _, err := store.PurgeIdempotencyKeys(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Error("purge idempotency keys", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// serveMetrics answers /metrics on addr, the private metrics address (FRONTDESK_METRICS_ADDR), in its own HTTP
// server: the public app never serves them. The returned func stops it.
func serveMetrics(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (FRONTDESK_METRICS_ADDR): %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "error", err)
		}
	}()
	log.Info("serving metrics", "metrics_addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}
