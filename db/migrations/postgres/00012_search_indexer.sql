-- Nothing changes on PostgreSQL: its search rows are still kept by triggers, in the transaction of each write.
-- SQLite's 00012 moves its full-text index off the write path, behind a high-water mark; this file keeps the
-- two engines' migration versions in step.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
