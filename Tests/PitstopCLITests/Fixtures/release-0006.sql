PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE pitstop_migrations (
    name        TEXT NOT NULL PRIMARY KEY,
    sha256      TEXT NOT NULL,
    applied_at  TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO pitstop_migrations VALUES('0001_inventory.sql','de883f15b21cf3844fc716f5c9579b0d3242dbeb979d70a1c72fd8d6269cb5e2','2026-12-03T05:36:34Z');
INSERT INTO pitstop_migrations VALUES('0002_scheduler.sql','a0d07cbeee94f39c41c51e01ed6c3d42c47f192de3daa47b7e4de296eb1dbc5c','2026-12-03T05:36:34Z');
INSERT INTO pitstop_migrations VALUES('0003_audit_indexes.sql','af2b36aec554d6da39f968c0f0611d0ed840f34ce436e72c45292f583f1a2b8c','2026-12-03T05:36:34Z');
INSERT INTO pitstop_migrations VALUES('0004_scheduled_events.sql','23e06af5af15f5ff241e024db428d49add9025d101a92291f1b854e95918479a','2026-12-03T05:36:34Z');
INSERT INTO pitstop_migrations VALUES('0005_audit_keys.sql','ad646f2cf71646519c7ca538bd50c48e0a3d973d80b727cdd1180c13936cee3f','2026-12-03T05:36:34Z');
INSERT INTO pitstop_migrations VALUES('0006_api_tokens.sql','8537d0966a69a419c849c1692e8264c10d23cc135c3ca03bf783563d6f80b811','2026-12-03T05:36:34Z');
CREATE TABLE regions (
    name          TEXT NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 256),
    display_name  TEXT CHECK (display_name IS NULL OR length(display_name) <= 256)
) WITHOUT ROWID;
INSERT INTO regions VALUES('eastus','East US');
INSERT INTO regions VALUES('northeurope','North Europe');
INSERT INTO regions VALUES('westus','West US');
CREATE TABLE region_pairs (
    region       TEXT NOT NULL REFERENCES regions(name),
    paired_with  TEXT NOT NULL REFERENCES regions(name),
    PRIMARY KEY (region, paired_with),
    CHECK (region <> paired_with)
) WITHOUT ROWID;
INSERT INTO region_pairs VALUES('eastus','westus');
CREATE TABLE subscriptions (
    id                TEXT NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 256),
    -- JSON arrays of e-mail addresses, in the order the operator gave them.
    admins            TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(admins) AND json_type(admins) = 'array'),
    co_admins         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(co_admins) AND json_type(co_admins) = 'array'),
    -- The IANA zone in which notices show times beside UTC.
    notice_time_zone  TEXT NOT NULL DEFAULT 'UTC'
) WITHOUT ROWID;
INSERT INTO subscriptions VALUES('contoso','["ops@contoso.example"]','["oncall@contoso.example"]','America/New_York');
INSERT INTO subscriptions VALUES('fabrikam','["it@fabrikam.example"]','[]','Europe/Dublin');
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
INSERT INTO availability_sets VALUES('api','westus','contoso',2,2,4);
INSERT INTO availability_sets VALUES('db','northeurope','fabrikam',2,3,4);
INSERT INTO availability_sets VALUES('web','eastus','contoso',3,3,6);
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
INSERT INTO vms VALUES('api-0','westus','contoso','api',0,0,NULL);
INSERT INTO vms VALUES('api-1','westus','contoso','api',0,1,NULL);
INSERT INTO vms VALUES('api-2','westus','contoso','api',1,1,NULL);
INSERT INTO vms VALUES('api-3','westus','contoso','api',0,0,NULL);
INSERT INTO vms VALUES('bastion-w','westus','contoso',NULL,NULL,NULL,NULL);
INSERT INTO vms VALUES('db-0','northeurope','fabrikam','db',0,0,'10.3.0.4');
INSERT INTO vms VALUES('db-1','northeurope','fabrikam','db',0,1,NULL);
INSERT INTO vms VALUES('db-2','northeurope','fabrikam','db',1,1,NULL);
INSERT INTO vms VALUES('db-3','northeurope','fabrikam','db',2,0,NULL);
INSERT INTO vms VALUES('jump-e','eastus','contoso',NULL,NULL,NULL,'10.1.9.9');
INSERT INTO vms VALUES('jump-n','northeurope','fabrikam',NULL,NULL,NULL,NULL);
INSERT INTO vms VALUES('web-0','eastus','contoso','web',0,0,'10.1.0.4');
INSERT INTO vms VALUES('web-1','eastus','contoso','web',0,1,'10.1.0.5');
INSERT INTO vms VALUES('web-3','eastus','contoso','web',1,0,NULL);
INSERT INTO vms VALUES('web-4','eastus','contoso','web',1,2,NULL);
INSERT INTO vms VALUES('web-5','eastus','contoso','web',2,1,NULL);
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
CREATE TABLE blackouts (
    name       TEXT NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 256),
    region     TEXT REFERENCES regions(name),
    start_utc  TEXT NOT NULL CHECK (start_utc GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    end_utc    TEXT NOT NULL CHECK (end_utc GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    CHECK (end_utc > start_utc)
) WITHOUT ROWID;
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
INSERT INTO campaigns VALUES('1d828782-2ef6-8ce2-9058-b86d1f3a3ffe','freeze','scheduled','2026-11-02T09:05:00Z','2026-11-02T09:20:00Z','["northeurope"]',30,1800,7776000,'live migration of hosts','2026-11-02T09:20:00Z','2026-11-02T10:22:00Z');
INSERT INTO campaigns VALUES('50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','reboot','scheduled','2026-11-02T12:00:00Z','2026-11-09T12:00:00Z','["eastus", "northeurope", "westus"]',900,1800,7776000,'host OS update 2026-11','2026-11-09T12:00:00Z','2026-11-09T15:15:00Z');
INSERT INTO campaigns VALUES('a13bd13c-7bac-8dc6-9eac-deaa12527193','reboot','cancelled','2026-11-02T13:00:00Z','2026-11-20T00:00:00Z','["eastus", "westus"]',900,1800,7776000,'firmware (superseded)','2026-11-20T00:00:00Z','2026-11-20T03:15:00Z');
INSERT INTO campaigns VALUES('a73e4476-020a-81ce-afec-b23386d22adb','reboot','scheduled','2026-11-09T13:56:00Z','2026-11-16T13:56:00Z','["westus"]',900,1800,7776000,'hypervisor patch','2026-11-16T13:56:00Z','2026-11-16T15:11:00Z');
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
INSERT INTO events VALUES(1,'325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-0','1d828782-2ef6-8ce2-9058-b86d1f3a3ffe','db-0','northeurope','db',0,0,'325ac404-c038-8d17-b3ae-c6c99fd36a2d','freeze','2026-11-02T09:20:00Z','2026-11-02T09:20:30Z','completed','2026-11-02T09:05:00Z',NULL,'2026-11-02T09:20:00Z','2026-11-02T09:20:25Z',0,NULL);
INSERT INTO events VALUES(2,'325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-1','1d828782-2ef6-8ce2-9058-b86d1f3a3ffe','db-1','northeurope','db',0,1,'325ac404-c038-8d17-b3ae-c6c99fd36a2d','freeze','2026-11-02T09:20:00Z','2026-11-02T09:20:30Z','completed','2026-11-02T09:05:00Z',NULL,'2026-11-02T09:20:00Z','2026-11-02T09:20:25Z',0,NULL);
INSERT INTO events VALUES(3,'f6e59982-83df-8c1f-b19d-584594590d4a/db-2','1d828782-2ef6-8ce2-9058-b86d1f3a3ffe','db-2','northeurope','db',1,1,'f6e59982-83df-8c1f-b19d-584594590d4a','freeze','2026-11-02T09:50:30Z','2026-11-02T09:51:00Z','completed','2026-11-02T09:05:00Z',NULL,'2026-11-02T09:50:30Z','2026-11-02T09:50:55Z',0,NULL);
INSERT INTO events VALUES(4,'e298b429-c5a0-8a85-893b-c80b2aec8de0/db-3','1d828782-2ef6-8ce2-9058-b86d1f3a3ffe','db-3','northeurope','db',2,0,'e298b429-c5a0-8a85-893b-c80b2aec8de0','freeze','2026-11-02T10:21:00Z','2026-11-02T10:21:30Z','completed','2026-11-02T09:05:00Z',NULL,'2026-11-02T10:21:00Z','2026-11-02T10:21:25Z',0,NULL);
INSERT INTO events VALUES(5,'5473cf58-93cd-8456-b8e7-b2177fa1b819/jump-n','1d828782-2ef6-8ce2-9058-b86d1f3a3ffe','jump-n','northeurope',NULL,NULL,NULL,'5473cf58-93cd-8456-b8e7-b2177fa1b819','freeze','2026-11-02T10:21:30Z','2026-11-02T10:22:00Z','cancelled','2026-11-02T09:05:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(6,'2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-0','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','web-0','eastus','web',0,0,'2c6e6183-593e-8578-a9a2-13f3bdd039e4','reboot','2026-11-09T12:00:00Z','2026-11-09T12:15:00Z','completed','2026-11-02T12:00:00Z','2026-11-04T12:00:00Z','2026-11-09T12:00:00Z','2026-11-09T12:14:00Z',0,'change CHG-1001');
INSERT INTO events VALUES(7,'2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-1','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','web-1','eastus','web',0,1,'2c6e6183-593e-8578-a9a2-13f3bdd039e4','reboot','2026-11-09T12:00:00Z','2026-11-09T12:15:00Z','failed','2026-11-02T12:00:00Z','2026-11-04T12:00:00Z','2026-11-09T12:00:00Z','2026-11-09T12:09:00Z',0,'change CHG-1001');
INSERT INTO events VALUES(8,'2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-2','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','web-2','eastus','web',0,2,'2c6e6183-593e-8578-a9a2-13f3bdd039e4','reboot','2026-11-09T12:00:00Z','2026-11-09T12:15:00Z','completed','2026-11-02T12:00:00Z','2026-11-04T12:00:00Z','2026-11-09T12:00:00Z','2026-11-09T12:14:00Z',0,'change CHG-1001');
INSERT INTO events VALUES(9,'ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-3','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','web-3','eastus','web',1,0,'ea7ede15-60d0-8e8c-97dc-1ef803c441d1','reboot','2026-11-09T12:45:00Z','2026-11-09T13:00:00Z','completed','2026-11-02T12:00:00Z',NULL,'2026-11-09T12:47:00Z','2026-11-09T12:57:00Z',0,NULL);
INSERT INTO events VALUES(10,'ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-4','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','web-4','eastus','web',1,2,'ea7ede15-60d0-8e8c-97dc-1ef803c441d1','reboot','2026-11-09T12:45:00Z','2026-11-09T13:00:00Z','completed','2026-11-02T12:00:00Z',NULL,'2026-11-09T12:47:00Z','2026-11-09T12:57:00Z',0,NULL);
INSERT INTO events VALUES(11,'39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083/web-5','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','web-5','eastus','web',2,1,'39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083','reboot','2026-11-09T13:30:00Z','2026-11-09T13:45:00Z','completed','2026-11-02T12:00:00Z','2026-11-09T13:00:00Z','2026-11-09T13:28:00Z','2026-11-09T13:39:00Z',0,NULL);
INSERT INTO events VALUES(12,'d76721c0-8522-86aa-90ff-b140f05e51a6/jump-e','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','jump-e','eastus',NULL,NULL,NULL,'d76721c0-8522-86aa-90ff-b140f05e51a6','reboot','2026-11-09T13:45:00Z','2026-11-09T14:00:00Z','completed','2026-11-02T12:00:00Z',NULL,'2026-11-09T13:05:00Z','2026-11-09T13:16:00Z',1,'security hotfix CVE-2026-0001');
INSERT INTO events VALUES(13,'afb38dac-af80-8a9e-a1f0-32e6c92908c6/db-0','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','db-0','northeurope','db',0,0,'afb38dac-af80-8a9e-a1f0-32e6c92908c6','reboot','2026-11-09T12:00:00Z','2026-11-09T12:15:00Z','started','2026-11-02T12:00:00Z',NULL,'2026-11-09T12:01:00Z',NULL,0,NULL);
INSERT INTO events VALUES(14,'afb38dac-af80-8a9e-a1f0-32e6c92908c6/db-1','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','db-1','northeurope','db',0,1,'afb38dac-af80-8a9e-a1f0-32e6c92908c6','reboot','2026-11-09T12:00:00Z','2026-11-09T12:15:00Z','started','2026-11-02T12:00:00Z',NULL,'2026-11-09T12:01:00Z',NULL,0,NULL);
INSERT INTO events VALUES(15,'ecb6e8f0-133c-8b66-9921-113a25ccafe5/db-2','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','db-2','northeurope','db',1,1,'ecb6e8f0-133c-8b66-9921-113a25ccafe5','reboot','2026-11-09T12:45:00Z','2026-11-09T13:00:00Z','scheduled','2026-11-02T12:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(16,'33c7e8be-d687-860d-af7e-4d82bdaf7083/db-3','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','db-3','northeurope','db',2,0,'33c7e8be-d687-860d-af7e-4d82bdaf7083','reboot','2026-11-09T13:30:00Z','2026-11-09T13:45:00Z','scheduled','2026-11-02T12:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(17,'a2419e5f-7e7c-8bc6-bf44-08718fbd435f/jump-n','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','jump-n','northeurope',NULL,NULL,NULL,'a2419e5f-7e7c-8bc6-bf44-08718fbd435f','reboot','2026-11-09T13:45:00Z','2026-11-09T14:00:00Z','scheduled','2026-11-02T12:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(18,'68325990-321f-8464-bacc-4c7d08a2b8bb/api-0','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','api-0','westus','api',0,0,'68325990-321f-8464-bacc-4c7d08a2b8bb','reboot','2026-11-09T14:00:00Z','2026-11-09T14:15:00Z','scheduled','2026-11-02T12:00:00Z','2026-11-04T12:10:00Z',NULL,NULL,0,NULL);
INSERT INTO events VALUES(19,'68325990-321f-8464-bacc-4c7d08a2b8bb/api-1','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','api-1','westus','api',0,1,'68325990-321f-8464-bacc-4c7d08a2b8bb','reboot','2026-11-09T14:00:00Z','2026-11-09T14:15:00Z','scheduled','2026-11-02T12:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(20,'425dc08d-4784-8050-a77b-9b4eac955793/api-2','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','api-2','westus','api',1,1,'425dc08d-4784-8050-a77b-9b4eac955793','reboot','2026-11-09T14:45:00Z','2026-11-09T15:00:00Z','scheduled','2026-11-02T12:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(21,'425dc08d-4784-8050-a77b-9b4eac955793/api-3','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','api-3','westus','api',1,0,'425dc08d-4784-8050-a77b-9b4eac955793','reboot','2026-11-09T14:45:00Z','2026-11-09T15:00:00Z','scheduled','2026-11-02T12:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(22,'589f1809-f7c3-8ac0-8621-41a4040a215c/bastion-w','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','bastion-w','westus',NULL,NULL,NULL,'589f1809-f7c3-8ac0-8621-41a4040a215c','reboot','2026-11-09T15:00:00Z','2026-11-09T15:15:00Z','scheduled','2026-11-02T12:00:00Z','2026-11-09T13:55:00Z',NULL,NULL,0,NULL);
INSERT INTO events VALUES(23,'7bcacdf1-a4e1-8bff-9109-5e2e8e6ad093/web-0','a13bd13c-7bac-8dc6-9eac-deaa12527193','web-0','eastus','web',0,0,'7bcacdf1-a4e1-8bff-9109-5e2e8e6ad093','reboot','2026-11-20T00:00:00Z','2026-11-20T00:15:00Z','cancelled','2026-11-02T13:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(24,'7bcacdf1-a4e1-8bff-9109-5e2e8e6ad093/web-1','a13bd13c-7bac-8dc6-9eac-deaa12527193','web-1','eastus','web',0,1,'7bcacdf1-a4e1-8bff-9109-5e2e8e6ad093','reboot','2026-11-20T00:00:00Z','2026-11-20T00:15:00Z','cancelled','2026-11-02T13:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(25,'7bcacdf1-a4e1-8bff-9109-5e2e8e6ad093/web-2','a13bd13c-7bac-8dc6-9eac-deaa12527193','web-2','eastus','web',0,2,'7bcacdf1-a4e1-8bff-9109-5e2e8e6ad093','reboot','2026-11-20T00:00:00Z','2026-11-20T00:15:00Z','cancelled','2026-11-02T13:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(26,'3f5f2c9e-410b-86f0-b4bb-cfa0f67b5c29/web-3','a13bd13c-7bac-8dc6-9eac-deaa12527193','web-3','eastus','web',1,0,'3f5f2c9e-410b-86f0-b4bb-cfa0f67b5c29','reboot','2026-11-20T00:45:00Z','2026-11-20T01:00:00Z','cancelled','2026-11-02T13:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(27,'3f5f2c9e-410b-86f0-b4bb-cfa0f67b5c29/web-4','a13bd13c-7bac-8dc6-9eac-deaa12527193','web-4','eastus','web',1,2,'3f5f2c9e-410b-86f0-b4bb-cfa0f67b5c29','reboot','2026-11-20T00:45:00Z','2026-11-20T01:00:00Z','cancelled','2026-11-02T13:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(28,'8d323376-6a4a-831f-bedb-9a2fa25af030/web-5','a13bd13c-7bac-8dc6-9eac-deaa12527193','web-5','eastus','web',2,1,'8d323376-6a4a-831f-bedb-9a2fa25af030','reboot','2026-11-20T01:30:00Z','2026-11-20T01:45:00Z','cancelled','2026-11-02T13:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(29,'cbef506a-d23e-87b6-96af-16c8ee90e1b4/jump-e','a13bd13c-7bac-8dc6-9eac-deaa12527193','jump-e','eastus',NULL,NULL,NULL,'cbef506a-d23e-87b6-96af-16c8ee90e1b4','reboot','2026-11-20T01:45:00Z','2026-11-20T02:00:00Z','cancelled','2026-11-02T13:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(30,'577bb209-8445-8147-a07b-4913c8a31839/api-0','a13bd13c-7bac-8dc6-9eac-deaa12527193','api-0','westus','api',0,0,'577bb209-8445-8147-a07b-4913c8a31839','reboot','2026-11-20T02:00:00Z','2026-11-20T02:15:00Z','cancelled','2026-11-02T13:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(31,'577bb209-8445-8147-a07b-4913c8a31839/api-1','a13bd13c-7bac-8dc6-9eac-deaa12527193','api-1','westus','api',0,1,'577bb209-8445-8147-a07b-4913c8a31839','reboot','2026-11-20T02:00:00Z','2026-11-20T02:15:00Z','cancelled','2026-11-02T13:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(32,'96852ba6-224d-8e6f-884f-e5bd0f49c4bd/api-2','a13bd13c-7bac-8dc6-9eac-deaa12527193','api-2','westus','api',1,1,'96852ba6-224d-8e6f-884f-e5bd0f49c4bd','reboot','2026-11-20T02:45:00Z','2026-11-20T03:00:00Z','cancelled','2026-11-02T13:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(33,'96852ba6-224d-8e6f-884f-e5bd0f49c4bd/api-3','a13bd13c-7bac-8dc6-9eac-deaa12527193','api-3','westus','api',1,0,'96852ba6-224d-8e6f-884f-e5bd0f49c4bd','reboot','2026-11-20T02:45:00Z','2026-11-20T03:00:00Z','cancelled','2026-11-02T13:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(34,'7b0a2dba-9e9b-85e3-8cd3-ff86a45f71eb/bastion-w','a13bd13c-7bac-8dc6-9eac-deaa12527193','bastion-w','westus',NULL,NULL,NULL,'7b0a2dba-9e9b-85e3-8cd3-ff86a45f71eb','reboot','2026-11-20T03:00:00Z','2026-11-20T03:15:00Z','cancelled','2026-11-02T13:00:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(35,'670f2f54-043f-8342-9e43-1201c33ba7e4/api-0','a73e4476-020a-81ce-afec-b23386d22adb','api-0','westus','api',0,0,'670f2f54-043f-8342-9e43-1201c33ba7e4','reboot','2026-11-16T13:56:00Z','2026-11-16T14:11:00Z','scheduled','2026-11-09T13:56:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(36,'670f2f54-043f-8342-9e43-1201c33ba7e4/api-1','a73e4476-020a-81ce-afec-b23386d22adb','api-1','westus','api',0,1,'670f2f54-043f-8342-9e43-1201c33ba7e4','reboot','2026-11-16T13:56:00Z','2026-11-16T14:11:00Z','scheduled','2026-11-09T13:56:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(37,'670f2f54-043f-8342-9e43-1201c33ba7e4/api-3','a73e4476-020a-81ce-afec-b23386d22adb','api-3','westus','api',0,0,'670f2f54-043f-8342-9e43-1201c33ba7e4','reboot','2026-11-16T13:56:00Z','2026-11-16T14:11:00Z','scheduled','2026-11-09T13:56:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(38,'c45facd2-df6b-81bf-9924-3ca7f06f858d/api-2','a73e4476-020a-81ce-afec-b23386d22adb','api-2','westus','api',1,1,'c45facd2-df6b-81bf-9924-3ca7f06f858d','reboot','2026-11-16T14:41:00Z','2026-11-16T14:56:00Z','scheduled','2026-11-09T13:56:00Z',NULL,NULL,NULL,0,NULL);
INSERT INTO events VALUES(39,'cdc7d558-d4a5-831c-898a-d2f0435cefe0/bastion-w','a73e4476-020a-81ce-afec-b23386d22adb','bastion-w','westus',NULL,NULL,NULL,'cdc7d558-d4a5-831c-898a-d2f0435cefe0','reboot','2026-11-16T14:56:00Z','2026-11-16T15:11:00Z','scheduled','2026-11-09T13:56:00Z',NULL,NULL,NULL,0,NULL);
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
INSERT INTO notices VALUES(1,'50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','contoso','["ops@contoso.example", "oncall@contoso.example"]','Planned reboot maintenance of 12 VMs from 2026-11-09T12:00:00Z',replace('Planned maintenance (reboot) for subscription contoso.\nCampaign 50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23: host OS update 2026-11\n12 VMs in 7 waves, from 2026-11-09T12:00:00Z to 2026-11-09T15:15:00Z (UTC).\nTimes are UTC, then America/New_York. Each VM is rebooted for up to 15m.\n\nWave 2c6e6183-593e-8578-a9a2-13f3bdd039e4: eastus, set web, update domain 0\n  2026-11-09T12:00:00Z to 2026-11-09T12:15:00Z (2026-11-09T07:00:00 to 2026-11-09T07:15:00 America/New_York)\n  VMs: web-0, web-1, web-2\n\nWave ea7ede15-60d0-8e8c-97dc-1ef803c441d1: eastus, set web, update domain 1\n  2026-11-09T12:45:00Z to 2026-11-09T13:00:00Z (2026-11-09T07:45:00 to 2026-11-09T08:00:00 America/New_York)\n  VMs: web-3, web-4\n\nWave 39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083: eastus, set web, update domain 2\n  2026-11-09T13:30:00Z to 2026-11-09T13:45:00Z (2026-11-09T08:30:00 to 2026-11-09T08:45:00 America/New_York)\n  VMs: web-5\n\nWave d76721c0-8522-86aa-90ff-b140f05e51a6: eastus, single-instance VMs\n  2026-11-09T13:45:00Z to 2026-11-09T14:00:00Z (2026-11-09T08:45:00 to 2026-11-09T09:00:00 America/New_York)\n  VMs: jump-e\n\nWave 68325990-321f-8464-bacc-4c7d08a2b8bb: westus, set api, update domain 0\n  2026-11-09T14:00:00Z to 2026-11-09T14:15:00Z (2026-11-09T09:00:00 to 2026-11-09T09:15:00 America/New_York)\n  VMs: api-0, api-1\n\nWave 425dc08d-4784-8050-a77b-9b4eac955793: westus, set api, update domain 1\n  2026-11-09T14:45:00Z to 2026-11-09T15:00:00Z (2026-11-09T09:45:00 to 2026-11-09T10:00:00 America/New_York)\n  VMs: api-2, api-3\n\nWave 589f1809-f7c3-8ac0-8621-41a4040a215c: westus, single-instance VMs\n  2026-11-09T15:00:00Z to 2026-11-09T15:15:00Z (2026-11-09T10:00:00 to 2026-11-09T10:15:00 America/New_York)\n  VMs: bastion-w\n','\n',char(10)),'2026-11-02T12:00:00Z','2026-11-09T12:00:00Z','2026-11-02T12:00:00Z',1,NULL);
INSERT INTO notices VALUES(2,'50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23','fabrikam','["it@fabrikam.example"]','Planned reboot maintenance of 5 VMs from 2026-11-09T12:00:00Z',replace('Planned maintenance (reboot) for subscription fabrikam.\nCampaign 50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23: host OS update 2026-11\n5 VMs in 4 waves, from 2026-11-09T12:00:00Z to 2026-11-09T14:00:00Z (UTC).\nTimes are UTC, then Europe/Dublin. Each VM is rebooted for up to 15m.\n\nWave afb38dac-af80-8a9e-a1f0-32e6c92908c6: northeurope, set db, update domain 0\n  2026-11-09T12:00:00Z to 2026-11-09T12:15:00Z (2026-11-09T12:00:00 to 2026-11-09T12:15:00 Europe/Dublin)\n  VMs: db-0, db-1\n\nWave ecb6e8f0-133c-8b66-9921-113a25ccafe5: northeurope, set db, update domain 1\n  2026-11-09T12:45:00Z to 2026-11-09T13:00:00Z (2026-11-09T12:45:00 to 2026-11-09T13:00:00 Europe/Dublin)\n  VMs: db-2\n\nWave 33c7e8be-d687-860d-af7e-4d82bdaf7083: northeurope, set db, update domain 2\n  2026-11-09T13:30:00Z to 2026-11-09T13:45:00Z (2026-11-09T13:30:00 to 2026-11-09T13:45:00 Europe/Dublin)\n  VMs: db-3\n\nWave a2419e5f-7e7c-8bc6-bf44-08718fbd435f: northeurope, single-instance VMs\n  2026-11-09T13:45:00Z to 2026-11-09T14:00:00Z (2026-11-09T13:45:00 to 2026-11-09T14:00:00 Europe/Dublin)\n  VMs: jump-n\n','\n',char(10)),'2026-11-02T12:00:00Z','2026-11-09T12:00:00Z','2026-11-02T12:00:00Z',1,NULL);
INSERT INTO notices VALUES(3,'a13bd13c-7bac-8dc6-9eac-deaa12527193','contoso','["ops@contoso.example", "oncall@contoso.example"]','Planned reboot maintenance of 12 VMs from 2026-11-20T00:00:00Z',replace('Planned maintenance (reboot) for subscription contoso.\nCampaign a13bd13c-7bac-8dc6-9eac-deaa12527193: firmware (superseded)\n12 VMs in 7 waves, from 2026-11-20T00:00:00Z to 2026-11-20T03:15:00Z (UTC).\nTimes are UTC, then America/New_York. Each VM is rebooted for up to 15m.\n\nWave 7bcacdf1-a4e1-8bff-9109-5e2e8e6ad093: eastus, set web, update domain 0\n  2026-11-20T00:00:00Z to 2026-11-20T00:15:00Z (2026-11-19T19:00:00 to 2026-11-19T19:15:00 America/New_York)\n  VMs: web-0, web-1, web-2\n\nWave 3f5f2c9e-410b-86f0-b4bb-cfa0f67b5c29: eastus, set web, update domain 1\n  2026-11-20T00:45:00Z to 2026-11-20T01:00:00Z (2026-11-19T19:45:00 to 2026-11-19T20:00:00 America/New_York)\n  VMs: web-3, web-4\n\nWave 8d323376-6a4a-831f-bedb-9a2fa25af030: eastus, set web, update domain 2\n  2026-11-20T01:30:00Z to 2026-11-20T01:45:00Z (2026-11-19T20:30:00 to 2026-11-19T20:45:00 America/New_York)\n  VMs: web-5\n\nWave cbef506a-d23e-87b6-96af-16c8ee90e1b4: eastus, single-instance VMs\n  2026-11-20T01:45:00Z to 2026-11-20T02:00:00Z (2026-11-19T20:45:00 to 2026-11-19T21:00:00 America/New_York)\n  VMs: jump-e\n\nWave 577bb209-8445-8147-a07b-4913c8a31839: westus, set api, update domain 0\n  2026-11-20T02:00:00Z to 2026-11-20T02:15:00Z (2026-11-19T21:00:00 to 2026-11-19T21:15:00 America/New_York)\n  VMs: api-0, api-1\n\nWave 96852ba6-224d-8e6f-884f-e5bd0f49c4bd: westus, set api, update domain 1\n  2026-11-20T02:45:00Z to 2026-11-20T03:00:00Z (2026-11-19T21:45:00 to 2026-11-19T22:00:00 America/New_York)\n  VMs: api-2, api-3\n\nWave 7b0a2dba-9e9b-85e3-8cd3-ff86a45f71eb: westus, single-instance VMs\n  2026-11-20T03:00:00Z to 2026-11-20T03:15:00Z (2026-11-19T22:00:00 to 2026-11-19T22:15:00 America/New_York)\n  VMs: bastion-w\n','\n',char(10)),'2026-11-02T13:00:00Z','2026-11-20T00:00:00Z',NULL,0,NULL);
INSERT INTO notices VALUES(4,'a73e4476-020a-81ce-afec-b23386d22adb','contoso','["ops@contoso.example", "oncall@contoso.example"]','Planned reboot maintenance of 5 VMs from 2026-11-16T13:56:00Z',replace('Planned maintenance (reboot) for subscription contoso.\nCampaign a73e4476-020a-81ce-afec-b23386d22adb: hypervisor patch\n5 VMs in 3 waves, from 2026-11-16T13:56:00Z to 2026-11-16T15:11:00Z (UTC).\nTimes are UTC, then America/New_York. Each VM is rebooted for up to 15m.\n\nWave 670f2f54-043f-8342-9e43-1201c33ba7e4: westus, set api, update domain 0\n  2026-11-16T13:56:00Z to 2026-11-16T14:11:00Z (2026-11-16T08:56:00 to 2026-11-16T09:11:00 America/New_York)\n  VMs: api-0, api-1, api-3\n\nWave c45facd2-df6b-81bf-9924-3ca7f06f858d: westus, set api, update domain 1\n  2026-11-16T14:41:00Z to 2026-11-16T14:56:00Z (2026-11-16T09:41:00 to 2026-11-16T09:56:00 America/New_York)\n  VMs: api-2\n\nWave cdc7d558-d4a5-831c-898a-d2f0435cefe0: westus, single-instance VMs\n  2026-11-16T14:56:00Z to 2026-11-16T15:11:00Z (2026-11-16T09:56:00 to 2026-11-16T10:11:00 America/New_York)\n  VMs: bastion-w\n','\n',char(10)),'2026-11-09T13:56:00Z','2026-11-16T13:56:00Z',NULL,0,NULL);
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
INSERT INTO audit_log VALUES(1,'2026-11-02T09:00:00Z','release-0006-fixture','inventory.imported','{"file": "fleet.json", "format": "json", "counts": {"regions": {"added": 3, "updated": 0, "unchanged": 0}, "regionPairs": {"added": 1, "updated": 0, "unchanged": 0}, "subscriptions": {"added": 2, "updated": 0, "unchanged": 0}, "availabilitySets": {"added": 3, "updated": 0, "unchanged": 0}, "vms": {"added": 17, "updated": 0, "unchanged": 0}}, "vmSubjects": true}','0000000000000000000000000000000000000000000000000000000000000000','56d3b1f4a11c22d573e20bbe10273c0f057a6e426ab796a3cc9a4fd5942b3af6');
INSERT INTO audit_log VALUES(2,'2026-11-02T09:01:00Z','release-0006-fixture','audit.key.recorded','{"key": "8348d158f7f4d153", "publicKey": "Xc5eMvul6wNkeWquDEcJK4CvWL8Sm7Sq2Kul6quWFKc="}','56d3b1f4a11c22d573e20bbe10273c0f057a6e426ab796a3cc9a4fd5942b3af6','d16adee9de03cf5b85f70bffe9c68b2ccb07d5ed14ba990e9f62b32bda100dc6');
INSERT INTO audit_log VALUES(3,'2026-11-02T09:05:00Z','release-0006-fixture','campaign.planned','{"kind": "freeze", "regions": ["northeurope"], "notBefore": "2026-11-02T09:20:00Z", "start": "2026-11-02T09:20:00Z", "end": "2026-11-02T10:22:00Z", "events": 5, "waves": 4, "perVMSeconds": 30, "udGapSeconds": 1800, "description": "live migration of hosts"}','d16adee9de03cf5b85f70bffe9c68b2ccb07d5ed14ba990e9f62b32bda100dc6','d1cc56a4daa31e453e67397483f338f68119e593956bcc224854a4a5257b9986');
INSERT INTO audit_log VALUES(4,'2026-11-02T09:06:00Z','release-0006-fixture','event.cancelled','{"at": "2026-11-02T09:06:00Z", "events": ["5473cf58-93cd-8456-b8e7-b2177fa1b819/jump-n"], "plannedStart": "2026-11-02T10:21:30Z", "plannedEnd": "2026-11-02T10:22:00Z", "reason": "owner asked to skip"}','d1cc56a4daa31e453e67397483f338f68119e593956bcc224854a4a5257b9986','d700d126423e54f36dad865efedf470b86abcd1de83effea6b84334ac678bc0b');
INSERT INTO audit_log VALUES(5,'2026-11-02T09:20:00Z','release-0006-fixture','event.started','{"at": "2026-11-02T09:20:00Z", "events": ["325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-0", "325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-1"], "wave": "325ac404-c038-8d17-b3ae-c6c99fd36a2d", "plannedStart": "2026-11-02T09:20:00Z", "plannedEnd": "2026-11-02T09:20:30Z", "forced": false, "early": false, "reason": null, "conflicts": [], "unapproved": []}','d700d126423e54f36dad865efedf470b86abcd1de83effea6b84334ac678bc0b','836e3caefff6473c71a1c02d84025ebdad81a483354ded3c9b8e944b77bbc87a');
INSERT INTO audit_log VALUES(6,'2026-11-02T09:20:25Z','release-0006-fixture','event.completed','{"at": "2026-11-02T09:20:25Z", "events": ["325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-0", "325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-1"], "wave": "325ac404-c038-8d17-b3ae-c6c99fd36a2d", "plannedStart": "2026-11-02T09:20:00Z", "plannedEnd": "2026-11-02T09:20:30Z", "reason": null, "durations": [{"event": "325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-0", "actualStart": "2026-11-02T09:20:00Z", "seconds": 25, "plannedSeconds": 30, "tooLong": false}, {"event": "325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-1", "actualStart": "2026-11-02T09:20:00Z", "seconds": 25, "plannedSeconds": 30, "tooLong": false}]}','836e3caefff6473c71a1c02d84025ebdad81a483354ded3c9b8e944b77bbc87a','8732a0a549ff4dec929efb9863b7eeaea77a6fc7f99cd430c12588bbd1cf89fd');
INSERT INTO audit_log VALUES(7,'2026-11-02T09:50:30Z','release-0006-fixture','event.started','{"at": "2026-11-02T09:50:30Z", "events": ["f6e59982-83df-8c1f-b19d-584594590d4a/db-2"], "wave": "f6e59982-83df-8c1f-b19d-584594590d4a", "plannedStart": "2026-11-02T09:50:30Z", "plannedEnd": "2026-11-02T09:51:00Z", "forced": false, "early": false, "reason": null, "conflicts": [], "unapproved": []}','8732a0a549ff4dec929efb9863b7eeaea77a6fc7f99cd430c12588bbd1cf89fd','b92a44ba84f55ca2b2d1051501e34da098009b3e691368c4eff56d36f423729b');
INSERT INTO audit_log VALUES(8,'2026-11-02T09:50:55Z','release-0006-fixture','event.completed','{"at": "2026-11-02T09:50:55Z", "events": ["f6e59982-83df-8c1f-b19d-584594590d4a/db-2"], "wave": "f6e59982-83df-8c1f-b19d-584594590d4a", "plannedStart": "2026-11-02T09:50:30Z", "plannedEnd": "2026-11-02T09:51:00Z", "reason": null, "durations": [{"event": "f6e59982-83df-8c1f-b19d-584594590d4a/db-2", "actualStart": "2026-11-02T09:50:30Z", "seconds": 25, "plannedSeconds": 30, "tooLong": false}]}','b92a44ba84f55ca2b2d1051501e34da098009b3e691368c4eff56d36f423729b','14806a0202ce3ffeea0d28799c5251048dc777002aac91cedf07ebe9c8f2edbd');
INSERT INTO audit_log VALUES(9,'2026-11-02T10:21:00Z','release-0006-fixture','event.started','{"at": "2026-11-02T10:21:00Z", "events": ["e298b429-c5a0-8a85-893b-c80b2aec8de0/db-3"], "wave": "e298b429-c5a0-8a85-893b-c80b2aec8de0", "plannedStart": "2026-11-02T10:21:00Z", "plannedEnd": "2026-11-02T10:21:30Z", "forced": false, "early": false, "reason": null, "conflicts": [], "unapproved": []}','14806a0202ce3ffeea0d28799c5251048dc777002aac91cedf07ebe9c8f2edbd','78c66157c8077b60cfd9c6638bdc303b662bfb5b99ac26c75e68ed0c80a83350');
INSERT INTO audit_log VALUES(10,'2026-11-02T10:21:25Z','release-0006-fixture','event.completed','{"at": "2026-11-02T10:21:25Z", "events": ["e298b429-c5a0-8a85-893b-c80b2aec8de0/db-3"], "wave": "e298b429-c5a0-8a85-893b-c80b2aec8de0", "plannedStart": "2026-11-02T10:21:00Z", "plannedEnd": "2026-11-02T10:21:30Z", "reason": null, "durations": [{"event": "e298b429-c5a0-8a85-893b-c80b2aec8de0/db-3", "actualStart": "2026-11-02T10:21:00Z", "seconds": 25, "plannedSeconds": 30, "tooLong": false}]}','78c66157c8077b60cfd9c6638bdc303b662bfb5b99ac26c75e68ed0c80a83350','ef5721d9777fd37d7e83676e5233a4aeda21f26d62fd5b48a727027b3d432f41');
INSERT INTO audit_log VALUES(11,'2026-11-02T12:00:00Z','release-0006-fixture','campaign.planned','{"kind": "reboot", "regions": ["eastus", "northeurope", "westus"], "notBefore": "2026-11-09T12:00:00Z", "start": "2026-11-09T12:00:00Z", "end": "2026-11-09T15:15:00Z", "events": 17, "waves": 11, "perVMSeconds": 900, "udGapSeconds": 1800, "description": "host OS update 2026-11"}','ef5721d9777fd37d7e83676e5233a4aeda21f26d62fd5b48a727027b3d432f41','77c1a2a735417acffd1592299cd5ac0fbaad9d2d4c0623ba467ff58aa65c23ac');
INSERT INTO audit_log VALUES(12,'2026-11-02T12:00:00Z','release-0006-fixture','notice.queued','{"recipients": ["ops@contoso.example", "oncall@contoso.example"], "firstStart": "2026-11-09T12:00:00Z"}','77c1a2a735417acffd1592299cd5ac0fbaad9d2d4c0623ba467ff58aa65c23ac','36e2fe607aee08525f91261be1286f7f5429c5ad07c2cc42044453ce2c886c98');
INSERT INTO audit_log VALUES(13,'2026-11-02T12:00:00Z','release-0006-fixture','notice.queued','{"recipients": ["it@fabrikam.example"], "firstStart": "2026-11-09T12:00:00Z"}','36e2fe607aee08525f91261be1286f7f5429c5ad07c2cc42044453ce2c886c98','f5b851f78107fd9a3af424e411a9b632d91084fd8897b1886f268dd64543e925');
INSERT INTO audit_log VALUES(14,'2026-11-02T12:00:00Z','release-0006-fixture','notice.sent','{"notice": 1, "messageId": "<notice-1.50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23@pitstop>", "recipients": ["ops@contoso.example", "oncall@contoso.example"], "transport": "outbox /tmp/pitstop-release-0006-outbox", "reply": "written notice-1-50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23.eml", "attempt": 1, "firstStart": "2026-11-09T12:00:00Z"}','f5b851f78107fd9a3af424e411a9b632d91084fd8897b1886f268dd64543e925','00dd41dffc5e48cf49cad1c3ae88077317c3a8ab7299dae68064cf416ec31135');
INSERT INTO audit_log VALUES(15,'2026-11-02T12:00:00Z','release-0006-fixture','notice.sent','{"notice": 2, "messageId": "<notice-2.50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23@pitstop>", "recipients": ["it@fabrikam.example"], "transport": "outbox /tmp/pitstop-release-0006-outbox", "reply": "written notice-2-50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23.eml", "attempt": 1, "firstStart": "2026-11-09T12:00:00Z"}','00dd41dffc5e48cf49cad1c3ae88077317c3a8ab7299dae68064cf416ec31135','7c055cb4e3b51166a93f7d4ad0a933dc2b4f50e92be2fcc96243ceec8339f927');
INSERT INTO audit_log VALUES(16,'2026-11-02T13:00:00Z','release-0006-fixture','campaign.planned','{"kind": "reboot", "regions": ["eastus", "westus"], "notBefore": "2026-11-20T00:00:00Z", "start": "2026-11-20T00:00:00Z", "end": "2026-11-20T03:15:00Z", "events": 12, "waves": 7, "perVMSeconds": 900, "udGapSeconds": 1800, "description": "firmware (superseded)"}','7c055cb4e3b51166a93f7d4ad0a933dc2b4f50e92be2fcc96243ceec8339f927','a2d29ecda19202e8f67a91e8df836d7b9df367c5fa4b6c15d30dad3f6663d164');
INSERT INTO audit_log VALUES(17,'2026-11-02T13:00:00Z','release-0006-fixture','notice.queued','{"recipients": ["ops@contoso.example", "oncall@contoso.example"], "firstStart": "2026-11-20T00:00:00Z"}','a2d29ecda19202e8f67a91e8df836d7b9df367c5fa4b6c15d30dad3f6663d164','d3351576a12223b3585c60f5099e6c074635316bbb1065ff2c0aea537ba94e7e');
INSERT INTO audit_log VALUES(18,'2026-11-02T13:30:00Z','release-0006-fixture','campaign.cancelled','{"eventsCancelled": 12}','d3351576a12223b3585c60f5099e6c074635316bbb1065ff2c0aea537ba94e7e','25f4e3d7107271b2d140eaf68cd30d9c1a0a9396b63cd6a6e1769a914868cddc');
INSERT INTO audit_log VALUES(19,'2026-11-04T12:00:00Z','release-0006-fixture','event.approved','{"at": "2026-11-04T12:00:00Z", "events": ["2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-0", "2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-1", "2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-2"], "wave": "2c6e6183-593e-8578-a9a2-13f3bdd039e4", "plannedStart": "2026-11-09T12:00:00Z", "plannedEnd": "2026-11-09T12:15:00Z", "reason": null}','25f4e3d7107271b2d140eaf68cd30d9c1a0a9396b63cd6a6e1769a914868cddc','cbae71a6bffe4ee699f6fdaebb757d5d91fc02a0a5cc1863f8fda181ba35cee1');
INSERT INTO audit_log VALUES(20,'2026-11-04T12:10:00Z','release-0006-fixture','event.approved','{"at": "2026-11-04T12:10:00Z", "events": ["68325990-321f-8464-bacc-4c7d08a2b8bb/api-0"], "plannedStart": "2026-11-09T14:00:00Z", "plannedEnd": "2026-11-09T14:15:00Z", "reason": null}','cbae71a6bffe4ee699f6fdaebb757d5d91fc02a0a5cc1863f8fda181ba35cee1','120cb8e3e014947a72b81a4a2030ae922f290ec0b2640f2e99eb31b9b94e125e');
INSERT INTO audit_log VALUES(21,'2026-11-04T12:20:00Z','release-0006-fixture','vm.moved','{"vm": "api-3", "from": {"region": "westus", "availabilitySet": "api", "updateDomain": 1, "faultDomain": 0}, "to": {"region": "westus", "availabilitySet": "api", "updateDomain": 0, "faultDomain": 0}}','120cb8e3e014947a72b81a4a2030ae922f290ec0b2640f2e99eb31b9b94e125e','e0716ab667fe944b80356809e598d7690a8d884d2ae20e75143d482030b06a5c');
INSERT INTO audit_log VALUES(22,'2026-11-09T12:00:00Z','release-0006-fixture','event.started','{"at": "2026-11-09T12:00:00Z", "events": ["2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-0", "2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-1", "2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-2"], "wave": "2c6e6183-593e-8578-a9a2-13f3bdd039e4", "plannedStart": "2026-11-09T12:00:00Z", "plannedEnd": "2026-11-09T12:15:00Z", "forced": false, "early": false, "reason": "change CHG-1001", "conflicts": [], "unapproved": []}','e0716ab667fe944b80356809e598d7690a8d884d2ae20e75143d482030b06a5c','2c945bd8ac43c735634c2b29f3822ea661bb160e4955e3072c1cc750aa4a52fa');
INSERT INTO audit_log VALUES(23,'2026-11-09T12:09:00Z','release-0006-fixture','event.failed','{"at": "2026-11-09T12:09:00Z", "events": ["2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-1"], "plannedStart": "2026-11-09T12:00:00Z", "plannedEnd": "2026-11-09T12:15:00Z", "reason": "did not come back after reboot: kernel panic", "durations": [{"event": "2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-1", "actualStart": "2026-11-09T12:00:00Z", "seconds": 540, "plannedSeconds": 900, "tooLong": false}]}','2c945bd8ac43c735634c2b29f3822ea661bb160e4955e3072c1cc750aa4a52fa','5a40d9a27ef1a0229b64e95b471f193fbc331161afecb073468d3a85176a9450');
INSERT INTO audit_log VALUES(24,'2026-11-09T12:14:00Z','release-0006-fixture','event.completed','{"at": "2026-11-09T12:14:00Z", "events": ["2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-0", "2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-2"], "wave": "2c6e6183-593e-8578-a9a2-13f3bdd039e4", "plannedStart": "2026-11-09T12:00:00Z", "plannedEnd": "2026-11-09T12:15:00Z", "reason": null, "durations": [{"event": "2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-0", "actualStart": "2026-11-09T12:00:00Z", "seconds": 840, "plannedSeconds": 900, "tooLong": false}, {"event": "2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-2", "actualStart": "2026-11-09T12:00:00Z", "seconds": 840, "plannedSeconds": 900, "tooLong": false}]}','5a40d9a27ef1a0229b64e95b471f193fbc331161afecb073468d3a85176a9450','00407e2536f427d4ceeab94b05c7a6b0991174cd574a87e5ed0819fb60ec6372');
INSERT INTO audit_log VALUES(25,'2026-11-09T12:47:00Z','release-0006-fixture','event.started','{"at": "2026-11-09T12:47:00Z", "events": ["ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-3", "ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-4"], "wave": "ea7ede15-60d0-8e8c-97dc-1ef803c441d1", "plannedStart": "2026-11-09T12:45:00Z", "plannedEnd": "2026-11-09T13:00:00Z", "forced": false, "early": false, "reason": null, "conflicts": [], "unapproved": []}','00407e2536f427d4ceeab94b05c7a6b0991174cd574a87e5ed0819fb60ec6372','fa3d0da5573bb6e8feb0360a1f23736618008dbe2cccb8519d5a321c7c99f45b');
INSERT INTO audit_log VALUES(26,'2026-11-09T12:57:00Z','release-0006-fixture','event.completed','{"at": "2026-11-09T12:57:00Z", "events": ["ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-3", "ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-4"], "wave": "ea7ede15-60d0-8e8c-97dc-1ef803c441d1", "plannedStart": "2026-11-09T12:45:00Z", "plannedEnd": "2026-11-09T13:00:00Z", "reason": null, "durations": [{"event": "ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-3", "actualStart": "2026-11-09T12:47:00Z", "seconds": 600, "plannedSeconds": 900, "tooLong": false}, {"event": "ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-4", "actualStart": "2026-11-09T12:47:00Z", "seconds": 600, "plannedSeconds": 900, "tooLong": false}]}','fa3d0da5573bb6e8feb0360a1f23736618008dbe2cccb8519d5a321c7c99f45b','256b23c9a155fe303fc58f93f348091c5a4f64d49c843ff6d7dcc431638657b6');
INSERT INTO audit_log VALUES(27,'2026-11-09T13:05:00Z','release-0006-fixture','event.started','{"at": "2026-11-09T13:05:00Z", "events": ["d76721c0-8522-86aa-90ff-b140f05e51a6/jump-e"], "plannedStart": "2026-11-09T13:45:00Z", "plannedEnd": "2026-11-09T14:00:00Z", "forced": true, "early": true, "reason": "security hotfix CVE-2026-0001", "conflicts": [{"rule": "single-before-multi", "events": ["39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083/web-5"], "message": "eastus: single-instance VMs wait until the region''s availability-set events of campaign 50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23 are done; 1 is not (0 running): event 39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083/web-5"}], "unapproved": ["d76721c0-8522-86aa-90ff-b140f05e51a6/jump-e"]}','256b23c9a155fe303fc58f93f348091c5a4f64d49c843ff6d7dcc431638657b6','65fc59cdf018f163da333c4e6319bcc6cfdb0c1ae658821da1dcebdaf552b859');
INSERT INTO audit_log VALUES(28,'2026-11-09T13:16:00Z','release-0006-fixture','event.completed','{"at": "2026-11-09T13:16:00Z", "events": ["d76721c0-8522-86aa-90ff-b140f05e51a6/jump-e"], "plannedStart": "2026-11-09T13:45:00Z", "plannedEnd": "2026-11-09T14:00:00Z", "reason": null, "durations": [{"event": "d76721c0-8522-86aa-90ff-b140f05e51a6/jump-e", "actualStart": "2026-11-09T13:05:00Z", "seconds": 660, "plannedSeconds": 900, "tooLong": false}]}','65fc59cdf018f163da333c4e6319bcc6cfdb0c1ae658821da1dcebdaf552b859','e18228b73df69436c144ff76e5f80c26b5f6fb5f5a9c10ab840ea49ad0f6fb4e');
INSERT INTO audit_log VALUES(29,'2026-11-09T13:00:00Z','release-0006-fixture','event.approved','{"at": "2026-11-09T13:00:00Z", "events": ["39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083/web-5"], "wave": "39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083", "plannedStart": "2026-11-09T13:30:00Z", "plannedEnd": "2026-11-09T13:45:00Z", "reason": null}','e18228b73df69436c144ff76e5f80c26b5f6fb5f5a9c10ab840ea49ad0f6fb4e','d46ca914cbd3bac7b0b889f37ec0c0a5230d6823e39cff8661a06b0231dc915f');
INSERT INTO audit_log VALUES(30,'2026-11-09T13:28:00Z','release-0006-fixture','event.started','{"at": "2026-11-09T13:28:00Z", "events": ["39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083/web-5"], "wave": "39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083", "plannedStart": "2026-11-09T13:30:00Z", "plannedEnd": "2026-11-09T13:45:00Z", "forced": false, "early": true, "reason": null, "conflicts": [], "unapproved": []}','d46ca914cbd3bac7b0b889f37ec0c0a5230d6823e39cff8661a06b0231dc915f','c42207ce6ead12b46256d4ac8e97df3e48461ba838bcd8942e05e6efd3f17cea');
INSERT INTO audit_log VALUES(31,'2026-11-09T13:39:00Z','release-0006-fixture','event.completed','{"at": "2026-11-09T13:39:00Z", "events": ["39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083/web-5"], "wave": "39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083", "plannedStart": "2026-11-09T13:30:00Z", "plannedEnd": "2026-11-09T13:45:00Z", "reason": null, "durations": [{"event": "39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083/web-5", "actualStart": "2026-11-09T13:28:00Z", "seconds": 660, "plannedSeconds": 900, "tooLong": false}]}','c42207ce6ead12b46256d4ac8e97df3e48461ba838bcd8942e05e6efd3f17cea','8c5fab8e51fa9a2ed1160da997206674097c3205f7edaa09e33738564d96cbe6');
INSERT INTO audit_log VALUES(32,'2026-11-09T12:01:00Z','release-0006-fixture','event.started','{"at": "2026-11-09T12:01:00Z", "events": ["afb38dac-af80-8a9e-a1f0-32e6c92908c6/db-0", "afb38dac-af80-8a9e-a1f0-32e6c92908c6/db-1"], "wave": "afb38dac-af80-8a9e-a1f0-32e6c92908c6", "plannedStart": "2026-11-09T12:00:00Z", "plannedEnd": "2026-11-09T12:15:00Z", "forced": false, "early": false, "reason": null, "conflicts": [], "unapproved": []}','8c5fab8e51fa9a2ed1160da997206674097c3205f7edaa09e33738564d96cbe6','dca15fd8a2e7776ffe4f5ffa3c54aec54f2f3b31103002538118cc6078b8b06d');
INSERT INTO audit_log VALUES(33,'2026-11-09T13:45:00Z','release-0006-fixture','vm.removed','{"name": "web-2", "region": "eastus", "subscription": "contoso", "availabilitySet": "web", "updateDomain": 0, "faultDomain": 2, "ipAddress": null}','dca15fd8a2e7776ffe4f5ffa3c54aec54f2f3b31103002538118cc6078b8b06d','13a2b8a343247b78d32d7d844144bed9dd5411cbb188580bb5d8c2a2c864f8f9');
INSERT INTO audit_log VALUES(34,'2026-11-09T13:50:00Z','release-0006-fixture','audit.checkpoint','{"seq": 33, "hash": "13a2b8a343247b78d32d7d844144bed9dd5411cbb188580bb5d8c2a2c864f8f9", "at": "2026-11-09T13:50:00Z", "key": "8348d158f7f4d153", "publicKey": "Xc5eMvul6wNkeWquDEcJK4CvWL8Sm7Sq2Kul6quWFKc=", "signature": "zVPYSeIqLMbCQw6Sk481+K4Irc4/DJAWf6EG5pihcMagohm6ONs1FcTxIZoSDZybsEX6UlFeoX8gTBUAey90AA=="}','13a2b8a343247b78d32d7d844144bed9dd5411cbb188580bb5d8c2a2c864f8f9','67c499ee291922aad0532b9f06b3744d69d95b3027a3dcfd85172cac7eae1e4c');
INSERT INTO audit_log VALUES(35,'2026-11-09T13:55:00Z','release-0006-fixture','event.approved','{"at": "2026-11-09T13:55:00Z", "events": ["589f1809-f7c3-8ac0-8621-41a4040a215c/bastion-w"], "plannedStart": "2026-11-09T15:00:00Z", "plannedEnd": "2026-11-09T15:15:00Z", "reason": null}','67c499ee291922aad0532b9f06b3744d69d95b3027a3dcfd85172cac7eae1e4c','a816707fc64815fcc2295daecb8e99deb2aac42b2bd6ff6eee4c2630e6c7f663');
INSERT INTO audit_log VALUES(36,'2026-11-09T13:56:00Z','release-0006-fixture','campaign.planned','{"kind": "reboot", "regions": ["westus"], "notBefore": "2026-11-16T13:56:00Z", "start": "2026-11-16T13:56:00Z", "end": "2026-11-16T15:11:00Z", "events": 5, "waves": 3, "perVMSeconds": 900, "udGapSeconds": 1800, "description": "hypervisor patch"}','a816707fc64815fcc2295daecb8e99deb2aac42b2bd6ff6eee4c2630e6c7f663','82540a5757a76a4ece0a582f13cc67a753d8cf48906aab5e25a40cbe97801e7c');
INSERT INTO audit_log VALUES(37,'2026-11-09T13:56:00Z','release-0006-fixture','notice.queued','{"recipients": ["ops@contoso.example", "oncall@contoso.example"], "firstStart": "2026-11-16T13:56:00Z"}','82540a5757a76a4ece0a582f13cc67a753d8cf48906aab5e25a40cbe97801e7c','6d85a81356000712a836cd67f7bcfde6c235b734cb5dba40da081b4ab7bb5b17');
CREATE TABLE audit_subjects (
    seq   INTEGER NOT NULL REFERENCES audit_log(seq),
    kind  TEXT NOT NULL CHECK (kind IN ('vm', 'set', 'region', 'subscription', 'campaign', 'event', 'wave', 'window', 'blackout', 'notice')),
    name  TEXT NOT NULL,
    PRIMARY KEY (kind, name, seq)
) WITHOUT ROWID;
INSERT INTO audit_subjects VALUES(1,'region','eastus');
INSERT INTO audit_subjects VALUES(1,'region','northeurope');
INSERT INTO audit_subjects VALUES(1,'region','westus');
INSERT INTO audit_subjects VALUES(1,'set','api');
INSERT INTO audit_subjects VALUES(1,'set','db');
INSERT INTO audit_subjects VALUES(1,'set','web');
INSERT INTO audit_subjects VALUES(1,'subscription','contoso');
INSERT INTO audit_subjects VALUES(1,'subscription','fabrikam');
INSERT INTO audit_subjects VALUES(1,'vm','api-0');
INSERT INTO audit_subjects VALUES(1,'vm','api-1');
INSERT INTO audit_subjects VALUES(1,'vm','api-2');
INSERT INTO audit_subjects VALUES(1,'vm','api-3');
INSERT INTO audit_subjects VALUES(1,'vm','bastion-w');
INSERT INTO audit_subjects VALUES(1,'vm','db-0');
INSERT INTO audit_subjects VALUES(1,'vm','db-1');
INSERT INTO audit_subjects VALUES(1,'vm','db-2');
INSERT INTO audit_subjects VALUES(1,'vm','db-3');
INSERT INTO audit_subjects VALUES(1,'vm','jump-e');
INSERT INTO audit_subjects VALUES(1,'vm','jump-n');
INSERT INTO audit_subjects VALUES(1,'vm','web-0');
INSERT INTO audit_subjects VALUES(1,'vm','web-1');
INSERT INTO audit_subjects VALUES(1,'vm','web-2');
INSERT INTO audit_subjects VALUES(1,'vm','web-3');
INSERT INTO audit_subjects VALUES(1,'vm','web-4');
INSERT INTO audit_subjects VALUES(1,'vm','web-5');
INSERT INTO audit_subjects VALUES(3,'campaign','1d828782-2ef6-8ce2-9058-b86d1f3a3ffe');
INSERT INTO audit_subjects VALUES(3,'region','northeurope');
INSERT INTO audit_subjects VALUES(3,'set','db');
INSERT INTO audit_subjects VALUES(4,'campaign','1d828782-2ef6-8ce2-9058-b86d1f3a3ffe');
INSERT INTO audit_subjects VALUES(4,'event','5473cf58-93cd-8456-b8e7-b2177fa1b819/jump-n');
INSERT INTO audit_subjects VALUES(4,'region','northeurope');
INSERT INTO audit_subjects VALUES(4,'vm','jump-n');
INSERT INTO audit_subjects VALUES(4,'wave','5473cf58-93cd-8456-b8e7-b2177fa1b819');
INSERT INTO audit_subjects VALUES(5,'campaign','1d828782-2ef6-8ce2-9058-b86d1f3a3ffe');
INSERT INTO audit_subjects VALUES(5,'event','325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-0');
INSERT INTO audit_subjects VALUES(5,'event','325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-1');
INSERT INTO audit_subjects VALUES(5,'region','northeurope');
INSERT INTO audit_subjects VALUES(5,'set','db');
INSERT INTO audit_subjects VALUES(5,'vm','db-0');
INSERT INTO audit_subjects VALUES(5,'vm','db-1');
INSERT INTO audit_subjects VALUES(5,'wave','325ac404-c038-8d17-b3ae-c6c99fd36a2d');
INSERT INTO audit_subjects VALUES(6,'campaign','1d828782-2ef6-8ce2-9058-b86d1f3a3ffe');
INSERT INTO audit_subjects VALUES(6,'event','325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-0');
INSERT INTO audit_subjects VALUES(6,'event','325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-1');
INSERT INTO audit_subjects VALUES(6,'region','northeurope');
INSERT INTO audit_subjects VALUES(6,'set','db');
INSERT INTO audit_subjects VALUES(6,'vm','db-0');
INSERT INTO audit_subjects VALUES(6,'vm','db-1');
INSERT INTO audit_subjects VALUES(6,'wave','325ac404-c038-8d17-b3ae-c6c99fd36a2d');
INSERT INTO audit_subjects VALUES(7,'campaign','1d828782-2ef6-8ce2-9058-b86d1f3a3ffe');
INSERT INTO audit_subjects VALUES(7,'event','f6e59982-83df-8c1f-b19d-584594590d4a/db-2');
INSERT INTO audit_subjects VALUES(7,'region','northeurope');
INSERT INTO audit_subjects VALUES(7,'set','db');
INSERT INTO audit_subjects VALUES(7,'vm','db-2');
INSERT INTO audit_subjects VALUES(7,'wave','f6e59982-83df-8c1f-b19d-584594590d4a');
INSERT INTO audit_subjects VALUES(8,'campaign','1d828782-2ef6-8ce2-9058-b86d1f3a3ffe');
INSERT INTO audit_subjects VALUES(8,'event','f6e59982-83df-8c1f-b19d-584594590d4a/db-2');
INSERT INTO audit_subjects VALUES(8,'region','northeurope');
INSERT INTO audit_subjects VALUES(8,'set','db');
INSERT INTO audit_subjects VALUES(8,'vm','db-2');
INSERT INTO audit_subjects VALUES(8,'wave','f6e59982-83df-8c1f-b19d-584594590d4a');
INSERT INTO audit_subjects VALUES(9,'campaign','1d828782-2ef6-8ce2-9058-b86d1f3a3ffe');
INSERT INTO audit_subjects VALUES(9,'event','e298b429-c5a0-8a85-893b-c80b2aec8de0/db-3');
INSERT INTO audit_subjects VALUES(9,'region','northeurope');
INSERT INTO audit_subjects VALUES(9,'set','db');
INSERT INTO audit_subjects VALUES(9,'vm','db-3');
INSERT INTO audit_subjects VALUES(9,'wave','e298b429-c5a0-8a85-893b-c80b2aec8de0');
INSERT INTO audit_subjects VALUES(10,'campaign','1d828782-2ef6-8ce2-9058-b86d1f3a3ffe');
INSERT INTO audit_subjects VALUES(10,'event','e298b429-c5a0-8a85-893b-c80b2aec8de0/db-3');
INSERT INTO audit_subjects VALUES(10,'region','northeurope');
INSERT INTO audit_subjects VALUES(10,'set','db');
INSERT INTO audit_subjects VALUES(10,'vm','db-3');
INSERT INTO audit_subjects VALUES(10,'wave','e298b429-c5a0-8a85-893b-c80b2aec8de0');
INSERT INTO audit_subjects VALUES(11,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(11,'region','eastus');
INSERT INTO audit_subjects VALUES(11,'region','northeurope');
INSERT INTO audit_subjects VALUES(11,'region','westus');
INSERT INTO audit_subjects VALUES(11,'set','api');
INSERT INTO audit_subjects VALUES(11,'set','db');
INSERT INTO audit_subjects VALUES(11,'set','web');
INSERT INTO audit_subjects VALUES(12,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(12,'subscription','contoso');
INSERT INTO audit_subjects VALUES(13,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(13,'subscription','fabrikam');
INSERT INTO audit_subjects VALUES(14,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(14,'notice','1');
INSERT INTO audit_subjects VALUES(14,'subscription','contoso');
INSERT INTO audit_subjects VALUES(15,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(15,'notice','2');
INSERT INTO audit_subjects VALUES(15,'subscription','fabrikam');
INSERT INTO audit_subjects VALUES(16,'campaign','a13bd13c-7bac-8dc6-9eac-deaa12527193');
INSERT INTO audit_subjects VALUES(16,'region','eastus');
INSERT INTO audit_subjects VALUES(16,'region','westus');
INSERT INTO audit_subjects VALUES(16,'set','api');
INSERT INTO audit_subjects VALUES(16,'set','web');
INSERT INTO audit_subjects VALUES(17,'campaign','a13bd13c-7bac-8dc6-9eac-deaa12527193');
INSERT INTO audit_subjects VALUES(17,'subscription','contoso');
INSERT INTO audit_subjects VALUES(18,'campaign','a13bd13c-7bac-8dc6-9eac-deaa12527193');
INSERT INTO audit_subjects VALUES(19,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(19,'event','2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-0');
INSERT INTO audit_subjects VALUES(19,'event','2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-1');
INSERT INTO audit_subjects VALUES(19,'event','2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-2');
INSERT INTO audit_subjects VALUES(19,'region','eastus');
INSERT INTO audit_subjects VALUES(19,'set','web');
INSERT INTO audit_subjects VALUES(19,'vm','web-0');
INSERT INTO audit_subjects VALUES(19,'vm','web-1');
INSERT INTO audit_subjects VALUES(19,'vm','web-2');
INSERT INTO audit_subjects VALUES(19,'wave','2c6e6183-593e-8578-a9a2-13f3bdd039e4');
INSERT INTO audit_subjects VALUES(20,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(20,'event','68325990-321f-8464-bacc-4c7d08a2b8bb/api-0');
INSERT INTO audit_subjects VALUES(20,'region','westus');
INSERT INTO audit_subjects VALUES(20,'set','api');
INSERT INTO audit_subjects VALUES(20,'vm','api-0');
INSERT INTO audit_subjects VALUES(20,'wave','68325990-321f-8464-bacc-4c7d08a2b8bb');
INSERT INTO audit_subjects VALUES(21,'region','westus');
INSERT INTO audit_subjects VALUES(21,'set','api');
INSERT INTO audit_subjects VALUES(21,'subscription','contoso');
INSERT INTO audit_subjects VALUES(21,'vm','api-3');
INSERT INTO audit_subjects VALUES(22,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(22,'event','2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-0');
INSERT INTO audit_subjects VALUES(22,'event','2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-1');
INSERT INTO audit_subjects VALUES(22,'event','2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-2');
INSERT INTO audit_subjects VALUES(22,'region','eastus');
INSERT INTO audit_subjects VALUES(22,'set','web');
INSERT INTO audit_subjects VALUES(22,'vm','web-0');
INSERT INTO audit_subjects VALUES(22,'vm','web-1');
INSERT INTO audit_subjects VALUES(22,'vm','web-2');
INSERT INTO audit_subjects VALUES(22,'wave','2c6e6183-593e-8578-a9a2-13f3bdd039e4');
INSERT INTO audit_subjects VALUES(23,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(23,'event','2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-1');
INSERT INTO audit_subjects VALUES(23,'region','eastus');
INSERT INTO audit_subjects VALUES(23,'set','web');
INSERT INTO audit_subjects VALUES(23,'vm','web-1');
INSERT INTO audit_subjects VALUES(23,'wave','2c6e6183-593e-8578-a9a2-13f3bdd039e4');
INSERT INTO audit_subjects VALUES(24,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(24,'event','2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-0');
INSERT INTO audit_subjects VALUES(24,'event','2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-2');
INSERT INTO audit_subjects VALUES(24,'region','eastus');
INSERT INTO audit_subjects VALUES(24,'set','web');
INSERT INTO audit_subjects VALUES(24,'vm','web-0');
INSERT INTO audit_subjects VALUES(24,'vm','web-2');
INSERT INTO audit_subjects VALUES(24,'wave','2c6e6183-593e-8578-a9a2-13f3bdd039e4');
INSERT INTO audit_subjects VALUES(25,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(25,'event','ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-3');
INSERT INTO audit_subjects VALUES(25,'event','ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-4');
INSERT INTO audit_subjects VALUES(25,'region','eastus');
INSERT INTO audit_subjects VALUES(25,'set','web');
INSERT INTO audit_subjects VALUES(25,'vm','web-3');
INSERT INTO audit_subjects VALUES(25,'vm','web-4');
INSERT INTO audit_subjects VALUES(25,'wave','ea7ede15-60d0-8e8c-97dc-1ef803c441d1');
INSERT INTO audit_subjects VALUES(26,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(26,'event','ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-3');
INSERT INTO audit_subjects VALUES(26,'event','ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-4');
INSERT INTO audit_subjects VALUES(26,'region','eastus');
INSERT INTO audit_subjects VALUES(26,'set','web');
INSERT INTO audit_subjects VALUES(26,'vm','web-3');
INSERT INTO audit_subjects VALUES(26,'vm','web-4');
INSERT INTO audit_subjects VALUES(26,'wave','ea7ede15-60d0-8e8c-97dc-1ef803c441d1');
INSERT INTO audit_subjects VALUES(27,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(27,'event','d76721c0-8522-86aa-90ff-b140f05e51a6/jump-e');
INSERT INTO audit_subjects VALUES(27,'region','eastus');
INSERT INTO audit_subjects VALUES(27,'vm','jump-e');
INSERT INTO audit_subjects VALUES(27,'wave','d76721c0-8522-86aa-90ff-b140f05e51a6');
INSERT INTO audit_subjects VALUES(28,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(28,'event','d76721c0-8522-86aa-90ff-b140f05e51a6/jump-e');
INSERT INTO audit_subjects VALUES(28,'region','eastus');
INSERT INTO audit_subjects VALUES(28,'vm','jump-e');
INSERT INTO audit_subjects VALUES(28,'wave','d76721c0-8522-86aa-90ff-b140f05e51a6');
INSERT INTO audit_subjects VALUES(29,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(29,'event','39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083/web-5');
INSERT INTO audit_subjects VALUES(29,'region','eastus');
INSERT INTO audit_subjects VALUES(29,'set','web');
INSERT INTO audit_subjects VALUES(29,'vm','web-5');
INSERT INTO audit_subjects VALUES(29,'wave','39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083');
INSERT INTO audit_subjects VALUES(30,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(30,'event','39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083/web-5');
INSERT INTO audit_subjects VALUES(30,'region','eastus');
INSERT INTO audit_subjects VALUES(30,'set','web');
INSERT INTO audit_subjects VALUES(30,'vm','web-5');
INSERT INTO audit_subjects VALUES(30,'wave','39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083');
INSERT INTO audit_subjects VALUES(31,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(31,'event','39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083/web-5');
INSERT INTO audit_subjects VALUES(31,'region','eastus');
INSERT INTO audit_subjects VALUES(31,'set','web');
INSERT INTO audit_subjects VALUES(31,'vm','web-5');
INSERT INTO audit_subjects VALUES(31,'wave','39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083');
INSERT INTO audit_subjects VALUES(32,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(32,'event','afb38dac-af80-8a9e-a1f0-32e6c92908c6/db-0');
INSERT INTO audit_subjects VALUES(32,'event','afb38dac-af80-8a9e-a1f0-32e6c92908c6/db-1');
INSERT INTO audit_subjects VALUES(32,'region','northeurope');
INSERT INTO audit_subjects VALUES(32,'set','db');
INSERT INTO audit_subjects VALUES(32,'vm','db-0');
INSERT INTO audit_subjects VALUES(32,'vm','db-1');
INSERT INTO audit_subjects VALUES(32,'wave','afb38dac-af80-8a9e-a1f0-32e6c92908c6');
INSERT INTO audit_subjects VALUES(33,'region','eastus');
INSERT INTO audit_subjects VALUES(33,'set','web');
INSERT INTO audit_subjects VALUES(33,'subscription','contoso');
INSERT INTO audit_subjects VALUES(33,'vm','web-2');
INSERT INTO audit_subjects VALUES(35,'campaign','50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23');
INSERT INTO audit_subjects VALUES(35,'event','589f1809-f7c3-8ac0-8621-41a4040a215c/bastion-w');
INSERT INTO audit_subjects VALUES(35,'region','westus');
INSERT INTO audit_subjects VALUES(35,'vm','bastion-w');
INSERT INTO audit_subjects VALUES(35,'wave','589f1809-f7c3-8ac0-8621-41a4040a215c');
INSERT INTO audit_subjects VALUES(36,'campaign','a73e4476-020a-81ce-afec-b23386d22adb');
INSERT INTO audit_subjects VALUES(36,'region','westus');
INSERT INTO audit_subjects VALUES(36,'set','api');
INSERT INTO audit_subjects VALUES(37,'campaign','a73e4476-020a-81ce-afec-b23386d22adb');
INSERT INTO audit_subjects VALUES(37,'subscription','contoso');
CREATE TABLE scheduled_event_documents (
    vm           TEXT NOT NULL PRIMARY KEY,
    incarnation  INTEGER NOT NULL CHECK (incarnation >= 1),
    -- StableID.uuid of the document's canonical text, without its incarnation.
    digest       TEXT NOT NULL,
    changed_at   TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE audit_keys (
    -- Base64 of the 32-byte Ed25519 public key.
    public_key   TEXT NOT NULL PRIMARY KEY CHECK (length(public_key) = 44),
    -- The first 16 hex digits of the SHA-256 of the raw key: how messages name it.
    fingerprint  TEXT NOT NULL UNIQUE CHECK (length(fingerprint) = 16),
    created_at   TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO audit_keys VALUES('Xc5eMvul6wNkeWquDEcJK4CvWL8Sm7Sq2Kul6quWFKc=','8348d158f7f4d153','2026-11-02T09:01:00Z');
CREATE TABLE api_tokens (
    -- How the operator names the token: 1 to 64 letters, digits, '.', '_' or '-'.
    name          TEXT NOT NULL PRIMARY KEY
                  CHECK (length(name) BETWEEN 1 AND 64 AND name NOT GLOB '*[^A-Za-z0-9._-]*'),
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'executor', 'operator')),
    -- Lowercase hex SHA-256 of the secret's UTF-8 bytes; the secret itself is never stored.
    hash          TEXT NOT NULL UNIQUE
                  CHECK (length(hash) = 64 AND hash NOT GLOB '*[^0-9a-f]*'),
    created_at    TEXT NOT NULL,
    -- Who made it: the CLI's actor ($PITSTOP_ACTOR, else the OS user).
    created_by    TEXT NOT NULL,
    -- When a request it authorised was last served, to the minute (the server writes at most
    -- once a minute per token); NULL until its first use.
    last_used_at  TEXT
) WITHOUT ROWID;
CREATE INDEX region_pairs_by_partner ON region_pairs(paired_with);
CREATE INDEX availability_sets_by_region ON availability_sets(region);
CREATE UNIQUE INDEX vms_by_ip ON vms(ip_address) WHERE ip_address IS NOT NULL;
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
CREATE TRIGGER availability_sets_keep_vms_in_range
BEFORE UPDATE OF update_domains, fault_domains ON availability_sets
BEGIN
    SELECT RAISE(ABORT, 'availability_sets: a VM of the set lies outside the new domain ranges')
    WHERE EXISTS (
        SELECT 1 FROM vms v
        WHERE v.availability_set = NEW.name
          AND (v.update_domain >= NEW.update_domains OR v.fault_domain >= NEW.fault_domains));
END;
CREATE INDEX maintenance_windows_by_region ON maintenance_windows(region) WHERE region IS NOT NULL;
CREATE INDEX maintenance_windows_by_set ON maintenance_windows(availability_set) WHERE availability_set IS NOT NULL;
CREATE INDEX blackouts_by_region ON blackouts(region) WHERE region IS NOT NULL;
CREATE INDEX events_by_vm ON events(vm, start_utc);
CREATE INDEX events_by_wave ON events(wave);
CREATE INDEX events_by_campaign ON events(campaign, region);
CREATE INDEX audit_log_by_action ON audit_log(action, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_subjects_no_update BEFORE UPDATE ON audit_subjects
BEGIN SELECT RAISE(ABORT, 'audit_subjects is append-only'); END;
CREATE TRIGGER audit_subjects_no_delete BEFORE DELETE ON audit_subjects
BEGIN SELECT RAISE(ABORT, 'audit_subjects is append-only'); END;
CREATE INDEX audit_subjects_by_seq ON audit_subjects(seq);
CREATE INDEX audit_log_by_at ON audit_log(at, seq);
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq OR hash = NEW.hash)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER scheduled_event_documents_never_back BEFORE UPDATE ON scheduled_event_documents
WHEN NEW.incarnation < OLD.incarnation OR NEW.vm <> OLD.vm
BEGIN SELECT RAISE(ABORT, 'a document incarnation never goes back'); END;
CREATE TRIGGER scheduled_event_documents_no_delete BEFORE DELETE ON scheduled_event_documents
BEGIN SELECT RAISE(ABORT, 'a document incarnation is kept: removing it would let it start over'); END;
CREATE TRIGGER scheduled_event_documents_no_replace BEFORE INSERT ON scheduled_event_documents
WHEN EXISTS (SELECT 1 FROM scheduled_event_documents WHERE vm = NEW.vm)
BEGIN SELECT RAISE(ABORT, 'a document incarnation is updated, never replaced'); END;
CREATE INDEX events_active_by_set ON events(availability_set, start_utc) WHERE status IN ('scheduled', 'started');
CREATE INDEX events_active_by_start ON events(start_utc) WHERE status IN ('scheduled', 'started');
CREATE TRIGGER audit_keys_no_update BEFORE UPDATE ON audit_keys
BEGIN SELECT RAISE(ABORT, 'audit_keys is append-only'); END;
CREATE TRIGGER audit_keys_no_delete BEFORE DELETE ON audit_keys
BEGIN SELECT RAISE(ABORT, 'audit_keys is append-only'); END;
CREATE TRIGGER audit_keys_no_replace BEFORE INSERT ON audit_keys
WHEN EXISTS (SELECT 1 FROM audit_keys WHERE public_key = NEW.public_key OR fingerprint = NEW.fingerprint)
BEGIN SELECT RAISE(ABORT, 'audit_keys is append-only'); END;
COMMIT;
