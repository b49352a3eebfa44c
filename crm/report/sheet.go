package report

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// SheetWriter writes a whole export in a file format of its own onto w — the Excel workbook, whose writer
// (package crm/report/xlsx) cmd wires in through Config.XLSX — reading s row by row, and returns how many rows
// it wrote. Times are written in loc, the clinic's time zone. It must stop with
// an error past MaxXLSXRows rows, and flush w at the end when w can Flush.
type SheetWriter func(w io.Writer, s *Sheet, loc *time.Location) (int, error)

// Sheet is an open export as a SheetWriter reads it: its columns, then one row of typed cells per enquiry, read
// from the database as it goes, with an erased patient's details already left out.
type Sheet struct {
	src *source
	row []Cell
}

func newSheet(src *source) *Sheet { return &Sheet{src: src, row: make([]Cell, len(src.columns()))} }

// Columns are the sheet's columns, in order, as its header names them (Columns, or ColumnsFor(true) with the
// screening answers).
func (s *Sheet) Columns() []string { return s.src.columns() }

// Next returns the next row's cells, aligned with Columns and valid until the following call, and true; false at
// the end. An error means reading the database failed and the export is not complete.
func (s *Sheet) Next() ([]Cell, bool, error) {
	_, ok, err := s.src.next()
	if err != nil || !ok {
		return nil, false, err
	}
	cells(s.src, s.row)
	return s.row, true, nil
}

// source hands the writers one enquiry at a time, with personal fields of erased enquiries removed. The rows
// are read ahead on a goroutine of its own, a batch at a time (see readAhead): reading a row from the database
// costs about as much as writing it out, and with a second core free the two overlap. Measured over HTTP on
// data/bench-200000.db while the machine was otherwise idle: CSV 1.78–1.85 s → 1.48–1.60 s, Excel 2.6–3.0 s →
// 1.9–2.1 s, for 2–8 % more CPU; with both cores busy with other work it gained nothing. At most readBatches
// batches of readBatch rows are held.
type source struct {
	rows    Rows
	ahead   bool
	answers bool // the export has the answer columns
	e       crm.Enquiry
	scr     []crm.Screening

	started bool
	full    chan *batch // batches read, in order
	empty   chan *batch // batches written out, to be read into again
	stop    chan struct{}
	done    chan struct{} // closed when the reading goroutine has returned
	cur     *batch
	i       int
}

// readBatch is how many rows a batch holds; readBatches how many batches there are.
const (
	readBatch   = 256
	readBatches = 3
)

// batch is rows read ahead: the enquiries with their assignees and screenings, copied out of the Rows (whose
// values last only until the next Scan).
type batch struct {
	enquiries  []crm.Enquiry
	assignees  []crm.StaffRef
	screenings [][]crm.Screening
	n          int
	end        bool  // the rows ended after these n
	err        error // and this error ended them
}

// columns are the source's export columns.
func (s *source) columns() []string { return ColumnsFor(s.answers) }

// next returns the next enquiry (valid until the following call), false at the end; err when reading failed.
func (s *source) next() (*crm.Enquiry, bool, error) {
	if !s.started {
		s.start()
	}
	for s.cur == nil || s.i == s.cur.n {
		if s.cur != nil {
			if s.cur.end {
				return nil, false, s.cur.err
			}
			s.empty <- s.cur
		}
		s.cur, s.i = <-s.full, 0
	}
	s.e, s.scr = s.cur.enquiries[s.i], s.cur.screenings[s.i]
	s.i++
	if s.e.Erased {
		s.scr = nil
		// Right to erasure: whatever the store still holds, an erased patient's details never leave again.
		s.e.Name, s.e.Email, s.e.Phone, s.e.Message, s.e.DateOfBirth, s.e.CloseReason = "", "", "", "", "", ""
		s.e.UTMSource, s.e.UTMMedium, s.e.UTMCampaign = "", "", ""
	}
	return &s.e, true, nil
}

// start starts reading ahead.
func (s *source) start() {
	s.started = true
	s.full, s.empty = make(chan *batch, readBatches), make(chan *batch, readBatches)
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	for range readBatches {
		s.empty <- &batch{enquiries: make([]crm.Enquiry, readBatch), assignees: make([]crm.StaffRef, readBatch),
			screenings: make([][]crm.Screening, readBatch)}
	}
	go s.readAhead()
}

