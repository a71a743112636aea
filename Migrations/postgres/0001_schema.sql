-- postgres/0001_schema: Pitstop's schema on PostgreSQL, as the SQLite files 0001 to 0008 leave it.
--
-- The same tables, columns, keys and invariants as on SQLite (see those files for why each one
-- is there), so that the repositories read and write the same values on both engines and
-- `pitstop migrate` copies a SQLite database row for row. Values keep their SQLite shapes:
-- times as UTC text 'YYYY-MM-DDTHH:MM:SSZ' where SQLite keeps text (the audit chain hashes that
-- text), Unix seconds where it keeps integers, JSON as the text Pitstop wrote. Text compares
-- and sorts byte by byte (COLLATE "C"), as SQLite's does, whatever the database's locale, so
-- every ordered answer is the same on both engines. The rules a
-- SQLite trigger enforces are PL/pgSQL triggers here, raising the same messages (SQLSTATE P0001).

-- Whether `t` is JSON of the given type ('array', 'object'), without failing on bad text: what
-- SQLite's json_valid and json_type give the CHECK constraints.
CREATE FUNCTION pitstop_json_is(t text, kind text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
    RETURN kind IS NULL OR jsonb_typeof(t::jsonb) = kind;
EXCEPTION WHEN others THEN
    RETURN false;
END $$;

-- Raises `message` as a constraint an operator can read (SQLSTATE P0001).
CREATE FUNCTION pitstop_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_ARGV[0];
END $$;

-- The fleet.

CREATE TABLE regions (
    name          text COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 256),
    display_name  text COLLATE "C" CHECK (display_name IS NULL OR length(display_name) <= 256)
);

CREATE TABLE region_pairs (
    region       text COLLATE "C" NOT NULL REFERENCES regions(name),
    paired_with  text COLLATE "C" NOT NULL REFERENCES regions(name),
    PRIMARY KEY (region, paired_with),
    CHECK (region <> paired_with)
);
CREATE INDEX region_pairs_by_partner ON region_pairs(paired_with);

CREATE TABLE subscriptions (
    id                text COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 256),
    admins            text COLLATE "C" NOT NULL DEFAULT '[]' CHECK (pitstop_json_is(admins, 'array')),
    co_admins         text COLLATE "C" NOT NULL DEFAULT '[]' CHECK (pitstop_json_is(co_admins, 'array')),
    notice_time_zone  text COLLATE "C" NOT NULL DEFAULT 'UTC'
);

CREATE TABLE availability_sets (
    name            text COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 256),
    region          text COLLATE "C" NOT NULL REFERENCES regions(name),
    subscription    text COLLATE "C" NOT NULL REFERENCES subscriptions(id),
    fault_domains   integer NOT NULL DEFAULT 2 CHECK (fault_domains BETWEEN 1 AND 3),
    update_domains  integer NOT NULL DEFAULT 5 CHECK (update_domains BETWEEN 1 AND 20),
    placed_count    integer NOT NULL DEFAULT 0 CHECK (placed_count >= 0),
    UNIQUE (name, region)
);
CREATE INDEX availability_sets_by_region ON availability_sets(region);

CREATE TABLE vms (
    name              text COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 256),
    region            text COLLATE "C" NOT NULL REFERENCES regions(name),
    subscription      text COLLATE "C" NOT NULL REFERENCES subscriptions(id),
    availability_set  text COLLATE "C",
    update_domain     integer,
    fault_domain      integer,
    ip_address        text COLLATE "C",
    -- The VM's integer key, handed out from vm_key_counter when it is recorded.
    key               bigint,
    FOREIGN KEY (availability_set, region) REFERENCES availability_sets(name, region),
    CHECK ((availability_set IS NULL AND update_domain IS NULL AND fault_domain IS NULL)
        OR (availability_set IS NOT NULL AND update_domain IS NOT NULL AND fault_domain IS NOT NULL AND update_domain >= 0 AND fault_domain >= 0))
);
CREATE UNIQUE INDEX vms_by_ip ON vms(ip_address) WHERE ip_address IS NOT NULL;
CREATE INDEX vms_without_key ON vms(name) WHERE key IS NULL;
-- Unlike SQLite, PostgreSQL needs an index to find a set's VMs when a set shrinks.
CREATE INDEX vms_by_set ON vms(availability_set) WHERE availability_set IS NOT NULL;

