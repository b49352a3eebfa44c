-- Nothing changes on SQLite: its enquiry list walks searches in id order with enquiry_order's lateness bound,
-- kept by its triggers. PostgreSQL's 00011 drops those triggers there, where nothing reads the bound; this file
-- keeps the two engines' migration versions in step.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
