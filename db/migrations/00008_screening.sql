-- Clinical screening at enquiry time (see README, "Screening questionnaires", and docs/clinical-safety.md).
--
-- flag_risk_at / flag_review_at: when the enquiry was first flagged `risk` (a possible risk to life, from PHQ-9
-- item 9, the self-harm question or risk language in the message) or `review` (a contraindication answered yes);
-- NULL when it is not. The urgent first-contact target counts from flag_risk_at.
-- screenings: one row per enquiry and questionnaire ('safety' for the safety questions), the answers as JSON
-- with the total and band worked out when they were given. Erasing the enquiry deletes them.
-- screening_links: the single-use link a patient follows to answer the questionnaires after enquiring; only the
-- hash of its token is kept.
-- The outbox allows the urgent notice (staff_urgent) and events the flags and the screening answers given later:
-- SQLite changes a CHECK only by rebuilding the table.

-- +goose Up
ALTER TABLE enquiries ADD COLUMN flag_risk_at INTEGER;
ALTER TABLE enquiries ADD COLUMN flag_review_at INTEGER;
CREATE INDEX enquiries_risk ON enquiries (flag_risk_at) WHERE flag_risk_at IS NOT NULL;

CREATE TABLE screenings (
    id          INTEGER PRIMARY KEY,
    enquiry_id  INTEGER NOT NULL REFERENCES enquiries (id) ON DELETE CASCADE,
    instrument  TEXT    NOT NULL,
    answers     TEXT    NOT NULL,
    total       INTEGER,
    band        TEXT    NOT NULL DEFAULT '',
    source      TEXT    NOT NULL CHECK (source IN ('enquiry', 'screening_page')),
    created_at  INTEGER NOT NULL,
    UNIQUE (enquiry_id, instrument)
);

CREATE TABLE screening_links (
    enquiry_id  INTEGER PRIMARY KEY REFERENCES enquiries (id) ON DELETE CASCADE,
    token_hash  TEXT    NOT NULL UNIQUE,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);

CREATE TABLE outbox_new (
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
INSERT INTO outbox_new SELECT id, enquiry_id, kind, recipient, status, message_id, attempts, next_attempt_at,
    queued_at, lease_until, last_error, created_at, sent_at, link_token FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_enquiry ON outbox (enquiry_id);

CREATE TABLE events_new (
    id          INTEGER PRIMARY KEY,
    enquiry_id  INTEGER NOT NULL REFERENCES enquiries (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    actor_id    INTEGER REFERENCES staff (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('created', 'status', 'assigned', 'note', 'reminder', 'erased',
                                                 'priority', 'flagged', 'screening')),
    from_status TEXT    NOT NULL DEFAULT '',
    to_status   TEXT    NOT NULL DEFAULT '',
    reason      TEXT    NOT NULL DEFAULT '',
    assignee_id INTEGER REFERENCES staff (id),
    note_id     INTEGER REFERENCES notes (id) ON DELETE SET NULL
);
INSERT INTO events_new SELECT id, enquiry_id, at, actor_id, kind, from_status, to_status, reason, assignee_id,
    note_id FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_enquiry ON events (enquiry_id, id);

-- +goose Down
DELETE FROM events WHERE kind IN ('flagged', 'screening');
CREATE TABLE events_old (
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
INSERT INTO events_old SELECT * FROM events;
DROP TABLE events;
ALTER TABLE events_old RENAME TO events;
CREATE INDEX events_enquiry ON events (enquiry_id, id);

DELETE FROM outbox WHERE kind = 'staff_urgent';
CREATE TABLE outbox_old (
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
INSERT INTO outbox_old SELECT * FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_old RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_enquiry ON outbox (enquiry_id);

DROP TABLE screening_links;
DROP TABLE screenings;
DROP INDEX enquiries_risk;
ALTER TABLE enquiries DROP COLUMN flag_review_at;
ALTER TABLE enquiries DROP COLUMN flag_risk_at;
