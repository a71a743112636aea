// The counts `GET /metrics` reports on PostgreSQL, read at scrape time: the same queries as on
// SQLite (`GaugeSQL`), and the database's size as PostgreSQL reports it.
import PitstopCore
import PitstopStore
import PostgresNIO

struct PostgresGaugeRepository: GaugeRepository {
    let session: PostgresSession

    func eventCounts() throws -> [EventTally] {
        try session.rows(PostgresQuery(unsafeSQL: GaugeSQL.eventCounts)).map { row in
            let (status, kind, count) = try session.decode(row, (String, String, Int).self)
            return try EventTally(stored: status, kind: kind, count: count)
        }
    }

    func wavesRunning() throws -> Int {
        try session.value(PostgresQuery(unsafeSQL: GaugeSQL.wavesRunning), as: Int.self) ?? 0
    }

    func noticesQueued() throws -> Int {
        try session.value(PostgresQuery(unsafeSQL: GaugeSQL.noticesQueued), as: Int.self) ?? 0
    }

    /// The database's size in bytes, all its relations' files together.
    func databaseSizeBytes() throws -> Int64 {
        try session.value("SELECT pg_database_size(current_database())", as: Int64.self) ?? 0
    }
}
