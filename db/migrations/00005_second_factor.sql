-- Staff second factor (TOTP, RFC 6238) and sign-in throttling. An account's authenticator secret lives in
-- staff_totp only once a code has proved it (enrolment); last_step is the time step of the last code accepted, so
-- a code is never accepted twice. Recovery codes are stored as SHA-256 hashes and marked used, never deleted,
-- until they are replaced. failed_sign_ins counts consecutive failed sign-ins on an account from every client; at
-- 100 the account is refused until its password is reset (see README, "Two-factor sign-in").

-- +goose Up
CREATE TABLE staff_totp (
    staff_id    INTEGER PRIMARY KEY REFERENCES staff (id) ON DELETE CASCADE,
    secret      TEXT    NOT NULL,
    enrolled_at INTEGER NOT NULL,
    last_step   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE staff_recovery_codes (
    id         INTEGER PRIMARY KEY,
    staff_id   INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    code_hash  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX staff_recovery_codes_staff ON staff_recovery_codes (staff_id);

ALTER TABLE staff ADD COLUMN failed_sign_ins INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE staff DROP COLUMN failed_sign_ins;
DROP INDEX staff_recovery_codes_staff;
DROP TABLE staff_recovery_codes;
DROP TABLE staff_totp;
