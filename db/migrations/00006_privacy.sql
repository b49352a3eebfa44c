-- Retention: the closed enquiries not yet anonymised, by arrival, so the daily retention run finds those due
-- without stepping over every enquiry it anonymised in earlier years (see db/privacy.go).

-- +goose Up
CREATE INDEX enquiries_closed_unerased ON enquiries (created_at)
    WHERE erased_at IS NULL AND status IN ('not_suitable', 'lost', 'referred');

-- +goose Down
DROP INDEX enquiries_closed_unerased;
