import GRDB
import PitstopCore
import Testing
@testable import PitstopStore

/// The plan writer sends (wave, VM) pairs to SQLite many rows a statement: every pair arrives,
/// whatever the chunk boundaries, and a failing chunk leaves nothing of the plan behind.
@Suite struct PlanWriterTests {
    private static let start = Timestamp(seconds: 1796860800)

    private func database(vms: Int) async throws -> AppDatabase {
        let database = try AppDatabase.inMemory()
        try await database.writer.write { db in
            try db.execute(sql: """
                INSERT INTO regions(name) VALUES ('eastus');
                INSERT INTO subscriptions(id) VALUES ('contoso');
                INSERT INTO campaigns(id, kind, created_at, not_before, regions, per_vm_seconds, ud_gap_seconds, horizon_seconds, start_utc, end_utc)
                VALUES ('c1', 'reboot', '2026-12-01T00:00:00Z', '2026-12-08T00:00:00Z', '["eastus"]', 900, 1800, 7776000, '2026-12-10T00:00:00Z', '2026-12-10T02:00:00Z');
                """)
            for i in 0..<vms {
                try db.execute(sql: "INSERT INTO vms(name, region, subscription) VALUES (?, 'eastus', 'contoso')", arguments: [Self.name(i)])
            }
        }
        return database
    }

    private static func name(_ i: Int) -> String { "vm-\(String(i + 1000).dropFirst())" }

    private static func event(_ vm: Int, wave: String, faultDomain: Int?) -> PlannedEvent {
        let offset: Int64 = wave == "w1" ? 0 : 3600
        return PlannedEvent(campaign: "c1", vm: name(vm), region: "eastus", availabilitySet: nil, updateDomain: nil, faultDomain: faultDomain,
                            wave: wave, kind: .reboot, range: TimeRange(start: start + offset, end: start + offset + 900),
                            plannedAt: Timestamp(seconds: 1796083200))
    }

    private func pairs(_ database: AppDatabase) async throws -> [String] {
        try await database.writer.read { db in
            try String.fetchAll(db, sql: """
                SELECT w.public_id || ' ' || k.name || ' ' || coalesce(p.fault_domain, '-')
                FROM wave_vms p JOIN waves w ON w.id = p.wave JOIN vm_names k ON k.key = p.vm ORDER BY 1
                """)
        }
    }

    @Test func everyPairArrivesAcrossChunkBoundariesAndAWaveThatChangesMidChunk() async throws {
        // 131 VMs in one wave and 69 in the next: two full chunks, a wave change inside the
        // third, and a remainder written row by row. Every third VM has a fault domain.
        let total = 2 * PairInserter.rows + 72
        let database = try await database(vms: total)
        let events = (0..<total).map { i in Self.event(i, wave: i < 131 ? "w1" : "w2", faultDomain: i % 3 == 0 ? i % 2 : nil) }

        try await database.write { tx in try tx.events.insert(events: events, keys: nil, progress: nil) }

        let expected = events.map { "\($0.wave) \($0.vm) \($0.faultDomain.map(String.init) ?? "-")" }.sorted()
        #expect(try await pairs(database) == expected)
    }

    @Test func aPairThatBreaksTheKeyMidChunkLeavesNothingOfThePlan() async throws {
        // The 70th event names the 66th's VM again, in the same wave: inside the second chunk,
        // a full one.
        let database = try await database(vms: 140)
        var plan = (0..<140).map { Self.event($0, wave: "w1", faultDomain: nil) }
        plan[69] = Self.event(65, wave: "w1", faultDomain: nil)
        let events = plan

        await #expect(throws: (any Error).self) {
            try await database.write { tx in try tx.events.insert(events: events, keys: nil, progress: nil) }
        }

        let left = try await database.writer.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM waves"), try Int.fetchOne(db, sql: "SELECT count(*) FROM wave_vms"))
        }
        #expect(left.0 == 0)
        #expect(left.1 == 0)
    }
}
