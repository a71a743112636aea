// The PostgreSQL store's own parts: the URL `--db` takes, the migrations, opening and health.
import Foundation
import PitstopCore
import PitstopPostgres
import PitstopStore
import PitstopTestSupport
import Testing

@Suite("postgres:// URLs")
struct PostgresLocationTests {
    @Test("a host, a port, a database and a pool size")
    func tcp() throws {
        let location = try PostgresLocation(url: "postgres://ops:s%40cret@db.example:6432/fleet?pool=4")
        #expect(location.endpoint == .tcp(host: "db.example", port: 6432))
        #expect(location.user == "ops")
        #expect(location.password == "s@cret")
        #expect(location.database == "fleet")
        #expect(location.poolSize == 4)
        // The password never shows.
        #expect(location.description == "postgres://ops:***@db.example:6432/fleet")
    }

    @Test("a Unix socket directory, as libpq's host parameter")
    func socket() throws {
        let location = try PostgresLocation(url: "postgresql://ops@/fleet?host=/run/postgresql")
        #expect(location.endpoint == .unixSocket(path: "/run/postgresql/.s.PGSQL.5432"))
        #expect(location.poolSize == PostgresLocation.defaultPoolSize)
        // Shown as it was given, so that the text works as --db again.
        #expect(location.description == "postgres://ops@/fleet?host=/run/postgresql")
        let other = try PostgresLocation(url: "postgres://ops@:6543/fleet?host=/tmp/pg")
        #expect(other.endpoint == .unixSocket(path: "/tmp/pg/.s.PGSQL.6543"))
        #expect(other.description == "postgres://ops@:6543/fleet?host=/tmp/pg")
        #expect(PostgresLocation.isURL("postgresql://x@y/z"))
        #expect(!PostgresLocation.isURL("/var/lib/pitstop.sqlite"))
    }

    @Test("TLS as libpq's sslmode, sslrootcert, sslcert and sslkey say, prefer by default, shown so that the text works as --db")
    func tls() throws {
        let plain = try PostgresLocation(url: "postgres://ops@db.example/fleet")
        #expect(plain.tlsMode == .prefer)
        #expect(plain.tlsRootCertificates == nil)
        #expect(plain.description == "postgres://ops@db.example:5432/fleet")
        let strict = try PostgresLocation(url: "postgres://ops@db.example/fleet?sslmode=verify-full&sslrootcert=/etc/pitstop/db%20ca.pem&pool=2")
        #expect(strict.tlsMode == .verifyFull)
        #expect(strict.tlsRootCertificates == "/etc/pitstop/db ca.pem")
        #expect(strict.description == "postgres://ops@db.example:5432/fleet?sslmode=verify-full&sslrootcert=/etc/pitstop/db%20ca.pem")
        #expect(try PostgresLocation(url: strict.description) == PostgresLocation(url: "postgres://ops@db.example/fleet?sslmode=verify-full&sslrootcert=/etc/pitstop/db%20ca.pem"))
        let client = try PostgresLocation(url: "postgres://ops@db.example/fleet?sslkey=/etc/pitstop/client%26.key&sslcert=/etc/pitstop/client.pem")
        #expect(client.tlsClientCertificate == .init(certificate: "/etc/pitstop/client.pem", key: "/etc/pitstop/client&.key"))
        #expect(client.description == "postgres://ops@db.example:5432/fleet?sslcert=/etc/pitstop/client.pem&sslkey=/etc/pitstop/client%26.key")
        #expect(try PostgresLocation(url: client.description) == client)
        for mode in PostgresLocation.TLSMode.allCases {
            #expect(try PostgresLocation(url: "postgres://ops@db.example/fleet?sslmode=\(mode.rawValue)").tlsMode == mode)
        }
    }

