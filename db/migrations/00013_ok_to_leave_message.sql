-- May the clinic leave a voicemail or a text message for the patient (the form's "ok_to_leave_message")? A
-- patient's family may share the phone: without a yes, staff leave no message. 0 (no) for every enquiry made
-- before the question was asked. Erasure sets it back to 0 with the other contact details.

-- +goose Up
ALTER TABLE enquiries ADD COLUMN ok_to_leave_message INTEGER NOT NULL DEFAULT 0
    CHECK (ok_to_leave_message IN (0, 1));

-- +goose Down
ALTER TABLE enquiries DROP COLUMN ok_to_leave_message;
