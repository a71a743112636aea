-- 0003_audit_indexes: reading the audit log in chain order and by time, and closing REPLACE.
--
-- `audit verify` walks every entry with its subjects in seq order, and `audit` prints each
-- hit's subjects: both look subjects up by seq, which the (kind, name, seq) key cannot do.
-- `audit --since/--until` without a subject reads a time range without scanning the log.
CREATE INDEX audit_subjects_by_seq ON audit_subjects(seq);
CREATE INDEX audit_log_by_at ON audit_log(at, seq);

-- INSERT OR REPLACE deletes the row it collides with without firing the DELETE trigger
-- (recursive triggers are off), so an insert that collides is refused before it gets there.
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq OR hash = NEW.hash)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