    @Test("libpq's connect_timeout and TCP keepalive parameters, with defaults that give a silent server up in about 30 s")
    func liveness() throws {
        let standard = try PostgresLocation(url: "postgres://ops@db.example/fleet")
        #expect(standard.liveness == PostgresLocation.Liveness(connectTimeout: 5, keepalive: .init(idle: 15, interval: 5, count: 3), tcpUserTimeout: 30_000))
        let short = try PostgresLocation(url: "postgres://ops@db.example/fleet?connect_timeout=2&keepalives_idle=1&keepalives_interval=2&keepalives_count=4&tcp_user_timeout=2500")
        #expect(short.liveness == PostgresLocation.Liveness(connectTimeout: 2, keepalive: .init(idle: 1, interval: 2, count: 4), tcpUserTimeout: 2500))
        // Shown so that the text works as --db.
        #expect(short.description == "postgres://ops@db.example:5432/fleet?connect_timeout=2&keepalives_idle=1&keepalives_interval=2&keepalives_count=4&tcp_user_timeout=2500")
        #expect(try PostgresLocation(url: short.description) == short)
        let off = try PostgresLocation(url: "postgres://ops@db.example/fleet?keepalives=0&tcp_user_timeout=0")
        #expect(off.liveness.keepalive == nil && off.liveness.tcpUserTimeout == 0)
        #expect(off.description == "postgres://ops@db.example:5432/fleet?keepalives=0&tcp_user_timeout=0")
        #expect(try PostgresLocation(url: off.description) == off)
    }

    @Test("several hosts, as libpq takes them, each with its port, tried for a server that takes writes unless told otherwise")
    func severalHosts() throws {
        let pair = try PostgresLocation(url: "postgres://ops@db1.example,db2.example:6432,[::1]/fleet")
        #expect(pair.endpoints == [.tcp(host: "db1.example", port: 5432), .tcp(host: "db2.example", port: 6432), .tcp(host: "::1", port: 5432)])
        #expect(pair.targetSessionAttributes == .readWrite)
        #expect(pair.description == "postgres://ops@db1.example:5432,db2.example:6432,[::1]:5432/fleet")
        #expect(try PostgresLocation(url: pair.description) == pair)
        let any = try PostgresLocation(url: "postgres://ops@db1.example,db2.example/fleet?target_session_attrs=any")
        #expect(any.targetSessionAttributes == .any)
        #expect(any.description == "postgres://ops@db1.example:5432,db2.example:5432/fleet?target_session_attrs=any")
        let one = try PostgresLocation(url: "postgres://ops@db1.example/fleet")
        #expect(one.targetSessionAttributes == .any)
        let checked = try PostgresLocation(url: "postgres://ops@db1.example/fleet?target_session_attrs=read-write")
        #expect(checked.targetSessionAttributes == .readWrite)
        #expect(try PostgresLocation(url: checked.description) == checked)
    }

    @Test("IPv6 hosts keep their brackets out of the host", arguments: [
        ("postgres://ops@[::1]:5433/fleet", PostgresLocation.Endpoint.tcp(host: "::1", port: 5433)),
        ("postgres://ops@[::1]/fleet", PostgresLocation.Endpoint.tcp(host: "::1", port: 5432)),
    ])
    func ipv6(url: String, endpoint: PostgresLocation.Endpoint) throws {
        #expect(try PostgresLocation(url: url).endpoint == endpoint)
    }

