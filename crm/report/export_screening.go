package report

import (
	"slices"
	"strconv"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/intake/screening"
)

// The export's screening columns: the flags, each questionnaire's total and band, and, when asked for, the
// answers themselves (see Columns and AnswerColumns).

// AnswerColumns are the columns an export with answers adds: each questionnaire's answers by item number
// (phq9_1 … phq9_9, …, the value chosen) and each safety question's answer (safety_<key>: yes or no).
var AnswerColumns = answerColumns()

// ColumnsFor are the columns of an export with or without the screening answers.
func ColumnsFor(answers bool) []string {
	if !answers {
		return Columns
	}
	return append(slices.Clone(Columns), AnswerColumns...)
}

// exportInstruments and exportSafety are the questionnaires and safety questions whose columns the export has,
// read once: the rows are many.
var (
	exportInstruments = screening.Default().Instruments()
	exportSafety      = screening.Default().Safety()
)

func screeningColumns() []string {
	out := []string{"flags"}
	for _, in := range exportInstruments {
		out = append(out, in.ID+"_total", in.ID+"_band")
	}
	return out
}

func answerColumns() []string {
	var out []string
	for _, in := range exportInstruments {
		for i := range in.Items {
			out = append(out, screening.FormField(in.ID, i))
		}
	}
	for _, q := range exportSafety {
		out = append(out, screening.SafetyField(q.Key))
	}
	return out
}

// cells fills row (len(src.columns())) with the current enquiry's values and screening, in that order.
func cells(src *source, row []Cell) {
	e := &src.e
	baseCells(e, row)
	row = row[len(baseColumns):]
	row[0] = text(flagsText(e))
	k := 1
	for _, in := range exportInstruments {
		row[k], row[k+1] = Cell{Kind: CellEmpty}, Cell{Kind: CellEmpty}
		if s := findScreening(src.scr, in.ID); s != nil {
			row[k] = Cell{Kind: CellInt, Text: strconv.Itoa(s.Total)}
			row[k+1] = text(s.Band)
		}
		k += 2
	}
	if !src.answers {
		return
	}
	for _, in := range exportInstruments {
		s := findScreening(src.scr, in.ID)
		for i := range in.Items {
			row[k] = Cell{Kind: CellEmpty}
			if s != nil && i < len(s.Answers) {
				row[k] = Cell{Kind: CellInt, Text: strconv.Itoa(s.Answers[i])}
			}
			k++
		}
	}
	safety := findScreening(src.scr, crm.SafetyInstrument)
	for _, q := range exportSafety {
		row[k] = Cell{Kind: CellEmpty}
		if safety != nil {
			if yes, ok := safety.Safety[q.Key]; ok {
				row[k] = text(map[bool]string{true: "yes", false: "no"}[yes])
			}
		}
		k++
	}
}

// flagsText is the flags cell: "risk", "review", "risk,review" or "".
func flagsText(e *crm.Enquiry) string {
	switch {
	case e.RiskAt != nil && e.ReviewAt != nil:
		return screening.FlagRisk + "," + screening.FlagReview
	case e.RiskAt != nil:
		return screening.FlagRisk
	case e.ReviewAt != nil:
		return screening.FlagReview
	}
	return ""
}

func findScreening(rows []crm.Screening, instrument string) *crm.Screening {
	for i := range rows {
		if rows[i].Instrument == instrument {
			return &rows[i]
		}
	}
	return nil
}
