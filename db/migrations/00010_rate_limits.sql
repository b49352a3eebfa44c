-- The rate limits' counters (intake, password reset requests, set-up guesses), kept in the database so that
-- several serve processes on one PostgreSQL database count together. On SQLite (one process) serve keeps them
-- in memory and this table stays empty; it exists so that both engines have the same schema.

-- +goose Up
CREATE TABLE rate_limits (
    key        TEXT    PRIMARY KEY,
    value      BLOB    NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX rate_limits_expires ON rate_limits (expires_at);

-- +goose Down
DROP TABLE rate_limits;
