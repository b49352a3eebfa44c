-- Webhooks: as SQLite's 00014, the outbox allows the four event kinds and keeps each event's body (built when it
-- was queued, nothing personal in it) in payload, NULL for email. PostgreSQL changes the CHECK in place.

-- +goose Up
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('confirmation', 'staff_new', 'staff_assigned',
    'staff_overdue', 'staff_password_reset', 'staff_urgent', 'webhook_created', 'webhook_status_changed',
    'webhook_assigned', 'webhook_flagged'));
ALTER TABLE outbox ADD COLUMN payload TEXT;

-- +goose Down
DELETE FROM outbox WHERE kind LIKE 'webhook\_%';
ALTER TABLE outbox DROP COLUMN payload;
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('confirmation', 'staff_new', 'staff_assigned',
    'staff_overdue', 'staff_password_reset', 'staff_urgent'));
