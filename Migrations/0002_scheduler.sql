-- 0002_scheduler: campaigns, their planned events, the notice outbox and the audit log.
--
-- Events keep copies of the VM's region, set and domains as planned: `pitstop check`
-- compares them with the fleet as it is now, and history survives a VM's removal.

CREATE TABLE campaigns (
    id               TEXT NOT NULL PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('freeze', 'reboot')),
    status           TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
    created_at       TEXT NOT NULL,
    not_before       TEXT NOT NULL,
    -- JSON array of the target region names.
    regions          TEXT NOT NULL CHECK (json_valid(regions) AND json_type(regions) = 'array'),
    per_vm_seconds   INTEGER NOT NULL CHECK (per_vm_seconds > 0),
    ud_gap_seconds   INTEGER NOT NULL CHECK (ud_gap_seconds >= 0),
    horizon_seconds  INTEGER NOT NULL CHECK (horizon_seconds > 0),
    description      TEXT NOT NULL DEFAULT '',
    start_utc        TEXT NOT NULL,
    end_utc          TEXT NOT NULL,
    CHECK (kind <> 'freeze' OR per_vm_seconds <= 30),
    CHECK (end_utc >= start_utc)
) WITHOUT ROWID;

-- A rowid table: a plan appends a million rows in order, and the secondary indexes carry an
-- 8-byte rowid instead of the long text id.
CREATE TABLE events (
    seq               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    campaign          TEXT NOT NULL REFERENCES campaigns(id),
    vm                TEXT NOT NULL,
    region            TEXT NOT NULL,
    availability_set  TEXT,
    update_domain     INTEGER,
    fault_domain      INTEGER,
    -- The VMs that go together: one update domain of one set, or a region's standalone VMs.
    wave              TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('freeze', 'reboot')),
    start_utc         TEXT NOT NULL,
    end_utc           TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'scheduled'
                      CHECK (status IN ('scheduled', 'started', 'completed', 'failed', 'cancelled')),
    planned_at        TEXT NOT NULL,
    -- The lifecycle as it happened.
    approved_at       TEXT,
    actual_start      TEXT,
    actual_end        TEXT,
    forced            INTEGER NOT NULL DEFAULT 0 CHECK (forced IN (0, 1)),
    reason            TEXT,
    CHECK (end_utc > start_utc),
    CHECK ((availability_set IS NULL) = (update_domain IS NULL)),
    CHECK (actual_end IS NULL OR actual_start IS NOT NULL)
);
-- For `upcoming --vm`, for operations on a wave, and for a campaign's events per region.
-- Fleet-wide and per-region reads scan: they read most rows anyway.
CREATE INDEX events_by_vm ON events(vm, start_utc);
CREATE INDEX events_by_wave ON events(wave);
CREATE INDEX events_by_campaign ON events(campaign, region);

-- One notice per subscription for a reboot campaign, queued for the notifier.
CREATE TABLE notices (
    id            INTEGER PRIMARY KEY,
    campaign      TEXT NOT NULL REFERENCES campaigns(id),
    subscription  TEXT NOT NULL,
    -- JSON array of addresses: the subscription's admins and co-admins when it was queued.
    recipients    TEXT NOT NULL CHECK (json_valid(recipients) AND json_type(recipients) = 'array'),
    subject       TEXT NOT NULL,
    body          TEXT NOT NULL,
    queued_at     TEXT NOT NULL,
    -- When the first event it announces starts: the notice is owed 7 days before.
    first_start   TEXT NOT NULL,
    sent_at       TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    UNIQUE (campaign, subscription)
);

-- Append-only and chained: each entry's hash covers its content and the previous hash.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    -- JSON object of what changed.
    details    TEXT NOT NULL CHECK (json_valid(details)),
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_log_by_action ON audit_log(action, seq);

-- What each entry is about, so that "what happened to this VM" is an index lookup.
CREATE TABLE audit_subjects (
    seq   INTEGER NOT NULL REFERENCES audit_log(seq),
    kind  TEXT NOT NULL CHECK (kind IN ('vm', 'set', 'region', 'subscription', 'campaign', 'event', 'wave', 'window', 'blackout', 'notice')),
    name  TEXT NOT NULL,
    PRIMARY KEY (kind, name, seq)
) WITHOUT ROWID;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_subjects_no_update BEFORE UPDATE ON audit_subjects
BEGIN SELECT RAISE(ABORT, 'audit_subjects is append-only'); END;
CREATE TRIGGER audit_subjects_no_delete BEFORE DELETE ON audit_subjects
BEGIN SELECT RAISE(ABORT, 'audit_subjects is append-only'); END;
