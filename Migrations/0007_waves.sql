-- 0007_waves: a plan stored as what it is, waves and the VMs of each wave.
--
-- Until now `events` held one row per VM, repeating its wave's campaign, region, set, update
-- domain, kind and times as text, under four indexes: a million-VM plan took about 550 MB. All
-- VMs of a wave share one start and one end (docs/rules.md), so those facts are a wave's, kept
-- once in `waves`; a VM's membership is a pair of integers in `wave_vms`; and what happened to a
-- VM is kept on its wave, except for the VMs whose lifecycle departs from their wave's (one
-- approved, started, failed or cancelled alone), which have a row in `vm_departures`.
--
-- The ids users see do not change: a wave is its UUID-formatted id (the scheduled-events
-- EventId), and an event is `<wave id>/<vm name>`, found by splitting it at its first '/'. Times are Unix seconds.
-- This file converts a database of the old layout losslessly, in the one transaction every
-- migration runs in: all of it or nothing.

-- Every VM name a plan ever named, with an integer key. Never deleted: a VM removed from the
-- fleet keeps its history under its name.
CREATE TABLE vm_keys (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE
);

CREATE TABLE waves (
    id                INTEGER PRIMARY KEY,
    -- The id users see: UUID-formatted for every wave Pitstop plans; never holds a '/', which
    -- separates it from the VM name in an event id.
    public_id         TEXT NOT NULL UNIQUE CHECK (length(public_id) BETWEEN 1 AND 64 AND instr(public_id, '/') = 0),
    campaign          TEXT NOT NULL REFERENCES campaigns(id),
    kind              TEXT NOT NULL CHECK (kind IN ('freeze', 'reboot')),
    region            TEXT NOT NULL,
    -- NULL (and no update domain) for a region's single-instance VMs.
    availability_set  TEXT,
    update_domain     INTEGER,
    -- Planned start and end, and when the campaign was planned.
    start_at          INTEGER NOT NULL,
    end_at            INTEGER NOT NULL,
    planned_at        INTEGER NOT NULL,
    -- The lifecycle of every VM of the wave without a row in vm_departures (at least one).
    status            TEXT NOT NULL DEFAULT 'scheduled'
                      CHECK (status IN ('scheduled', 'started', 'completed', 'failed', 'cancelled')),
    approved_at       INTEGER,
    actual_start      INTEGER,
    actual_end        INTEGER,
    forced            INTEGER NOT NULL DEFAULT 0 CHECK (forced IN (0, 1)),
    reason            TEXT,
    CHECK (end_at > start_at),
    CHECK ((availability_set IS NULL) = (update_domain IS NULL)),
    CHECK (actual_end IS NULL OR actual_start IS NOT NULL)
);
-- A campaign's waves per region; a set's waves in time (the scheduled-events poll); waves in
-- time (the executor, the timeline, upcoming). Ten thousand rows for a million VMs.
CREATE INDEX waves_by_campaign ON waves(campaign, region);
CREATE INDEX waves_by_set ON waves(availability_set, start_at);
CREATE INDEX waves_by_start ON waves(start_at);

-- The VMs of each wave, with the fault domain each had when planned. No FOREIGN KEY clauses:
-- only the plan writer adds pairs, with keys it has just read in the same transaction, and
-- the two parent lookups per row doubled the time to write a million pairs (0.8 s to 1.65 s).
CREATE TABLE wave_vms (
    wave          INTEGER NOT NULL,
    vm            INTEGER NOT NULL,
    fault_domain  INTEGER,
    PRIMARY KEY (wave, vm)
) WITHOUT ROWID;
-- `upcoming --vm`, `event show`: a VM's waves.
CREATE INDEX wave_vms_by_vm ON wave_vms(vm);

-- A VM whose lifecycle departs from its wave's: its own, whole.
CREATE TABLE vm_departures (
    wave          INTEGER NOT NULL,
    vm            INTEGER NOT NULL,
    status        TEXT NOT NULL
                  CHECK (status IN ('scheduled', 'started', 'completed', 'failed', 'cancelled')),
    approved_at   INTEGER,
    actual_start  INTEGER,
    actual_end    INTEGER,
    forced        INTEGER NOT NULL CHECK (forced IN (0, 1)),
    reason        TEXT,
    PRIMARY KEY (wave, vm),
    FOREIGN KEY (wave, vm) REFERENCES wave_vms(wave, vm),
    CHECK (actual_end IS NULL OR actual_start IS NOT NULL)
) WITHOUT ROWID;

