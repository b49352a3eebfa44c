-- The search index leaves the intake's write path. A new enquiry is no longer indexed by a trigger inside its
-- own transaction (whose full-text segment flush landed in every intake commit): the indexer
-- (db/search_indexer.go) follows the enquiries in id order, in large batches of its own, and records in
-- enquiry_search_mark how far it has come; a search reads the index up to the mark and the few enquiries above
-- it directly (db/enquiry_list_search.go), so an enquiry is found the moment it is stored.
--
-- The rules that keep index and mark true together:
--   - every enquiry with an id up to the mark is in the index, unless erased; none above it is;
--   - the indexer inserts the rows above the mark and moves the mark in one transaction;
--   - an enquiry inserted with an id at or below the mark is indexed by a trigger (SQLite numbers new rows past
--     the highest id, so only an id given explicitly is);
--   - the update and notes triggers re-index only an enquiry up to the mark (one above it is indexed, with its
--     notes, when the indexer reaches it), and never an erased one;
--   - deleting the newest enquiries brings the mark down to the newest left, since SQLite gives their ids to the
--     next enquiries (INTEGER PRIMARY KEY without AUTOINCREMENT), which must be indexed in their turn.
-- Deleting a row that is not in the index (an enquiry above the mark, erased or purged) is harmless with
-- contentless_delete: FTS5 finds no record of it and changes nothing (TestSearchDeleteOfUnindexedRow).
--
-- The index keeps its form: it is not made again with prefix indexes (prefix = '2 3'). Measured on 300,000
-- enquiries (docs/performance.md, "Search: indexer and prefix index, before and after"), they make the first page
-- of a 2- or 3-letter term far cheaper ("gp": 4.1 to 0.1 ms) but left the search mix of make bench as it was
-- (CPU per search, p50 4.2 and 4.1 ms, p99 16.5 and 16.8 ms), while indexing cost 1.7 times the CPU per enquiry
-- (15 to 26 us in batches of 200), the rebuild would hold the upgrade 18 s per 300,000 enquiries, and the file
-- grew by 14 %. What bounds a slow search is elsewhere: see that section.

-- +goose Up
DROP TRIGGER enquiries_search_insert;
DROP TRIGGER enquiries_search_update;
DROP TRIGGER notes_search_insert;

-- One row: every enquiry with an id up to enquiry_id is in enquiry_search (unless erased).
CREATE TABLE enquiry_search_mark (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    enquiry_id INTEGER NOT NULL
);
INSERT INTO enquiry_search_mark (id, enquiry_id) SELECT 1, coalesce(max(id), 0) FROM enquiries;

-- An enquiry stored with an id at or below the mark (only ever given explicitly: SQLite numbers new rows past
-- the highest id) is indexed at once, since the indexer only looks above the mark.
-- +goose StatementBegin
CREATE TRIGGER enquiries_search_insert_below_mark AFTER INSERT ON enquiries
WHEN new.id <= (SELECT enquiry_id FROM enquiry_search_mark) BEGIN
    INSERT INTO enquiry_search (rowid, name, email, phone, message, notes)
    SELECT new.id, new.name, new.email, ltrim(new.phone, '+'), new.message,
           coalesce((SELECT group_concat(body, ' ') FROM notes WHERE enquiry_id = new.id), '')
    WHERE new.erased_at IS NULL;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER enquiries_search_update AFTER UPDATE OF name, email, phone, message ON enquiries
WHEN new.id <= (SELECT enquiry_id FROM enquiry_search_mark) BEGIN
    DELETE FROM enquiry_search WHERE rowid = old.id;
    INSERT INTO enquiry_search (rowid, name, email, phone, message, notes)
    SELECT new.id, new.name, new.email, ltrim(new.phone, '+'), new.message,
           coalesce((SELECT group_concat(body, ' ') FROM notes WHERE enquiry_id = new.id), '')
    WHERE new.erased_at IS NULL;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER notes_search_insert AFTER INSERT ON notes
WHEN new.enquiry_id <= (SELECT enquiry_id FROM enquiry_search_mark) BEGIN
    DELETE FROM enquiry_search WHERE rowid = new.enquiry_id;
    INSERT INTO enquiry_search (rowid, name, email, phone, message, notes)
    SELECT e.id, e.name, e.email, ltrim(e.phone, '+'), e.message,
           coalesce((SELECT group_concat(body, ' ') FROM notes WHERE enquiry_id = e.id), '')
    FROM enquiries e WHERE e.id = new.enquiry_id AND e.erased_at IS NULL;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER enquiries_search_mark_delete AFTER DELETE ON enquiries
WHEN old.id >= (SELECT enquiry_id FROM enquiry_search_mark) BEGIN
    UPDATE enquiry_search_mark SET enquiry_id = (SELECT coalesce(max(id), 0) FROM enquiries)
    WHERE enquiry_id > (SELECT coalesce(max(id), 0) FROM enquiries);
END;
-- +goose StatementEnd

-- +goose Down
-- The index as 00001 kept it: every enquiry not erased, by triggers.
DROP TRIGGER enquiries_search_mark_delete;
DROP TRIGGER enquiries_search_insert_below_mark;
DROP TRIGGER notes_search_insert;
DROP TRIGGER enquiries_search_update;

INSERT INTO enquiry_search (rowid, name, email, phone, message, notes)
SELECT e.id, e.name, e.email, ltrim(e.phone, '+'), e.message,
       coalesce((SELECT group_concat(body, ' ') FROM notes WHERE enquiry_id = e.id), '')
FROM enquiries e WHERE e.erased_at IS NULL AND e.id > (SELECT enquiry_id FROM enquiry_search_mark) ORDER BY e.id;
DROP TABLE enquiry_search_mark;

-- +goose StatementBegin
CREATE TRIGGER enquiries_search_insert AFTER INSERT ON enquiries BEGIN
    INSERT INTO enquiry_search (rowid, name, email, phone, message, notes)
    VALUES (new.id, new.name, new.email, ltrim(new.phone, '+'), new.message, '');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER enquiries_search_update AFTER UPDATE OF name, email, phone, message ON enquiries BEGIN
    DELETE FROM enquiry_search WHERE rowid = old.id;
    INSERT INTO enquiry_search (rowid, name, email, phone, message, notes)
    VALUES (new.id, new.name, new.email, ltrim(new.phone, '+'), new.message,
            coalesce((SELECT group_concat(body, ' ') FROM notes WHERE enquiry_id = new.id), ''));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER notes_search_insert AFTER INSERT ON notes BEGIN
    DELETE FROM enquiry_search WHERE rowid = new.enquiry_id;
    INSERT INTO enquiry_search (rowid, name, email, phone, message, notes)
    SELECT e.id, e.name, e.email, ltrim(e.phone, '+'), e.message,
           coalesce((SELECT group_concat(body, ' ') FROM notes WHERE enquiry_id = e.id), '')
    FROM enquiries e WHERE e.id = new.enquiry_id;
END;
-- +goose StatementEnd
