PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE pitstop_migrations (
    name        TEXT NOT NULL PRIMARY KEY,
    sha256      TEXT NOT NULL,
    applied_at  TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO pitstop_migrations VALUES('0001_inventory.sql','de883f15b21cf3844fc716f5c9579b0d3242dbeb979d70a1c72fd8d6269cb5e2','2026-12-03T05:34:13Z');
INSERT INTO pitstop_migrations VALUES('0002_scheduler.sql','a0d07cbeee94f39c41c51e01ed6c3d42c47f192de3daa47b7e4de296eb1dbc5c','2026-12-03T05:34:13Z');
INSERT INTO pitstop_migrations VALUES('0003_audit_indexes.sql','af2b36aec554d6da39f968c0f0611d0ed840f34ce436e72c45292f583f1a2b8c','2026-12-03T05:34:13Z');
INSERT INTO pitstop_migrations VALUES('0004_scheduled_events.sql','23e06af5af15f5ff241e024db428d49add9025d101a92291f1b854e95918479a','2026-12-03T05:34:13Z');
INSERT INTO pitstop_migrations VALUES('0005_audit_keys.sql','ad646f2cf71646519c7ca538bd50c48e0a3d973d80b727cdd1180c13936cee3f','2026-12-03T05:34:13Z');
INSERT INTO pitstop_migrations VALUES('0006_api_tokens.sql','8537d0966a69a419c849c1692e8264c10d23cc135c3ca03bf783563d6f80b811','2026-12-03T05:34:13Z');
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
INSERT INTO audit_log VALUES(2,'2026-11-02T09:01:00Z','release-0006-fixture','audit.key.recorded','{"key": "72960bdb467d5d56", "publicKey": "EopxK1SXd8iHPaO0Eq+C80nHKD+CufxvuPWHd8XzbDY="}','56d3b1f4a11c22d573e20bbe10273c0f057a6e426ab796a3cc9a4fd5942b3af6','e32750eb0c98bb8abc8935c2029da5c1a21dfbdd051dd99b6942fac26b37fa07');
INSERT INTO audit_log VALUES(3,'2026-11-02T09:05:00Z','release-0006-fixture','campaign.planned','{"kind": "freeze", "regions": ["northeurope"], "notBefore": "2026-11-02T09:20:00Z", "start": "2026-11-02T09:20:00Z", "end": "2026-11-02T10:22:00Z", "events": 5, "waves": 4, "perVMSeconds": 30, "udGapSeconds": 1800, "description": "live migration of hosts"}','e32750eb0c98bb8abc8935c2029da5c1a21dfbdd051dd99b6942fac26b37fa07','69769b240195e85955b97268a515f79fd902ffe792a516513458001d9bd1aba8');
INSERT INTO audit_log VALUES(4,'2026-11-02T09:06:00Z','release-0006-fixture','event.cancelled','{"at": "2026-11-02T09:06:00Z", "events": ["5473cf58-93cd-8456-b8e7-b2177fa1b819/jump-n"], "plannedStart": "2026-11-02T10:21:30Z", "plannedEnd": "2026-11-02T10:22:00Z", "reason": "owner asked to skip"}','69769b240195e85955b97268a515f79fd902ffe792a516513458001d9bd1aba8','37f8591fa5c8e77691bc1fc2dc8af9f2146ccc62d08fe418dab16e398a403c95');
INSERT INTO audit_log VALUES(5,'2026-11-02T09:20:00Z','release-0006-fixture','event.started','{"at": "2026-11-02T09:20:00Z", "events": ["325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-0", "325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-1"], "wave": "325ac404-c038-8d17-b3ae-c6c99fd36a2d", "plannedStart": "2026-11-02T09:20:00Z", "plannedEnd": "2026-11-02T09:20:30Z", "forced": false, "early": false, "reason": null, "conflicts": [], "unapproved": []}','37f8591fa5c8e77691bc1fc2dc8af9f2146ccc62d08fe418dab16e398a403c95','2e660b13312ab3edcd95d25b6a10b7d88eefa2fcc492574304ee0141c1a3e45e');
INSERT INTO audit_log VALUES(6,'2026-11-02T09:20:25Z','release-0006-fixture','event.completed','{"at": "2026-11-02T09:20:25Z", "events": ["325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-0", "325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-1"], "wave": "325ac404-c038-8d17-b3ae-c6c99fd36a2d", "plannedStart": "2026-11-02T09:20:00Z", "plannedEnd": "2026-11-02T09:20:30Z", "reason": null, "durations": [{"event": "325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-0", "actualStart": "2026-11-02T09:20:00Z", "seconds": 25, "plannedSeconds": 30, "tooLong": false}, {"event": "325ac404-c038-8d17-b3ae-c6c99fd36a2d/db-1", "actualStart": "2026-11-02T09:20:00Z", "seconds": 25, "plannedSeconds": 30, "tooLong": false}]}','2e660b13312ab3edcd95d25b6a10b7d88eefa2fcc492574304ee0141c1a3e45e','a700d302379d41cba5e27a39d2d07adcc5addee559a079de6653c7347ae8b5c5');
INSERT INTO audit_log VALUES(7,'2026-11-02T09:50:30Z','release-0006-fixture','event.started','{"at": "2026-11-02T09:50:30Z", "events": ["f6e59982-83df-8c1f-b19d-584594590d4a/db-2"], "wave": "f6e59982-83df-8c1f-b19d-584594590d4a", "plannedStart": "2026-11-02T09:50:30Z", "plannedEnd": "2026-11-02T09:51:00Z", "forced": false, "early": false, "reason": null, "conflicts": [], "unapproved": []}','a700d302379d41cba5e27a39d2d07adcc5addee559a079de6653c7347ae8b5c5','48387b5d7fef0768785e9f4d0a1b3dd765747fa5d1fd61d9bb42c2065c455e36');
INSERT INTO audit_log VALUES(8,'2026-11-02T09:50:55Z','release-0006-fixture','event.completed','{"at": "2026-11-02T09:50:55Z", "events": ["f6e59982-83df-8c1f-b19d-584594590d4a/db-2"], "wave": "f6e59982-83df-8c1f-b19d-584594590d4a", "plannedStart": "2026-11-02T09:50:30Z", "plannedEnd": "2026-11-02T09:51:00Z", "reason": null, "durations": [{"event": "f6e59982-83df-8c1f-b19d-584594590d4a/db-2", "actualStart": "2026-11-02T09:50:30Z", "seconds": 25, "plannedSeconds": 30, "tooLong": false}]}','48387b5d7fef0768785e9f4d0a1b3dd765747fa5d1fd61d9bb42c2065c455e36','493f268368e962804a79e0edcf0044de124dec46f29c0d9f0291f50e64bb0313');
INSERT INTO audit_log VALUES(9,'2026-11-02T10:21:00Z','release-0006-fixture','event.started','{"at": "2026-11-02T10:21:00Z", "events": ["e298b429-c5a0-8a85-893b-c80b2aec8de0/db-3"], "wave": "e298b429-c5a0-8a85-893b-c80b2aec8de0", "plannedStart": "2026-11-02T10:21:00Z", "plannedEnd": "2026-11-02T10:21:30Z", "forced": false, "early": false, "reason": null, "conflicts": [], "unapproved": []}','493f268368e962804a79e0edcf0044de124dec46f29c0d9f0291f50e64bb0313','bdeec2c28609c39e19cdf163fda5033580a99a6062f52e00b3ff10d91802d0a7');
INSERT INTO audit_log VALUES(10,'2026-11-02T10:21:25Z','release-0006-fixture','event.completed','{"at": "2026-11-02T10:21:25Z", "events": ["e298b429-c5a0-8a85-893b-c80b2aec8de0/db-3"], "wave": "e298b429-c5a0-8a85-893b-c80b2aec8de0", "plannedStart": "2026-11-02T10:21:00Z", "plannedEnd": "2026-11-02T10:21:30Z", "reason": null, "durations": [{"event": "e298b429-c5a0-8a85-893b-c80b2aec8de0/db-3", "actualStart": "2026-11-02T10:21:00Z", "seconds": 25, "plannedSeconds": 30, "tooLong": false}]}','bdeec2c28609c39e19cdf163fda5033580a99a6062f52e00b3ff10d91802d0a7','9bd894b41b93eb839f9399ffe742b440d41bb11cce7e6c397482edc7eb3c6034');
INSERT INTO audit_log VALUES(11,'2026-11-02T12:00:00Z','release-0006-fixture','campaign.planned','{"kind": "reboot", "regions": ["eastus", "northeurope", "westus"], "notBefore": "2026-11-09T12:00:00Z", "start": "2026-11-09T12:00:00Z", "end": "2026-11-09T15:15:00Z", "events": 17, "waves": 11, "perVMSeconds": 900, "udGapSeconds": 1800, "description": "host OS update 2026-11"}','9bd894b41b93eb839f9399ffe742b440d41bb11cce7e6c397482edc7eb3c6034','d5db8d8fef30a97b0c3d53f767dc7d20683e56a684eb1e2c5df6d0d5e5bb77ec');
INSERT INTO audit_log VALUES(12,'2026-11-02T12:00:00Z','release-0006-fixture','notice.queued','{"recipients": ["ops@contoso.example", "oncall@contoso.example"], "firstStart": "2026-11-09T12:00:00Z"}','d5db8d8fef30a97b0c3d53f767dc7d20683e56a684eb1e2c5df6d0d5e5bb77ec','2e6751df767af546d86fc68bde9ca8234beeae861abeb5f69ad1b22d8e188b99');
INSERT INTO audit_log VALUES(13,'2026-11-02T12:00:00Z','release-0006-fixture','notice.queued','{"recipients": ["it@fabrikam.example"], "firstStart": "2026-11-09T12:00:00Z"}','2e6751df767af546d86fc68bde9ca8234beeae861abeb5f69ad1b22d8e188b99','9e9e6ca6d4b21165fc345942be2c42fbfe0a137186b58e1db7924e09059a6687');
INSERT INTO audit_log VALUES(14,'2026-11-02T12:00:00Z','release-0006-fixture','notice.sent','{"notice": 1, "messageId": "<notice-1.50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23@pitstop>", "recipients": ["ops@contoso.example", "oncall@contoso.example"], "transport": "outbox /tmp/pitstop-release-0006-outbox", "reply": "written notice-1-50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23.eml", "attempt": 1, "firstStart": "2026-11-09T12:00:00Z"}','9e9e6ca6d4b21165fc345942be2c42fbfe0a137186b58e1db7924e09059a6687','636708982adaa302b57710891e171e41d66c3cd55df1214af1fb9092b13df839');
INSERT INTO audit_log VALUES(15,'2026-11-02T12:00:00Z','release-0006-fixture','notice.sent','{"notice": 2, "messageId": "<notice-2.50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23@pitstop>", "recipients": ["it@fabrikam.example"], "transport": "outbox /tmp/pitstop-release-0006-outbox", "reply": "written notice-2-50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23.eml", "attempt": 1, "firstStart": "2026-11-09T12:00:00Z"}','636708982adaa302b57710891e171e41d66c3cd55df1214af1fb9092b13df839','b8b33105c5c889e10cf104705180a3c7a0081f833eef200d5cd7c6b90941c00f');
INSERT INTO audit_log VALUES(16,'2026-11-02T13:00:00Z','release-0006-fixture','campaign.planned','{"kind": "reboot", "regions": ["eastus", "westus"], "notBefore": "2026-11-20T00:00:00Z", "start": "2026-11-20T00:00:00Z", "end": "2026-11-20T03:15:00Z", "events": 12, "waves": 7, "perVMSeconds": 900, "udGapSeconds": 1800, "description": "firmware (superseded)"}','b8b33105c5c889e10cf104705180a3c7a0081f833eef200d5cd7c6b90941c00f','f9518f6bafa336557bb9cf850cba663d582ffacd711f34594c55997128f7d7ca');
INSERT INTO audit_log VALUES(17,'2026-11-02T13:00:00Z','release-0006-fixture','notice.queued','{"recipients": ["ops@contoso.example", "oncall@contoso.example"], "firstStart": "2026-11-20T00:00:00Z"}','f9518f6bafa336557bb9cf850cba663d582ffacd711f34594c55997128f7d7ca','d082b271ef46a95f603873edb7c4ee6d112c3810b660d01b00b807feb92a9f9d');
INSERT INTO audit_log VALUES(18,'2026-11-02T13:30:00Z','release-0006-fixture','campaign.cancelled','{"eventsCancelled": 12}','d082b271ef46a95f603873edb7c4ee6d112c3810b660d01b00b807feb92a9f9d','fad33ccbb08b2833dff2a8fa081742b68b6cbc57bb8891ab93877e762057316b');
INSERT INTO audit_log VALUES(19,'2026-11-04T12:00:00Z','release-0006-fixture','event.approved','{"at": "2026-11-04T12:00:00Z", "events": ["2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-0", "2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-1", "2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-2"], "wave": "2c6e6183-593e-8578-a9a2-13f3bdd039e4", "plannedStart": "2026-11-09T12:00:00Z", "plannedEnd": "2026-11-09T12:15:00Z", "reason": null}','fad33ccbb08b2833dff2a8fa081742b68b6cbc57bb8891ab93877e762057316b','27ddd91ca10e2486bd29ac581c34814f9b8ef33265ada8072bb0bdcc850e1d7c');
INSERT INTO audit_log VALUES(20,'2026-11-04T12:10:00Z','release-0006-fixture','event.approved','{"at": "2026-11-04T12:10:00Z", "events": ["68325990-321f-8464-bacc-4c7d08a2b8bb/api-0"], "plannedStart": "2026-11-09T14:00:00Z", "plannedEnd": "2026-11-09T14:15:00Z", "reason": null}','27ddd91ca10e2486bd29ac581c34814f9b8ef33265ada8072bb0bdcc850e1d7c','c56666e62abfe1f1194511e2fdc1e7e7c05de2d13cbc8da74036aa3067b75abd');
INSERT INTO audit_log VALUES(21,'2026-11-04T12:20:00Z','release-0006-fixture','vm.moved','{"vm": "api-3", "from": {"region": "westus", "availabilitySet": "api", "updateDomain": 1, "faultDomain": 0}, "to": {"region": "westus", "availabilitySet": "api", "updateDomain": 0, "faultDomain": 0}}','c56666e62abfe1f1194511e2fdc1e7e7c05de2d13cbc8da74036aa3067b75abd','22b579e1e819bb8044115c35733e442902da072a280a9508b6a24b70921d650c');
INSERT INTO audit_log VALUES(22,'2026-11-09T12:00:00Z','release-0006-fixture','event.started','{"at": "2026-11-09T12:00:00Z", "events": ["2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-0", "2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-1", "2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-2"], "wave": "2c6e6183-593e-8578-a9a2-13f3bdd039e4", "plannedStart": "2026-11-09T12:00:00Z", "plannedEnd": "2026-11-09T12:15:00Z", "forced": false, "early": false, "reason": "change CHG-1001", "conflicts": [], "unapproved": []}','22b579e1e819bb8044115c35733e442902da072a280a9508b6a24b70921d650c','abce49d2142fe55f57273950a2b4a4cc55afe56e0ac1c563a7877bcc089e1090');
INSERT INTO audit_log VALUES(23,'2026-11-09T12:09:00Z','release-0006-fixture','event.failed','{"at": "2026-11-09T12:09:00Z", "events": ["2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-1"], "plannedStart": "2026-11-09T12:00:00Z", "plannedEnd": "2026-11-09T12:15:00Z", "reason": "did not come back after reboot: kernel panic", "durations": [{"event": "2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-1", "actualStart": "2026-11-09T12:00:00Z", "seconds": 540, "plannedSeconds": 900, "tooLong": false}]}','abce49d2142fe55f57273950a2b4a4cc55afe56e0ac1c563a7877bcc089e1090','a508d83c537ee020676e9af9782332a27fe263484751db8fcbf5e1892bf9dc8b');
INSERT INTO audit_log VALUES(24,'2026-11-09T12:14:00Z','release-0006-fixture','event.completed','{"at": "2026-11-09T12:14:00Z", "events": ["2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-0", "2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-2"], "wave": "2c6e6183-593e-8578-a9a2-13f3bdd039e4", "plannedStart": "2026-11-09T12:00:00Z", "plannedEnd": "2026-11-09T12:15:00Z", "reason": null, "durations": [{"event": "2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-0", "actualStart": "2026-11-09T12:00:00Z", "seconds": 840, "plannedSeconds": 900, "tooLong": false}, {"event": "2c6e6183-593e-8578-a9a2-13f3bdd039e4/web-2", "actualStart": "2026-11-09T12:00:00Z", "seconds": 840, "plannedSeconds": 900, "tooLong": false}]}','a508d83c537ee020676e9af9782332a27fe263484751db8fcbf5e1892bf9dc8b','0adf61549d08dc9f0a89e54ea01f09ff89a07db8f3ab02498338b1bb889e729a');
INSERT INTO audit_log VALUES(25,'2026-11-09T12:47:00Z','release-0006-fixture','event.started','{"at": "2026-11-09T12:47:00Z", "events": ["ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-3", "ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-4"], "wave": "ea7ede15-60d0-8e8c-97dc-1ef803c441d1", "plannedStart": "2026-11-09T12:45:00Z", "plannedEnd": "2026-11-09T13:00:00Z", "forced": false, "early": false, "reason": null, "conflicts": [], "unapproved": []}','0adf61549d08dc9f0a89e54ea01f09ff89a07db8f3ab02498338b1bb889e729a','d81b31d87bffaec3c71db530b2a1bc1ad9b19ebb1a1800a8dd0b22c03e856d2b');
INSERT INTO audit_log VALUES(26,'2026-11-09T12:57:00Z','release-0006-fixture','event.completed','{"at": "2026-11-09T12:57:00Z", "events": ["ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-3", "ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-4"], "wave": "ea7ede15-60d0-8e8c-97dc-1ef803c441d1", "plannedStart": "2026-11-09T12:45:00Z", "plannedEnd": "2026-11-09T13:00:00Z", "reason": null, "durations": [{"event": "ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-3", "actualStart": "2026-11-09T12:47:00Z", "seconds": 600, "plannedSeconds": 900, "tooLong": false}, {"event": "ea7ede15-60d0-8e8c-97dc-1ef803c441d1/web-4", "actualStart": "2026-11-09T12:47:00Z", "seconds": 600, "plannedSeconds": 900, "tooLong": false}]}','d81b31d87bffaec3c71db530b2a1bc1ad9b19ebb1a1800a8dd0b22c03e856d2b','a29e09e104cd6c407ee79a50a27b2ffb9faffce60111c1e923a4a8cdae6a0f2a');
INSERT INTO audit_log VALUES(27,'2026-11-09T13:05:00Z','release-0006-fixture','event.started','{"at": "2026-11-09T13:05:00Z", "events": ["d76721c0-8522-86aa-90ff-b140f05e51a6/jump-e"], "plannedStart": "2026-11-09T13:45:00Z", "plannedEnd": "2026-11-09T14:00:00Z", "forced": true, "early": true, "reason": "security hotfix CVE-2026-0001", "conflicts": [{"rule": "single-before-multi", "events": ["39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083/web-5"], "message": "eastus: single-instance VMs wait until the region''s availability-set events of campaign 50dbbf0a-87ad-88a7-86ce-c56e4a5e8e23 are done; 1 is not (0 running): event 39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083/web-5"}], "unapproved": ["d76721c0-8522-86aa-90ff-b140f05e51a6/jump-e"]}','a29e09e104cd6c407ee79a50a27b2ffb9faffce60111c1e923a4a8cdae6a0f2a','21029adea5555a3ccc422d62164506276daeb3d98d6a4deca78baec17a5849f5');
INSERT INTO audit_log VALUES(28,'2026-11-09T13:16:00Z','release-0006-fixture','event.completed','{"at": "2026-11-09T13:16:00Z", "events": ["d76721c0-8522-86aa-90ff-b140f05e51a6/jump-e"], "plannedStart": "2026-11-09T13:45:00Z", "plannedEnd": "2026-11-09T14:00:00Z", "reason": null, "durations": [{"event": "d76721c0-8522-86aa-90ff-b140f05e51a6/jump-e", "actualStart": "2026-11-09T13:05:00Z", "seconds": 660, "plannedSeconds": 900, "tooLong": false}]}','21029adea5555a3ccc422d62164506276daeb3d98d6a4deca78baec17a5849f5','f8b50c2b44721d32698b3aa2340f15bf470639760e4a7e1c30f94ab71abe6150');
INSERT INTO audit_log VALUES(29,'2026-11-09T13:00:00Z','release-0006-fixture','event.approved','{"at": "2026-11-09T13:00:00Z", "events": ["39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083/web-5"], "wave": "39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083", "plannedStart": "2026-11-09T13:30:00Z", "plannedEnd": "2026-11-09T13:45:00Z", "reason": null}','f8b50c2b44721d32698b3aa2340f15bf470639760e4a7e1c30f94ab71abe6150','65c02ed2306ff0e7eb934634bf917329b131db3a25f7afd2a3fb50e52fd2ce50');
INSERT INTO audit_log VALUES(30,'2026-11-09T13:28:00Z','release-0006-fixture','event.started','{"at": "2026-11-09T13:28:00Z", "events": ["39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083/web-5"], "wave": "39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083", "plannedStart": "2026-11-09T13:30:00Z", "plannedEnd": "2026-11-09T13:45:00Z", "forced": false, "early": true, "reason": null, "conflicts": [], "unapproved": []}','65c02ed2306ff0e7eb934634bf917329b131db3a25f7afd2a3fb50e52fd2ce50','1134bd443d6934898aa7a942e7ddc55ee82d9cb002e82b4a2093e8ebb69a6120');
INSERT INTO audit_log VALUES(31,'2026-11-09T13:39:00Z','release-0006-fixture','event.completed','{"at": "2026-11-09T13:39:00Z", "events": ["39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083/web-5"], "wave": "39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083", "plannedStart": "2026-11-09T13:30:00Z", "plannedEnd": "2026-11-09T13:45:00Z", "reason": null, "durations": [{"event": "39a2bda9-0ef7-8bc7-b2f6-44c0d4c08083/web-5", "actualStart": "2026-11-09T13:28:00Z", "seconds": 660, "plannedSeconds": 900, "tooLong": false}]}','1134bd443d6934898aa7a942e7ddc55ee82d9cb002e82b4a2093e8ebb69a6120','2597e545e4e9075e0e6a08dfee65592ecc56109afb77f0c89ad0d7b11e25031d');
INSERT INTO audit_log VALUES(32,'2026-11-09T12:01:00Z','release-0006-fixture','event.started','{"at": "2026-11-09T12:01:00Z", "events": ["afb38dac-af80-8a9e-a1f0-32e6c92908c6/db-0", "afb38dac-af80-8a9e-a1f0-32e6c92908c6/db-1"], "wave": "afb38dac-af80-8a9e-a1f0-32e6c92908c6", "plannedStart": "2026-11-09T12:00:00Z", "plannedEnd": "2026-11-09T12:15:00Z", "forced": false, "early": false, "reason": null, "conflicts": [], "unapproved": []}','2597e545e4e9075e0e6a08dfee65592ecc56109afb77f0c89ad0d7b11e25031d','8d311943b2e29d1ddaceea68e7ac2cc5bdc1ff0af0446dcf70b602848fc59e32');
INSERT INTO audit_log VALUES(33,'2026-11-09T13:45:00Z','release-0006-fixture','vm.removed','{"name": "web-2", "region": "eastus", "subscription": "contoso", "availabilitySet": "web", "updateDomain": 0, "faultDomain": 2, "ipAddress": null}','8d311943b2e29d1ddaceea68e7ac2cc5bdc1ff0af0446dcf70b602848fc59e32','456944977ee04098ddbf96f2767f1d7368d287a9788d303a9b31c2f346c09e70');
INSERT INTO audit_log VALUES(34,'2026-11-09T13:50:00Z','release-0006-fixture','audit.checkpoint','{"seq": 33, "hash": "456944977ee04098ddbf96f2767f1d7368d287a9788d303a9b31c2f346c09e70", "at": "2026-11-09T13:50:00Z", "key": "72960bdb467d5d56", "publicKey": "EopxK1SXd8iHPaO0Eq+C80nHKD+CufxvuPWHd8XzbDY=", "signature": "/zMM5cOvKumvKYecyPeiEFN44+m95Mk+f3Sj6siqqrZVM0LhbeUlM9X+KoIivBia730oBWpFU1lzHTHSpIWgAA=="}','456944977ee04098ddbf96f2767f1d7368d287a9788d303a9b31c2f346c09e70','cddec71a74596e58f7096de6aacb8599443993a829d02295d131bde88a49f9a0');
INSERT INTO audit_log VALUES(35,'2026-11-09T13:55:00Z','release-0006-fixture','event.approved','{"at": "2026-11-09T13:55:00Z", "events": ["589f1809-f7c3-8ac0-8621-41a4040a215c/bastion-w"], "plannedStart": "2026-11-09T15:00:00Z", "plannedEnd": "2026-11-09T15:15:00Z", "reason": null}','cddec71a74596e58f7096de6aacb8599443993a829d02295d131bde88a49f9a0','99263f93641820ae5fa90878604b3a1146faaaf980bb02afa777ff31af447428');
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
INSERT INTO audit_keys VALUES('EopxK1SXd8iHPaO0Eq+C80nHKD+CufxvuPWHd8XzbDY=','72960bdb467d5d56','2026-11-02T09:01:00Z');
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
