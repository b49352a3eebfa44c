-- Frontdesk schema. Times are INTEGER milliseconds since the Unix epoch, UTC. Enumerations are CHECKed here as
-- well as in Go, so no code path can store a value the rest of the system does not understand.

-- +goose Up
CREATE TABLE staff (
    id               INTEGER PRIMARY KEY,
    email            TEXT    NOT NULL UNIQUE,
    name             TEXT    NOT NULL,
    role             TEXT    NOT NULL CHECK (role IN ('admin', 'coordinator', 'clinician')),
    password_hash    TEXT    NOT NULL,
    disabled_at      INTEGER,
    last_assigned_at INTEGER,
    created_at       INTEGER NOT NULL
);

CREATE TABLE staff_treatments (
    staff_id  INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    treatment TEXT    NOT NULL CHECK (treatment IN ('adhd', 'depression', 'anxiety', 'ptsd', 'addiction', 'chronic_pain', 'other')),
    PRIMARY KEY (treatment, staff_id)
) WITHOUT ROWID;

CREATE TABLE enquiries (
    id                 INTEGER PRIMARY KEY,
    reference          TEXT    NOT NULL UNIQUE,
    status             TEXT    NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'contacted', 'screening',
                           'assessment_booked', 'treatment_offered', 'in_treatment', 'not_suitable', 'lost',
                           'referred', 'spam')),
    name               TEXT    NOT NULL,
    email              TEXT    NOT NULL,
    phone              TEXT    NOT NULL DEFAULT '',
    preferred_contact  TEXT    NOT NULL DEFAULT 'either' CHECK (preferred_contact IN ('email', 'phone', 'either')),
    treatment          TEXT    NOT NULL CHECK (treatment IN ('adhd', 'depression', 'anxiety', 'ptsd', 'addiction', 'chronic_pain', 'other')),
    message            TEXT    NOT NULL DEFAULT '',
    date_of_birth      TEXT    NOT NULL DEFAULT '',
    referral_source    TEXT    NOT NULL DEFAULT '' CHECK (referral_source IN ('', 'gp', 'self', 'search', 'social', 'friend', 'other')),
    utm_source         TEXT    NOT NULL DEFAULT '',
    utm_medium         TEXT    NOT NULL DEFAULT '',
    utm_campaign       TEXT    NOT NULL DEFAULT '',
    consent_at         INTEGER NOT NULL,
    consent_version    TEXT    NOT NULL,
    priority           TEXT    NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    assignee_id        INTEGER REFERENCES staff (id),
    related_id         INTEGER REFERENCES enquiries (id),
    close_reason       TEXT    NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    first_contacted_at INTEGER,
    reminded_at        INTEGER,
    erased_at          INTEGER
);
CREATE INDEX enquiries_created ON enquiries (created_at);
CREATE INDEX enquiries_status_created ON enquiries (status, created_at);
CREATE INDEX enquiries_assignee_status_created ON enquiries (assignee_id, status, created_at);
CREATE INDEX enquiries_email_created ON enquiries (email, created_at);
CREATE INDEX enquiries_related ON enquiries (related_id) WHERE related_id IS NOT NULL;

