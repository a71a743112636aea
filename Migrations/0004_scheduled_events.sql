-- 0004_scheduled_events: what the scheduled-events endpoint keeps and reads
-- (docs/rules.md#scheduled-events-and-instance-metadata), and what the simulated executor reads.
--
-- A VM's DocumentIncarnation rises exactly when its document changes and never goes back,
-- across server restarts: the server keeps, per VM, the incarnation it last served and a
-- digest of that document, and bumps the number when the digest it computes differs.
-- Keyed by VM name, and never deleted, so a VM removed and added again does not start over.
CREATE TABLE scheduled_event_documents (
    vm           TEXT NOT NULL PRIMARY KEY,
    incarnation  INTEGER NOT NULL CHECK (incarnation >= 1),
    -- StableID.uuid of the document's canonical text, without its incarnation.
    digest       TEXT NOT NULL,
    changed_at   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER scheduled_event_documents_never_back BEFORE UPDATE ON scheduled_event_documents
WHEN NEW.incarnation < OLD.incarnation OR NEW.vm <> OLD.vm
BEGIN SELECT RAISE(ABORT, 'a document incarnation never goes back'); END;
CREATE TRIGGER scheduled_event_documents_no_delete BEFORE DELETE ON scheduled_event_documents
BEGIN SELECT RAISE(ABORT, 'a document incarnation is kept: removing it would let it start over'); END;
-- INSERT OR REPLACE deletes without firing the DELETE trigger: refused before it gets there.
CREATE TRIGGER scheduled_event_documents_no_replace BEFORE INSERT ON scheduled_event_documents
WHEN EXISTS (SELECT 1 FROM scheduled_event_documents WHERE vm = NEW.vm)
BEGIN SELECT RAISE(ABORT, 'a document incarnation is updated, never replaced'); END;

-- A VM's document lists its set's active events: one index lookup per poll instead of a scan
-- of every event. Partial, so finished history does not weigh on it.
CREATE INDEX events_active_by_set ON events(availability_set, start_utc) WHERE status IN ('scheduled', 'started');

-- The simulated executor (`serve --simulate`) looks each second for the active events due by
-- now: a range of this index, not a scan of every event ever planned.
CREATE INDEX events_active_by_start ON events(start_utc) WHERE status IN ('scheduled', 'started');
