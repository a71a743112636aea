// The counts `GET /metrics` reports, read at scrape time: events by status and kind in one
// GROUP BY, running waves, queued notices, and the size of the database file's pages.
import GRDB
import PitstopCore

struct SQLiteGaugeRepository: GaugeRepository {
    let db: Database

    func eventCounts() throws -> [EventTally] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT status, kind, COUNT(*) FROM events GROUP BY status, kind ORDER BY status, kind"))
            .map { row in
                let (status, kind): (String, String) = (row[0], row[1])
                // The schema's CHECKs allow only the values these enums spell.
                guard let s = EventStatus(rawValue: status), let k = MaintenanceKind(rawValue: kind) else {
                    throw corruptRow(table: "events", key: "\(status)/\(kind)", problem: "its status or kind is unknown to this build")
                }
                return EventTally(status: s, kind: k, count: row[2])
            }
    }

    func wavesRunning() throws -> Int {
        // Through the partial index of active events: started is a subset of it.
        try Int.fetchOne(db.cachedStatement(sql: """
            SELECT COUNT(DISTINCT wave) FROM events WHERE status IN ('scheduled', 'started') AND status = 'started'
            """)) ?? 0
    }

    func noticesQueued() throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: """
            SELECT COUNT(*) FROM notices JOIN campaigns ON campaigns.id = notices.campaign
            WHERE notices.sent_at IS NULL AND campaigns.status <> 'cancelled'
            """)) ?? 0
    }

    func databaseSizeBytes() throws -> Int64 {
        let pages = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
        let size = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 0
        return pages * size
    }
}