-- A client's idempotency key, kept with the content it was first used for.
CREATE TABLE idempotency_keys (
    key         TEXT    PRIMARY KEY,
    fingerprint TEXT    NOT NULL,
    enquiry_id  INTEGER NOT NULL REFERENCES enquiries (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_enquiry ON idempotency_keys (enquiry_id);

CREATE TABLE notes (
    id         INTEGER PRIMARY KEY,
    enquiry_id INTEGER NOT NULL REFERENCES enquiries (id) ON DELETE CASCADE,
    author_id  INTEGER REFERENCES staff (id),
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX notes_enquiry ON notes (enquiry_id, id);

-- The timeline: every change to an enquiry, written in the same transaction as the change.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    enquiry_id  INTEGER NOT NULL REFERENCES enquiries (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    actor_id    INTEGER REFERENCES staff (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('created', 'status', 'assigned', 'note', 'reminder', 'erased', 'priority')),
    from_status TEXT    NOT NULL DEFAULT '',
    to_status   TEXT    NOT NULL DEFAULT '',
    reason      TEXT    NOT NULL DEFAULT '',
    assignee_id INTEGER REFERENCES staff (id),
    note_id     INTEGER REFERENCES notes (id) ON DELETE SET NULL
);
CREATE INDEX events_enquiry ON events (enquiry_id, id);

-- The durable outbox: a message is queued in the transaction of the change that causes it and rendered when sent.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    enquiry_id      INTEGER REFERENCES enquiries (id) ON DELETE SET NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('confirmation', 'staff_new', 'staff_assigned', 'staff_overdue')),
    recipient       TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    message_id      TEXT    NOT NULL UNIQUE,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- When the message was queued (or queued again by `outbox retry`): it is given up after 5 days from here.
    queued_at       INTEGER NOT NULL,
    -- While set and in the future, a worker is sending the message; after it passes, another may claim it.
    lease_until     INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_enquiry ON outbox (enquiry_id);

-- Full-text search over a patient's details and the staff notes on the enquiry. Contentless: the text lives only
-- in enquiries and notes, so erasing those erases it here too (the triggers delete the row).
CREATE VIRTUAL TABLE enquiry_search USING fts5(
    name, email, phone, message, notes,
    content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);

-- +goose StatementBegin
CREATE TRIGGER enquiries_search_insert AFTER INSERT ON enquiries BEGIN
    INSERT INTO enquiry_search (rowid, name, email, phone, message, notes)
    VALUES (new.id, new.name, new.email, ltrim(new.phone, '+'), new.message, '');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER enquiries_search_update AFTER UPDATE OF name, email, phone, message ON enquiries BEGIN
    DELETE FROM enquiry_search WHERE rowid = old.id;
    INSERT INTO enquiry_search (rowid, name, email, phone, message, notes)
    VALUES (new.id, new.name, new.email, ltrim(new.phone, '+'), new.message,
            coalesce((SELECT group_concat(body, ' ') FROM notes WHERE enquiry_id = new.id), ''));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER enquiries_search_delete AFTER DELETE ON enquiries BEGIN
    DELETE FROM enquiry_search WHERE rowid = old.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER notes_search_insert AFTER INSERT ON notes BEGIN
    DELETE FROM enquiry_search WHERE rowid = new.enquiry_id;
    INSERT INTO enquiry_search (rowid, name, email, phone, message, notes)
    SELECT e.id, e.name, e.email, ltrim(e.phone, '+'), e.message,
           coalesce((SELECT group_concat(body, ' ') FROM notes WHERE enquiry_id = e.id), '')
    FROM enquiries e WHERE e.id = new.enquiry_id;
END;
-- +goose StatementEnd

-- Staff sign-in sessions (the storage of Fiber's session middleware) and API tokens (only their hashes).
CREATE TABLE sessions (
    key        TEXT    PRIMARY KEY,
    value      BLOB    NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    staff_id     INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    label        TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

-- Accountability: who read or changed what, and when (enquiry views, exports, account changes).
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor_id   INTEGER REFERENCES staff (id),
    action     TEXT    NOT NULL,
    enquiry_id INTEGER REFERENCES enquiries (id) ON DELETE SET NULL,
    detail     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_enquiry ON audit_log (enquiry_id) WHERE enquiry_id IS NOT NULL;

-- +goose Down
DROP TABLE audit_log;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TRIGGER notes_search_insert;
DROP TRIGGER enquiries_search_delete;
DROP TRIGGER enquiries_search_update;
DROP TRIGGER enquiries_search_insert;
DROP TABLE enquiry_search;
DROP TABLE outbox;
DROP TABLE events;
DROP TABLE notes;
DROP TABLE idempotency_keys;
DROP TABLE enquiries;
DROP TABLE staff_treatments;
DROP TABLE staff;
