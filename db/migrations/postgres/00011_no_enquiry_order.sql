-- PostgreSQL does not keep enquiry_order's lateness bound any more. Its lists and searches never read it (a
-- search joins and sorts: see docs/postgres.md, "Listing"), several processes inserting at once void it for good
-- anyway, and keeping it made every new enquiry update that one row: concurrent intake transactions queued on
-- its row lock until each committed, which halved intake (measured with make bench). The table stays, with its
-- row, so that both engines keep the same tables; SQLite's 00011 changes nothing.

-- +goose Up
DROP TRIGGER enquiries_order_insert ON enquiries;
DROP TRIGGER enquiries_order_update ON enquiries;
DROP FUNCTION enquiries_order_insert();
DROP FUNCTION enquiries_order_update();

-- +goose Down
-- +goose StatementBegin
CREATE FUNCTION enquiries_order_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE enquiry_order SET
        lateness = CASE
            WHEN new.id < (SELECT max(id) FROM enquiries) THEN 1000000000000000
            ELSE greatest(lateness, latest_created_at - new.created_at)
        END,
        latest_created_at = greatest(latest_created_at, new.created_at);
    RETURN new;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION enquiries_order_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE enquiry_order SET lateness = 1000000000000000;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER enquiries_order_insert BEFORE INSERT ON enquiries
    FOR EACH ROW EXECUTE FUNCTION enquiries_order_insert();
CREATE TRIGGER enquiries_order_update AFTER UPDATE OF id, created_at ON enquiries
    FOR EACH ROW WHEN (new.id <> old.id OR new.created_at <> old.created_at)
    EXECUTE FUNCTION enquiries_order_update();
-- The bound is void after triggers that did not keep it.
UPDATE enquiry_order SET lateness = 1000000000000000;