    @Test("a wrong URL is refused, naming its wrong part and hiding the password", arguments: [
        ("postgres://db.example/fleet", "the user is missing"),
        ("postgres://ops@db.example", "the database name is missing"),
        ("postgres://ops@db.example:99999/fleet", "the port is not a number from 1 to 65535"),
        ("postgres://ops@db.example/fleet?pool=0", "pool=0"),
        ("postgres://ops@db.example/fleet?pool=many", "pool=many"),
        ("postgres://ops@db.example/fleet?sslmode=always", "sslmode=always: give one of disable, prefer, require, verify-ca, verify-full"),
        ("postgres://ops@db.example/fleet?sslrootcert=", "sslrootcert=: give the file"),
        ("postgres://ops@db.example/fleet?sslcert=/etc/client.pem", "sslcert without sslkey"),
        ("postgres://ops@db.example/fleet?sslkey=/etc/client.key", "sslkey without sslcert"),
        ("postgres://ops@db.example/fleet?sslcert=&sslkey=/etc/client.key", "sslcert=: give the file"),
        ("postgres://ops@db.example/fleet?sslpassword=x", "unknown parameter 'sslpassword'"),
        ("postgres://ops@/fleet?host=relative/dir", "host=relative/dir"),
        ("postgres://ops@/fleet", "the host is missing"),
        ("postgres://ops:hunter2@db.example:x/fleet", "the port is not a number"),
        ("postgres://ops@db.example/fleet?connect_timeout=0", "connect_timeout=0: give a whole number of seconds from 1 to 3600"),
        ("postgres://ops@db.example/fleet?keepalives=yes", "keepalives=yes: give 1 (on) or 0 (off)"),
        ("postgres://ops@db.example/fleet?keepalives_idle=-1", "keepalives_idle=-1: give a whole number of seconds from 1 to 32767"),
        ("postgres://ops@db.example/fleet?keepalives_interval=", "keepalives_interval=: give a whole number of seconds"),
        ("postgres://ops@db.example/fleet?keepalives_count=1000", "keepalives_count=1000: give a whole number of probes from 1 to 127"),
        ("postgres://ops@db.example/fleet?tcp_user_timeout=30s", "tcp_user_timeout=30s: give a whole number of milliseconds"),
        ("postgres://ops@db.example/fleet?keepalive=1", "unknown parameter 'keepalive' (known: host, pool, sslmode"),
        ("postgres://ops@db1.example,/fleet", "a host of the list is empty"),
        ("postgres://ops@db1.example,db2.example:0/fleet", "the port is not a number from 1 to 65535"),
        ("postgres://ops@a,b/fleet?host=/run/postgresql", "host=/run/postgresql is one Unix socket: give one server, not 2"),
        ("postgres://ops@db.example/fleet?target_session_attrs=standby", "target_session_attrs=standby: give one of any, read-write, primary"),
    ])
    func refused(url: String, part: String) {
        #expect {
            try PostgresLocation(url: url)
        } throws: { error in
            guard let error = error as? PitstopError else { return false }
            return error.kind == .invalid && error.message.contains(part) && !error.message.contains("hunter2")
        }
    }
}