CREATE FUNCTION vms_domains_in_range() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.availability_set IS NOT NULL AND EXISTS (
        SELECT 1 FROM availability_sets s
        WHERE s.name = NEW.availability_set
          AND (NEW.update_domain >= s.update_domains OR NEW.fault_domain >= s.fault_domains)) THEN
        RAISE EXCEPTION USING MESSAGE = 'vms: update or fault domain outside the availability set''s range';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER vms_domains_in_range_on_insert BEFORE INSERT ON vms
FOR EACH ROW EXECUTE FUNCTION vms_domains_in_range();
CREATE TRIGGER vms_domains_in_range_on_update BEFORE UPDATE OF availability_set, update_domain, fault_domain ON vms
FOR EACH ROW EXECUTE FUNCTION vms_domains_in_range();

CREATE FUNCTION availability_sets_keep_vms_in_range() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM vms v
        WHERE v.availability_set = NEW.name
          AND (v.update_domain >= NEW.update_domains OR v.fault_domain >= NEW.fault_domains)) THEN
        RAISE EXCEPTION USING MESSAGE = 'availability_sets: a VM of the set lies outside the new domain ranges';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER availability_sets_keep_vms_in_range BEFORE UPDATE OF update_domains, fault_domains ON availability_sets
FOR EACH ROW EXECUTE FUNCTION availability_sets_keep_vms_in_range();

CREATE FUNCTION vms_key_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.key IS NOT NULL AND NEW.key IS DISTINCT FROM OLD.key THEN
        RAISE EXCEPTION USING MESSAGE = 'vms: a VM keeps its key';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER vms_key_kept BEFORE UPDATE OF key ON vms
FOR EACH ROW EXECUTE FUNCTION vms_key_kept();

CREATE TABLE maintenance_windows (
    name              text COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 256),
    region            text COLLATE "C" REFERENCES regions(name),
    availability_set  text COLLATE "C" REFERENCES availability_sets(name),
    start_local       text COLLATE "C" NOT NULL CHECK (start_local ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$'),
    time_zone         text COLLATE "C" NOT NULL CHECK (length(time_zone) > 0),
    duration          text COLLATE "C" NOT NULL CHECK (duration LIKE 'P%'),
    duration_seconds  integer NOT NULL CHECK (duration_seconds > 0),
    recur_every       text COLLATE "C" CHECK (recur_every IS NULL OR length(recur_every) > 0),
    expires_local     text COLLATE "C" CHECK (expires_local IS NULL OR expires_local > start_local),
    CHECK ((region IS NULL) <> (availability_set IS NULL))
);
CREATE INDEX maintenance_windows_by_region ON maintenance_windows(region) WHERE region IS NOT NULL;
CREATE INDEX maintenance_windows_by_set ON maintenance_windows(availability_set) WHERE availability_set IS NOT NULL;

