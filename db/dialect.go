// The few places where the two engines need different SQL, as clauses the stores splice in, and the
// PostgreSQL advisory locks that stand in for SQLite's one writer where several processes must take turns.

package db

import "fmt"

// PostgreSQL advisory lock keys, one per piece of work that must run in one process at a time when several
// `serve` processes share the database. They are arbitrary but fixed numbers ("FD" and a number), kept here so
// no two share one; goose's migration lock uses a key of its own, far from these.
const (
	// lockAuditChain is held (waiting for it) while an entry is appended to the audit chain (see appendAudit).
	lockAuditChain int64 = 0x46445f4155444954 // "FD_AUDIT"
	// lockReminders is held by the overdue-reminder sweep (QueueOverdueReminders).
	lockReminders int64 = 0x4644_0001
	// lockRetention is held by a retention batch (ApplyRetention).
	lockRetention int64 = 0x4644_0002
)

// forUpdate is the clause that locks the rows of alias a query reads until the transaction ends: on PostgreSQL,
// where another process may change them between the read and the write built on it (READ COMMITTED reads what
// was committed when the statement began); empty on SQLite, whose one writer already excludes that.
func (d *engine) forUpdate(alias string) string {
	if !d.pg {
		return ""
	}
	return " FOR UPDATE OF " + alias
}

// tryJobLock tries, on PostgreSQL, to take the advisory lock key for the rest of tx, without waiting, and
// reports whether it got it: false means another transaction (another process) holds it now. On SQLite, where
// the one writer already runs jobs one at a time, it reports true and does nothing.
func (d *engine) tryJobLock(tx *Tx, key int64) (bool, error) {
	if !d.pg {
		return true, nil
	}
	var ok bool
	if err := tx.Get(&ok, `SELECT pg_try_advisory_xact_lock(?)`, key); err != nil {
		return false, fmt.Errorf("try advisory lock %#x: %w", key, err)
	}
	return ok, nil
}

// indexedBy is the clause that holds SQLite's planner to the index name, written after a table in FROM: SQLite
// plans without statistics, and some scans need the index it would pass over. PostgreSQL has no such clause (its
// planner has the statistics ANALYZE keeps), so there it is empty.
func (d *engine) indexedBy(name string) string {
	if d.pg {
		return ""
	}
	return " INDEXED BY " + name
}
