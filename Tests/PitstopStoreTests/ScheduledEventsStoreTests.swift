// The scheduled-events bookkeeping of migration 0004: an incarnation that the database itself
// keeps from going back, and polls that stay index lookups (of the wave layout of 0007).
import Foundation
import GRDB
import PitstopCore
import Testing
@testable import PitstopStore

@Suite struct ScheduledEventsStoreTests {
    let t = Timestamp(iso8601: "2026-11-10T00:00:00Z")!

    @Test func anIncarnationIsInsertedThenUpdated() async throws {
        let database = try AppDatabase.inMemory()
        try await database.write { tx in _ = try tx.scheduledEvents.incarnate(vm: "web-0", digest: "a", at: self.t) }
        try await database.write { tx in _ = try tx.scheduledEvents.incarnate(vm: "web-0", digest: "b", at: self.t + 60) }
        let stored = try await database.read { tx in try tx.scheduledEvents.incarnation(vm: "web-0") }
        #expect(stored == DocumentIncarnation(vm: "web-0", number: 2, digest: "b", changedAt: t + 60))
        #expect(try await database.read { tx in try tx.scheduledEvents.incarnation(vm: "web-1") } == nil)
    }

    @Test(arguments: [
        "UPDATE scheduled_event_documents SET incarnation = 1 WHERE vm = 'web-0'",
        "DELETE FROM scheduled_event_documents",
        "INSERT OR REPLACE INTO scheduled_event_documents(vm, incarnation, digest, changed_at) VALUES ('web-0', 1, 'x', '2026-11-10T00:00:00Z')",
        "UPDATE scheduled_event_documents SET vm = 'other'",
    ])
    func theDatabaseRefusesAnIncarnationThatGoesBackOrStartsOver(sql: String) async throws {
        let database = try AppDatabase.inMemory()
        try await database.write { tx in
            for digest in ["a", "b", "c", "d", "e"] { _ = try tx.scheduledEvents.incarnate(vm: "web-0", digest: digest, at: self.t) }
        }
        #expect(throws: DatabaseError.self) { try database.writer.write { db in try db.execute(sql: sql) } }
        #expect(try await database.read { tx in try tx.scheduledEvents.incarnation(vm: "web-0") }?.number == 5)
    }

    @Test(arguments: ["availabilitySet", "vm", "due"])
    func eachPollIsAnIndexSearch(query: String) throws {
        let database = try AppDatabase.inMemory()
        let (index, plan) = try database.writer.read { db -> (String, String) in
            // The repository's own statement, as it ran, with its values bound.
            var statements: [String] = []
            db.trace(options: .statement) { statements.append($0.expandedDescription) }
            let repository = SQLiteScheduledEventsRepository(db: db)
            let index: String
            switch query {
            case "availabilitySet": _ = try repository.activeEvents(availabilitySet: "web", startingBy: self.t); index = "waves_by_set"
            case "vm": _ = try repository.activeEvents(vm: "web-0", startingBy: self.t); index = "wave_vms_by_vm"
            default: _ = try repository.activeEvents(startingBy: self.t); index = "waves_by_start"
            }
            db.trace(options: .statement, nil)
            let sql = try #require(statements.last { $0.hasPrefix("SELECT") })
            return (index, try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }.joined(separator: "\n"))
        }
        #expect(plan.contains("USING INDEX \(index)"), "\(plan)")
    }
}
