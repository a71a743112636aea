// Tests for the embedded migrations: applied once and recorded, checked on every open, and a
// database this binary does not understand refused without a byte written.
import Foundation
import GRDB
import PitstopCore
import Testing
@testable import PitstopStore

/// A fresh directory under the system temp dir, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The repository root, found from this file's place in `Tests/PitstopStoreTests/`.
private func repositoryRoot(_ file: String = #filePath) -> URL {
    URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// Creates a migrated database file, closes it, and returns its path.
private func migratedDatabaseFile(in directory: URL) throws -> String {
    let path = directory.appendingPathComponent("pitstop.sqlite").path
    try AppDatabase.open(path: path).writer.close()
    return path
}

/// Changes the file behind Pitstop's back, through a plain connection.
private func tamper(_ path: String, _ sql: String) throws {
    let queue = try DatabaseQueue(path: path)
    try queue.write { db in try db.execute(sql: sql) }
    try queue.close()
}

/// The recorded migrations (with their times) and the schema, read without Pitstop.
private func history(_ path: String) throws -> [[String?]] {
    var configuration = Configuration()
    configuration.readonly = true
    let queue = try DatabaseQueue(path: path, configuration: configuration)
    defer { try? queue.close() }
    return try queue.read { db in
        try Row.fetchAll(db, sql: "SELECT name, sha256, applied_at FROM pitstop_migrations ORDER BY name").map { [$0[0], $0[1], $0[2]] }
            + Row.fetchAll(db, sql: "SELECT type, name, sql FROM sqlite_master ORDER BY type, name").map { [$0[0], $0[1], $0[2]] }
    }
}

private func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

/// Files beside the database that opening it left behind (`-wal`, `-shm`, a journal).
private func leftovers(beside path: String) throws -> [String] {
    let name = URL(fileURLWithPath: path).lastPathComponent
    return try FileManager.default.contentsOfDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path)
        .filter { $0 != name && $0.hasPrefix(name) }
}

@Suite struct MigrationTests {
    @Test func anEmptyDatabaseGetsEveryMigrationRecordedWithItsChecksum() throws {
        // Given an empty in-memory database, when it is opened as a Pitstop database
        let database = try AppDatabase.inMemory()

        // then every migration is applied and recorded, in order, with its checksum
        #expect(try database.appliedMigrations() == Migration.all.map(\.name))
        let recorded = try database.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT name, sha256 FROM pitstop_migrations ORDER BY name").map { [$0["name"], $0["sha256"]] as [String] }
        }
        #expect(recorded == Migration.all.map { [$0.name, $0.checksum] })
        let tables = try database.writer.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") }
        #expect(Set(tables).isSuperset(of: ["regions", "region_pairs", "subscriptions", "availability_sets", "vms", "maintenance_windows", "blackouts"]))
    }

    @Test func reopeningAMigratedFileAppliesNothing() throws {
        // Given a database file that was created and migrated
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try migratedDatabaseFile(in: directory)
        let before = try history(path)

        // when it is opened again
        let reopened = try AppDatabase.open(path: path)
        let applied = try reopened.appliedMigrations()
        try reopened.writer.close()

        // then no migration ran again: same records, same times, same schema
        #expect(applied == Migration.all.map(\.name))
        #expect(try history(path) == before)
    }

    /// Both ways of opening: a server's pool, and a command's one connection.
    @Test(arguments: [true, false])
    func aChangedMigrationIsRefusedAndTheFileIsUntouched(concurrent: Bool) throws {
        // Given a database whose recorded checksum of the first migration differs from the binary's
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try migratedDatabaseFile(in: directory)
        let first = try #require(Migration.all.first)
        let forged = String(repeating: "0", count: 64)
        try tamper(path, "UPDATE pitstop_migrations SET sha256 = '\(forged)' WHERE name = '\(first.name)'")
        let before = try bytes(path)

        // when it is opened
        let error = #expect(throws: PitstopError.self) { try AppDatabase.open(path: path, concurrent: concurrent) }

        // then it is refused as a changed migration, naming it, and not a byte changed
        #expect(error?.kind == .conflict)
        #expect(error?.message == "\(path): \(MigrationError.changedMigration(name: first.name, recorded: forged, binary: first.checksum))")
        #expect(error?.description.contains(first.name) == true)
        #expect(try bytes(path) == before)
        #expect(try leftovers(beside: path).isEmpty)
    }

    /// Both ways of opening: a server's pool, and a command's one connection.
    @Test(arguments: [true, false])
    func anUnknownMigrationIsRefusedAndTheFileIsUntouched(concurrent: Bool) throws {
        // Given a database that records a migration this binary does not have
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try migratedDatabaseFile(in: directory)
        try tamper(path, "INSERT INTO pitstop_migrations(name, sha256, applied_at) VALUES ('9999_from_the_future.sql', 'abc', '2030-01-01T00:00:00Z')")
        let before = try bytes(path)

        // when it is opened
        let error = #expect(throws: PitstopError.self) { try AppDatabase.open(path: path, concurrent: concurrent) }

        // then it is refused as unknown, naming the migration, and not a byte changed
        #expect(error?.kind == .conflict)
        #expect(error?.message == "\(path): \(MigrationError.unknownMigration(name: "9999_from_the_future.sql"))")
        #expect(error?.description.contains("9999_from_the_future.sql") == true)
        #expect(try bytes(path) == before)
        #expect(try leftovers(beside: path).isEmpty)
    }

    /// Both ways of opening: a server's pool, and a command's one connection.
    @Test(arguments: [true, false])
    func aFileWithOtherTablesButNoMigrationRecordIsRefused(concurrent: Bool) throws {
        // Given an SQLite file that some other program made
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("other.sqlite").path
        try tamper(path, "CREATE TABLE customers(id INTEGER PRIMARY KEY)")
        let before = try bytes(path)

        // when it is opened as a Pitstop database
        let error = #expect(throws: PitstopError.self) { try AppDatabase.open(path: path, concurrent: concurrent) }

        // then it is refused as foreign, and left as it was
        #expect(error?.kind == .conflict)
        #expect(error?.message == "\(path): \(MigrationError.foreignSchema(tables: ["customers"]))")
        #expect(try bytes(path) == before)
        #expect(try leftovers(beside: path).isEmpty)
    }

    @Test func theEmbeddedMigrationsAreTheFilesUnderMigrationsByteForByteInOrder() throws {
        // Given the SQL files of the repository's Migrations directory, in name order
        let directory = repositoryRoot().appendingPathComponent("Migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(!files.isEmpty)

        // then the binary's list has the same names in the same order, with the same bytes
        #expect(Migration.all.map(\.name) == files)
        for (migration, file) in zip(Migration.all, files) {
            let onDisk = try Data(contentsOf: directory.appendingPathComponent(file))
            #expect(Data(migration.sql.utf8) == onDisk, "\(file) differs from the embedded \(migration.name)")
        }
    }

    @Test func migrationNamesAreNumberedAndStrictlyIncreasing() {
        // Every name starts with a four-digit number, and each number is one more than the last.
        let numbers = Migration.all.map { Int($0.name.prefix(4)) }
        #expect(numbers == Array(1...Migration.all.count).map(Optional.some))
    }
}

