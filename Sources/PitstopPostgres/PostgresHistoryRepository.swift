// Maintenance as it happened on PostgreSQL, read for `audit verify` and `report`: the SQLite
// repository's reads (``HistoryRows``), with PostgreSQL's parameters.
import PitstopCore
import PitstopStore
import PostgresNIO

struct PostgresHistoryRepository: HistoryRepository {
    let session: PostgresSession

    /// Every event that actually started (started, completed or failed), in actual start order.
    func startedEvents() throws -> [EventRecord] {
        var sql = PostgresSQL()
        return try read(&sql, HistoryRows.started, order: HistoryRows.startedOrder)
    }

    /// Events planned to start in `[from, until)`, whatever became of them, optionally of one
    /// region only; in planned start order.
    func events(plannedFrom from: Timestamp?, until: Timestamp?, region: String?) throws -> [EventRecord] {
        var sql = PostgresSQL()
        let clauses = HistoryRows.planned(from: from, until: until, region: region) { sql.bind($0) }
        return try read(&sql, clauses, order: HistoryRows.plannedOrder)
    }

    /// When each (campaign, subscription) notice was sent; `nil` while it is queued.
    func noticesSent() throws -> [NoticeKey: Timestamp?] {
        var out: [NoticeKey: Timestamp?] = [:]
        for row in try session.rows("SELECT campaign, subscription, sent_at FROM notices") {
            let (campaign, subscription, sent) = try session.decode(row, (String, String, String?).self)
            out[NoticeKey(campaign: campaign, subscription: subscription)] = .some(sent.flatMap(Timestamp.init(iso8601:)))
        }
        return out
    }

    private func read(_ sql: inout PostgresSQL, _ clauses: [String], order: String) throws -> [EventRecord] {
        sql.text = HistoryRows.sql(clauses, order: order, names: .postgres)
        var reader = PostgresEventRows.Reader()
        return try session.rows(sql.query).map { row in
            var record = try reader.record(try PostgresEventRows.columns(of: row))
            record.subscription = try session.decode(row, String?.self, column: Int(EventRows.columns))
            return record
        }
    }
}
