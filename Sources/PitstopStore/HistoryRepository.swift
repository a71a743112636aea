// Maintenance as it happened, read for `audit verify` and `report`: events with their actual
// times and their VM's subscription, and when each notice went out.
import Foundation
import GRDB
import GRDBSQLite
package import PitstopCore

struct SQLiteHistoryRepository: HistoryRepository {
    let db: Database

    /// Every event that actually started (started, completed or failed), in actual start order.
    func startedEvents() throws -> [EventRecord] {
        try read(HistoryRows.started, [], order: HistoryRows.startedOrder)
    }

    /// Events planned to start in `[from, until)`, whatever became of them, optionally of one
    /// region only; in planned start order. Walks `waves_by_start`.
    func events(plannedFrom from: Timestamp?, until: Timestamp?, region: String?) throws -> [EventRecord] {
        var arguments: [any DatabaseValueConvertible] = []
        let clauses = HistoryRows.planned(from: from, until: until, region: region) { value in
            switch value {
            case .text(let text): arguments.append(text)
            case .integer(let n): arguments.append(n)
            }
            return "?\(arguments.count)"
        }
        return try read(clauses, arguments, order: HistoryRows.plannedOrder)
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
    private func read(_ clauses: [String], _ arguments: [any DatabaseValueConvertible], order: String) throws -> [EventRecord] {
        let statement = try db.makeStatement(sql: HistoryRows.sql(clauses, order: order, names: .sqlite))
        try statement.setArguments(StatementArguments(arguments))
        let rows = RawRows(statement: statement, db: db)
        var reader = EventRows.Reader(rows)
        var out: [EventRecord] = []
        while var record = try reader.next() {
            record.subscription = rows.text(EventRows.columns)
            out.append(record)
        }
        return out
    }
}

/// The history's reads as both engines run them: ``EventRows/select`` and the event's
/// subscription after its columns.
package enum HistoryRows {
    /// Events that actually started, and their order: actual start, then id.
    package static let started = [EventRows.waveMayHaveStarted, "\(EventRows.actualStart) IS NOT NULL"]
    package static let startedOrder = "\(EventRows.actualStart), w.public_id, k.name"
    /// Events planned to start in `[from, until)`, optionally of one region; `bind` as for
    /// ``EventRows/clauses(_:from:until:bind:)``.
    package static func planned(from: Timestamp?, until: Timestamp?, region: String?, bind: (EventRows.Parameter) -> String) -> [String] {
        var clauses: [String] = []
        if let from { clauses.append("w.start_at >= \(bind(.integer(from.seconds)))") }
        if let until { clauses.append("w.start_at < \(bind(.integer(until.seconds)))") }
        if let region { clauses.append("w.region = \(bind(.text(region)))") }
        return clauses
    }

    /// Planned start order, then id.
    package static let plannedOrder = "w.start_at, w.public_id, k.name"

    /// The subscription comes from the VM as it is now, else from its set: events keep no
    /// owner of their own, and a removed VM's set usually remains.
    package static func sql(_ clauses: [String], order: String, names: EventRows.Names) -> String {
        EventRows.select(names: names).replacingOccurrences(of: "\nFROM", with: ", COALESCE(v.subscription, s.subscription)\nFROM") + """

            LEFT JOIN vms v ON v.name = k.name LEFT JOIN availability_sets s ON s.name = w.availability_set
            \(clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")) ORDER BY \(order)
            """
    }
}