// readAhead reads the rows into batches until they end, fail, or close is called. It alone uses s.rows. A
// panic while reading ends the export with an error, as a failed read would, rather than the whole server.
func (s *source) readAhead() {
	defer close(s.done)
	defer func() {
		if r := recover(); r != nil {
			select {
			case s.full <- &batch{end: true, err: fmt.Errorf("read export rows: panic: %v", r)}:
			case <-s.stop:
			}
		}
	}()
	for {
		var b *batch
		select {
		case b = <-s.empty:
		case <-s.stop:
			return
		}
		b.n = 0
		for b.n < readBatch && !b.end {
			if s.ahead {
				s.ahead = false
			} else if !s.rows.Next() {
				b.end, b.err = true, s.rows.Err()
				break
			}
			e := &b.enquiries[b.n]
			if err := s.rows.Scan(e); err != nil {
				b.end, b.err = true, fmt.Errorf("read export row: %w", err)
				break
			}
			if e.Assignee != nil {
				b.assignees[b.n] = *e.Assignee
				e.Assignee = &b.assignees[b.n]
			}
			b.screenings[b.n] = append(b.screenings[b.n][:0], s.rows.Screening()...)
			b.n++
		}
		select {
		case s.full <- b:
		case <-s.stop:
			return
		}
		if b.end {
			return
		}
	}
}

// close stops reading ahead and waits for the reading goroutine to return: only then may the rows be closed.
func (s *source) close() {
	if s.started {
		close(s.stop)
		<-s.done
	}
}

// Cell is one value of an export row, typed so that each file format writes it as its own kind.
type Cell struct {
	Kind CellKind
	// Text is the value of a CellText, the YYYY-MM-DD of a CellDate, and the decimal digits of a CellInt.
	Text string
	// At is the moment of a CellTime.
	At time.Time
	// Hours is the number of a CellHours.
	Hours float64
}

// CellKind says what a Cell holds.
type CellKind uint8

// The kinds of cell.
const (
	CellText  CellKind = iota // text, written as text and never as a formula
	CellTime                  // a moment: ISO 8601 with offset in CSV, a date-time cell in Excel
	CellDate                  // a calendar date (YYYY-MM-DD): text in CSV, a date cell in Excel
	CellHours                 // a number of hours
	CellInt                   // a whole number (a score); Text holds it in decimal
	CellEmpty                 // no value
)

func text(s string) Cell { return Cell{Kind: CellText, Text: s} }

func moment(t time.Time) Cell {
	if t.IsZero() {
		return Cell{Kind: CellEmpty}
	}
	return Cell{Kind: CellTime, At: t}
}

// baseCells fills the first len(baseColumns) cells of row with the enquiry's own values.
func baseCells(e *crm.Enquiry, row []Cell) {
	var assigneeName, assigneeEmail string
	if e.Assignee != nil {
		assigneeName, assigneeEmail = e.Assignee.Name, e.Assignee.Email
	}
	contacted, hours := Cell{Kind: CellEmpty}, Cell{Kind: CellEmpty}
	if e.FirstContactedAt != nil {
		contacted = moment(*e.FirstContactedAt)
		hours = Cell{Kind: CellHours, Hours: e.FirstContactedAt.Sub(e.CreatedAt).Hours()}
	}
	dob := Cell{Kind: CellEmpty}
	if e.DateOfBirth != "" {
		dob = Cell{Kind: CellDate, Text: e.DateOfBirth}
	}
	erased := ""
	if e.Erased {
		erased = "yes"
	}
	// May the clinic leave a voicemail or text message: yes or no; nothing for an erased enquiry.
	leave := "no"
	switch {
	case e.Erased:
		leave = ""
	case e.OKToLeaveMessage:
		leave = "yes"
	}
	row[0] = text(e.Reference)
	row[1] = moment(e.CreatedAt)
	row[2] = text(string(e.Status))
	row[3] = text(e.Name)
	row[4] = text(e.Email)
	row[5] = text(e.Phone)
	row[6] = text(e.PreferredContact)
	row[7] = text(e.Treatment)
	row[8] = text(e.ReferralSource)
	row[9] = text(e.UTMSource)
	row[10] = text(e.UTMMedium)
	row[11] = text(e.UTMCampaign)
	row[12] = text(assigneeName)
	row[13] = text(assigneeEmail)
	row[14] = text(e.Priority)
	row[15] = contacted
	row[16] = hours
	row[17] = text(e.CloseReason)
	row[18] = dob
	row[19] = text(e.Message)
	row[20] = moment(e.ConsentAt)
	row[21] = text(e.ConsentVersion)
	row[22] = text(erased)
	row[23] = text(leave)
}

// isoLayout is ISO 8601 with the offset always written as ±hh:mm (never Z), so every time says its zone.
const isoLayout = "2006-01-02T15:04:05-07:00"

// formatHours writes a number of hours with two decimals, e.g. 5.50.
func formatHours(h float64) string { return strconv.FormatFloat(h, 'f', 2, 64) }
