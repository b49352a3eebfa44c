-- The rate limits' counters (intake, password reset requests, set-up guesses), shared by every serve process on
-- this database. The same table as SQLite's 00010.

-- +goose Up
CREATE TABLE rate_limits (
    key        TEXT   PRIMARY KEY,
    value      BYTEA  NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX rate_limits_expires ON rate_limits (expires_at);

-- +goose Down
DROP TABLE rate_limits;
