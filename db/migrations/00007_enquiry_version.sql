-- Each enquiry's version: a number that grows by one with every change staff can see (status, assignee,
-- priority, a note, an erasure), in the statement that makes the change. A change decided on an older version
-- is refused (see README, "Staff API"). Enquiries start at 1, those already stored too: nobody has seen a
-- version of them yet. A reminder or a cleared link to an erased enquiry leaves it as it is.

-- +goose Up
ALTER TABLE enquiries ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE enquiries DROP COLUMN version;
