// The scheduled-events endpoint's reads and its incarnation bookkeeping: a poll reads one
// set's active waves through `waves_by_set` with their VMs, and one row of incarnation.
import GRDB
import PitstopCore

struct SQLiteScheduledEventsRepository: ScheduledEventsRepository {
    let db: Database

    func activeEvents(availabilitySet: String, startingBy until: Timestamp) throws -> [EventRecord] {
        try EventRows.read(db, where: ["w.availability_set = ?", EventRows.waveMayBeActive, EventRows.due(by: "?")], [availabilitySet, until.seconds])
    }

    func activeEvents(startingBy until: Timestamp) throws -> [EventRecord] {
        try EventRows.read(db, where: ["w.start_at <= ?", EventRows.waveMayBeActive, EventRows.isActive], [until.seconds])
    }

    func activeEvents(vm: String, startingBy until: Timestamp) throws -> [EventRecord] {
        try EventRows.read(db, where: ["p.vm IN \(EventRows.keys(ofVMsNamed: "= ?"))", EventRows.waveMayBeActive, EventRows.due(by: "?")],
                           [vm, vm, until.seconds])
    }

    func incarnation(vm: String) throws -> DocumentIncarnation? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT incarnation, digest, changed_at FROM scheduled_event_documents WHERE vm = ?
            """), arguments: [vm]) else { return nil }
        return try DocumentIncarnation(stored: vm, number: row[0], digest: row[1], changedAt: row[2])
    }

    /// Atomic as SQLite's writes are: one at a time.
    func incarnate(vm: String, digest: String, at now: Timestamp) throws -> Int64 {
        let stored = try incarnation(vm: vm)
        if let stored, stored.digest == digest { return stored.number }
        let next = (stored?.number ?? 0) + 1
        // The table refuses a replacing insert: UPDATE a VM's row, INSERT its first.
        try db.execute(sql: stored == nil
                       ? "INSERT INTO scheduled_event_documents(incarnation, digest, changed_at, vm) VALUES (?, ?, ?, ?)"
                       : "UPDATE scheduled_event_documents SET incarnation = ?, digest = ?, changed_at = ? WHERE vm = ?",
                       arguments: [next, digest, now.iso8601, vm])
        return next
    }
}

extension DocumentIncarnation {
    /// An incarnation as `scheduled_event_documents` stores it, its time as ISO text.
    package init(stored vm: String, number: Int64, digest: String, changedAt: String) throws {
        guard let changed = Timestamp(iso8601: changedAt) else {
            throw corruptRow(table: "scheduled_event_documents", key: vm, problem: "its time cannot be read")
        }
        self.init(vm: vm, number: number, digest: digest, changedAt: changed)
    }
}

extension EventRows {
    /// Scheduled or started.
    package static let isActive = "\(status) IN ('scheduled', 'started')"

    /// Scheduled or started, and started already or planned to start by `placeholder`'s time.
    package static func due(by placeholder: String) -> String {
        "\(isActive) AND (w.start_at <= \(placeholder) OR \(status) = 'started')"
    }
}
