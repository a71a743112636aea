-- 0008_vm_keys_in_fleet: a VM gets its integer key when it enters the fleet.
--
-- 0007 gave a VM its key only when a plan first named it, in `vm_keys(id, name UNIQUE)`: the
-- first plan over a million VMs wrote a million names twice, in the table and in its unique
-- index (about 41 MB, two fifths of what that plan added). Now the key is a column of `vms`,
-- handed out from `vm_key_counter` when the VM is recorded, so a name is found by the fleet's
-- own primary key. `vm_names` keeps key -> name for every VM a plan ever named (what a wave's
-- VMs are read by), and marks a name `retired` when its VM leaves the fleet, so a removed VM
-- keeps its history under its name. A VM recorded again after its removal gets a new key;
-- reads by name take every key the name had.

-- The next key to hand out. Pitstop's writers claim keys in blocks, so a key is never given
-- twice; a gap between keys means nothing.
CREATE TABLE vm_key_counter (
    only  INTEGER PRIMARY KEY CHECK (only = 1),
    next  INTEGER NOT NULL CHECK (next >= 1)
);

-- Every VM a plan ever named, by key. Never deleted.
CREATE TABLE vm_names (
    key      INTEGER PRIMARY KEY,
    name     TEXT NOT NULL,
    -- 1 once the VM left the fleet: its name is then found here, not in `vms`.
    retired  INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1))
);
CREATE INDEX vm_names_retired ON vm_names(name) WHERE retired = 1;

INSERT INTO vm_names(key, name, retired)
SELECT k.id, k.name, NOT EXISTS (SELECT 1 FROM vms v WHERE v.name = k.name) FROM vm_keys k ORDER BY k.id;

-- A VM keeps the key a plan gave it; the others get new keys after the largest, in name order.
ALTER TABLE vms ADD COLUMN key INTEGER;
UPDATE vms SET key = (SELECT k.id FROM vm_keys k WHERE k.name = vms.name);
WITH fresh AS (
    SELECT name, (SELECT coalesce(max(id), 0) FROM vm_keys) + row_number() OVER (ORDER BY name) AS key
    FROM vms WHERE key IS NULL
)
UPDATE vms SET key = fresh.key FROM fresh WHERE vms.name = fresh.name;
INSERT INTO vm_key_counter(only, next)
SELECT 1, max(coalesce((SELECT max(key) FROM vms), 0), coalesce((SELECT max(key) FROM vm_names), 0)) + 1;

DROP TABLE vm_keys;

-- A VM written without a key (by a tool other than Pitstop) gets one from the plan that first
-- names it, which finds it here. An index, not an insert trigger: the index costs an import
-- nothing (it stays empty), a trigger a sub-program call for each of a million rows.
CREATE INDEX vms_without_key ON vms(name) WHERE key IS NULL;

-- A VM's key never changes, nor is it taken away: its waves name it.
CREATE TRIGGER vms_key_kept
BEFORE UPDATE OF key ON vms
WHEN OLD.key IS NOT NULL AND NEW.key IS NOT OLD.key
BEGIN
    SELECT RAISE(ABORT, 'vms: a VM keeps its key');
END;

-- A VM that leaves the fleet leaves its name to its history.
CREATE TRIGGER vms_retire_name
AFTER DELETE ON vms
BEGIN
    UPDATE vm_names SET retired = 1 WHERE key = OLD.key;
END;
