-- Tamper evidence for the audit log: each entry keeps the references it concerned as text (so deleting spam or
-- an enquiry later changes nothing that was hashed) and the SHA-256 of the previous entry's hash and its own
-- content. `frontdesk audit verify` walks the chain; see docs/security.md. Entries written before this migration
-- are sealed into the chain, in order, the first time the database is opened after it (db.Migrate).

-- +goose Up
ALTER TABLE audit_log ADD COLUMN refs TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN hash TEXT NOT NULL DEFAULT '';
UPDATE audit_log SET refs = coalesce((SELECT reference FROM enquiries e WHERE e.id = audit_log.enquiry_id), '');
CREATE INDEX audit_log_action ON audit_log (action, id);

-- +goose Down
DROP INDEX audit_log_action;
ALTER TABLE audit_log DROP COLUMN hash;
ALTER TABLE audit_log DROP COLUMN refs;
