package crm

import (
	"context"
	"time"
)

// OutboxBacklog is the part of the outbox still waiting to go out, for one kind of message: how many are queued
// and when the one waiting longest was queued (or queued again by a retry).
type OutboxBacklog struct {
	Kind           string
	Queued         int
	OldestQueuedAt time.Time
}

// MonitoringStore answers what monitoring asks of the database each time it is scraped, each question in one
// indexed query. package db implements it; it only reads and is safe for concurrent use.
type MonitoringStore interface {
	// OutboxBacklog returns the queued messages by kind (kinds with none are left out). It returns an error
	// only when the database cannot be read.
	OutboxBacklog(ctx context.Context) ([]OutboxBacklog, error)
	// CountRiskPastTarget returns how many enquiries flagged risk are still new (not erased) and were flagged
	// before urgentBefore — past their urgent first-contact target when urgentBefore comes from
	// Targets.Cutoffs.
	CountRiskPastTarget(ctx context.Context, urgentBefore time.Time) (int, error)
}
