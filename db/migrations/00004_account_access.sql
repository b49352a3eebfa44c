-- Staff access that can be seen and ended: every sign-in session is recorded per account (so a person can see
-- theirs and end them, and disabling an account or changing its password ends them all at once), API tokens
-- expire, and a forgotten password is reset through a single-use link sent by email (kind
-- staff_password_reset, which the outbox's CHECK must allow: SQLite changes a CHECK only by rebuilding the table).

-- +goose Up
-- One row per sign-in. session_key is the key of the session's row in sessions (the cookie's value); a request
-- whose session has no row here, or an ended one, is signed out. last_seen_at is written at most once a minute.
CREATE TABLE staff_sessions (
    id           INTEGER PRIMARY KEY,
    session_key  TEXT    NOT NULL UNIQUE,
    staff_id     INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    client_ip    TEXT    NOT NULL DEFAULT '',
    user_agent   TEXT    NOT NULL DEFAULT '',
    ended_at     INTEGER
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id, ended_at);

-- Tokens expire. Those made before this migration get 90 days from when they were made, but at least 30 days
-- from now, so no integration stops without warning on the day of the upgrade.
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
UPDATE api_tokens SET expires_at = max(created_at + 90 * 86400000,
                                       CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 30 * 86400000);

-- Password reset links: only the SHA-256 of the token is kept; a link works once, until expires_at.
CREATE TABLE password_resets (
    id           INTEGER PRIMARY KEY,
    staff_id     INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    token_hash   TEXT    NOT NULL UNIQUE,
    requested_by INTEGER REFERENCES staff (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
);
CREATE INDEX password_resets_staff ON password_resets (staff_id, created_at);

-- The outbox, rebuilt to allow the new kind. link_token holds a password reset's token only until the email
-- is sent (the email must carry it; it is rendered at send time); it is cleared once the message is sent or
-- has failed.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    enquiry_id      INTEGER REFERENCES enquiries (id) ON DELETE SET NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('confirmation', 'staff_new', 'staff_assigned', 'staff_overdue',
                                                     'staff_password_reset')),
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
INSERT INTO outbox_new (id, enquiry_id, kind, recipient, status, message_id, attempts, next_attempt_at, queued_at,
                        lease_until, last_error, created_at, sent_at)
SELECT id, enquiry_id, kind, recipient, status, message_id, attempts, next_attempt_at, queued_at,
       lease_until, last_error, created_at, sent_at
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_enquiry ON outbox (enquiry_id);

-- +goose Down
DELETE FROM outbox WHERE kind = 'staff_password_reset';
CREATE TABLE outbox_old (
    id              INTEGER PRIMARY KEY,
    enquiry_id      INTEGER REFERENCES enquiries (id) ON DELETE SET NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('confirmation', 'staff_new', 'staff_assigned', 'staff_overdue')),
    recipient       TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    message_id      TEXT    NOT NULL UNIQUE,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    queued_at       INTEGER NOT NULL,
    lease_until     INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
INSERT INTO outbox_old (id, enquiry_id, kind, recipient, status, message_id, attempts, next_attempt_at, queued_at,
                        lease_until, last_error, created_at, sent_at)
SELECT id, enquiry_id, kind, recipient, status, message_id, attempts, next_attempt_at, queued_at,
       lease_until, last_error, created_at, sent_at
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_old RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_enquiry ON outbox (enquiry_id);
DROP TABLE password_resets;
ALTER TABLE api_tokens DROP COLUMN expires_at;
DROP TABLE staff_sessions;
