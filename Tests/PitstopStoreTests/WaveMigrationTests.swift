// Migration 0007 (plans stored as waves) converts a database of the one-row-a-VM layout in its
// one transaction: a database it cannot convert faithfully is left exactly as it was.
import Foundation
import GRDB
import PitstopCore
import Testing
@testable import PitstopStore

@Suite struct WaveMigrationTests {
    /// The migrations of the release before waves.
    static let previous = Array(Migration.all.prefix { $0.name < "0007" })

    /// A database of that release with one campaign whose wave `w1` has two VMs; `secondStart`
    /// is web-1's planned start, which the planner always made web-0's.
    private func oldDatabase(secondStart: String, in directory: URL) throws -> String {
        let (path, pool) = try databaseOfRelease(Self.previous, in: directory)
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO regions(name) VALUES ('eastus');
                INSERT INTO campaigns(id, kind, created_at, not_before, regions, per_vm_seconds, ud_gap_seconds, horizon_seconds, start_utc, end_utc)
                VALUES ('c1', 'reboot', '2026-12-01T00:00:00Z', '2026-12-08T00:00:00Z', '["eastus"]', 900, 1800, 7776000, '2026-12-10T00:00:00Z', '2026-12-10T02:00:00Z');
                INSERT INTO events(id, campaign, vm, region, availability_set, update_domain, fault_domain, wave, kind, start_utc, end_utc, status, planned_at)
                VALUES ('w1/web-0', 'c1', 'web-0', 'eastus', 'web', 0, 0, 'w1', 'reboot', '2026-12-10T00:00:00Z', '2026-12-10T00:15:00Z', 'scheduled', '2026-12-01T00:00:00Z'),
                       ('w1/web-1', 'c1', 'web-1', 'eastus', 'web', 0, 1, 'w1', 'reboot', ?, '2026-12-10T00:15:00Z', 'scheduled', '2026-12-01T00:00:00Z');
                """, arguments: [secondStart])
        }
        try pool.close()
        return path
    }

    private func dump(_ path: String) throws -> [String] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            try String.fetchAll(db, sql: "SELECT type || ' ' || name FROM sqlite_master ORDER BY 1")
                + Row.fetchAll(db, sql: "SELECT * FROM events ORDER BY id").map { $0.description }
                + String.fetchAll(db, sql: "SELECT name FROM pitstop_migrations ORDER BY name")
        }
    }

    @Test func aWaveWhoseRowsDisagreeIsRefusedAndTheDatabaseIsLeftAsItWas() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try oldDatabase(secondStart: "2026-12-10T00:05:00Z", in: directory)
        let before = try dump(path)
        #expect(before.contains("table events"))

        let error = try #require(throws: PitstopError.self) { try AppDatabase.open(path: path) }
        #expect(error.message == "\(path): migration 0007_waves.sql cannot convert this database: the events of one wave disagree on its "
                + "campaign, region, set, update domain, kind or times; nothing was changed: use the previous release of pitstop with it")

        // The old table and its rows are there, and 0007 is not recorded: all or nothing.
        #expect(try dump(path) == before)
    }

    @Test func theSameDatabaseWithAgreeingRowsMigratesIntoOneWaveOfTwoVMs() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try oldDatabase(secondStart: "2026-12-10T00:00:00Z", in: directory)

        let database = try AppDatabase.open(path: path)

        #expect(try database.appliedMigrations() == Migration.all.map(\.name))
        let events = try await database.read { tx in try tx.events.events(.wave("w1")) }
        #expect(events.map(\.event.id) == ["w1/web-0", "w1/web-1"])
        #expect(events.map(\.event.faultDomain) == [0, 1])
        let counts = try await database.writer.read { db in
            [try Int.fetchOne(db, sql: "SELECT count(*) FROM waves"), try Int.fetchOne(db, sql: "SELECT count(*) FROM wave_vms"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM vm_departures")]
        }
        #expect(counts == [1, 2, 0])
        #expect(try await database.writer.read { db in try db.tableExists("events") } == false)
    }
}
