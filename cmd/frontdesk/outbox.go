package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/mailer"
	"github.com/frontdesk/frontdesk/db"
)

// newMailWorker builds the mail worker of serve: the templates (a broken override fails here, at start), the
// configured transport and the worker itself.
func newMailWorker(c *config, store *db.DB, log *slog.Logger) (*mailer.Worker, error) {
	renderer, err := mailer.NewRenderer(mailer.RenderConfig{
		Clinic: mailer.Clinic{Name: c.ClinicName, Phone: c.ClinicPhone, Email: c.ClinicEmail,
			LogoURL: c.ClinicLogo.EmailSrc(c.BaseURL.String())},
		From:               c.MailFrom,
		BaseURL:            c.BaseURL.String(),
		FirstContactHours:  c.FirstContactHours,
		UrgentContactHours: c.UrgentContactHours,
		OpeningHours:       c.OpeningHours,
		Location:           c.Timezone,
		TemplatesDir:       c.MailTemplates,
		BookingURL:         c.BookingURL,
	})
	if err != nil {
		return nil, err
	}
	var transport mailer.Transport
	switch c.MailTransport {
	case "smtp":
		transport, err = mailer.NewSMTPTransport(mailer.SMTPConfig{
			Host: c.SMTPHost, Port: c.SMTPPort, Username: c.SMTPUsername, Password: c.SMTPPassword, TLS: c.SMTPTLS,
		})
	default:
		transport, err = mailer.NewFileTransport(c.MailDir)
	}
	if err != nil {
		return nil, err
	}
	return mailer.NewWorker(store.OutboxStore, renderer, transport, mailer.WorkerConfig{}, log.With("component", "mailer")), nil
}

// cmdOutbox is `outbox list [--status S]` and `outbox retry --id N`.
func cmdOutbox(args []string, e env) error {
	if len(args) == 0 {
		return usagef("outbox needs a command: list or retry")
	}
	switch args[0] {
	case "list":
		return cmdOutboxList(args[1:], e)
	case "retry":
		return cmdOutboxRetry(args[1:], e)
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, "Usage: frontdesk outbox list [--status queued|sent|failed] | frontdesk outbox retry --id N")
		return nil
	}
	return usagef("unknown outbox command %q (want list or retry)", args[0])
}

func cmdOutboxList(args []string, e env) error {
	var status string
	c, rest, err := configure("outbox list", args, e, false, func(fs *flag.FlagSet) {
		fs.StringVar(&status, "status", "", "only messages (emails and webhook events) in this status: queued, sent or failed")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("outbox list takes no arguments, got %q", rest[0])
	}
	if status != "" && !crm.OutboxStatus(status).Valid() {
		return usagef("invalid --status: must be queued, sent or failed")
	}
	d, err := openDB(context.Background(), c)
	if err != nil {
		return err
	}
	defer d.Close()
	entries, err := newOutbox(d, e).List(context.Background(), crm.System,
		crm.OutboxFilter{Status: crm.OutboxStatus(status), Limit: 1000})
	if err != nil {
		return err
	}
	return writeOutbox(e.stdout, entries, c.Timezone)
}

// newOutbox is the outbox service of the outbox commands, logging warnings only: their outcome is the line they
// print.
func newOutbox(d *db.DB, e env) *crm.Outbox {
	return crm.NewOutbox(d.OutboxStore, slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// writeOutbox prints the outbox as a table, newest first. The outbox service has masked the recipients and the
// addresses in server replies: the listing may be pasted into a ticket.
func writeOutbox(w io.Writer, entries []crm.OutboxEntry, loc *time.Location) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSTATUS\tATTEMPTS\tREFERENCE\tTO\tCREATED\tNEXT ATTEMPT / SENT\tLAST ERROR")
	const layout = "2006-01-02 15:04:05"
	for _, en := range entries {
		when := "-"
		switch {
		case en.Status == crm.OutboxSent && en.SentAt != nil:
			when = "sent " + en.SentAt.In(loc).Format(layout)
		case en.Status == crm.OutboxQueued && en.Leased:
			when = "sending now"
		case en.Status == crm.OutboxQueued:
			when = en.NextAttemptAt.In(loc).Format(layout)
		}
		lastErr := strings.Join(strings.Fields(en.LastError), " ")
		if len(lastErr) > 120 {
			lastErr = lastErr[:117] + "..."
		}
		if lastErr == "" {
			lastErr = "-"
		}
		ref := en.Reference
		if ref == "" {
			ref = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", en.ID, en.Kind, en.Status, en.Attempts, ref,
			en.Recipient, en.CreatedAt.In(loc).Format(layout), when, lastErr)
	}
	return tw.Flush()
}

func cmdOutboxRetry(args []string, e env) error {
	var rawID string
	c, rest, err := configure("outbox retry", args, e, false, func(fs *flag.FlagSet) {
		fs.StringVar(&rawID, "id", "", "the id of a failed email (see outbox list)")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("outbox retry takes no arguments, got %q", rest[0])
	}
	if rawID == "" {
		return usagef("outbox retry needs --id N, the id of a failed email (see frontdesk outbox list --status failed)")
	}
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil || id <= 0 {
		return usagef("invalid --id %q: must be a whole number such as 12 (see frontdesk outbox list)", rawID)
	}
	d, err := openDB(context.Background(), c)
	if err != nil {
		return err
	}
	defer d.Close()
	err = newOutbox(d, e).Retry(context.Background(), crm.System, id)
	var state *crm.OutboxStateError
	switch {
	case errors.Is(err, crm.ErrNotFound):
		return fmt.Errorf("outbox retry: there is no email with id %d", id)
	case errors.As(err, &state):
		return fmt.Errorf("outbox retry: message %d is %s, not failed; only failed messages (emails and webhook events) can be queued again", id, state.Status)
	case err != nil:
		return err
	}
	fmt.Fprintf(e.stdout, "message %d queued again; a running frontdesk serve sends it within a few seconds\n", id)
	return nil
}
