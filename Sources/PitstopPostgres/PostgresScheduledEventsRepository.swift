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

    func save(_ i: DocumentIncarnation) throws {
        // UPDATE first, INSERT when there was none, as on SQLite: the UPDATE is what the
        // schema's trigger refuses when the incarnation would go back.
        let updated = try session.execute("""
            UPDATE scheduled_event_documents SET incarnation = \(i.number), digest = \(i.digest), changed_at = \(i.changedAt.iso8601)
            WHERE vm = \(i.vm)
            """)
        if updated == 0 {
            try session.execute("""
                INSERT INTO scheduled_event_documents(vm, incarnation, digest, changed_at)
                VALUES (\(i.vm), \(i.number), \(i.digest), \(i.changedAt.iso8601))
                """)
        }
    }
}
