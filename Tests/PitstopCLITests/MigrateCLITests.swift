// `pitstop migrate --from PATH --to postgres://…`: a SQLite database moves into an empty
// PostgreSQL database whole, audit chain included, and every command then reads the same
// fleet, plan, notices and tokens there; a target that is not empty, a broken chain or a
// wrong argument is refused with nothing copied.
import Foundation
import PitstopTestSupport
import Testing

@Suite(.enabled(if: TestEngine.all.contains(.postgres), "PostgreSQL is not installed"))
struct MigrateCLITests {
    static let fleet = """
        {"regions": [{"name": "eastus"}, {"name": "westus"}],
         "regionPairs": [{"region": "eastus", "pairedWith": "westus"}],
         "subscriptions": [{"id": "contoso", "admins": ["ops@contoso.example"]}],
         "availabilitySets": [{"name": "web", "region": "eastus", "subscription": "contoso", "updateDomains": 2, "faultDomains": 2}],
         "vms": [{"name": "web-0", "region": "eastus", "subscription": "contoso", "availabilitySet": "web", "ipAddress": "10.0.0.1"},
                 {"name": "web-1", "region": "eastus", "subscription": "contoso", "availabilitySet": "web", "ipAddress": "10.0.0.2"},
                 {"name": "web-2", "region": "eastus", "subscription": "contoso", "availabilitySet": "web"},
                 {"name": "db-0", "region": "westus", "subscription": "contoso", "ipAddress": "10.1.0.1"}]}
        """

    /// A SQLite database with something in every kind of table: a fleet, a planned reboot
    /// with its notices sent, a token, an audit key and a signed checkpoint.
    static func populated() throws -> Sandbox {
        let box = try Sandbox()
        for arguments in [
            ["import", try box.write("fleet.json", fleet)], ["plan", "--kind", "reboot"], ["notify", "--outbox", box.path("outbox")],
            ["token", "create", "ci", "--role", "operator"], ["audit", "keygen", box.path("audit.key")],
            ["audit", "checkpoint", "--audit-key", box.path("audit.key")],
        ] {
            let run = try box.runRaw(arguments + ["--db", box.db])
            try #require(run.status == 0, "\(arguments): \(run)")
        }
        return box
    }

