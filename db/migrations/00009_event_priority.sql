-- A "priority" event's new priority gets a column of its own. It was kept in reason, which holds words (why a
-- status changed, what raised a flag) and is emptied by an erasure; the priority is kept (see README, "Patient
-- data"). Adding a column with a constant default rewrites nothing; the UPDATE touches the priority events only.

-- +goose Up
ALTER TABLE events ADD COLUMN priority TEXT NOT NULL DEFAULT ''
    CHECK (priority IN ('', 'low', 'normal', 'high', 'urgent'));
UPDATE events SET priority = reason, reason = '' WHERE kind = 'priority';

-- +goose Down
UPDATE events SET reason = priority WHERE kind = 'priority';
ALTER TABLE events DROP COLUMN priority;
