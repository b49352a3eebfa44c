package report

import "strconv"

// Table is one of a report's tables as people read it: the reports page shows each, and each can be
// downloaded as CSV (WriteTableCSV). Cells are formatted text; "" is no value.
type Table struct {
	// Name identifies the table in its download's address, e.g. "funnel" for /admin/reports/funnel.csv.
	Name    string
	Title   string
	Columns []string
	Rows    [][]string
	// Footer, when not nil, is a totals row (also the CSV's last row).
	Footer []string
}

// TableNames are the names of a report's tables, in the order the page shows them.
var TableNames = []string{"funnel", "statuses", "closed", "first-contact-weeks", "first-contact-clinicians",
	"urgent-first-contact", "treatments", "referral-sources", "utm", "workload"}

// Table returns the named table of the report (see TableNames).
func (r *Report) Table(name string) (Table, bool) {
	switch name {
	case "funnel":
		return r.funnelTable(), true
	case "statuses":
		return r.statusTable(), true
	case "closed":
		return r.closedTable(), true
	case "first-contact-weeks":
		return r.contactWeeksTable(), true
	case "first-contact-clinicians":
		return r.contactCliniciansTable(), true
	case "urgent-first-contact":
		return r.urgentTable(), true
	case "treatments":
		return r.breakdownTable("treatments", "Enquiries per week by treatment", r.Treatments), true
	case "referral-sources":
		return r.breakdownTable("referral-sources", "Enquiries per week by how they heard of the clinic", r.Sources), true
	case "utm":
		return r.utmTable(), true
	case "workload":
		return r.workloadTable(), true
	}
	return Table{}, false
}

// Tables returns every table of the report, in TableNames' order.
func (r *Report) Tables() []Table {
	out := make([]Table, 0, len(TableNames))
	for _, n := range TableNames {
		t, _ := r.Table(n)
		out = append(out, t)
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// percent writes a share as a percentage with one decimal ("66.7%"); "" for none.
func percent(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v*100, 'f', 1, 64) + "%"
}

// hours writes a number of hours with one decimal; "" for none.
func hours(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

func (r *Report) funnelTable() Table {
	t := Table{Name: "funnel", Title: "Funnel: enquiries reaching each stage",
		Columns: []string{"Stage", "Reached", "Share of enquiries", "Conversion from the stage before"}}
	for _, s := range r.Funnel.Stages {
		t.Rows = append(t.Rows, []string{s.Label, itoa(s.Reached), percent(s.Share), percent(s.Conversion)})
	}
	return t
}

func (r *Report) statusTable() Table {
	t := Table{Name: "statuses", Title: "Where those enquiries are now", Columns: []string{"Status", "Enquiries"}}
	for _, s := range r.Funnel.Current {
		t.Rows = append(t.Rows, []string{s.Label, itoa(s.Count)})
	}
	t.Footer = []string{"All (spam left out)", itoa(r.Enquiries)}
	return t
}

func (r *Report) closedTable() Table {
	t := Table{Name: "closed", Title: "Closed, by reason", Columns: []string{"Outcome", "Reason", "Enquiries"}}
	for _, o := range r.Funnel.Closed {
		for _, rc := range o.Reasons {
			t.Rows = append(t.Rows, []string{o.Label, rc.Reason, itoa(rc.Count)})
		}
	}
	return t
}

func contactCells(s ContactStats) []string {
	return []string{itoa(s.Enquiries), itoa(s.Contacted), hours(s.MedianHours), hours(s.P90Hours),
		itoa(s.WithinTarget), percent(s.ShareWithinTarget), itoa(s.NotContacted)}
}

var contactColumns = []string{"Enquiries", "Contacted", "Median hours", "90th percentile hours",
	"Contacted within target", "Share within target", "Not yet contacted"}

func (r *Report) contactWeeksTable() Table {
	t := Table{Name: "first-contact-weeks", Title: "Time to first contact, by week of arrival",
		Columns: append([]string{"Week commencing"}, contactColumns...)}
	for _, w := range r.FirstContact.Weeks {
		t.Rows = append(t.Rows, append([]string{w.Week}, contactCells(w.ContactStats)...))
	}
	t.Footer = append([]string{"All weeks"}, contactCells(r.FirstContact.Overall)...)
	return t
}

func (r *Report) contactCliniciansTable() Table {
	t := Table{Name: "first-contact-clinicians", Title: "Time to first contact, by clinician",
		Columns: append([]string{"Clinician", "Email"}, contactColumns...)}
	for _, c := range r.FirstContact.Clinicians {
		name, email := personCells(c.Assignee)
		t.Rows = append(t.Rows, append([]string{name, email}, contactCells(c.ContactStats)...))
	}
	t.Footer = append([]string{"Everyone", ""}, contactCells(r.FirstContact.Overall)...)
	return t
}

func personCells(p *Person) (string, string) {
	if p == nil {
		return "Unassigned", ""
	}
	return p.Name, p.Email
}

func (r *Report) breakdownTable(name, title string, b Breakdown) Table {
	t := Table{Name: name, Title: title, Columns: []string{"Week commencing"}}
	for _, k := range b.Keys {
		t.Columns = append(t.Columns, k.Label)
	}
	t.Columns = append(t.Columns, "Total")
	for _, w := range b.Weeks {
		row := []string{w.Week}
		for _, n := range w.Counts {
			row = append(row, itoa(n))
		}
		t.Rows = append(t.Rows, append(row, itoa(w.Total)))
	}
	t.Footer = []string{"All weeks"}
	for _, n := range b.Totals {
		t.Footer = append(t.Footer, itoa(n))
	}
	t.Footer = append(t.Footer, itoa(b.Total))
	return t
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func (r *Report) utmTable() Table {
	t := Table{Name: "utm", Title: "Enquiries by campaign (UTM source, medium and campaign)",
		Columns: []string{"Source", "Medium", "Campaign", "Total"}}
	t.Columns = append(t.Columns, r.Weeks...)
	total := make([]int, len(r.Weeks))
	sum := 0
	for _, u := range r.UTM {
		row := []string{orNone(u.Source), orNone(u.Medium), orNone(u.Campaign), itoa(u.Total)}
		for i, n := range u.Weeks {
			row = append(row, itoa(n))
			total[i] += n
		}
		sum += u.Total
		t.Rows = append(t.Rows, row)
	}
	t.Footer = []string{"All", "", "", itoa(sum)}
	for _, n := range total {
		t.Footer = append(t.Footer, itoa(n))
	}
	return t
}

func (r *Report) workloadTable() Table {
	t := Table{Name: "workload", Title: "Open enquiries per clinician, now", Columns: []string{"Clinician", "Email"}}
	for _, st := range r.Workload.Statuses {
		t.Columns = append(t.Columns, st.Label())
	}
	t.Columns = append(t.Columns, "Open", "Overdue")
	cellsOf := func(w WorkloadRow, name, email string) []string {
		row := []string{name, email}
		for _, n := range w.ByStatus {
			row = append(row, itoa(n))
		}
		return append(row, itoa(w.Open), itoa(w.Overdue))
	}
	for _, w := range r.Workload.Rows {
		name, email := personCells(w.Assignee)
		t.Rows = append(t.Rows, cellsOf(w, name, email))
	}
	t.Footer = cellsOf(r.Workload.Total, "Everyone", "")
	return t
}
