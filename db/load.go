package db

import (
	"context"
	"fmt"

	"github.com/frontdesk/frontdesk/crm"
)

// The assignment load table. To choose who is given a new enquiry, intake needs every account that treats its
// treatment with its open enquiries and when it was last given one (crm.IntakeStaff). On SQLite the writer
// keeps that table in memory: read from the database in one query when it is needed and not known, changed in
// memory by each enquiry it assigns, and forgotten whenever anything else may have changed it — any write not
// declared load-free (doLoadFree), a batch rolled back, a new connection, or a commit by another connection
// (another process: `frontdesk` commands write to the same file), which PRAGMA data_version reveals. So intake
// reads no staff rows per enquiry, and the clinician's last_assigned_at is written once per batch, before the
// commit, instead of once per enquiry. open_enquiries stays kept by its triggers (migration 00002), which every
// other write and every read of the staff list rely on. PostgreSQL has no single writer: there intake reads the
// accounts in each transaction, as the load table is filled.

// loadEntry is one account in the load table.
type loadEntry struct {
	staff crm.IntakeStaff
}

// staffLoad is the writer's load table. Only the writer goroutine touches it.
type staffLoad struct {
	// valid is false until the table is read, and after anything that may have changed it.
	valid bool
	// dataVersion is PRAGMA data_version when the table was last known good on this connection.
	dataVersion int64
	// byTreatment lists, for each treatment, the accounts that treat it; an account that treats several is
	// the same entry in each list, and in byID.
	byTreatment map[string][]*loadEntry
	byID        map[int64]*loadEntry
	// staged are the assignments of the write running now, applied when it succeeds (see assigned).
	staged []loadAssignment
	// lastAssigned is what the batch has assigned, by account: written before the commit (flushLoad).
	lastAssigned map[int64]int64
}

// loadAssignment is an enquiry given to an account at a time (milliseconds).
type loadAssignment struct {
	staffID int64
	at      int64
}

// forget marks the table unknown, and drops what the batch had assigned: the batch is being rolled back or its
// writes may have changed the accounts.
func (l *staffLoad) forget() {
	l.valid = false
	l.staged = l.staged[:0]
	clear(l.lastAssigned)
}

// checkLoad forgets the load table when another connection has committed since it was read (PRAGMA
// data_version, read once per batch, at its start).
func (w *writer) checkLoad(tx writeTx) {
	if !w.load.valid {
		return
	}
	var version int64
	if err := tx.Get(&version, `PRAGMA data_version`); err != nil || version != w.load.dataVersion {
		w.load.valid = false
	}
}

// staffFor returns the accounts that treat treatment, from the load table, reading it on tx first when it is not
// known.
func (w *writer) staffFor(tx writeTx, treatment string) ([]crm.IntakeStaff, error) {
	l := &w.load
	if !l.valid {
		if err := w.readLoad(tx); err != nil {
			return nil, err
		}
	}
	entries := l.byTreatment[treatment]
	out := make([]crm.IntakeStaff, len(entries))
	for i, e := range entries {
		out[i] = e.staff
	}
	return out, nil
}

// readLoad fills the load table from the database, in one query through staff_treatments' primary key.
func (w *writer) readLoad(tx writeTx) error {
	var rows []struct {
		Treatment string `db:"treatment"`
		intakeStaffRow
	}
	l := &w.load
	if err := tx.Get(&l.dataVersion, `PRAGMA data_version`); err != nil {
		return fmt.Errorf("read data version: %w", err)
	}
	err := tx.Select(&rows, `SELECT t.treatment, `+intakeStaffColumns+`
		FROM staff_treatments t JOIN staff s ON s.id = t.staff_id ORDER BY t.treatment, s.id`)
	if err != nil {
		return fmt.Errorf("read the assignment load: %w", err)
	}
	l.byTreatment = map[string][]*loadEntry{}
	l.byID = map[int64]*loadEntry{}
	for _, r := range rows {
		e := l.byID[r.ID]
		if e == nil {
			e = &loadEntry{staff: r.staff()}
			l.byID[r.ID] = e
		}
		l.byTreatment[r.Treatment] = append(l.byTreatment[r.Treatment], e)
	}
	l.valid = true
	return nil
}

// assigned records that the write running now gives an open enquiry to staffID at (milliseconds). It takes
// effect in the table only if the write succeeds (settleLoad).
func (w *writer) assigned(staffID, at int64) {
	w.load.staged = append(w.load.staged, loadAssignment{staffID: staffID, at: at})
}

// settleLoad ends one write of a batch: a write that succeeded has its assignments counted in the table and
// queued for flushLoad; a failed one (undone by its savepoint) has them dropped.
func (w *writer) settleLoad(ok bool) {
	l := &w.load
	if ok && l.valid {
		for _, a := range l.staged {
			if l.lastAssigned == nil {
				l.lastAssigned = map[int64]int64{}
			}
			l.lastAssigned[a.staffID] = max(l.lastAssigned[a.staffID], a.at)
			if e := l.byID[a.staffID]; e != nil {
				e.staff.Open++
				if at := fromMS(a.at); at.After(e.staff.LastAssignedAt) {
					e.staff.LastAssignedAt = at
				}
			}
		}
	}
	l.staged = l.staged[:0]
}

// flushLoad writes each account's last assignment of the batch, before the commit.
func (w *writer) flushLoad(tx writeTx) error {
	for id, at := range w.load.lastAssigned {
		if _, err := tx.Exec(`UPDATE staff SET last_assigned_at = max(coalesce(last_assigned_at, 0), ?) WHERE id = ?`,
			at, id); err != nil {
			return fmt.Errorf("record assignments: %w", err)
		}
	}
	clear(w.load.lastAssigned)
	return nil
}

// doLoadFree is do for a write that changes neither accounts nor any enquiry's status or assignee (the outbox,
// sessions), so the load table stays known across it.
func (w *writer) doLoadFree(ctx context.Context, fn func(*Tx) error) error {
	return w.send(&writeReq{ctx: ctx, fn: fn, errc: make(chan error, 1), loadFree: true})
}
