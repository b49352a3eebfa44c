-- The staff workspace: indexes for the list filters, the reminder sweep, the audit log and tokens, and the
-- bookkeeping that lets a search walk the full-text index in rowid order and still return enquiries exactly in
-- created_at order (see enquiry_order below and db/enquiry_list.go).

-- +goose Up
-- A treatment filter, with or without an assignee, reads each status in created_at order (list queries are split
-- by status and assignee: see db/enquiry_list.go).
CREATE INDEX enquiries_treatment_status_created ON enquiries (treatment, status, created_at);
CREATE INDEX enquiries_assignee_treatment_status_created ON enquiries (assignee_id, treatment, status, created_at);

-- The reminder sweep looks only at new enquiries not yet reminded: without this it would step over every old
-- reminded-but-still-new enquiry on every run, inside the write transaction.
CREATE INDEX enquiries_unreminded ON enquiries (created_at)
    WHERE status = 'new' AND reminded_at IS NULL AND erased_at IS NULL;

CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX api_tokens_staff ON api_tokens (staff_id);

-- enquiry_order records how far created_at may run backwards as the id grows: lateness is the largest
-- (latest created_at among earlier ids) - created_at seen at any insert, so for any two enquiries a and b with
-- a.id < b.id: a.created_at <= b.created_at + lateness. Intake stamps created_at just before a single writer
-- inserts, so lateness stays at a few milliseconds; a search can then walk full-text matches newest id first and
-- know when no later row can still rank among the page. An insert below the highest id, or a change of
-- created_at, voids the bound (lateness becomes huge and searches sort every match instead).
CREATE TABLE enquiry_order (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    latest_created_at INTEGER NOT NULL,
    lateness          INTEGER NOT NULL
);
INSERT INTO enquiry_order (id, latest_created_at, lateness)
SELECT 1, coalesce(max(created_at), 0), max(0, coalesce(max(earlier - created_at), 0))
FROM (SELECT created_at,
             max(created_at) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier
      FROM enquiries);

-- +goose StatementBegin
CREATE TRIGGER enquiries_order_insert AFTER INSERT ON enquiries BEGIN
    UPDATE enquiry_order SET
        lateness = CASE
            WHEN new.id < (SELECT max(id) FROM enquiries) THEN 1000000000000000
            ELSE max(lateness, latest_created_at - new.created_at)
        END,
        latest_created_at = max(latest_created_at, new.created_at);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER enquiries_order_update AFTER UPDATE OF id, created_at ON enquiries
WHEN new.id <> old.id OR new.created_at <> old.created_at BEGIN
    UPDATE enquiry_order SET lateness = 1000000000000000;
END;
-- +goose StatementEnd

-- staff.open_enquiries is how many active enquiries each account has, kept by triggers, so the list of staff (on
-- every enquiry page, for the assign menu) and the choice of assignee need not count a clinician's enquiries
-- each time.
ALTER TABLE staff ADD COLUMN open_enquiries INTEGER NOT NULL DEFAULT 0;
UPDATE staff SET open_enquiries = (SELECT count(*) FROM enquiries e WHERE e.assignee_id = staff.id
    AND e.status IN ('new', 'contacted', 'screening', 'assessment_booked', 'treatment_offered', 'in_treatment'));

-- +goose StatementBegin
CREATE TRIGGER enquiries_open_insert AFTER INSERT ON enquiries
WHEN new.assignee_id IS NOT NULL
    AND new.status IN ('new', 'contacted', 'screening', 'assessment_booked', 'treatment_offered', 'in_treatment') BEGIN
    UPDATE staff SET open_enquiries = open_enquiries + 1 WHERE id = new.assignee_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER enquiries_open_update AFTER UPDATE OF status, assignee_id ON enquiries BEGIN
    UPDATE staff SET open_enquiries = open_enquiries - 1
    WHERE id = old.assignee_id
        AND old.status IN ('new', 'contacted', 'screening', 'assessment_booked', 'treatment_offered', 'in_treatment');
    UPDATE staff SET open_enquiries = open_enquiries + 1
    WHERE id = new.assignee_id
        AND new.status IN ('new', 'contacted', 'screening', 'assessment_booked', 'treatment_offered', 'in_treatment');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER enquiries_open_delete AFTER DELETE ON enquiries
WHEN old.assignee_id IS NOT NULL
    AND old.status IN ('new', 'contacted', 'screening', 'assessment_booked', 'treatment_offered', 'in_treatment') BEGIN
    UPDATE staff SET open_enquiries = open_enquiries - 1 WHERE id = old.assignee_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER enquiries_open_delete;
DROP TRIGGER enquiries_open_update;
DROP TRIGGER enquiries_open_insert;
ALTER TABLE staff DROP COLUMN open_enquiries;
DROP TRIGGER enquiries_order_update;
DROP TRIGGER enquiries_order_insert;
DROP TABLE enquiry_order;
DROP INDEX api_tokens_staff;
DROP INDEX audit_log_actor;
DROP INDEX enquiries_unreminded;
DROP INDEX enquiries_assignee_treatment_status_created;
DROP INDEX enquiries_treatment_status_created;
