package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/jmoiron/sqlx"
)

// flagAt is the stored time of a flag: now when raised, NULL when not.
func flagAt(raised bool, now int64) sql.NullInt64 {
	return sql.NullInt64{Int64: now, Valid: raised}
}

// storeScreening stores a new enquiry's screening answers and the hash of its screening link.
func storeScreening(tx writeTx, id int64, e crm.NewEnquiry) error {
	if err := insertScreenings(tx, id, crm.Screenings(e.Screening, e.Assessment, "enquiry", e.ReceivedAt)); err != nil {
		return err
	}
	if e.Link.Hash != "" {
		if _, err := tx.Exec(`INSERT INTO screening_links (enquiry_id, token_hash, expires_at) VALUES (?, ?, ?)`,
			id, e.Link.Hash, ms(e.Link.ExpiresAt)); err != nil {
			return fmt.Errorf("store screening link: %w", err)
		}
	}
	return nil
}

// insertScreenings stores answered questionnaires, one row each (a questionnaire answered again replaces the
// earlier answers).
func insertScreenings(tx writeTx, id int64, rows []crm.Screening) error {
	for _, s := range rows {
		var answers []byte
		var err error
		var total sql.NullInt64
		if s.Instrument == crm.SafetyInstrument {
			answers, err = json.Marshal(s.Safety)
		} else {
			answers, err = json.Marshal(s.Answers)
			total = sql.NullInt64{Int64: int64(s.Total), Valid: true}
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO screenings (enquiry_id, instrument, answers, total, band, source, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (enquiry_id, instrument) DO UPDATE SET answers = excluded.answers, total = excluded.total,
					band = excluded.band, source = excluded.source, created_at = excluded.created_at`,
			id, s.Instrument, string(answers), total, s.Band, s.Source, ms(s.At)); err != nil {
			return fmt.Errorf("store %s answers: %w", s.Instrument, err)
		}
	}
	return nil
}

// adminEmails returns the addresses of the active administrators.
func adminEmails(tx writeTx) ([]string, error) {
	var out []string
	err := tx.Select(&out, `SELECT email FROM staff WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id`)
	return out, err
}

// ScreeningsOf implements crm.ScreeningStore: one indexed read for every enquiry of ids. Each enquiry's
// questionnaires come in the order stored, the safety questions last; an enquiry with none, or unknown, is absent
// from the map (never nil). Its only errors are the database's, or stored answers that do not decode (wrapped).
func (d *EnquiryStore) ScreeningsOf(ctx context.Context, ids []int64) (map[int64][]crm.Screening, error) {
	out := map[int64][]crm.Screening{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		EnquiryID  int64         `db:"enquiry_id"`
		Instrument string        `db:"instrument"`
		Answers    string        `db:"answers"`
		Total      sql.NullInt64 `db:"total"`
		Band       string        `db:"band"`
		Source     string        `db:"source"`
		CreatedAt  int64         `db:"created_at"`
	}
	q, args, err := sqlx.In(`SELECT enquiry_id, instrument, answers, total, band, source, created_at FROM screenings
		WHERE enquiry_id IN (?) ORDER BY enquiry_id, instrument = 'safety', id`, ids)
	if err != nil {
		return nil, err
	}
	if err := d.read.SelectContext(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("read screenings: %w", err)
	}
	for _, r := range rows {
		s := crm.Screening{Instrument: r.Instrument, Total: int(r.Total.Int64), Band: r.Band, Source: r.Source,
			At: fromMS(r.CreatedAt)}
		var err error
		if r.Instrument == crm.SafetyInstrument {
			err = json.Unmarshal([]byte(r.Answers), &s.Safety)
		} else {
			err = json.Unmarshal([]byte(r.Answers), &s.Answers)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s answers of enquiry %d: %w", r.Instrument, r.EnquiryID, err)
		}
		out[r.EnquiryID] = append(out[r.EnquiryID], s)
	}
	return out, nil
}