@Suite("The PostgreSQL store", .enabled(if: TestEngine.all.contains(.postgres), PostgresServer.unavailableReason))
struct PostgresStoreTests {
    @Test("the embedded migrations are the files under Migrations/postgres, byte for byte")
    func embeddedMigrations() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Migrations/postgres")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(Migration.postgres.map(\.name) == files)
        for migration in Migration.postgres {
            let bytes = try Data(contentsOf: directory.appendingPathComponent(migration.name))
            #expect(Array(bytes) == Array(migration.sql.utf8), "\(migration.name) differs from the embedded copy")
        }
    }

    @Test("a new database is migrated on open, once, and is healthy")
    func migratesOnce() async throws {
        let url = try PostgresServer.freshDatabase()
        let location = try PostgresLocation(url: url)
        let first = try PostgresStore.open(location)
        #expect(try await first.appliedMigrations() == Migration.postgres.map(\.name))
        #expect(await first.isHealthy())
        first.close()
        // Opening again applies nothing and changes nothing.
        let recorded = try PostgresServer.psql(database: PostgresServer.databaseName(of: url), "SELECT name || ' ' || applied_at FROM pitstop_migrations")
        let second = try PostgresStore.open(location)
        #expect(await second.isHealthy())
        second.close()
        #expect(try PostgresServer.psql(database: PostgresServer.databaseName(of: url), "SELECT name || ' ' || applied_at FROM pitstop_migrations") == recorded)
    }

    @Test("a migration changed after it was applied is refused, and nothing is written")
    func changedMigration() throws {
        let url = try PostgresServer.freshDatabase()
        let database = PostgresServer.databaseName(of: url)
        try PostgresStore.open(PostgresLocation(url: url)).close()
        try PostgresServer.psql(database: database, "UPDATE pitstop_migrations SET sha256 = repeat('0', 64)")
        let before = try PostgresServer.psql(database: database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        #expect {
            try PostgresStore.open(PostgresLocation(url: url))
        } throws: { error in
            guard let error = error as? PitstopError else { return false }
            return error.kind == .conflict && error.message.contains("migration 0001_schema.sql recorded in the database")
                && error.message.contains(database)
        }
        #expect(try PostgresServer.psql(database: database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == before)
    }

    /// A database as the first release left it: migration 0001 applied and recorded as its
    /// migrator did, then a fleet, a plan's campaign and its notice written as it wrote them.
    static func firstReleaseDatabase() throws -> (url: String, database: String) {
        let url = try PostgresServer.freshDatabase()
        let database = PostgresServer.databaseName(of: url)
        let first = Migration.postgres[0]
        try PostgresServer.psql(database: database, first.sql)
        try PostgresServer.psql(database: database, """
            CREATE TABLE pitstop_migrations (name text NOT NULL PRIMARY KEY, sha256 text NOT NULL, applied_at text NOT NULL);
            INSERT INTO pitstop_migrations VALUES ('\(first.name)', '\(first.checksum)', '2026-12-01T09:00:00Z');
            INSERT INTO regions VALUES ('eastus', 'East US'), ('westus', NULL);
            INSERT INTO region_pairs VALUES ('eastus', 'westus'), ('westus', 'eastus');
            INSERT INTO subscriptions VALUES ('sub-a', '["ops@example.com"]', '[]', 'Europe/Paris');
            INSERT INTO availability_sets VALUES ('web', 'eastus', 'sub-a', 2, 5, 2);
            INSERT INTO vms VALUES ('web-0', 'eastus', 'sub-a', 'web', 0, 0, '10.0.0.4', 1), ('web-1', 'eastus', 'sub-a', 'web', 1, 1, NULL, 2),
                                   ('solo', 'westus', 'sub-a', NULL, NULL, NULL, NULL, 3);
            UPDATE vm_key_counter SET next = 4;
            INSERT INTO campaigns VALUES ('c-1', 'reboot', 'scheduled', '2026-12-01T09:00:00Z', '2026-12-08T10:00:00Z', '["eastus"]',
                                          900, 300, 2592000, 'kernel', '2026-12-08T10:00:00Z', '2026-12-08T11:00:00Z');
            INSERT INTO notices(campaign, subscription, recipients, subject, body, queued_at, first_start)
            VALUES ('c-1', 'sub-a', '["ops@example.com"]', 'Planned reboot', repeat('web-0, web-1, ', 20000), '2026-12-01T09:00:00Z', '2026-12-08T10:00:00Z');
            INSERT INTO waves(id, public_id, campaign, kind, region, availability_set, update_domain, start_at, end_at, planned_at)
            VALUES (1, 'w-1', 'c-1', 'reboot', 'eastus', 'web', 0, 1796724000, 1796725800, 1796115600),
                   (2, 'w-2', 'c-1', 'reboot', 'eastus', 'web', 1, 1796726100, 1796727900, 1796115600);
            INSERT INTO wave_vms VALUES (1, 1, 0), (1, 9, 0), (2, 2, 1);
            INSERT INTO vm_names VALUES (1, 'web-0', 0), (2, 'web-1', 0), (9, 'gone-0', 1);
            """)
        return (url, database)
    }

    /// The first release's plan as read: each event's id, its VM's name, its wave.
    static func firstReleaseEvents(_ store: PostgresStore) async throws -> [String] {
        try await store.read { tx in try tx.events.events(.all).map { "\($0.event.id) \($0.event.vm) \($0.event.wave)" } }
    }

    /// Every row of every table of the first release, as text, in a stable order; but
    /// `vm_names`, which postgres/0004 keeps for VMs gone from the fleet only.
    static func firstReleaseRows(_ database: String) throws -> String {
        let tables = try PostgresServer.psql(database: database, """
            SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables
            WHERE schemaname = 'public' AND tablename NOT IN ('pitstop_migrations', 'vm_names')
            """).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
        return try tables.map { table in
            try "\(table): " + PostgresServer.psql(database: database, "SELECT coalesce(string_agg(t::text, ' | ' ORDER BY t::text), '') FROM \(table) t")
        }.joined()
    }

    @Test("a database made by the first release migrates on open with every row kept")
    func firstReleaseMigrates() async throws {
        let (url, database) = try Self.firstReleaseDatabase()
        let before = try Self.firstReleaseRows(database)
        #expect(before.contains("web-0, web-1, web-0"))
        let store = try PostgresStore.open(PostgresLocation(url: url))
        defer { store.close() }
        #expect(try await store.appliedMigrations() == Migration.postgres.map(\.name))
        #expect(try Self.firstReleaseRows(database) == before)
        // Its plan reads the same: the names of VMs in the fleet now come from the fleet, and
        // `vm_names` keeps the one that left it.
        #expect(try await Self.firstReleaseEvents(store) == ["w-1/gone-0 gone-0 w-1", "w-1/web-0 web-0 w-1", "w-2/web-1 web-1 w-2"])
        #expect(try PostgresServer.psql(database: database, "SELECT key, name, retired FROM vm_names") == "9|gone-0|1\n")
        // The store reads what the first release wrote.
        let (vms, notices) = try await store.read { tx in (try tx.vms.count(in: .all), try tx.notices.notices(campaign: "c-1")) }
        #expect(vms == 3)
        #expect(notices.map(\.body) == [String(repeating: "web-0, web-1, ", count: 20000)])
    }

    /// Every read of events names their VMs through `vm_known_names`: one VM's poll must find
    /// its name by the key's index, not by scanning the fleet (a WHERE in a branch of the view
    /// keeps PostgreSQL from flattening it, and the join then reads every VM: 145 ms a poll at a
    /// million VMs). Scans are priced out of reach, so the plan shows whether an index can serve.
    @Test("a VM's name is found by its key through the index, not by a scan of the fleet")
    func namesFoundByKey() async throws {
        let url = try PostgresServer.freshDatabase()
        try PostgresStore.open(PostgresLocation(url: url)).close()
        let plan = try PostgresServer.psql(database: PostgresServer.databaseName(of: url), """
            SET enable_seqscan = off; EXPLAIN SELECT k.name FROM wave_vms p JOIN vm_known_names k ON k.key = p.vm WHERE p.wave = 1
            """)
        #expect(plan.contains("vms_by_key") && plan.contains("vm_names_pkey"), "\(plan)")
    }

    @Test("a notice's body is stored compressed with LZ4 when the server has it")
    func noticeBodiesLZ4() async throws {
        let (url, database) = try Self.firstReleaseDatabase()
        try PostgresStore.open(PostgresLocation(url: url)).close()
        try PostgresServer.psql(database: database, """
            INSERT INTO notices(campaign, subscription, recipients, subject, body, queued_at, first_start)
            VALUES ('c-1', 'sub-b', '[]', 'Planned reboot', repeat('web-2, ', 20000), '2026-12-01T09:00:00Z', '2026-12-08T10:00:00Z')
            """)
        let hasLZ4 = try PostgresServer.psql(database: database, """
            SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'
            """) == "t\n"
        // The first release's body keeps its compression; the new one takes the column's.
        #expect(try PostgresServer.psql(database: database, "SELECT pg_column_compression(body) FROM notices ORDER BY id")
                == "pglz\n" + (hasLZ4 ? "lz4\n" : "pglz\n"))
    }

    /// A store with regions r1 and r2, subscriptions s1 and s2, set web (r1, s1, 3 update
    /// domains, 2 fault domains), and no VM.
    static func referencesFleet() async throws -> (store: PostgresStore, database: String) {
        let url = try PostgresServer.freshDatabase()
        let store = try PostgresStore.open(PostgresLocation(url: url))
        try await store.write { tx in try FleetContractTests.places(tx) }
        return (store, PostgresServer.databaseName(of: url))
    }

    static func refused(_ database: String, _ sql: String, saying message: String) {
        #expect(Comment(rawValue: sql)) {
            try PostgresServer.psql(database: database, sql)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test("the schema checks a statement's VMs at once: one bad row of many refuses them all, with the refusals row checks gave")
    func vmChecksPerStatement() async throws {
        let (store, database) = try await Self.referencesFleet()
        defer { store.close() }
        let many = "SELECT 'vm-' || i, 'r1', 's1', 'web', i % 3, i % 2, 100000 + i FROM generate_series(1, 5000) AS i"
        let columns = "INSERT INTO vms(name, region, subscription, availability_set, update_domain, fault_domain, key) "
        Self.refused(database, columns + many + " UNION ALL SELECT 'bad', 'mars', 's1', NULL, NULL, NULL, 9001",
                     saying: "a VM names a region, subscription or availability set that does not exist")
        Self.refused(database, columns + many + " UNION ALL SELECT 'bad', 'r1', 'nobody', NULL, NULL, NULL, 9001",
                     saying: "a VM names a region, subscription or availability set that does not exist")
        // The set exists, in another region.
        Self.refused(database, columns + many + " UNION ALL SELECT 'bad', 'r2', 's1', 'web', 0, 0, 9001",
                     saying: "a VM names a region, subscription or availability set that does not exist")
        Self.refused(database, columns + many + " UNION ALL SELECT 'bad', 'r1', 's1', 'web', 3, 0, 9001",
                     saying: "vms: update or fault domain outside the availability set's range")
        Self.refused(database, columns + many + " UNION ALL SELECT 'bad', 'r1', 's1', 'web', 0, 2, 9001",
                     saying: "vms: update or fault domain outside the availability set's range")
        #expect(try PostgresServer.psql(database: database, "SELECT count(*) FROM vms") == "0\n")
        // The same rows without the bad one go in, and an update is checked as an insert is.
        try PostgresServer.psql(database: database, columns + many)
        Self.refused(database, "UPDATE vms SET update_domain = 5 WHERE name = 'vm-7'",
                     saying: "vms: update or fault domain outside the availability set's range")
        Self.refused(database, "UPDATE vms SET subscription = 'nobody' WHERE name = 'vm-7'",
                     saying: "a VM names a region, subscription or availability set that does not exist")
        #expect(try PostgresServer.psql(database: database, "SELECT count(*), max(update_domain) FROM vms") == "5000|2\n")
        // Through the store, a refusal reads as it did with the foreign keys.
        await #expect {
            try await store.write { tx in _ = try tx.vms.writer().insertIfAbsent(VirtualMachine(name: "x", region: "mars", subscription: "s1")) }
        } throws: { error in
            (error as? PitstopError)?.message == "refers to something that does not exist"
        }
    }

    @Test("what a VM names cannot be removed or renamed from under it, and can once it is gone")
    func vmReferencesKept() async throws {
        let (store, database) = try await Self.referencesFleet()
        defer { store.close() }
        try PostgresServer.psql(database: database, """
            INSERT INTO vms(name, region, subscription, key) VALUES ('solo', 'r2', 's2', 1);
            INSERT INTO vms(name, region, subscription, availability_set, update_domain, fault_domain, key) VALUES ('web-0', 'r1', 's1', 'web', 0, 0, 2);
            """)
        Self.refused(database, "DELETE FROM regions WHERE name = 'r2'", saying: "regions: a VM is still in the region")
        Self.refused(database, "UPDATE regions SET name = 'r9' WHERE name = 'r2'", saying: "regions: a VM is still in the region")
        Self.refused(database, "DELETE FROM subscriptions WHERE id = 's2'", saying: "subscriptions: a VM is still in the subscription")
        Self.refused(database, "UPDATE subscriptions SET id = 's9' WHERE id = 's2'", saying: "subscriptions: a VM is still in the subscription")
        Self.refused(database, "DELETE FROM availability_sets WHERE name = 'web'", saying: "availability_sets: a VM is still in the set")
        Self.refused(database, "UPDATE availability_sets SET region = 'r2' WHERE name = 'web'", saying: "availability_sets: a VM is still in the set")
        // Changes that keep the key are not refused; nor are removals once the VMs are gone.
        try PostgresServer.psql(database: database, "UPDATE regions SET name = name, display_name = 'West' WHERE name = 'r2'")
        try PostgresServer.psql(database: database, """
            DELETE FROM vms;
            DELETE FROM availability_sets WHERE name = 'web';
            DELETE FROM subscriptions WHERE id = 's2';
            DELETE FROM regions WHERE name = 'r2';
            """)
        #expect(try PostgresServer.psql(database: database, "SELECT string_agg(name, ',') FROM regions") == "r1\n")
    }

    @Test("a region a VM is being added to cannot be removed by another transaction before the VM's commits")
    func vmReferenceLockedUntilCommit() async throws {
        let (store, database) = try await Self.referencesFleet()
        defer { store.close() }
        let deletion = Task.detached { () -> String? in
            // Waits until the VM's transaction has locked r2, then tries to remove r2.
            try await Task.sleep(for: .milliseconds(300))
            do {
                try PostgresServer.psql(database: database, "DELETE FROM regions WHERE name = 'r2'")
                return nil
            } catch {
                return "\(error)"
            }
        }
        try await store.write { tx in
            _ = try tx.vms.writer().insertIfAbsent(VirtualMachine(name: "solo", region: "r2", subscription: "s2"))
            // Long enough for the deletion to be waiting on this transaction's lock.
            Thread.sleep(forTimeInterval: 1.5)
        }
        let refusal = try await deletion.value
        #expect(refusal?.contains("regions: a VM is still in the region") == true, "the region went while its VM was being added: \(refusal ?? "deleted")")
        #expect(try PostgresServer.psql(database: database, "SELECT region FROM vms WHERE name = 'solo'") == "r2\n")
    }

    @Test("a database holding other tables is refused, and left as it was")
    func foreignSchema() throws {
        let url = try PostgresServer.freshDatabase()
        let database = PostgresServer.databaseName(of: url)
        try PostgresServer.psql(database: database, "CREATE TABLE payroll (id int)")
        #expect {
            try PostgresStore.open(PostgresLocation(url: url))
        } throws: { error in
            (error as? PitstopError)?.message.contains("holds tables (payroll)") == true
        }
        #expect(try PostgresServer.psql(database: database, "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'") == "payroll\n")
    }

    @Test("an unreachable server is named in the error")
    func unreachable() throws {
        let url = "postgres://pitstop@/nowhere?host=/nonexistent-\(UUID().uuidString)"
        #expect {
            try PostgresStore.open(PostgresLocation(url: url))
        } throws: { error in
            guard let error = error as? PitstopError else { return false }
            return error.kind == .unavailable && error.message.contains("cannot be reached") && error.message.contains("/nonexistent-")
        }
    }

    @Test("a listening store's change mark moves when another process commits, and only then")
    func changeMarkFollowsOtherProcesses() async throws {
        let url = try PostgresServer.freshDatabase()
        let server = try PostgresStore.open(PostgresLocation(url: url), listening: true)
        let other = try PostgresStore.open(PostgresLocation(url: url))
        let before = server.changeMark()
        let reads = try await other.read { tx in try tx.fleet.regions().count }
        #expect(reads == 0)
        try await Task.sleep(for: .milliseconds(200))
        #expect(server.changeMark() == before, "a read moved the mark")
        _ = try await other.write { tx in try tx.fleet.upsert(region: Region(name: "eastus")) }
        let moved = try await eventually { server.changeMark() != before }
        #expect(moved, "another process's commit did not move the mark within a minute")
        // A store that does not listen cannot know: every mark differs.
        #expect(other.changeMark() != other.changeMark())
    }

    /// A server restart or failover closes the listening connection. Without it nothing is
    /// reused (every mark differs), which is safe but reads the database for every poll from
    /// then on; the store listens again by itself. Commits made while it did not listen were
    /// not heard, so no mark from before the gap may match one after it.
    @Test("a listener whose connection was closed listens again, and no mark from before the gap matches one after")
    func listenerComesBack() async throws {
        let url = try PostgresServer.freshDatabase()
        let database = PostgresServer.databaseName(of: url)
        let server = try PostgresStore.open(PostgresLocation(url: url), listening: true)
        let before = server.changeMark()
        #expect(server.changeMark() == before)
        try PostgresServer.psql(database: "postgres", """
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(database)' AND pid <> pg_backend_pid();
            """)
        let other = try PostgresStore.open(PostgresLocation(url: url))
        // A commit while nobody listens: not heard, ever.
        _ = try await other.write { tx in try tx.fleet.upsert(region: Region(name: "eastus")) }
        let listening = try await eventually(within: .seconds(30)) { server.changeMark() == server.changeMark() }
        #expect(listening, "the store did not listen again: every poll reads the database")
        let again = server.changeMark()
        #expect(again != before, "a mark from before the gap matches after it, though a commit in the gap was not heard")
        _ = try await other.write { tx in try tx.fleet.upsert(region: Region(name: "westus")) }
        let moved = try await eventually { server.changeMark() != again }
        #expect(moved, "another process's commit after the gap did not move the mark")
    }

    @Test("a listening store's own commit moves its mark once, at the commit, not again when its notice comes back")
    func ownCommitMovesTheMarkOnce() async throws {
        let server = try PostgresStore.open(PostgresLocation(url: try PostgresServer.freshDatabase()), listening: true)
        let before = server.changeMark()
        _ = try await server.write { tx in try tx.fleet.upsert(region: Region(name: "eastus")) }
        let after = server.changeMark()
        #expect(after != before)
        // Its notice reaches its own listener within milliseconds; it must not count.
        try await Task.sleep(for: .milliseconds(500))
        #expect(server.changeMark() == after, "the store's own notice moved its mark a second time: every cache reloads twice")
    }

    @Test("bookkeeping writes run beside one another, and move no server's mark")
    func bookkeepingBesideBookkeeping() async throws {
        let url = try PostgresServer.freshDatabase()
        let server = try PostgresStore.open(PostgresLocation(url: url), listening: true)
        let other = try PostgresStore.open(PostgresLocation(url: url))
        let before = server.changeMark()
        let t = Timestamp(seconds: 1_800_000_000)
        // The first holds its transaction open until the second has committed: were they one
        // at a time, as writes are, it would wait out its five minutes and say so. (A minute
        // was not enough on a slow day, in a full suite whose other tests starved the second.)
        let secondCommitted = DispatchSemaphore(value: 0)
        let first = Task {
            try await other.bookkeepingWrite { repos in
                _ = try repos.scheduledEvents.incarnate(vm: "web-0", digest: "d", at: t)
                return secondCommitted.wait(timeout: .now() + 300) == .success
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await server.bookkeepingWrite { try $0.scheduledEvents.incarnate(vm: "web-1", digest: "d", at: t) } == 1)
        secondCommitted.signal()
        #expect(try await first.value, "the second bookkeeping write waited for the first")
        try await Task.sleep(for: .milliseconds(500))
        #expect(server.changeMark() == before, "a bookkeeping write moved a server's mark: every kept answer is read again")
    }

    @Test("a bookkeeping write waits for a write in progress, and sees what it committed")
    func bookkeepingAfterWrite() async throws {
        let store = try PostgresStore.open(PostgresLocation(url: try PostgresServer.freshDatabase()))
        let inside = DispatchSemaphore(value: 0)
        let write = Task {
            try await store.write { repos in
                _ = try repos.fleet.upsert(region: Region(name: "eastus"))
                inside.signal()
                Thread.sleep(forTimeInterval: 1)
            }
        }
        await Task.detached { inside.wait() }.value
        let seen = try await store.bookkeepingWrite { try $0.fleet.region(named: "eastus") != nil }
        #expect(seen, "the bookkeeping write ran beside the write, before its commit")
        try await write.value
    }

    @Test("a store whose database stops answering is unhealthy, and its units of work fail naming it")
    func unreachableAfterOpening() async throws {
        let url = try PostgresServer.freshDatabase()
        let database = PostgresServer.databaseName(of: url)
        let store = try PostgresStore.open(PostgresLocation(url: url))
        #expect(await store.isHealthy())
        try PostgresServer.psql(database: "postgres", """
            ALTER DATABASE \(database) ALLOW_CONNECTIONS false;
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(database)';
            """)
        #expect(await !store.isHealthy())
        await #expect {
            _ = try await store.read { tx in try tx.fleet.regions() }
        } throws: { error in
            guard let error = error as? PitstopError else { return false }
            return error.kind == .unavailable && error.message.contains(database)
        }
    }

    @Test("the schema keeps the audit log append-only, whoever writes")
    func appendOnlyAudit() throws {
        let url = try PostgresServer.freshDatabase()
        let database = PostgresServer.databaseName(of: url)
        try PostgresStore.open(PostgresLocation(url: url)).close()
        try PostgresServer.psql(database: database, "INSERT INTO audit_log VALUES (1, '2026-12-03T10:00:00Z', 'ops', 'test', '{}', '', 'h1')")
        for statement in ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log", "TRUNCATE audit_log CASCADE"] {
            #expect(throws: (any Error).self, "\(statement) must be refused") {
                try PostgresServer.psql(database: database, statement)
            }
        }
        #expect(try PostgresServer.psql(database: database, "SELECT actor FROM audit_log") == "ops\n")
    }
}
