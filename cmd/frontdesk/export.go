package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	crmreport "github.com/frontdesk/frontdesk/crm/report"
	"github.com/frontdesk/frontdesk/crm/report/xlsx"
)

// exportFlags names the flag behind each field of the export's filter, for one-line errors.
var exportFlags = map[string]string{"from": "--from", "to": "--to", "status": "--status", "treatment": "--treatment",
	"assignee": "--assignee", "format": "--format", "answers": "--answers"}

// cmdExport is `frontdesk export enquiries [--format csv|xlsx] [--from D] [--to D] [--status S] [--treatment T]
// [--assignee E] [--answers] [--out FILE]`: the enquiries, streamed from the database to stdout or to FILE, recorded in the
// audit log as made by Frontdesk. A file appears only when complete: it is written under a temporary name in
// the same folder (readable by its owner only: it holds health data) and renamed at the end, or removed.
func cmdExport(args []string, e env) error {
	if len(args) == 0 || args[0] != "enquiries" {
		return usagef("export needs what to export: frontdesk export enquiries [--format csv|xlsx] [--out FILE] ...")
	}
	var formatName, out string
	var answers bool
	var f crmreport.Filter
	c, rest, err := configure("export enquiries", args[1:], e, false, func(fs *flag.FlagSet) {
		fs.StringVar(&formatName, "format", "csv", "csv or xlsx")
		fs.StringVar(&f.From, "from", "", "first day, YYYY-MM-DD in the clinic's time zone (inclusive)")
		fs.StringVar(&f.To, "to", "", "last day, YYYY-MM-DD in the clinic's time zone (inclusive)")
		fs.StringVar(&f.Status, "status", "", "a status, or several separated by commas (default: all but spam)")
		fs.StringVar(&f.Treatment, "treatment", "", "a treatment, e.g. adhd")
		fs.StringVar(&f.Assignee, "assignee", "", "a member of staff's email, or none for unassigned enquiries")
		fs.BoolVar(&answers, "answers", false, "add the screening answers, item by item (health data: only when needed)")
		fs.StringVar(&out, "out", "", "file to write (default: stdout)")
	})
	if err != nil {
		return err
	}
	if answers {
		f.Answers = "true"
	}
	if len(rest) > 0 {
		return usagef("export enquiries takes no arguments, got %q", rest[0])
	}
	format, err := crmreport.ParseFormat(formatName)
	if err != nil {
		return usagef("invalid --format %q: use csv or xlsx", formatName)
	}
	// What can be checked without the database is checked before anything is opened or created.
	if err := checkExportFlags(f, c.Timezone); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var file *outFile
	if out != "" && out != "-" {
		if file, err = createOut(out); err != nil {
			return err
		}
		defer file.discard()
	}

	svc, err := openServices(ctx, c, e)
	if err != nil {
		return err
	}
	defer svc.db.Close()
	// Warnings only: the outcome is the one line below, not a log line.
	quiet := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	reports := crmreport.New(svc.db.ReportStore, svc.db.StaffStore, svc.db.AuditStore, crmreport.Config{
		FirstContact: hours(c.FirstContactHours), UrgentContact: hours(c.UrgentContactHours), Location: c.Timezone,
		XLSX: xlsx.Write,
	}, quiet)
	exp, err := reports.OpenExport(ctx, crm.System, f, format)
	var invalid crm.InputError
	if errors.As(err, &invalid) {
		for _, field := range []string{"format", "from", "to", "status", "treatment", "assignee", "answers"} {
			if msg, ok := invalid[field]; ok {
				return usagef("invalid %s: %s", exportFlags[field], msg)
			}
		}
	}
	if err != nil {
		return err
	}

	const note = "it contains patients' health data; the export is in the audit log"
	if file == nil {
		w := bufio.NewWriterSize(e.stdout, 64<<10)
		if _, err := exp.WriteTo(w); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		fmt.Fprintf(e.stderr, "wrote %d enquiries to stdout (%s)\n", exp.Rows(), note)
		return nil
	}
	w := bufio.NewWriterSize(file, 64<<10)
	if _, err := exp.WriteTo(w); err != nil {
		return fmt.Errorf("export to %s: %w", out, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := file.commit(); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %d enquiries to %s (%s)\n", exp.Rows(), out, note)
	return nil
}

// checkExportFlags checks what of the filter needs no database (its dates, statuses and treatment) with the
// same parser as the service, worded for the command line: the first problem, naming its flag.
func checkExportFlags(f crmreport.Filter, loc *time.Location) error {
	_, problems := crm.ParseEnquiryFilter(crm.EnquiryFilter{From: f.From, To: f.To, Status: f.Status,
		Treatment: f.Treatment, Assignee: f.Assignee}, loc)
	if len(problems) == 0 {
		return nil
	}
	p := problems[0]
	switch p.Kind {
	case crm.FilterBadDate:
		return usagef("invalid %s %q: give a date as YYYY-MM-DD", exportFlags[p.Field], p.Value)
	case crm.FilterEndBeforeStart:
		return usagef("invalid --to: The end date must not be before the start date.")
	case crm.FilterUnknownStatus:
		return usagef("invalid --status %q: use new, contacted, screening, assessment_booked, treatment_offered, in_treatment, not_suitable, lost, referred or spam", p.Value)
	case crm.FilterUnknownTreatment:
		return usagef("invalid --treatment %q: use adhd, depression, anxiety, ptsd, addiction, chronic_pain or other", p.Value)
	}
	return usagef("invalid %s %q", exportFlags[p.Field], p.Value)
}

// unwrapPathError keeps the operating system's reason ("permission denied", "no such file or directory")
// without repeating the temporary file's name.
func unwrapPathError(err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}
