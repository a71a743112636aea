-- 0001_inventory: the fleet Pitstop maintains.
--
-- Names are the fleet's keys (DOMAIN.md: names of regions, sets, VMs and subscriptions are
-- unique across the fleet), so tables are keyed and referenced by name. The invariants live
-- here as well as in PitstopCore, so that a write that bypasses Pitstop still cannot store an
-- inconsistent fleet. Times are UTC text 'YYYY-MM-DDTHH:MM:SSZ', which sorts as it reads.

CREATE TABLE regions (
    name          TEXT NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 256),
    display_name  TEXT CHECK (display_name IS NULL OR length(display_name) <= 256)
) WITHOUT ROWID;

-- A directed link. It is neither symmetric nor a matching; the rules treat each link as a
-- conflict in both directions.
CREATE TABLE region_pairs (
    region       TEXT NOT NULL REFERENCES regions(name),
    paired_with  TEXT NOT NULL REFERENCES regions(name),
    PRIMARY KEY (region, paired_with),
    CHECK (region <> paired_with)
) WITHOUT ROWID;
CREATE INDEX region_pairs_by_partner ON region_pairs(paired_with);

CREATE TABLE subscriptions (
    id                TEXT NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 256),
    -- JSON arrays of e-mail addresses, in the order the operator gave them.
    admins            TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(admins) AND json_type(admins) = 'array'),
    co_admins         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(co_admins) AND json_type(co_admins) = 'array'),
    -- The IANA zone in which notices show times beside UTC.
    notice_time_zone  TEXT NOT NULL DEFAULT 'UTC'
) WITHOUT ROWID;

CREATE TABLE availability_sets (
    name            TEXT NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 256),
    region          TEXT NOT NULL REFERENCES regions(name),
    subscription    TEXT NOT NULL REFERENCES subscriptions(id),
    fault_domains   INTEGER NOT NULL DEFAULT 2 CHECK (fault_domains BETWEEN 1 AND 3),
    update_domains  INTEGER NOT NULL DEFAULT 5 CHECK (update_domains BETWEEN 1 AND 20),
    -- How many VMs were ever added to the set: the n of round-robin placement.
    placed_count    INTEGER NOT NULL DEFAULT 0 CHECK (placed_count >= 0),
    -- The target of the VMs' composite key, which keeps a set VM in its set's region.
    UNIQUE (name, region)
) WITHOUT ROWID;
CREATE INDEX availability_sets_by_region ON availability_sets(region);

CREATE TABLE vms (
    name              TEXT NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 256),
    region            TEXT NOT NULL REFERENCES regions(name),
    subscription      TEXT NOT NULL REFERENCES subscriptions(id),
    availability_set  TEXT,
    update_domain     INTEGER,
    fault_domain      INTEGER,
    ip_address        TEXT,
    FOREIGN KEY (availability_set, region) REFERENCES availability_sets(name, region),
    -- multi-instance: a set, a UD and an FD; single-instance: none of the three. (NOT NULL is spelt out: NULL >= 0 would pass.)
    CHECK ((availability_set IS NULL AND update_domain IS NULL AND fault_domain IS NULL)
        OR (availability_set IS NOT NULL AND update_domain IS NOT NULL AND fault_domain IS NOT NULL AND update_domain >= 0 AND fault_domain >= 0))
) WITHOUT ROWID;
-- No index by set: every per-VM lookup goes by name, set-wide reads scan (about 0.15 s at a
-- million VMs), and the index cost a bulk import more than the rows themselves.
CREATE UNIQUE INDEX vms_by_ip ON vms(ip_address) WHERE ip_address IS NOT NULL;

-- UD and FD stay inside the set's ranges, whoever writes the row.
CREATE TRIGGER vms_domains_in_range_on_insert
BEFORE INSERT ON vms
WHEN NEW.availability_set IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'vms: update or fault domain outside the availability set''s range')
    FROM availability_sets s
    WHERE s.name = NEW.availability_set
      AND (NEW.update_domain >= s.update_domains OR NEW.fault_domain >= s.fault_domains);
END;

CREATE TRIGGER vms_domains_in_range_on_update
BEFORE UPDATE OF availability_set, update_domain, fault_domain ON vms
WHEN NEW.availability_set IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'vms: update or fault domain outside the availability set''s range')
    FROM availability_sets s
    WHERE s.name = NEW.availability_set
      AND (NEW.update_domain >= s.update_domains OR NEW.fault_domain >= s.fault_domains);
END;

-- Shrinking a set may not strand its VMs outside the new ranges.
CREATE TRIGGER availability_sets_keep_vms_in_range
BEFORE UPDATE OF update_domains, fault_domains ON availability_sets
BEGIN
    SELECT RAISE(ABORT, 'availability_sets: a VM of the set lies outside the new domain ranges')
    WHERE EXISTS (
        SELECT 1 FROM vms v
        WHERE v.availability_set = NEW.name
          AND (v.update_domain >= NEW.update_domains OR v.fault_domain >= NEW.fault_domains));
END;

-- A maintenance window belongs to one region or to one set; a set's own windows replace its
-- region's. Start and expiry are local wall-clock times in time_zone.
CREATE TABLE maintenance_windows (
    name              TEXT NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 256),
    region            TEXT REFERENCES regions(name),
    availability_set  TEXT REFERENCES availability_sets(name),
    start_local       TEXT NOT NULL CHECK (start_local GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'),
    time_zone         TEXT NOT NULL CHECK (length(time_zone) > 0),
    duration          TEXT NOT NULL CHECK (duration GLOB 'P*'),
    duration_seconds  INTEGER NOT NULL CHECK (duration_seconds > 0),
    recur_every       TEXT CHECK (recur_every IS NULL OR length(recur_every) > 0),
    expires_local     TEXT CHECK (expires_local IS NULL OR expires_local > start_local),
    CHECK ((region IS NULL) <> (availability_set IS NULL))
) WITHOUT ROWID;
CREATE INDEX maintenance_windows_by_region ON maintenance_windows(region) WHERE region IS NOT NULL;
CREATE INDEX maintenance_windows_by_set ON maintenance_windows(availability_set) WHERE availability_set IS NOT NULL;

-- A UTC interval in which nothing may be scheduled: fleet-wide (region NULL) or for one region.
CREATE TABLE blackouts (
    name       TEXT NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 256),
    region     TEXT REFERENCES regions(name),
    start_utc  TEXT NOT NULL CHECK (start_utc GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    end_utc    TEXT NOT NULL CHECK (end_utc GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    CHECK (end_utc > start_utc)
) WITHOUT ROWID;
CREATE INDEX blackouts_by_region ON blackouts(region) WHERE region IS NOT NULL;
