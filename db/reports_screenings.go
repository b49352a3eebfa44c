package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/frontdesk/frontdesk/crm"
)

// An export's screenings: on PostgreSQL each row's JSON array, on SQLite one pass over the screenings beside the
// enquiries (see ExportEnquiries).

// exportScreening is one questionnaire of exportSelect's JSON array (PostgreSQL).
type exportScreening struct {
	Instrument string          `json:"i"`
	Total      *int            `json:"t"`
	Band       string          `json:"b"`
	Answers    json.RawMessage `json:"a"`
}

// screeningsFromJSON appends the questionnaires of a JSON array of exportScreening ("" for none) to out.
func screeningsFromJSON(out []crm.Screening, list string) ([]crm.Screening, error) {
	if list == "" {
		return out, nil
	}
	var items []exportScreening
	if err := json.Unmarshal([]byte(list), &items); err != nil {
		return out, err
	}
	for _, l := range items {
		s := crm.Screening{Instrument: l.Instrument, Band: l.Band}
		if l.Total != nil {
			s.Total = *l.Total
		}
		if err := decodeAnswers(&s, l.Answers); err != nil {
			return out, err
		}
		out = append(out, s)
	}
	return out, nil
}

// decodeAnswers sets s's answers from their stored JSON (none when empty).
func decodeAnswers(s *crm.Screening, answers []byte) error {
	if len(answers) == 0 {
		return nil
	}
	var err error
	if s.Instrument == crm.SafetyInstrument {
		err = json.Unmarshal(answers, &s.Safety)
	} else {
		err = json.Unmarshal(answers, &s.Answers)
	}
	if err != nil {
		return fmt.Errorf("read %s answers: %w", s.Instrument, err)
	}
	return nil
}

// screeningMerge reads an export's screenings on SQLite: one statement over the screenings in enquiry id order
// (their unique index), from the first exported enquiry's id on, stepped forward as the enquiries come. For an
// enquiry at or past where it stands, the screenings before it are skipped (enquiries left out by the filters,
// or that come later in the export: those are looked up) and its own taken; an enquiry whose id is behind it —
// stored out of created_at order — is looked up with a statement of its own. So every screening is read once
// or skipped once, and no enquiry costs a probe unless it is out of order.
type screeningMerge struct {
	ctx     context.Context
	tx      *Tx
	answers bool
	rows    *sql.Rows // nil until the first enquiry
	ahead   bool      // rows is on a screening not yet taken
	cur     mergedScreening
	pos     int64     // every screening of an enquiry below pos has been read or skipped
	lookup  *sql.Stmt // one enquiry's screenings, for the enquiries out of order
}

// mergedScreening is one screening row as the merge reads it.
type mergedScreening struct {
	enquiry    int64
	instrument string
	total      sql.NullInt64
	band       string
	answers    sql.RawBytes
}

// screeningColumns are a screening's columns as the merge reads them (answers only when asked for).
func (m *screeningMerge) screeningColumns() string {
	if m.answers {
		return `instrument, total, band, answers`
	}
	return `instrument, total, band, NULL`
}

// of appends the screenings of enquiry id to out.
func (m *screeningMerge) of(id int64, out []crm.Screening) ([]crm.Screening, error) {
	if m.rows == nil {
		rows, err := m.tx.QueryContext(m.ctx, `SELECT enquiry_id, `+m.screeningColumns()+`
			FROM screenings WHERE enquiry_id >= ? ORDER BY enquiry_id, instrument`, id)
		if err != nil {
			return out, err
		}
		m.rows, m.pos = rows, id
		if err := m.step(); err != nil {
			return out, err
		}
	}
	if id < m.pos {
		return m.lookupOf(id, out)
	}
	for m.ahead && m.cur.enquiry < id {
		if err := m.step(); err != nil {
			return out, err
		}
	}
	for m.ahead && m.cur.enquiry == id {
		s, err := m.cur.screening()
		if err != nil {
			return out, err
		}
		out = append(out, s)
		if err := m.step(); err != nil {
			return out, err
		}
	}
	m.pos = id + 1
	return out, nil
}

// step reads the next screening into cur; ahead is false at the end.
func (m *screeningMerge) step() error {
	if m.ahead = m.rows.Next(); !m.ahead {
		return m.rows.Err()
	}
	c := &m.cur
	return m.rows.Scan(&c.enquiry, &c.instrument, &c.total, &c.band, &c.answers)
}

// lookupOf appends the screenings of an enquiry the merge has passed.
func (m *screeningMerge) lookupOf(id int64, out []crm.Screening) ([]crm.Screening, error) {
	if m.lookup == nil {
		st, err := m.tx.PrepareContext(m.ctx, `SELECT ?, `+m.screeningColumns()+`
			FROM screenings WHERE enquiry_id = ? ORDER BY instrument`)
		if err != nil {
			return out, err
		}
		m.lookup = st
	}
	rows, err := m.lookup.QueryContext(m.ctx, id, id)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	var c mergedScreening
	for rows.Next() {
		if err := rows.Scan(&c.enquiry, &c.instrument, &c.total, &c.band, &c.answers); err != nil {
			return out, err
		}
		s, err := c.screening()
		if err != nil {
			return out, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// screening is c as the export reads it.
func (c *mergedScreening) screening() (crm.Screening, error) {
	s := crm.Screening{Instrument: c.instrument, Total: int(c.total.Int64), Band: c.band}
	return s, decodeAnswers(&s, c.answers)
}

// close closes the merge's statements (nothing on PostgreSQL).
func (m *screeningMerge) close() error {
	if m == nil {
		return nil
	}
	var err error
	if m.rows != nil {
		err = m.rows.Close()
	}
	if m.lookup != nil {
		err = errors.Join(err, m.lookup.Close())
	}
	return err
}