    func sqlite(_ path: String, _ sql: String) throws -> String {
        let process = Subprocess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path, sql]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test(.hangGuard)
    func everyRowArrivesAndEveryCommandReadsTheSameThere() throws {
        let box = try Self.populated()
        // And a planned VM that left the fleet: SQLite keeps its name in `vm_names` as it keeps
        // every planned VM's; PostgreSQL keeps only those (postgres/0004).
        let upcoming = try box.runRaw(["upcoming", "--vm", "web-2", "--within", "30d", "--format", "json", "--db", box.db]).jsonObject()
        let gone = try #require((upcoming["events"] as? [[String: Any]])?.first?["id"] as? String)
        for arguments in [["event", "cancel", gone, "--reason", "retired"], ["vm", "remove", "web-2"]] {
            let run = try box.runRaw(arguments + ["--db", box.db])
            try #require(run.status == 0, "\(arguments): \(run)")
        }
        let target = try PostgresServer.freshDatabase()
        let before = try sqlite(box.db, ".dump")

        let moved = try box.runRaw(["migrate", "--from", box.db, "--to", target, "--format", "json"])
        try #require(moved.status == 0, "\(moved)")
        let report = try moved.jsonObject()
        let tables = try #require(report["tables"] as? [[String: Any]])
        // Every table of the source, each with as many rows as the source holds.
        let sourceTables = try sqlite(box.db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'pitstop_migrations' ORDER BY name")
            .split(separator: "\n").map(String.init)
        #expect(tables.compactMap { $0["name"] as? String }.sorted() == sourceTables)
        // (`vm_names` there keeps only the VMs gone from the fleet: postgres/0004.)
        for table in tables {
            let name = try #require(table["name"] as? String)
            let rows = try sqlite(box.db, "SELECT count(*) FROM \(name)\(name == "vm_names" ? " WHERE retired = 1" : "")")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect("\(table["rows"] as? Int ?? -1)" == rows, "\(name)")
        }
        let entries = Int(try sqlite(box.db, "SELECT count(*) FROM audit_log").trimmingCharacters(in: .whitespacesAndNewlines))!
        let head = try sqlite(box.db, "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1").trimmingCharacters(in: .whitespacesAndNewlines)
        let chain = try #require(report["chain"] as? [String: Any])
        // The shape of the chain in `audit verify --format json`.
        #expect(chain["ok"] as? Bool == true && chain["entries"] as? Int == entries && chain["firstBroken"] is NSNull)
        let chainHead = try #require(chain["head"] as? [String: Any])
        #expect(chainHead["seq"] as? Int == entries && chainHead["hash"] as? String == head)
        #expect(report["recordedAs"] as? Int == entries + 1)
        // The source was only read.
        #expect(try sqlite(box.db, ".dump") == before)

        // There, the chain verifies with the move appended, and its signed checkpoint holds.
        let verified = try box.runRaw(["audit", "verify", "--db", target])
        #expect(verified.status == 0, "\(verified)")
        #expect(verified.stdout.contains("chain: ok, \(entries + 1) entries"), "\(verified)")
        #expect(verified.stdout.contains("signed: 1 checkpoint"), "\(verified)")
        // Only the name of the VM that left the fleet stays in `vm_names`.
        #expect(try PostgresServer.psql(database: PostgresServer.databaseName(of: target), "SELECT name, retired FROM vm_names") == "web-2|1\n")
        let moves = try box.runRaw(["audit", "--action", "database.migrated", "--format", "json", "--db", target])
        #expect(moves.status == 0 && moves.stdout.contains(box.db), "\(moves)")

        // Every command reads the same as on the source.
        for command in [["export"], ["upcoming", "--format", "json"], ["notices", "--format", "json"], ["token", "list", "--format", "json"],
                        ["campaign", "list", "--format", "json"], ["check"], ["event", "show", gone, "--format", "json"],
                        ["report", "--format", "json"]] {
            let here = try box.runRaw(command + ["--db", box.db]), there = try box.runRaw(command + ["--db", target])
            #expect(here.status == 0 && there.status == 0, "\(command): \(here) \(there)")
            #expect(here.stdout == there.stdout, "\(command)")
        }
        // And the database goes on: new waves, notices and VM keys follow the copied ones.
        let planned = try box.runRaw(["plan", "--kind", "freeze", "--regions", "westus", "--db", target])
        #expect(planned.status == 0, "\(planned)")
        let added = try box.runRaw(["vm", "add", "web-3", "--region", "eastus", "--subscription", "contoso", "--set", "web", "--db", target])
        #expect(added.status == 0, "\(added)")
        #expect(try box.runRaw(["check", "--db", target]).status == 0)

        // A second move into the same database is refused, and changes nothing there.
        let auditRows = try PostgresServer.psql(database: PostgresServer.databaseName(of: target), "SELECT count(*) FROM audit_log")
        let again = try box.runRaw(["migrate", "--from", box.db, "--to", target])
        #expect(again.status == 2)
        #expect(again.stderr.contains("is not empty") && again.stderr.contains("nothing was copied"), "\(again)")
        #expect(try PostgresServer.psql(database: PostgresServer.databaseName(of: target), "SELECT count(*) FROM audit_log") == auditRows)
    }

    @Test(.hangGuard)
    func wrongArgumentsAndABrokenChainAreRefusedWithNothingCopied() throws {
        let box = try Self.populated()
        let target = try PostgresServer.freshDatabase()
        let database = PostgresServer.databaseName(of: target)
        /// No schema yet (nothing opened it), or a schema with no VM and no audit entry.
        func isEmpty() throws -> Bool {
            func value(_ sql: String) throws -> String { try PostgresServer.psql(database: database, sql).trimmingCharacters(in: .whitespacesAndNewlines) }
            guard try value("SELECT to_regclass('vms') IS NOT NULL") == "t" else { return true }
            return try value("SELECT (SELECT count(*) FROM vms) + (SELECT count(*) FROM audit_log)") == "0"
        }

        let notPostgres = try box.runRaw(["migrate", "--from", box.db, "--to", box.path("other.sqlite")])
        #expect(notPostgres.status == 2 && notPostgres.stderr.contains("--to:") && notPostgres.stderr.contains("postgres://"), "\(notPostgres)")
        #expect(!FileManager.default.fileExists(atPath: box.path("other.sqlite")))
        let fromPostgres = try box.runRaw(["migrate", "--from", target, "--to", target])
        #expect(fromPostgres.status == 2 && fromPostgres.stderr.contains("--from:"), "\(fromPostgres)")
        let missing = try box.runRaw(["migrate", "--from", box.path("missing.sqlite"), "--to", target])
        #expect(missing.status == 2 && missing.stderr.hasPrefix("pitstop: --from \(box.path("missing.sqlite")): no such database"), "\(missing)")
        #expect(!FileManager.default.fileExists(atPath: box.path("missing.sqlite")))
        // Each refusal names the option the operator gave, never a --db this command has not.
        let emptySource = try box.runRaw(["migrate", "--from", "sqlite:", "--to", target])
        #expect(emptySource.status == 2 && emptySource.stderr.hasPrefix("pitstop: --from sqlite: names no file"), "\(emptySource)")
        let badPool = try box.runRaw(["migrate", "--from", box.db, "--to", target + (target.contains("?") ? "&" : "?") + "pool=0"])
        #expect(badPool.status == 2 && badPool.stderr.hasPrefix("pitstop: --to postgres://") && badPool.stderr.contains("pool=0"), "\(badPool)")
        for run in [missing, emptySource, badPool] { #expect(!run.stderr.contains("--db"), "\(run)") }
        #expect(try isEmpty())

        // A planned VM gone from the fleet behind Pitstop's back, its name left unretired (SQLite
        // still reads it from `vm_names`; PostgreSQL keeps only retired names there): refused,
        // rather than losing the VM's events on the way.
        _ = try sqlite(box.db, """
            PRAGMA foreign_keys = OFF; DROP TRIGGER vms_retire_name; DELETE FROM vms WHERE name = 'web-2';
            """)
        let unnamed = try box.runRaw(["migrate", "--from", box.db, "--to", target])
        #expect(unnamed.status == 2, "\(unnamed)")
        #expect(unnamed.stderr.contains("1 planned event names a VM key that neither the fleet nor the names of removed VMs hold")
                && unnamed.stderr.contains("nothing was copied"), "\(unnamed)")
        #expect(try isEmpty())

        // An entry edited behind Pitstop's back: the chain cannot be verified on arrival.
        _ = try sqlite(box.db, """
            DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'mallory' WHERE seq = 2;
            """)
        let broken = try box.runRaw(["migrate", "--from", box.db, "--to", target])
        #expect(broken.status == 2, "\(broken)")
        #expect(broken.stderr.contains("audit chain is broken at entry 2") && broken.stderr.contains("nothing was copied"), "\(broken)")
        #expect(try isEmpty())
    }
}
