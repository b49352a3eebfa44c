package crm

import (
	"context"
	"fmt"
	"time"
)

// RetentionBatch is what one step of a retention run is to do, as the Privacy service decided it.
type RetentionBatch struct {
	// Closed are the closing statuses: an enquiry in one of them whose close (the status event that moved it
	// there) is before ClosedBefore is anonymised. A zero ClosedBefore anonymises nothing.
	Closed       []Status
	ClosedBefore time.Time
	// SpamBefore: spam that arrived before it is deleted with all its rows. Zero deletes nothing.
	SpamBefore time.Time
	// Limit bounds how many enquiries of each kind one batch handles, so no transaction holds writers for long.
	Limit int
}

// RetentionResult is what a retention batch or run did: the references anonymised and deleted.
type RetentionResult struct {
	Anonymised  []string
	DeletedSpam []string
}

// retentionBatchSize is how many enquiries of each kind one retention transaction handles.
var retentionBatchSize = 500

// RetentionDue is the batch a retention run at now applies under the policy: closed enquiries are due
// RetentionMonths after they closed, spam SpamRetentionDays after it arrived; a period of 0 is never.
func (c PrivacyConfig) RetentionDue(now time.Time) RetentionBatch {
	b := RetentionBatch{Closed: ClosedStatuses, Limit: retentionBatchSize}
	if c.RetentionMonths > 0 {
		b.ClosedBefore = now.AddDate(0, -c.RetentionMonths, 0)
	}
	if c.SpamRetentionDays > 0 {
		b.SpamBefore = now.AddDate(0, 0, -c.SpamRetentionDays)
	}
	return b
}

// RunRetention applies the retention policy once: closed enquiries past their period are anonymised (the
// same erasure as EraseEnquiries) and old spam is deleted, in batches, each recorded in the audit log in its
// own transaction as action retention with the references and "anonymised N, deleted spam M" (a run with
// nothing due records its zero counts). Then the mail copies of those enquiries are deleted and, when
// anything was done, the database is scrubbed. serve runs it at start and daily.
func (p *Privacy) RunRetention(ctx context.Context) (RetentionResult, error) {
	now := p.now().UTC()
	b := p.cfg.RetentionDue(now)
	var total RetentionResult
	for {
		res, err := p.store.ApplyRetention(ctx, b, now, func(r RetentionResult) AuditEntry {
			return AuditEntry{At: now, Action: "retention", References: append(append([]string{}, r.Anonymised...), r.DeletedSpam...),
				Detail: fmt.Sprintf("anonymised %d, deleted spam %d", len(r.Anonymised), len(r.DeletedSpam))}
		})
		if err != nil {
			return total, fmt.Errorf("retention: %w", err)
		}
		total.Anonymised = append(total.Anonymised, res.Anonymised...)
		total.DeletedSpam = append(total.DeletedSpam, res.DeletedSpam...)
		if len(res.Anonymised) < b.Limit && len(res.DeletedSpam) < b.Limit {
			break
		}
	}
	if n, m := len(total.Anonymised), len(total.DeletedSpam); n+m > 0 {
		p.log.Info("retention: closed enquiries anonymised and spam deleted", "anonymised", n, "deleted_spam", m)
		if err := p.cleanUp(ctx, append(append([]string{}, total.Anonymised...), total.DeletedSpam...)); err != nil {
			return total, fmt.Errorf("retention: %w", err)
		}
	}
	return total, nil
}
