package db

import (
	"context"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// The questions monitoring asks at each scrape (crm.MonitoringStore). Each is one query on an index: the
// outbox's (status, next_attempt_at) and the partial index of enquiries flagged risk.

// OutboxBacklog implements crm.MonitoringStore.
func (d *OutboxStore) OutboxBacklog(ctx context.Context) ([]crm.OutboxBacklog, error) {
	var rows []struct {
		Kind   string `db:"kind"`
		Queued int    `db:"queued"`
		Oldest int64  `db:"oldest"`
	}
	err := d.read.SelectContext(ctx, &rows, `SELECT kind, count(*) AS queued, min(queued_at) AS oldest
		FROM outbox WHERE status = 'queued' GROUP BY kind ORDER BY kind`)
	if err != nil {
		return nil, fmt.Errorf("read the outbox backlog: %w", err)
	}
	out := make([]crm.OutboxBacklog, len(rows))
	for i, r := range rows {
		out[i] = crm.OutboxBacklog{Kind: r.Kind, Queued: r.Queued, OldestQueuedAt: fromMS(r.Oldest)}
	}
	return out, nil
}

// CountRiskPastTarget implements crm.MonitoringStore.
func (d *EnquiryStore) CountRiskPastTarget(ctx context.Context, urgentBefore time.Time) (int, error) {
	var n int
	err := d.read.GetContext(ctx, &n, `SELECT count(*) FROM enquiries e`+d.indexedBy("enquiries_risk")+`
		WHERE e.flag_risk_at IS NOT NULL AND e.flag_risk_at < ? AND e.status = 'new' AND e.erased_at IS NULL`,
		ms(urgentBefore))
	if err != nil {
		return 0, fmt.Errorf("count risk enquiries past their target: %w", err)
	}
	return n, nil
}