CREATE TABLE blackouts (
    name       text COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 256),
    region     text COLLATE "C" REFERENCES regions(name),
    start_utc  text COLLATE "C" NOT NULL CHECK (start_utc ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'),
    end_utc    text COLLATE "C" NOT NULL CHECK (end_utc ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'),
    CHECK (end_utc > start_utc)
);
CREATE INDEX blackouts_by_region ON blackouts(region) WHERE region IS NOT NULL;

-- VM keys: the next to hand out, and every VM a plan ever named.

CREATE TABLE vm_key_counter (
    -- "only" is a reserved word here: quoted, it keeps SQLite's column name.
    "only"  integer PRIMARY KEY CHECK ("only" = 1),
    next  bigint NOT NULL CHECK (next >= 1)
);
INSERT INTO vm_key_counter("only", next) VALUES (1, 1);

CREATE TABLE vm_names (
    key      bigint PRIMARY KEY,
    name     text COLLATE "C" NOT NULL,
    retired  integer NOT NULL DEFAULT 0 CHECK (retired IN (0, 1))
);
CREATE INDEX vm_names_retired ON vm_names(name) WHERE retired = 1;

CREATE FUNCTION vms_retire_name() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE vm_names SET retired = 1 WHERE key = OLD.key;
    RETURN OLD;
END $$;
CREATE TRIGGER vms_retire_name AFTER DELETE ON vms
FOR EACH ROW EXECUTE FUNCTION vms_retire_name();

-- Campaigns and their plans.

CREATE TABLE campaigns (
    id               text COLLATE "C" NOT NULL PRIMARY KEY,
    kind             text COLLATE "C" NOT NULL CHECK (kind IN ('freeze', 'reboot')),
    status           text COLLATE "C" NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
    created_at       text COLLATE "C" NOT NULL,
    not_before       text COLLATE "C" NOT NULL,
    regions          text COLLATE "C" NOT NULL CHECK (pitstop_json_is(regions, 'array')),
    per_vm_seconds   integer NOT NULL CHECK (per_vm_seconds > 0),
    ud_gap_seconds   integer NOT NULL CHECK (ud_gap_seconds >= 0),
    horizon_seconds  integer NOT NULL CHECK (horizon_seconds > 0),
    description      text COLLATE "C" NOT NULL DEFAULT '',
    start_utc        text COLLATE "C" NOT NULL,
    end_utc          text COLLATE "C" NOT NULL,
    CHECK (kind <> 'freeze' OR per_vm_seconds <= 30),
    CHECK (end_utc >= start_utc)
);

CREATE TABLE waves (
    id                bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    public_id         text COLLATE "C" NOT NULL UNIQUE CHECK (length(public_id) BETWEEN 1 AND 64 AND strpos(public_id, '/') = 0),
    campaign          text COLLATE "C" NOT NULL REFERENCES campaigns(id),
    kind              text COLLATE "C" NOT NULL CHECK (kind IN ('freeze', 'reboot')),
    region            text COLLATE "C" NOT NULL,
    availability_set  text COLLATE "C",
    update_domain     integer,
    start_at          bigint NOT NULL,
    end_at            bigint NOT NULL,
    planned_at        bigint NOT NULL,
    status            text COLLATE "C" NOT NULL DEFAULT 'scheduled'
                      CHECK (status IN ('scheduled', 'started', 'completed', 'failed', 'cancelled')),
    approved_at       bigint,
    actual_start      bigint,
    actual_end        bigint,
    forced            integer NOT NULL DEFAULT 0 CHECK (forced IN (0, 1)),
    reason            text COLLATE "C",
    CHECK (end_at > start_at),
    CHECK ((availability_set IS NULL) = (update_domain IS NULL)),
    CHECK (actual_end IS NULL OR actual_start IS NOT NULL)
);
CREATE INDEX waves_by_campaign ON waves(campaign, region);
CREATE INDEX waves_by_set ON waves(availability_set, start_at);
CREATE INDEX waves_by_start ON waves(start_at);

CREATE TABLE wave_vms (
    wave          bigint NOT NULL,
    vm            bigint NOT NULL,
    fault_domain  integer,
    PRIMARY KEY (wave, vm)
);
CREATE INDEX wave_vms_by_vm ON wave_vms(vm);

CREATE TABLE vm_departures (
    wave          bigint NOT NULL,
    vm            bigint NOT NULL,
    status        text COLLATE "C" NOT NULL
                  CHECK (status IN ('scheduled', 'started', 'completed', 'failed', 'cancelled')),
    approved_at   bigint,
    actual_start  bigint,
    actual_end    bigint,
    forced        integer NOT NULL CHECK (forced IN (0, 1)),
    reason        text COLLATE "C",
    PRIMARY KEY (wave, vm),
    FOREIGN KEY (wave, vm) REFERENCES wave_vms(wave, vm),
    CHECK (actual_end IS NULL OR actual_start IS NOT NULL)
);

-- The notice outbox.

CREATE TABLE notices (
    id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    campaign      text COLLATE "C" NOT NULL REFERENCES campaigns(id),
    subscription  text COLLATE "C" NOT NULL,
    recipients    text COLLATE "C" NOT NULL CHECK (pitstop_json_is(recipients, 'array')),
    subject       text COLLATE "C" NOT NULL,
    body          text COLLATE "C" NOT NULL,
    queued_at     text COLLATE "C" NOT NULL,
    first_start   text COLLATE "C" NOT NULL,
    sent_at       text COLLATE "C",
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text COLLATE "C",
    UNIQUE (campaign, subscription)
);

-- The audit log: append-only and chained.

CREATE TABLE audit_log (
    seq        bigint PRIMARY KEY,
    at         text COLLATE "C" NOT NULL,
    actor      text COLLATE "C" NOT NULL,
    action     text COLLATE "C" NOT NULL,
    details    text COLLATE "C" NOT NULL CHECK (pitstop_json_is(details, NULL)),
    prev_hash  text COLLATE "C" NOT NULL,
    hash       text COLLATE "C" NOT NULL UNIQUE
);
CREATE INDEX audit_log_by_action ON audit_log(action, seq);
CREATE INDEX audit_log_by_at ON audit_log(at, seq);

CREATE TABLE audit_subjects (
    seq   bigint NOT NULL REFERENCES audit_log(seq),
    kind  text COLLATE "C" NOT NULL CHECK (kind IN ('vm', 'set', 'region', 'subscription', 'campaign', 'event', 'wave', 'window', 'blackout', 'notice')),
    name  text COLLATE "C" NOT NULL,
    PRIMARY KEY (kind, name, seq)
);
CREATE INDEX audit_subjects_by_seq ON audit_subjects(seq);

CREATE TABLE audit_keys (
    public_key   text COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(public_key) = 44),
    fingerprint  text COLLATE "C" NOT NULL UNIQUE CHECK (length(fingerprint) = 16),
    created_at   text COLLATE "C" NOT NULL
);

