// The counts `GET /metrics` reports, read at scrape time: events (VMs of waves) by status and
// kind in one GROUP BY, running waves, queued notices, and the size of the database file's pages.
import GRDB
package import PitstopCore

struct SQLiteGaugeRepository: GaugeRepository {
    let db: Database

    func eventCounts() throws -> [EventTally] {
        try Row.fetchAll(db.cachedStatement(sql: GaugeSQL.eventCounts))
            .map { row in try EventTally(stored: row[0], kind: row[1], count: row[2]) }
    }

    func wavesRunning() throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: GaugeSQL.wavesRunning)) ?? 0
    }

    func noticesQueued() throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: GaugeSQL.noticesQueued)) ?? 0
    }

    func databaseSizeBytes() throws -> Int64 {
        let pages = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
        let size = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 0
        return pages * size
    }
}

extension EventTally {
    /// A count of events as the store's GROUP BY gives it, status and kind as text.
    package init(stored status: String, kind: String, count: Int) throws {
        // The schema's CHECKs allow only the values these enums spell.
        guard let s = EventStatus(rawValue: status), let k = MaintenanceKind(rawValue: kind) else {
            throw corruptRow(table: "waves", key: "\(status)/\(kind)", problem: "its status or kind is unknown to this build")
        }
        self.init(status: s, kind: k, count: count)
    }
}

/// The gauges' queries, the same text on both engines.
package enum GaugeSQL {
    /// Events by status and kind, with any. The sum is cast: PostgreSQL's sum of bigints is a
    /// numeric, SQLite's an integer already.
    package static let eventCounts = """
        SELECT m.status, w.kind, CAST(SUM(m.n) AS bigint) FROM (\(EventRows.memberStates("SELECT id FROM waves"))) m JOIN waves w ON w.id = m.wave
        GROUP BY m.status, w.kind HAVING SUM(m.n) > 0 ORDER BY m.status, w.kind
        """

    /// Waves with a VM started and not ended: a wave row's lifecycle is that of at least one of its VMs.
    package static let wavesRunning = """
        SELECT COUNT(*) FROM waves w
        WHERE w.status = 'started' OR EXISTS (SELECT 1 FROM vm_departures d WHERE d.wave = w.id AND d.status = 'started')
        """

    /// Unsent notices of campaigns not cancelled.
    package static let noticesQueued = """
        SELECT COUNT(*) FROM notices JOIN campaigns ON campaigns.id = notices.campaign
        WHERE notices.sent_at IS NULL AND campaigns.status <> 'cancelled'
        """
}
