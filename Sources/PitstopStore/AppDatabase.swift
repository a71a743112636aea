// The database Pitstop keeps its fleet and its plans in: one SQLite file shared by the CLI,
// the server and the scheduler, migrated on open.
import Foundation
import GRDB

/// Owns the connection(s) to one Pitstop database. Opening it checks the recorded migrations
/// against this binary's and applies the missing ones; a database this binary does not
/// understand is refused before anything is written.
public struct AppDatabase: Sendable {
    public let writer: any DatabaseWriter

    /// Wraps `writer` and brings its schema up to date.
    public init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Migrator(migrations: Migration.all).migrate(writer)
    }

    /// Opens (creating if needed) the database file at `path`: WAL, so the CLI and a running
    /// server can read while another writes; foreign keys on; a busy timeout rather than an
    /// immediate "database is locked".
    public static func open(path: String) throws -> AppDatabase {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Opening a pool writes to the file (WAL mode, GRDB's WAL bootstrap), so an existing
        // file is first checked through a read-only connection: a refused one stays untouched.
        if FileManager.default.fileExists(atPath: path) {
            try Migrator(migrations: Migration.all).check(path: path)
        }
        return try AppDatabase(DatabasePool(path: path, configuration: configuration()))
    }

    /// A private in-memory database, for tests.
    public static func inMemory() throws -> AppDatabase {
        try AppDatabase(DatabaseQueue(configuration: configuration()))
    }

    static func configuration() -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            // Durable at commit in WAL mode without an fsync per statement.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return config
    }

    /// The names of the migrations recorded in the database, in order.
    public func appliedMigrations() throws -> [String] {
        try writer.read { db in try String.fetchAll(db, sql: "SELECT name FROM pitstop_migrations ORDER BY name") }
    }
}

/// Where the database lives when no `--db` is given: `$PITSTOP_DB`, else
/// `$XDG_DATA_HOME/pitstop/pitstop.sqlite`, else `~/.local/share/pitstop/pitstop.sqlite`.
public enum DatabaseLocation {
    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let path = environment["PITSTOP_DB"], !path.isEmpty { return path }
        if let data = environment["XDG_DATA_HOME"], !data.isEmpty { return data + "/pitstop/pitstop.sqlite" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/share/pitstop/pitstop.sqlite"
    }
}