@Suite struct OpenWhileHeldTests {
    /// Opening checks the recorded migrations through a read-only connection of its own; that
    /// connection waits for a lock like every other one. A WAL database is held exclusively for a
    /// moment by the last connection closing (it checkpoints and removes the WAL) or by one in
    /// exclusive locking mode, which is what this test does for 300 ms.
    @Test func openingWaitsForADatabaseAnotherConnectionHoldsForAMoment() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try migratedDatabaseFile(in: directory)

        let holder = try DatabaseQueue(path: path)
        try holder.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS held (x); DROP TABLE held")  // takes the lock and keeps it
        }
        let released = Thread {
            usleep(300_000)
            try? holder.close()
        }
        released.start()

        // The open waits for the holder instead of failing with "database is locked".
        let database = try AppDatabase.open(path: path)
        #expect(try database.appliedMigrations() == Migration.all.map(\.name))
    }
}

/// A database file in `directory` with exactly `migrations` applied: what an earlier release made.
func databaseOfRelease(_ migrations: [Migration], in directory: URL) throws -> (path: String, pool: DatabasePool) {
    let path = directory.appendingPathComponent("previous.sqlite").path
    let pool = try DatabasePool(path: path, configuration: AppDatabase.configuration())
    try Migrator(migrations: migrations).migrate(pool)
    return (path, pool)
}

@Suite struct PreviousReleaseTests {
    /// The migrations the previous release shipped: everything before audit keys.
    static let previous = Array(Migration.all.prefix { $0.name < "0005" })

    @Test func aDatabaseOfThePreviousReleaseOpensAndMigratesWithNothingLost() async throws {
        // Given a database file written by the previous release: its schema, a fleet, a plan, notices, a log
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(Self.previous.count == 4)
        let (path, old) = try databaseOfRelease(Self.previous, in: directory)
        let now = Timestamp(iso8601: "2026-11-22T10:00:00Z")!
        try await old.write { db in
            let tx = SQLiteRepositories(db: db)
            _ = try tx.fleet.upsert(region: Region(name: "eastus"))
            _ = try tx.fleet.upsert(subscription: Subscription(id: "contoso", admins: ["ops@contoso.example"], coAdmins: []))
            try tx.audit.append(at: now, actor: "old", action: "region.added", subjects: [AuditSubject(.region, "eastus")], details: "{}")
            try tx.audit.append(at: now, actor: "old", action: "subscription.added", subjects: [AuditSubject(.subscription, "contoso")], details: "{}")
        }
        func snapshot(_ writer: any DatabaseWriter) throws -> [[String?]] {
            try writer.read { db in
                var rows: [[String?]] = []
                for table in ["regions", "subscriptions", "audit_log", "audit_subjects", "pitstop_migrations"] {
                    rows += try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1").map { row in [table] + row.databaseValues.map { $0.description } }
                }
                return rows
            }
        }
        let before = try snapshot(old)
        try old.close()

        // When this release opens it
        let database = try AppDatabase.open(path: path)

        // Then the new migration is applied, and every row of before is still there, unchanged
        #expect(try database.appliedMigrations() == Migration.all.map(\.name))
        let after = try snapshot(database.writer)
        #expect(after.filter { $0[0] != "pitstop_migrations" } == before.filter { $0[0] != "pitstop_migrations" })
        #expect(Array(after.filter { $0[0] == "pitstop_migrations" }.prefix(4)) == before.filter { $0[0] == "pitstop_migrations" })
        #expect(try await database.read { tx in try tx.audit.verifyChain() }.ok)
        #expect(try await database.read { tx in try tx.audit.keys() }.isEmpty)
    }
}
