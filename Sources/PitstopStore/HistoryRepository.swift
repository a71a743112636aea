// Maintenance as it happened, read for `audit verify` and `report`: events with their actual
// times and their VM's subscription, and when each notice went out.
import Foundation
import GRDB
import GRDBSQLite
import PitstopCore

public enum HistoryRepository {
    /// Every event that actually started (started, completed or failed), in actual start order.
    public static func startedEvents(_ db: Database) throws -> [HistoricalEvent] {
        try read(db, where: "e.actual_start IS NOT NULL", arguments: [], order: "e.actual_start, e.id")
    }

    /// Events planned to start in `[from, until)`, whatever became of them, optionally of one
    /// region only; in planned start order. Walks `events_by_start`.
    public static func events(_ db: Database, plannedFrom from: Timestamp?, until: Timestamp?, region: String?) throws -> [HistoricalEvent] {
        var clauses: [String] = [], arguments: [DatabaseValueConvertible] = []
        if let from { clauses.append("e.start_utc >= ?"); arguments.append(from.iso8601) }
        if let until { clauses.append("e.start_utc < ?"); arguments.append(until.iso8601) }
        if let region { clauses.append("e.region = ?"); arguments.append(region) }
        return try read(db, where: clauses.isEmpty ? nil : clauses.joined(separator: " AND "), arguments: arguments, order: "e.start_utc, e.id")
    }

    /// When each (campaign, subscription) notice was sent; `nil` while it is queued.
    public static func noticesSent(_ db: Database) throws -> [NoticeKey: Timestamp?] {
        var out: [NoticeKey: Timestamp?] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT campaign, subscription, sent_at FROM notices") {
            out[NoticeKey(campaign: row[0], subscription: row[1])] = .some((row[2] as String?).flatMap(Timestamp.init(iso8601:)))
        }
        return out
    }

    /// The subscription comes from the VM as it is now, else from its set: events keep no
    /// owner of their own, and a removed VM's set usually remains.
    private static func read(_ db: Database, where clause: String?, arguments: [DatabaseValueConvertible], order: String) throws -> [HistoricalEvent] {
        let statement = try db.makeStatement(sql: """
            SELECT e.id, e.campaign, e.vm, e.region, e.availability_set, e.update_domain, e.fault_domain, e.wave, e.kind,
                   e.start_utc, e.end_utc, e.status, e.planned_at, e.actual_start, e.actual_end, e.forced, e.reason,
                   COALESCE(v.subscription, s.subscription)
            FROM events e LEFT JOIN vms v ON v.name = e.vm LEFT JOIN availability_sets s ON s.name = e.availability_set
            \(clause.map { "WHERE \($0)" } ?? "") ORDER BY \(order)
            """)
        try statement.setArguments(StatementArguments(arguments))
        let handle = statement.sqliteStatement
        func text(_ i: Int32) -> String? {
            guard sqlite3_column_type(handle, i) != SQLITE_NULL, let p = sqlite3_column_text(handle, i) else { return nil }
            return String(cString: p)
        }
        func int(_ i: Int32) -> Int? { sqlite3_column_type(handle, i) == SQLITE_NULL ? nil : Int(sqlite3_column_int64(handle, i)) }
        func time(_ i: Int32) -> Timestamp? { text(i).flatMap(Timestamp.init(iso8601:)) }
        var out: [HistoricalEvent] = []
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(handle))))
            }
            let id = text(0) ?? ""
            guard let kind = text(8).flatMap(MaintenanceKind.init(rawValue:)), let start = time(9), let end = time(10),
                  let status = text(11).flatMap(EventStatus.init(rawValue:)), let planned = time(12) else {
                throw StoreError.corruptRow(table: "events", key: id, problem: "a kind, status or time cannot be read")
            }
            let event = PlannedEvent(id: id, campaign: text(1) ?? "", vm: text(2) ?? "", region: text(3) ?? "",
                                     availabilitySet: text(4), updateDomain: int(5), faultDomain: int(6), wave: text(7) ?? "",
                                     kind: kind, range: TimeRange(start: start, end: end), status: status, plannedAt: planned)
            out.append(HistoricalEvent(event: event, subscription: text(17), actualStart: time(13), actualEnd: time(14),
                                       forced: int(15) == 1, reason: text(16)))
        }
        return out
    }
}
