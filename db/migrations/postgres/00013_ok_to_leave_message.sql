-- May the clinic leave a voicemail or a text message for the patient (the form's "ok_to_leave_message")? As
-- SQLite's 00013, in BIGINT like every integer column here: 0 (no) for every enquiry made before the question
-- was asked; erasure sets it back to 0.

-- +goose Up
ALTER TABLE enquiries ADD COLUMN ok_to_leave_message BIGINT NOT NULL DEFAULT 0
    CHECK (ok_to_leave_message IN (0, 1));

-- +goose Down
ALTER TABLE enquiries DROP COLUMN ok_to_leave_message;
