// The scheduled-events endpoint's reads and its incarnation bookkeeping on PostgreSQL: the same
// conditions as on SQLite (`EventRows`), events read by `PostgresEventRows`, and one row of
// incarnation per VM that the schema's trigger never lets go back.
import PitstopCore
import PitstopStore
import PostgresNIO

struct PostgresScheduledEventsRepository: ScheduledEventsRepository {
    let session: PostgresSession

    func activeEvents(availabilitySet: String, startingBy until: Timestamp) throws -> [EventRecord] {
        var sql = PostgresSQL()
        let clauses = ["w.availability_set = \(sql.bind(availabilitySet))", EventRows.waveMayBeActive, EventRows.due(by: sql.bind(until.seconds))]
        return try PostgresEventRows.read(session, &sql, where: clauses)
    }

    func activeEvents(startingBy until: Timestamp) throws -> [EventRecord] {
        var sql = PostgresSQL()
        let clauses = ["w.start_at <= \(sql.bind(until.seconds))", EventRows.waveMayBeActive, EventRows.isActive]
        return try PostgresEventRows.read(session, &sql, where: clauses)
    }

    func activeEvents(vm: String, startingBy until: Timestamp) throws -> [EventRecord] {
        var sql = PostgresSQL()
        let clauses = ["p.vm IN \(EventRows.keys(ofVMsNamed: "= \(sql.bind(vm))"))", EventRows.waveMayBeActive,
                       EventRows.due(by: sql.bind(until.seconds))]
        return try PostgresEventRows.read(session, &sql, where: clauses)
    }

    func incarnation(vm: String) throws -> DocumentIncarnation? {
        guard let row = try session.row("SELECT incarnation, digest, changed_at FROM scheduled_event_documents WHERE vm = \(vm)") else {
            return nil
        }
        let (number, digest, changedAt) = try session.decode(row, (Int64, String, String).self)
        return try DocumentIncarnation(stored: vm, number: number, digest: digest, changedAt: changedAt)
    }

    /// One statement, atomic for the VM however many servers ask at once: the insert of a first
    /// incarnation, or, when the VM has one, the row locked and raised by one unless it numbers
    /// this digest already (as another server's call may just have made it). Nothing returned
    /// means it did: its number is read.
    func incarnate(vm: String, digest: String, at now: Timestamp) throws -> Int64 {
        if let raised = try session.value("""
            INSERT INTO scheduled_event_documents AS d (vm, incarnation, digest, changed_at) VALUES (\(vm), 1, \(digest), \(now.iso8601))
            ON CONFLICT (vm) DO UPDATE SET incarnation = d.incarnation + 1, digest = excluded.digest, changed_at = excluded.changed_at
            WHERE d.digest <> excluded.digest
            RETURNING incarnation
            """, as: Int64.self) {
            return raised
        }
        guard let stored = try incarnation(vm: vm) else { throw PostgresSession.unreadable }
        return stored.number
    }
}