-- Append-only: rows are never changed or removed, nor the tables emptied.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
FOR EACH ROW EXECUTE FUNCTION pitstop_refuse('audit_log is append-only');
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION pitstop_refuse('audit_log is append-only');
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION pitstop_refuse('audit_log is append-only');
CREATE TRIGGER audit_subjects_no_update BEFORE UPDATE ON audit_subjects
FOR EACH ROW EXECUTE FUNCTION pitstop_refuse('audit_subjects is append-only');
CREATE TRIGGER audit_subjects_no_delete BEFORE DELETE ON audit_subjects
FOR EACH ROW EXECUTE FUNCTION pitstop_refuse('audit_subjects is append-only');
CREATE TRIGGER audit_subjects_no_truncate BEFORE TRUNCATE ON audit_subjects
FOR EACH STATEMENT EXECUTE FUNCTION pitstop_refuse('audit_subjects is append-only');
CREATE TRIGGER audit_keys_no_update BEFORE UPDATE ON audit_keys
FOR EACH ROW EXECUTE FUNCTION pitstop_refuse('audit_keys is append-only');
CREATE TRIGGER audit_keys_no_delete BEFORE DELETE ON audit_keys
FOR EACH ROW EXECUTE FUNCTION pitstop_refuse('audit_keys is append-only');
CREATE TRIGGER audit_keys_no_truncate BEFORE TRUNCATE ON audit_keys
FOR EACH STATEMENT EXECUTE FUNCTION pitstop_refuse('audit_keys is append-only');
-- An insert over an existing entry or key is refused in the same words as on SQLite (its
-- *_no_replace triggers), before the unique index would.
CREATE FUNCTION audit_log_no_replace() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq OR hash = NEW.hash) THEN
        RAISE EXCEPTION USING MESSAGE = 'audit_log is append-only';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_no_replace();
CREATE FUNCTION audit_keys_no_replace() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM audit_keys WHERE public_key = NEW.public_key OR fingerprint = NEW.fingerprint) THEN
        RAISE EXCEPTION USING MESSAGE = 'audit_keys is append-only';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_keys_no_replace BEFORE INSERT ON audit_keys
FOR EACH ROW EXECUTE FUNCTION audit_keys_no_replace();

-- The scheduled-events endpoint's incarnations: rising, kept.

CREATE TABLE scheduled_event_documents (
    vm           text COLLATE "C" NOT NULL PRIMARY KEY,
    incarnation  bigint NOT NULL CHECK (incarnation >= 1),
    digest       text COLLATE "C" NOT NULL,
    changed_at   text COLLATE "C" NOT NULL
);

CREATE FUNCTION scheduled_event_documents_never_back() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.incarnation < OLD.incarnation OR NEW.vm <> OLD.vm THEN
        RAISE EXCEPTION USING MESSAGE = 'a document incarnation never goes back';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER scheduled_event_documents_never_back BEFORE UPDATE ON scheduled_event_documents
FOR EACH ROW EXECUTE FUNCTION scheduled_event_documents_never_back();
CREATE TRIGGER scheduled_event_documents_no_delete BEFORE DELETE ON scheduled_event_documents
FOR EACH ROW EXECUTE FUNCTION pitstop_refuse('a document incarnation is kept: removing it would let it start over');
CREATE TRIGGER scheduled_event_documents_no_truncate BEFORE TRUNCATE ON scheduled_event_documents
FOR EACH STATEMENT EXECUTE FUNCTION pitstop_refuse('a document incarnation is kept: removing it would let it start over');

-- The REST API's bearer tokens (hashes only).

CREATE TABLE api_tokens (
    name          text COLLATE "C" NOT NULL PRIMARY KEY
                  CHECK (length(name) BETWEEN 1 AND 64 AND name ~ '^[A-Za-z0-9._-]+$'),
    role          text COLLATE "C" NOT NULL CHECK (role IN ('viewer', 'executor', 'operator')),
    hash          text COLLATE "C" NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$'),
    created_at    text COLLATE "C" NOT NULL,
    created_by    text COLLATE "C" NOT NULL,
    last_used_at  text COLLATE "C"
);
