-- 0005_audit_keys: the public keys that sign audit checkpoints (`pitstop audit keygen`).
--
-- A hash chain that anyone with write access can recompute proves little on its own, so the log
-- is anchored outside the database, as transparency logs anchor theirs with signed tree heads:
-- `pitstop audit checkpoint` appends an `audit.checkpoint` entry whose details are a head (seq,
-- hash, time) signed with an Ed25519 key kept outside the database, and prints it for the
-- operator to keep. `audit verify` checks every stored checkpoint against the keys recorded here.
-- The private key never enters the database; the public key is recorded once, and kept.
CREATE TABLE audit_keys (
    -- Base64 of the 32-byte Ed25519 public key.
    public_key   TEXT NOT NULL PRIMARY KEY CHECK (length(public_key) = 44),
    -- The first 16 hex digits of the SHA-256 of the raw key: how messages name it.
    fingerprint  TEXT NOT NULL UNIQUE CHECK (length(fingerprint) = 16),
    created_at   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER audit_keys_no_update BEFORE UPDATE ON audit_keys
BEGIN SELECT RAISE(ABORT, 'audit_keys is append-only'); END;
CREATE TRIGGER audit_keys_no_delete BEFORE DELETE ON audit_keys
BEGIN SELECT RAISE(ABORT, 'audit_keys is append-only'); END;
-- INSERT OR REPLACE deletes without firing the DELETE trigger: refused before it gets there.
CREATE TRIGGER audit_keys_no_replace BEFORE INSERT ON audit_keys
WHEN EXISTS (SELECT 1 FROM audit_keys WHERE public_key = NEW.public_key OR fingerprint = NEW.fingerprint)
BEGIN SELECT RAISE(ABORT, 'audit_keys is append-only'); END;
