// The scheduled-events endpoint's reads and its incarnation bookkeeping: a poll reads one
// set's active events through the partial index of 0004, and one row of incarnation.
import GRDB
import PitstopCore

struct SQLiteScheduledEventsRepository: ScheduledEventsRepository {
    let db: Database

    func activeEvents(availabilitySet: String, startingBy until: Timestamp) throws -> [EventRecord] {
        // `status IN (...)` is written as in the index's WHERE, so SQLite uses the partial index.
        try read(where: """
            availability_set = ? AND status IN ('scheduled', 'started') AND (start_utc <= ? OR status = 'started')
            """, [availabilitySet, until.iso8601])
    }

    func activeEvents(startingBy until: Timestamp) throws -> [EventRecord] {
        try read(where: "status IN ('scheduled', 'started') AND start_utc <= ?", [until.iso8601])
    }

    func activeEvents(vm: String, startingBy until: Timestamp) throws -> [EventRecord] {
        try read(where: """
            vm = ? AND status IN ('scheduled', 'started') AND (start_utc <= ? OR status = 'started')
            """, [vm, until.iso8601])
    }

    private func read(where clause: String, _ arguments: StatementArguments) throws -> [EventRecord] {
        let statement = try db.cachedStatement(sql: """
            SELECT \(SQLiteEventRepository.eventColumns) FROM events WHERE \(clause) ORDER BY start_utc, id
            """)
        try statement.setArguments(arguments)
        return try SQLiteEventRepository.readEvents(statement, in: db)
    }

    func incarnation(vm: String) throws -> DocumentIncarnation? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT incarnation, digest, changed_at FROM scheduled_event_documents WHERE vm = ?
            """), arguments: [vm]) else { return nil }
        guard let changed = Timestamp(iso8601: row[2]) else {
            throw corruptRow(table: "scheduled_event_documents", key: vm, problem: "its time cannot be read")
        }
        return DocumentIncarnation(vm: vm, number: row[0], digest: row[1], changedAt: changed)
    }

    func save(_ i: DocumentIncarnation) throws {
        // UPDATE first, INSERT when there was none: the table refuses a replacing insert.
        try db.execute(sql: "UPDATE scheduled_event_documents SET incarnation = ?, digest = ?, changed_at = ? WHERE vm = ?",
                       arguments: [i.number, i.digest, i.changedAt.iso8601, i.vm])
        if db.changesCount == 0 {
            try db.execute(sql: "INSERT INTO scheduled_event_documents(vm, incarnation, digest, changed_at) VALUES (?, ?, ?, ?)",
                           arguments: [i.vm, i.number, i.digest, i.changedAt.iso8601])
        }
    }
}
