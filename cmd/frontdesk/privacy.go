package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/mailer"
	"github.com/frontdesk/frontdesk/db"
	"github.com/frontdesk/frontdesk/intake"
)

// newPrivacy builds the privacy service: subject access, erasure and retention over the database, deleting
// the copies the file mail transport keeps in FRONTDESK_MAIL_DIR (also when the transport is now smtp: copies
// from before may be there).
func newPrivacy(c *config, d *db.DB, log *slog.Logger) *crm.Privacy {
	return crm.NewPrivacy(d.PrivacyStore, d.AuditStore, mailer.NewMailFolder(c.MailDir), crm.PrivacyConfig{
		RetentionMonths: c.RetentionMonths, SpamRetentionDays: c.SpamRetentionDays,
	}, log)
}

// cmdErase is `frontdesk erase --ref REF` or `frontdesk erase --email E`: the right to erasure for one
// enquiry, or for every enquiry of one address.
func cmdErase(args []string, e env) error {
	var ref, email string
	c, rest, err := configure("erase", args, e, false, func(fs *flag.FlagSet) {
		fs.StringVar(&ref, "ref", "", "the reference of the enquiry whose personal data to erase")
		fs.StringVar(&email, "email", "", "erase the personal data of every enquiry of this email address")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("erase takes no arguments, got %q", rest[0])
	}
	ref, email = strings.TrimSpace(ref), strings.TrimSpace(email)
	switch {
	case ref != "" && email != "":
		return usagef("give --ref or --email, not both")
	case ref == "" && email == "":
		return usagef("missing --ref (one enquiry) or --email (every enquiry of that address)")
	}
	var canon string
	if ref != "" {
		var ok bool
		if canon, ok = intake.ParseReference(ref); !ok {
			return usagef("invalid --ref %q: a reference looks like K7QM-4XPD", ref)
		}
	} else if email, err = crm.ParseSubjectEmail(email); err != nil {
		return usagef("invalid --email: %s", err.(crm.InputError)["email"])
	}
	ctx := context.Background()
	d, err := openDB(ctx, c)
	if err != nil {
		return err
	}
	defer d.Close()
	privacy := newPrivacy(c, d, newLogger(e.stderr))
	const kept = "the anonymous counts remain"
	if canon != "" {
		err := privacy.EraseReference(ctx, crm.System, canon)
		if errors.Is(err, crm.ErrNotFound) {
			return fmt.Errorf("erase: there is no enquiry %s", canon)
		}
		if err != nil {
			return fmt.Errorf("erase %s: %w", canon, err)
		}
		fmt.Fprintf(e.stdout, "erased the personal data of %s; %s\n", canon, kept)
		return nil
	}
	refs, err := privacy.EraseEmail(ctx, crm.System, email)
	if errors.Is(err, crm.ErrNotFound) {
		return errors.New("erase: no enquiry has the address given with --email (nothing was erased)")
	}
	if len(refs) > 0 {
		// Printed even when cleaning up afterwards failed: the erasure itself is done.
		fmt.Fprintf(e.stdout, "erased the personal data of %d %s (%s); %s\n", len(refs), plural(len(refs), "enquiry", "enquiries"),
			strings.Join(refs, ", "), kept)
	}
	if err != nil {
		return fmt.Errorf("erase: %w", err)
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// cmdSar is `frontdesk sar --email E [--out FILE]`: the subject access document (UK GDPR article 15) of one
// address, as JSON on stdout or in FILE (readable by its owner only; it appears only when complete).
func cmdSar(args []string, e env) error {
	var email, out string
	c, rest, err := configure("sar", args, e, false, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the patient's email address (required)")
		fs.StringVar(&out, "out", "", "file to write the JSON document to (default: stdout)")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("sar takes no arguments, got %q", rest[0])
	}
	if strings.TrimSpace(email) == "" {
		return usagef("missing --email")
	}
	if email, err = crm.ParseSubjectEmail(email); err != nil {
		return usagef("invalid --email: %s", err.(crm.InputError)["email"])
	}
	var file *outFile
	if out != "" && out != "-" {
		if file, err = createOut(out); err != nil {
			return err
		}
		defer file.discard()
	}
	ctx := context.Background()
	d, err := openDB(ctx, c)
	if err != nil {
		return err
	}
	defer d.Close()
	doc, err := newPrivacy(c, d, newLogger(e.stderr)).SubjectAccess(ctx, crm.System, email)
	if err != nil {
		return err
	}
	const note = "it holds the patient's personal data; the request is in the audit log"
	n := len(doc.Enquiries)
	if file == nil {
		if err := writeJSON(bufio.NewWriter(e.stdout), doc); err != nil {
			return fmt.Errorf("sar: %w", err)
		}
		fmt.Fprintf(e.stderr, "wrote the subject access document (%d %s) to stdout (%s)\n", n, plural(n, "enquiry", "enquiries"), note)
		return nil
	}
	if err := writeJSON(bufio.NewWriter(file), doc); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := file.commit(); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote the subject access document (%d %s) to %s (%s)\n", n, plural(n, "enquiry", "enquiries"), out, note)
	return nil
}

// writeJSON writes v as indented JSON to w and flushes it.
func writeJSON(w *bufio.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	return w.Flush()
}

// retentionEvery is how often serve applies the retention policy, besides once at start.
const retentionEvery = 24 * time.Hour

// runRetention applies the retention policy at start and then daily until ctx ends. First it finishes any
// scrub an earlier process left undone (it may have stopped between an erasure and its scrub).
func runRetention(ctx context.Context, p *crm.Privacy, log *slog.Logger) {
	if err := p.Scrub(ctx); err != nil && ctx.Err() == nil {
		log.Error("scrub the database at start", "error", err)
	}
	tick := time.NewTicker(retentionEvery)
	defer tick.Stop()
	for {
		if _, err := p.RunRetention(ctx); err != nil && ctx.Err() == nil {
			log.Error("retention", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
