-- Webhooks (README, "Webhooks"): an event is an outbox message like an email, queued in the transaction of its
-- change and retried the same way. The outbox allows the four event kinds (webhook_created,
-- webhook_status_changed, webhook_assigned, webhook_flagged) and keeps each event's body in payload, built when it
-- was queued (a snapshot of the change: the reference, status, treatment, priority, flags, assignee and a link,
-- never anything the patient wrote or gave). payload is NULL for email. SQLite changes a CHECK only by rebuilding
-- the table.

-- +goose Up
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    enquiry_id      INTEGER REFERENCES enquiries (id) ON DELETE SET NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('confirmation', 'staff_new', 'staff_assigned', 'staff_overdue',
                                                     'staff_password_reset', 'staff_urgent', 'webhook_created',
                                                     'webhook_status_changed', 'webhook_assigned',
                                                     'webhook_flagged')),
    recipient       TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    message_id      TEXT    NOT NULL UNIQUE,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    queued_at       INTEGER NOT NULL,
    lease_until     INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    link_token      TEXT,
    payload         TEXT
);
INSERT INTO outbox_new (id, enquiry_id, kind, recipient, status, message_id, attempts, next_attempt_at, queued_at,
    lease_until, last_error, created_at, sent_at, link_token)
SELECT id, enquiry_id, kind, recipient, status, message_id, attempts, next_attempt_at, queued_at, lease_until,
    last_error, created_at, sent_at, link_token FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_enquiry ON outbox (enquiry_id);

-- +goose Down
DELETE FROM outbox WHERE kind LIKE 'webhook\_%' ESCAPE '\';
CREATE TABLE outbox_old (
    id              INTEGER PRIMARY KEY,
    enquiry_id      INTEGER REFERENCES enquiries (id) ON DELETE SET NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('confirmation', 'staff_new', 'staff_assigned', 'staff_overdue',
                                                     'staff_password_reset', 'staff_urgent')),
    recipient       TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    message_id      TEXT    NOT NULL UNIQUE,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    queued_at       INTEGER NOT NULL,
    lease_until     INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    link_token      TEXT
);
INSERT INTO outbox_old SELECT id, enquiry_id, kind, recipient, status, message_id, attempts, next_attempt_at,
    queued_at, lease_until, last_error, created_at, sent_at, link_token FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_old RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_enquiry ON outbox (enquiry_id);
