package web

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"mime"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/report"
	"github.com/frontdesk/frontdesk/intake"
	"github.com/gofiber/fiber/v2"
)

// Reports and exports, for administrators: the JSON reports and the exports of the staff API, the
// /admin/reports page with its charts and a CSV download per table, and the exports the page links to. The
// report service checks the role itself (ErrForbidden → 403); the pages sit behind requireAdmin as well.

// reportService is the reports and exports service; 404 when serve was built without one.
func (s *server) reportService() (*report.Service, error) {
	if s.deps.Reports == nil {
		return nil, fiber.ErrNotFound
	}
	return s.deps.Reports, nil
}

func reportRange(c *fiber.Ctx) report.Range {
	return report.Range{From: c.Query("from"), To: c.Query("to")}
}

func exportFilter(c *fiber.Ctx) report.Filter {
	return report.Filter{From: c.Query("from"), To: c.Query("to"), Status: c.Query("status"),
		Treatment: c.Query("treatment"), Assignee: c.Query("assignee"), Answers: c.Query("answers")}
}

// apiReport answers GET /api/v1/reports/{funnel,first-contact,sources,workload}?from=&to= with that part of the
// report for the range (default: the last 30 days, today included, in the clinic's time zone).
func (s *server) apiReport(part string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		svc, err := s.reportService()
		if err != nil {
			return err
		}
		r, err := svc.Report(c.UserContext(), actor(c), reportRange(c))
		if err != nil {
			return err
		}
		body := fiber.Map{"from": r.From, "to": r.To, "enquiries": r.Enquiries, "spam": r.Spam}
		switch part {
		case "funnel":
			body["stages"], body["current"], body["closed"] = r.Funnel.Stages, r.Funnel.Current, r.Funnel.Closed
		case "first-contact":
			fc := r.FirstContact
			body["target_hours"], body["overall"], body["weeks"], body["clinicians"] = fc.TargetHours, fc.Overall, fc.Weeks, fc.Clinicians
			body["urgent"] = r.Urgent
		case "sources":
			body["weeks"], body["treatments"], body["referral_sources"], body["utm"] = r.Weeks, r.Treatments, r.Sources, r.UTM
		case "workload":
			w := r.Workload
			body = fiber.Map{"at": w.At.Format(time.RFC3339), "statuses": w.Statuses, "rows": w.Rows, "total": w.Total}
		}
		return c.JSON(body)
	}
}

// apiExport answers GET /api/v1/exports/enquiries.{csv,xlsx}?from=&to=&status=&treatment=&assignee=&answers=:
// the file, streamed; 422 (JSON) and nothing written for a bad filter; 403 for anyone but an administrator
// (answers=true included).
func (s *server) apiExport(format report.Format) fiber.Handler {
	return func(c *fiber.Ctx) error {
		svc, err := s.reportService()
		if err != nil {
			return err
		}
		exp, err := svc.OpenExport(context.WithoutCancel(c.UserContext()), actor(c), exportFilter(c), format)
		if err != nil {
			return err
		}
		return s.streamExport(c, exp)
	}
}

// adminExport is the browser's export, GET /admin/exports/enquiries.{csv,xlsx}; a bad filter shows the reports
// page again (422) with the errors beside the export form.
func (s *server) adminExport(format report.Format) fiber.Handler {
	return func(c *fiber.Ctx) error {
		svc, err := s.reportService()
		if err != nil {
			return err
		}
		f := exportFilter(c)
		exp, err := svc.OpenExport(context.WithoutCancel(c.UserContext()), actor(c), f, format)
		var invalid crm.InputError
		if errors.As(err, &invalid) {
			return s.reportsPage(c, fiber.StatusUnprocessableEntity, report.Range{}, &f, invalid)
		}
		if err != nil {
			return err
		}
		return s.streamExport(c, exp)
	}
}

// reports is GET /admin/reports?from=&to=: the figures, charts and tables for the range (default the last 30
// days, today included), and the export form.
func (s *server) reports(c *fiber.Ctx) error {
	return s.reportsPage(c, fiber.StatusOK, reportRange(c), nil, nil)
}

// reportPreset is a quick date range offered beside the picker.
type reportPreset struct{ Label, From, To string }

func (s *server) reportPresets() []reportPreset {
	now := time.Now().In(s.cfg.Location)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, s.cfg.Location)
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	last := s.deps.Reports.DefaultRange()
	return []reportPreset{
		{"Last 30 days", last.From, last.To},
		{"This month", day(month), day(month.AddDate(0, 1, -1))},
		{"Last month", day(month.AddDate(0, -1, 0)), day(month.AddDate(0, 0, -1))},
		{"Last three months", day(month.AddDate(0, -2, 0)), day(month.AddDate(0, 1, -1))},
		{"This year", day(time.Date(now.Year(), 1, 1, 0, 0, 0, 0, s.cfg.Location)), day(now)},
	}
}

// reportsPage renders the reports page. exp and expErrs, when set, are an export request to show again with
// its errors.
func (s *server) reportsPage(c *fiber.Ctx, status int, rg report.Range, exp *report.Filter, expErrs crm.InputError) error {
	svc, err := s.reportService()
	if err != nil {
		return err
	}
	r, err := svc.Report(c.UserContext(), actor(c), rg)
	var invalid crm.InputError
	if errors.As(err, &invalid) {
		status, r = fiber.StatusUnprocessableEntity, nil
	} else if err != nil {
		return err
	}
	staff, err := s.deps.Accounts.ListAssignees(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	data := fiber.Map{
		"Range": rg, "RangeErrors": invalid, "Presets": s.reportPresets(),
		"Zone": svc.Location().String(), "TargetHours": svc.FirstContactTarget().Hours(),
		"UrgentHours": svc.UrgentContactTarget().Hours(),
		"Statuses":    crm.AllStatuses, "Treatments": intake.Treatments, "Staff": staff,
		"ExportErrors": expErrs,
	}
	if r != nil {
		data["Report"] = r
		data["Range"] = report.Range{From: r.From, To: r.To}
		tables := map[string]report.Table{}
		for _, t := range r.Tables() {
			tables[t.Name] = t
		}
		data["Tables"] = tables
		data["Charts"] = map[string]template.HTML{
			"funnel": funnelChart(r), "firstContact": firstContactChart(r), "treatments": treatmentChart(r),
		}
		data["RangeLabel"] = rangeLabel(r)
	}
	if exp == nil {
		f := report.Filter{}
		if r != nil {
			f.From, f.To = r.From, r.To
		}
		exp = &f
	}
	data["Export"] = exp
	return s.staffPage(c, status, "admin_reports", "Reports", data)
}

// reportTableCSV is GET /admin/reports/:name.csv?from=&to=: one table of the report as a CSV file.
func (s *server) reportTableCSV(c *fiber.Ctx) error {
	svc, err := s.reportService()
	if err != nil {
		return err
	}
	rg := reportRange(c)
	r, err := svc.Report(c.UserContext(), actor(c), rg)
	var invalid crm.InputError
	if errors.As(err, &invalid) {
		return s.reportsPage(c, fiber.StatusUnprocessableEntity, rg, nil, nil)
	}
	if err != nil {
		return err
	}
	t, ok := r.Table(c.Params("name"))
	if !ok {
		return fiber.ErrNotFound
	}
	var buf bytes.Buffer
	if err := report.WriteTableCSV(&buf, t); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, report.CSV.ContentType())
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment",
		map[string]string{"filename": t.Name + "-" + r.From + "-to-" + r.To + ".csv"}))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}