-- The conversion. Times: the old ISO 8601 text ('2026-11-22T10:00:00Z') as Unix seconds.

-- A wave's planned facts were the same on every one of its rows (the planner writes them so).
-- A database where they are not is refused, naming the wave, and left as it was.
CREATE TEMP TABLE migration_0007_refusals (wave TEXT);
CREATE TEMP TRIGGER migration_0007_refuse BEFORE INSERT ON migration_0007_refusals
BEGIN SELECT RAISE(ABORT, 'the events of one wave disagree on its campaign, region, set, update domain, kind or times') ; END;
INSERT INTO migration_0007_refusals
SELECT wave FROM (SELECT DISTINCT wave, campaign, kind, region, availability_set, update_domain, start_utc, end_utc, planned_at FROM events)
GROUP BY wave HAVING count(*) > 1 LIMIT 1;
DROP TABLE migration_0007_refusals;

INSERT INTO vm_keys(name) SELECT DISTINCT vm FROM events ORDER BY vm;

-- Its lifecycle is the one most of its VMs share (ties: the earliest in the order below).
INSERT INTO waves(public_id, campaign, kind, region, availability_set, update_domain, start_at, end_at, planned_at,
                  status, approved_at, actual_start, actual_end, forced, reason)
WITH planned AS (
    SELECT wave, campaign, kind, region, availability_set, update_domain, start_utc, end_utc, planned_at
    FROM events GROUP BY wave, campaign, kind, region, availability_set, update_domain, start_utc, end_utc, planned_at
), lives AS (
    SELECT wave, status, approved_at, actual_start, actual_end, forced, reason, count(*) AS n
    FROM events GROUP BY wave, status, approved_at, actual_start, actual_end, forced, reason
), common AS (
    -- SQLite takes the bare columns from the row that has the max.
    SELECT wave, status, approved_at, actual_start, actual_end, forced, reason, max(n) FROM lives GROUP BY wave
)
SELECT p.wave, p.campaign, p.kind, p.region, p.availability_set, p.update_domain,
       CAST(strftime('%s', p.start_utc) AS INTEGER), CAST(strftime('%s', p.end_utc) AS INTEGER),
       CAST(strftime('%s', p.planned_at) AS INTEGER),
       c.status, CAST(strftime('%s', c.approved_at) AS INTEGER), CAST(strftime('%s', c.actual_start) AS INTEGER),
       CAST(strftime('%s', c.actual_end) AS INTEGER), c.forced, c.reason
FROM planned p JOIN common c ON c.wave = p.wave
ORDER BY p.start_utc, p.wave;

INSERT INTO wave_vms(wave, vm, fault_domain)
SELECT w.id, k.id, e.fault_domain
FROM events e JOIN waves w ON w.public_id = e.wave JOIN vm_keys k ON k.name = e.vm
ORDER BY k.id, w.id;

INSERT INTO vm_departures(wave, vm, status, approved_at, actual_start, actual_end, forced, reason)
SELECT wave, vm, status, approved_at, actual_start, actual_end, forced, reason FROM (
    SELECT w.id AS wave, k.id AS vm, e.status, CAST(strftime('%s', e.approved_at) AS INTEGER) AS approved_at,
           CAST(strftime('%s', e.actual_start) AS INTEGER) AS actual_start,
           CAST(strftime('%s', e.actual_end) AS INTEGER) AS actual_end, e.forced, e.reason,
           w.status AS w_status, w.approved_at AS w_approved_at, w.actual_start AS w_actual_start,
           w.actual_end AS w_actual_end, w.forced AS w_forced, w.reason AS w_reason
    FROM events e JOIN waves w ON w.public_id = e.wave JOIN vm_keys k ON k.name = e.vm
)
WHERE NOT (status IS w_status AND approved_at IS w_approved_at AND actual_start IS w_actual_start
           AND actual_end IS w_actual_end AND forced IS w_forced AND reason IS w_reason)
ORDER BY wave, vm;

DROP TABLE events;
