-- postgres/0004_fleet_names_from_vms: a VM in the fleet is named by `vms`, not copied to `vm_names`.
--
-- A wave names its VMs by key, and reads need each key's name. 0001 kept key -> name in
-- `vm_names` for every VM a plan ever named, as SQLite does: the first plan over a million VMs
-- inserted a million names there, 1.3 s of the server's time. A VM in the fleet already has its
-- name beside its key in `vms`, so from here `vm_names` keeps only the names of VMs that left the
-- fleet (`retired`), written when they leave, and names are read through `vm_known_names`: the
-- fleet's keys, found by a unique index on `vms(key)` (which also makes a key given twice an
-- error in the database itself), and the retired names.
--
-- The rows of VMs still in the fleet go: their names are the fleet's, and `vm_names` holds
-- retired names only from here. A key still names one VM only: a VM keeps its key while it is
-- in the fleet, and one that leaves moves its name here.

CREATE UNIQUE INDEX vms_by_key ON vms(key);

DELETE FROM vm_names n USING vms v WHERE n.retired = 0 AND v.key = n.key;
-- None should be left; one that is names a VM that is gone, so it is read as retired.
UPDATE vm_names SET retired = 1 WHERE retired = 0;

ALTER TABLE vm_names ADD CONSTRAINT vm_names_retired_only CHECK (retired = 1);

-- No WHERE in either branch: PostgreSQL flattens a UNION ALL view into the query only when
-- its branches have none, and only then does a join on `key` use each table's index (with a
-- WHERE, reading one VM's events scanned the whole fleet). A VM without a key (written by
-- another tool, keyed by the next plan) matches no key.
CREATE VIEW vm_known_names (key, name) AS
    SELECT key, name FROM vms
    UNION ALL
    SELECT key, name FROM vm_names;

-- A VM that leaves the fleet leaves its name to its history, if a plan named it (a VM no wave
-- names has no history to keep).
CREATE OR REPLACE FUNCTION vms_retire_name() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.key IS NOT NULL AND EXISTS (SELECT 1 FROM wave_vms WHERE vm = OLD.key) THEN
        INSERT INTO vm_names(key, name, retired) VALUES (OLD.key, OLD.name, 1)
        ON CONFLICT (key) DO NOTHING;
    END IF;
    RETURN OLD;
END $$;
