// Maintenance as it happened, read for `audit verify` and `report`: events with their actual
// times and their VM's subscription, and when each notice went out.
import Foundation
import GRDB
import GRDBSQLite
import PitstopCore

struct SQLiteHistoryRepository: HistoryRepository {
    let db: Database

    /// Every event that actually started (started, completed or failed), in actual start order.
    func startedEvents() throws -> [EventRecord] {
        try read(where: "e.actual_start IS NOT NULL", arguments: [], order: "e.actual_start, e.id")
    }

    /// Events planned to start in `[from, until)`, whatever became of them, optionally of one
    /// region only; in planned start order. Walks `events_by_start`.
    func events(plannedFrom from: Timestamp?, until: Timestamp?, region: String?) throws -> [EventRecord] {
        var clauses: [String] = [], arguments: [any DatabaseValueConvertible] = []
        if let from { clauses.append("e.start_utc >= ?"); arguments.append(from.iso8601) }
        if let until { clauses.append("e.start_utc < ?"); arguments.append(until.iso8601) }
        if let region { clauses.append("e.region = ?"); arguments.append(region) }
        return try read(where: clauses.isEmpty ? nil : clauses.joined(separator: " AND "), arguments: arguments, order: "e.start_utc, e.id")
    }

    /// When each (campaign, subscription) notice was sent; `nil` while it is queued.
    func noticesSent() throws -> [NoticeKey: Timestamp?] {
        var out: [NoticeKey: Timestamp?] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT campaign, subscription, sent_at FROM notices") {
            out[NoticeKey(campaign: row[0], subscription: row[1])] = .some((row[2] as String?).flatMap(Timestamp.init(iso8601:)))
        }
        return out
    }

    /// The subscription comes from the VM as it is now, else from its set: events keep no
    /// owner of their own, and a removed VM's set usually remains.
    private func read(where clause: String?, arguments: [any DatabaseValueConvertible], order: String) throws -> [EventRecord] {
        let statement = try db.makeStatement(sql: """
            SELECT e.id, e.campaign, e.vm, e.region, e.availability_set, e.update_domain, e.fault_domain, e.wave, e.kind,
                   e.start_utc, e.end_utc, e.status, e.planned_at, e.actual_start, e.actual_end, e.forced, e.reason,
                   COALESCE(v.subscription, s.subscription), e.approved_at
            FROM events e LEFT JOIN vms v ON v.name = e.vm LEFT JOIN availability_sets s ON s.name = e.availability_set
            \(clause.map { "WHERE \($0)" } ?? "") ORDER BY \(order)
            """)
        try statement.setArguments(StatementArguments(arguments))
        let rows = RawRows(statement: statement, db: db)
        var out: [EventRecord] = []
        while try rows.next() {
            out.append(EventRecord(event: try rows.plannedEvent(), subscription: rows.text(17), approvedAt: rows.time(18), actualStart: rows.time(13),
                                       actualEnd: rows.time(14), forced: rows.int(15) == 1, reason: rows.text(16)))
        }
        return out
    }
}
