// The counts `GET /metrics` reports, read at scrape time: events (VMs of waves) by status and
// kind in one GROUP BY, running waves, queued notices, and the size of the database file's pages.
import GRDB
import PitstopCore

struct SQLiteGaugeRepository: GaugeRepository {
    let db: Database

    func eventCounts() throws -> [EventTally] {
        try Row.fetchAll(db.cachedStatement(sql: """
            SELECT m.status, w.kind, SUM(m.n) FROM (\(EventRows.memberStates("SELECT id FROM waves"))) m JOIN waves w ON w.id = m.wave
            GROUP BY m.status, w.kind HAVING SUM(m.n) > 0 ORDER BY m.status, w.kind
            """))
            .map { row in
                let (status, kind): (String, String) = (row[0], row[1])
                // The schema's CHECKs allow only the values these enums spell.
                guard let s = EventStatus(rawValue: status), let k = MaintenanceKind(rawValue: kind) else {
                    throw corruptRow(table: "waves", key: "\(status)/\(kind)", problem: "its status or kind is unknown to this build")
                }
                return EventTally(status: s, kind: k, count: row[2])
            }
    }

    func wavesRunning() throws -> Int {
        // A wave row's lifecycle is that of at least one of its VMs.
        try Int.fetchOne(db.cachedStatement(sql: """
            SELECT COUNT(*) FROM waves w
            WHERE w.status = 'started' OR EXISTS (SELECT 1 FROM vm_departures d WHERE d.wave = w.id AND d.status = 'started')
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
