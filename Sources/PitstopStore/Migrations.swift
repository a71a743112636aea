// The schema's history: the SQL files under Migrations/, embedded in the binary so that a
// `pitstop` copied alone anywhere still carries its schema.
import Crypto
import PitstopCore
import Foundation
import GRDB

/// One numbered schema change, applied once, in order, in its own transaction.
public struct Migration: Sendable {
    /// The file name under `Migrations/`, e.g. `0001_inventory.sql`.
    public let name: String
    public let sql: String
    /// Hex SHA-256 of the file's bytes: recorded when applied, compared on every open (so
    /// computed once, with ``all``).
    public let checksum: String

    package init(name: String, bytes: [UInt8]) {
        self.name = name
        self.sql = String(decoding: bytes, as: UTF8.self)
        self.checksum = Hex.string(SHA256.hash(data: bytes))
    }
}

extension Migration {
    /// Every migration this binary knows, in the order it applies them. A test checks this
    /// list byte for byte against `Migrations/*.sql`.
    public static let all: [Migration] = [
        Migration(name: "0001_inventory.sql", bytes: PackageResources._001_inventory_sql),
        Migration(name: "0002_scheduler.sql", bytes: PackageResources._002_scheduler_sql),
        Migration(name: "0003_audit_indexes.sql", bytes: PackageResources._003_audit_indexes_sql),
        Migration(name: "0004_scheduled_events.sql", bytes: PackageResources._004_scheduled_events_sql),
        Migration(name: "0005_audit_keys.sql", bytes: PackageResources._005_audit_keys_sql),
        Migration(name: "0006_api_tokens.sql", bytes: PackageResources._006_api_tokens_sql),
        Migration(name: "0007_waves.sql", bytes: PackageResources._007_waves_sql),
        Migration(name: "0008_vm_keys_in_fleet.sql", bytes: PackageResources._008_vm_keys_in_fleet_sql),
    ]
}

/// Why a database cannot be opened by this binary. Nothing was written when it is thrown.
public enum MigrationError: Error, CustomStringConvertible, Equatable {
    case unknownMigration(name: String)
    case changedMigration(name: String, recorded: String, binary: String)
    case outOfOrder(recorded: String, expected: String)
    case foreignSchema(tables: [String])
    case refused(name: String, reason: String)

    public var description: String {
        switch self {
        case .unknownMigration(let name):
            return "the database has migration \(name), which this pitstop does not know: it was written by a newer or different build; use that build, or a fresh database"
        case .changedMigration(let name, let recorded, let binary):
            return "migration \(name) recorded in the database (sha256 \(recorded.prefix(12))…) differs from this pitstop's (sha256 \(binary.prefix(12))…): the schema was changed after it landed; refusing to open"
        case .outOfOrder(let recorded, let expected):
            return "the database recorded migration \(recorded) where this pitstop expects \(expected); refusing to open"
        case .refused(let name, let reason):
            return "migration \(name) cannot convert this database: \(reason); nothing was changed: use the previous release of pitstop with it"
        case .foreignSchema(let tables):
            return "the file holds tables (\(tables.joined(separator: ", "))) but no Pitstop migration record: it is not a Pitstop database; refusing to open"
        }
    }
}

/// Applies `Migration.all` to a database, after checking that what it has already recorded is
/// a prefix of this binary's list.
struct Migrator {
    let migrations: [Migration]

    func migrate(_ writer: any DatabaseWriter) throws {
        let pending = try writer.read { db in try pendingMigrations(db) }
        guard !pending.isEmpty else { return }
        try writer.barrierWriteWithoutTransaction { db in
            // Checked again under the write lock: another process may have migrated meanwhile.
            for migration in try pendingMigrations(db) {
                try db.inTransaction {
                    try db.execute(sql: migrationsTableSQL)
                    do { try db.execute(sql: migration.sql) } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                        // A migration refuses data it cannot convert with RAISE(ABORT, reason).
                        throw MigrationError.refused(name: migration.name, reason: error.message ?? "a constraint failed")
                    }
                    try db.execute(
                        sql: "INSERT INTO pitstop_migrations(name, sha256, applied_at) VALUES (?, ?, ?)",
                        arguments: [migration.name, migration.checksum, Timestamp(Date()).iso8601])
                    return .commit
                }
            }
        }
    }

    /// Throws if the file at `path` holds migrations this binary refuses, without writing to it.
    /// It waits for a lock like every other connection: another process may hold the file for a
    /// moment (the last connection to close checkpoints and removes the WAL under an exclusive
    /// lock), and without a busy timeout that moment was "database is locked" (exit 3).
    ///
    /// Without a WAL beside the file the connection is read-write, yet writes nothing: a
    /// read-only connection to a WAL database creates `-wal` and `-shm` files it cannot remove,
    /// so a refused database would be left with them; a read-write one, the last to close,
    /// removes what it made. With a WAL present (another process uses the file, or one was
    /// killed) it stays read-only, so that closing it never checkpoints into the file.
    func check(path: String) throws {
        var configuration = Configuration()
        configuration.readonly = FileManager.default.fileExists(atPath: path + "-wal")
        configuration.busyMode = .timeout(TimeInterval(AppDatabase.busyTimeoutSeconds))
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        try check(queue)
    }

    /// Throws if the database behind `writer` holds migrations this binary refuses. It only
    /// reads: called before anything is written, a refusal leaves the file as it was.
    func check(_ writer: any DatabaseWriter) throws {
        _ = try writer.read { db in try pendingMigrations(db) }
    }

    /// Whether every migration of this binary is recorded, and nothing else.
    func isCurrent(_ db: Database) throws -> Bool {
        try pendingMigrations(db).isEmpty
    }

    private func pendingMigrations(_ db: Database) throws -> [Migration] {
        guard try db.tableExists("pitstop_migrations") else {
            let userTables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            guard userTables.isEmpty else {
                throw MigrationError.foreignSchema(tables: Array(userTables.prefix(5)))
            }
            return migrations
        }
        let recorded = try Row.fetchAll(db, sql: "SELECT name, sha256 FROM pitstop_migrations ORDER BY name").map {
            (name: $0["name"] as String, sha256: $0["sha256"] as String)
        }
        return try Migration.pending(known: migrations, recorded: recorded)
    }
}

extension Migration {
    /// Which of `known` a database still needs, given what it `recorded` (in name order);
    /// throws when the record is not a prefix of `known`, byte for byte.
    package static func pending(known: [Migration], recorded: [(name: String, sha256: String)]) throws(MigrationError) -> [Migration] {
        for (index, (name, sha)) in recorded.enumerated() {
            guard index < known.count else { throw MigrationError.unknownMigration(name: name) }
            let expected = known[index]
            guard expected.name == name else {
                if known.contains(where: { $0.name == name }) {
                    throw MigrationError.outOfOrder(recorded: name, expected: expected.name)
                }
                throw MigrationError.unknownMigration(name: name)
            }
            guard expected.checksum == sha else {
                throw MigrationError.changedMigration(name: name, recorded: sha, binary: expected.checksum)
            }
        }
        return Array(known.dropFirst(recorded.count))
    }
}

/// The bookkeeping table itself is created outside the numbered files: it must exist before
/// the first of them runs.
let migrationsTableSQL = """
    CREATE TABLE IF NOT EXISTS pitstop_migrations (
        name        TEXT NOT NULL PRIMARY KEY,
        sha256      TEXT NOT NULL,
        applied_at  TEXT NOT NULL
    ) WITHOUT ROWID
    """
