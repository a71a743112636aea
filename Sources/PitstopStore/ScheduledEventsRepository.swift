// The scheduled-events endpoint's reads and its incarnation bookkeeping: a poll reads one
// set's active waves through `waves_by_set` with their VMs, and one row of incarnation.
import GRDB
import PitstopCore

struct SQLiteScheduledEventsRepository: ScheduledEventsRepository {
    let db: Database

    func activeEvents(availabilitySet: String, startingBy until: Timestamp) throws -> [EventRecord] {
        try EventRows.read(db, where: ["w.availability_set = ?", EventRows.waveMayBeActive, Self.due], [availabilitySet, until.seconds])
    }

    func activeEvents(startingBy until: Timestamp) throws -> [EventRecord] {
        try EventRows.read(db, where: ["w.start_at <= ?", EventRows.waveMayBeActive, "\(EventRows.status) IN ('scheduled', 'started')"],
                           [until.seconds])
    }

    func activeEvents(vm: String, startingBy until: Timestamp) throws -> [EventRecord] {
        try EventRows.read(db, where: ["p.vm IN \(EventRows.keys(ofVMsNamed: "= ?"))", EventRows.waveMayBeActive, Self.due], [vm, vm, until.seconds])
    }

    /// Scheduled or started, and started already or planned to start by the argument.
    private static let due = """
        \(EventRows.status) IN ('scheduled', 'started') AND (w.start_at <= ? OR \(EventRows.status) = 'started')
        """

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
