package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/frontdesk/frontdesk/crm"
)

// Format is the file format of an export.
type Format string

// The export formats.
const (
	// CSV is UTF-8 with a byte-order mark, a header row, RFC 4180 quoting and CRLF line ends, with cells that a
	// spreadsheet would run as a formula neutralised (see Neutralise).
	CSV Format = "csv"
	// XLSX is an Excel workbook with one sheet, "Enquiries": typed dates and numbers, a frozen header row.
	XLSX Format = "xlsx"
)

// ParseFormat reads a format name: csv or xlsx, any case, "" for csv. An unknown one is an InputError naming
// "format".
func ParseFormat(v string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(v))); f {
	case CSV, XLSX:
		return f, nil
	case "":
		return CSV, nil
	}
	return "", crm.InputError{"format": fmt.Sprintf("Unknown format %q: use csv or xlsx.", v)}
}

// ContentType is the format's media type.
func (f Format) ContentType() string {
	if f == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// MaxXLSXRows is the most enquiries an Excel export holds: a sheet has 1,048,576 rows, one of them the header.
const MaxXLSXRows = 1<<20 - 1

// baseColumns are the enquiry's own columns.
var baseColumns = []string{
	"reference", "created_at", "status", "name", "email", "phone", "preferred_contact", "treatment",
	"referral_source", "utm_source", "utm_medium", "utm_campaign", "assignee_name", "assignee_email", "priority",
	"first_contacted_at", "hours_to_first_contact", "close_reason", "date_of_birth", "message", "consent_at",
	"consent_version", "erased", "ok_to_leave_message",
}

// Columns are the export's columns, in order, as named in its header row. Times are ISO 8601 in the clinic's
// time zone with its offset in CSV, and date cells in Excel; hours_to_first_contact is a number. After the
// enquiry's own columns come its screening: flags ("risk", "review", comma-separated), then each
// questionnaire's total and band (phq9_total, phq9_band, gad7_total, …; empty when not answered). An export
// with answers adds AnswerColumns after them.
var Columns = append(slices.Clone(baseColumns), screeningColumns()...)

// Export is an export ready to be written: its filters are checked, the database query is open and its first
// row read, and nothing has been written yet — so a caller can still answer an error properly. Write it once
// with WriteTo, or give it up with Close.
type Export struct {
	s        *Service
	ctx      context.Context
	actor    crm.Actor
	format   Format
	filter   Filter
	answers  bool
	filename string
	rows     Rows
	ahead    bool // rows is on a row not yet written
	written  int
	once     sync.Once
	release  func()
}

// OpenExport checks an administrator's export request and opens it: ErrForbidden for any other role; an
// InputError naming each bad filter ("from", "to", "status", "treatment", "assignee", "answers"), or "format" for
// an Excel export of more rows than a sheet holds, or when the service has no Excel writer (Config.XLSX). It waits while MaxConcurrentExports others are running (until ctx
// ends). ctx must outlive the writing: it is the context of the database read.
func (s *Service) OpenExport(ctx context.Context, actor crm.Actor, f Filter, format Format) (*Export, error) {
	if err := allowed(actor); err != nil {
		return nil, err
	}
	if format != CSV && format != XLSX {
		return nil, crm.InputError{"format": fmt.Sprintf("Unknown format %q: use csv or xlsx.", format)}
	}
	if format == XLSX && s.xlsx == nil {
		return nil, crm.InputError{"format": "Excel exports are not available here: use csv."}
	}
	q, err := s.query(ctx, f)
	if err != nil {
		return nil, err
	}
	if format == XLSX {
		n, err := s.store.CountExport(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("count export: %w", err)
		}
		if n > MaxXLSXRows {
			return nil, crm.InputError{"format": fmt.Sprintf("%d enquiries are more than an Excel sheet holds (%d): choose fewer dates, or CSV.", n, MaxXLSXRows)}
		}
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release := sync.OnceFunc(func() { <-s.slots })
	rows, err := s.store.ExportEnquiries(ctx, q)
	if err != nil {
		release()
		return nil, fmt.Errorf("open export: %w", err)
	}
	// Read the first row now: a database that fails at once still gets a proper error status.
	ahead := rows.Next()
	if !ahead && rows.Err() != nil {
		err := rows.Err()
		rows.Close()
		release()
		return nil, fmt.Errorf("read export: %w", err)
	}
	return &Export{s: s, ctx: ctx, actor: actor, format: format, filter: f, answers: q.Answers, rows: rows,
		ahead: ahead, release: release, filename: s.filename(f, format)}, nil
}

// filename is e.g. enquiries-2026-11-01-to-2026-11-30.csv; an open end is named by the export's date.
func (s *Service) filename(f Filter, format Format) string {
	from, to := strings.TrimSpace(f.From), strings.TrimSpace(f.To)
	today := s.now().In(s.loc).Format(dateLayout)
	var name string
	switch {
	case from != "" && to != "":
		name = "enquiries-" + from + "-to-" + to
	case from != "":
		name = "enquiries-" + from + "-to-" + today
	case to != "":
		name = "enquiries-until-" + to
	default:
		name = "enquiries-all-" + today
	}
	return name + "." + string(format)
}

// Filename is the name to save the export as, e.g. enquiries-2026-11-01-to-2026-11-30.csv.
func (e *Export) Filename() string { return e.filename }

// ContentType is the export's media type.
func (e *Export) ContentType() string { return e.format.ContentType() }

// Format is the export's format.
func (e *Export) Format() Format { return e.format }

// Rows is how many enquiries WriteTo wrote.
func (e *Export) Rows() int { return e.written }

// Close gives up an export that will not be written, releasing its query; it does nothing after WriteTo.
func (e *Export) Close() error {
	var err error
	e.once.Do(func() {
		err = e.rows.Close()
		e.release()
	})
	return err
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// flusher is a writer that can push what it holds to the client (a bufio.Writer).
type flusher interface{ Flush() error }

// Flush flushes the writer underneath, when it can.
func (c *countingWriter) Flush() error {
	if f, ok := c.w.(flusher); ok {
		return f.Flush()
	}
	return nil
}

// WriteTo writes the whole export to w, a row at a time as it is read, then records it in the audit log (who,
// the format, the filters, how many rows, and whether it was cut short). It returns the bytes written. When w
// can Flush, the header is flushed at once so the download starts before the rows are read. It may be called
// once; the query is closed when it returns.
func (e *Export) WriteTo(w io.Writer) (int64, error) {
	err := errors.New("export already written")
	cw := &countingWriter{w: w}
	var n int
	e.once.Do(func() {
		defer e.release()
		src := &source{rows: e.rows, ahead: e.ahead, answers: e.answers}
		start := e.s.now()
		switch e.format {
		case XLSX:
			n, err = e.s.xlsx(cw, newSheet(src), e.s.loc)
		default:
			n, err = writeCSV(cw, src, e.s.loc)
		}
		e.written = n
		src.close() // the rows are read on a goroutine of their own: it must have returned before they close
		if cerr := e.rows.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close export: %w", cerr)
		}
		detail := fmt.Sprintf("%s; %s; %d rows", e.format, e.filter, n)
		if err != nil {
			detail += "; interrupted, not complete"
		}
		// Recorded even when the client went away: what was sent has left the clinic.
		if aerr := e.s.record(context.WithoutCancel(e.ctx), e.actor, "export", detail); aerr != nil {
			err = errors.Join(err, aerr)
		}
		e.s.log.LogAttrs(e.ctx, slog.LevelInfo, "export written", slog.String("format", string(e.format)),
			slog.Int("rows", n), slog.Int64("bytes", cw.n), slog.Duration("took", e.s.now().Sub(start)),
			slog.Int64("actor", e.actor.ID), slog.Bool("complete", err == nil))
	})
	return cw.n, err
}
