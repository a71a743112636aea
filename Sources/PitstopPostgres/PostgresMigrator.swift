// The PostgreSQL schema's history: the SQL files under Migrations/postgres/, embedded, applied
// in order under an advisory lock, each recorded with its checksum and refused when changed.
import Foundation
import PitstopCore
public import PitstopStore
import PostgresNIO

extension Migration {
    /// Every PostgreSQL migration this binary knows, in order. A test checks this list byte for
    /// byte against `Migrations/postgres/*.sql`.
    public static let postgres: [Migration] = [
        Migration(name: "0001_schema.sql", bytes: PackageResources._001_schema_sql),
        Migration(name: "0002_notice_compression.sql", bytes: PackageResources._002_notice_compression_sql),
        Migration(name: "0003_vm_checks_per_statement.sql", bytes: PackageResources._003_vm_checks_per_statement_sql),
        Migration(name: "0004_fleet_names_from_vms.sql", bytes: PackageResources._004_fleet_names_from_vms_sql),
    ]
}

enum PostgresMigrator {
    /// The table that records the migrations applied.
    static let table = "pitstop_migrations"

    static let migrationsTableSQL = """
        CREATE TABLE IF NOT EXISTS pitstop_migrations (
            name        text NOT NULL PRIMARY KEY,
            sha256      text NOT NULL,
            applied_at  text NOT NULL
        )
        """

    /// Checks what the database recorded and applies what is missing, each migration in its
    /// own transaction. A refusal leaves the database as it was.
    static func migrate(_ session: PostgresSession) throws {
        // A quick look first, without a lock or a write: a current database (the usual case)
        // is left alone, and one this binary refuses is never written.
        let pending = try session.transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { try pendingMigrations(session) }
        guard !pending.isEmpty else { return }
        for _ in pending {
            let applied = try session.transaction(begin: "BEGIN ISOLATION LEVEL READ COMMITTED") { () -> Bool in
                // Another process may be migrating too: one at a time, each reading again.
                try session.execute("SELECT pg_advisory_xact_lock(\(PostgresStore.migrationLockKey))")
                try session.execute(PostgresQuery(unsafeSQL: migrationsTableSQL))
                guard let next = try pendingMigrations(session).first else { return false }
                try session.executeScript(next.sql)
                try session.execute("""
                    INSERT INTO pitstop_migrations(name, sha256, applied_at) VALUES (\(next.name), \(next.checksum), \(Timestamp(Date()).iso8601))
                    """)
                return true
            }
            if !applied { return }
        }
    }

    /// Whether every migration of this binary is recorded, and nothing else.
    static func isCurrent(_ session: PostgresSession) throws -> Bool {
        try pendingMigrations(session).isEmpty
    }

    private static func pendingMigrations(_ session: PostgresSession) throws -> [Migration] {
        let hasTable = try session.value("SELECT to_regclass('pitstop_migrations') IS NOT NULL", as: Bool.self) ?? false
        guard hasTable else {
            let tables = try session.rows("""
                SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename LIMIT 5
                """).map { try session.decode($0, String.self) }
            guard tables.isEmpty else { throw MigrationError.foreignSchema(tables: tables) }
            return Migration.postgres
        }
        let recorded = try session.rows("SELECT name, sha256 FROM pitstop_migrations ORDER BY name").map {
            let (name, sha) = try session.decode($0, (String, String).self)
            return (name: name, sha256: sha)
        }
        return try Migration.pending(known: Migration.postgres, recorded: recorded)
    }
}
