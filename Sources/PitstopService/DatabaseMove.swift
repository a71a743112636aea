// Moving house (`pitstop migrate`): a SQLite database copied whole, audit chain included, into
// an empty PostgreSQL database, verified on arrival, and the move recorded in the log it moved.
import Foundation
public import PitstopCore
import PitstopPostgres
import PitstopStore

/// What `pitstop migrate` did.
public struct DatabaseMoveReport: Sendable {
    /// The SQLite file, and the PostgreSQL database (its password never shown).
    public var source: String
    public var target: String
    /// Each table and its rows, in the order copied.
    public var tables: [(name: String, rows: Int)]
    /// The audit chain as it arrived: intact, the source's entries and head.
    public var chain: ChainCheck
    /// The entry that records the move, after the source's.
    public var recorded: AuditEntry
}

/// Moves a SQLite database into PostgreSQL, for an operator outgrowing one machine.
public enum DatabaseMover {
    /// Whether `location` names a PostgreSQL database (a `postgres://` URL).
    public static func isPostgres(_ location: String) -> Bool { PostgresLocation.isURL(location) }

    /// Copies every row of the SQLite database at `source` (a path, or `sqlite:PATH`) into the
    /// empty PostgreSQL database `target`, in one transaction that commits only once every
    /// table's rows have arrived and the audit chain walks intact to the source's head; then
    /// appends an entry recording the move. The source is only read (it is brought up to this
    /// release's schema first, as any command does). Refused, with nothing written to the
    /// target, when it is not empty, unreachable, or the source's chain is broken.
    public static func move(
        from source: String, to target: String, actor: String, clock: @escaping @Sendable () throws -> Timestamp,
        progress: (@Sendable (_ table: String, _ rows: Int) -> Void)? = nil
    ) async throws -> DatabaseMoveReport {
        let path = try Services.sqlitePath(source, option: "--from")
        let from: AppDatabase
        do {
            from = try AppDatabase.open(path: path, creating: false, concurrent: false)
        } catch {
            guard error.kind == .notFound else { throw error }
            throw PitstopError(.notFound, "--from \(path): no such database; give the SQLite file to copy")
        }
        let to = try PostgresStore.open(PostgresLocation(url: target, option: "--to"))
        defer { to.close() }
        let (move, recorded) = try await to.receive(from: from, progress: progress) { tx, move in
            let counts = move.tables.map { ($0.name, "\($0.rows)") }
            return try tx.audit.append(at: try clock(), actor: actor, action: "database.migrated", subjects: [], details: JSONText.object([
                ("from", JSONText.quote(path)), ("chainHead", JSONText.quote(move.chain.head?.hash)), ("rows", JSONText.object(counts)),
            ]))
        }
        return DatabaseMoveReport(source: path, target: "\(to.location)", tables: move.tables, chain: move.chain, recorded: recorded)
    }
}
