// Migration 0008 gives every VM its integer key in the fleet (`vms.key`) and keeps the names a
// plan ever named in `vm_names`: a database of release 0007 (names keyed when first planned, in
// `vm_keys`) opens with every wave, pair, departure and history as it was.
import Foundation
import GRDB
import PitstopCore
import Testing
@testable import PitstopStore

@Suite struct VMKeyMigrationTests {
    /// The migrations of release 0007.
    static let previous = Array(Migration.all.prefix { $0.name < "0008" })

    /// A database of release 0007 as its plan writer left it: web-0 and web-1 planned in wave
    /// w1 (web-1 approved alone), web-1 removed from the fleet since, web-2 never planned. The
    /// name keys are deliberately not in name order.
    private func release0007(in directory: URL) throws -> String {
        let (path, pool) = try databaseOfRelease(Self.previous, in: directory)
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO regions(name) VALUES ('eastus');
                INSERT INTO subscriptions(id) VALUES ('contoso');
                INSERT INTO availability_sets(name, region, subscription) VALUES ('web', 'eastus', 'contoso');
                INSERT INTO vms(name, region, subscription, availability_set, update_domain, fault_domain)
                VALUES ('web-0', 'eastus', 'contoso', 'web', 0, 0), ('web-2', 'eastus', 'contoso', 'web', 1, 0);
                INSERT INTO campaigns(id, kind, created_at, not_before, regions, per_vm_seconds, ud_gap_seconds, horizon_seconds, start_utc, end_utc)
                VALUES ('c1', 'reboot', '2026-12-01T00:00:00Z', '2026-12-08T00:00:00Z', '["eastus"]', 900, 1800, 7776000, '2026-12-10T00:00:00Z', '2026-12-10T02:00:00Z');
                INSERT INTO vm_keys(id, name) VALUES (7, 'web-1'), (9, 'web-0');
                INSERT INTO waves(id, public_id, campaign, kind, region, availability_set, update_domain, start_at, end_at, planned_at, status)
                VALUES (1, 'w1', 'c1', 'reboot', 'eastus', 'web', 0, 1796860800, 1796861700, 1796083200, 'scheduled');
                INSERT INTO wave_vms(wave, vm, fault_domain) VALUES (1, 9, 0), (1, 7, 1);
                INSERT INTO vm_departures(wave, vm, status, approved_at, forced) VALUES (1, 7, 'scheduled', 1796090000, 0);
                """)
        }
        try pool.close()
        return path
    }

    @Test func aDatabaseOfRelease0007KeepsEveryPlannedVMItsKeyAndItsHistory() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(path: try release0007(in: directory))

        #expect(try database.appliedMigrations() == Migration.all.map(\.name))
        let (fleet, names, counter, pairs) = try await database.writer.read { db in
            (try Row.fetchAll(db, sql: "SELECT name, key FROM vms ORDER BY name").map { "\($0[0] as String)=\($0[1] as Int)" },
             try Row.fetchAll(db, sql: "SELECT key, name, retired FROM vm_names ORDER BY key").map { "\($0[0] as Int) \($0[1] as String) \($0[2] as Int)" },
             try Int.fetchOne(db, sql: "SELECT next FROM vm_key_counter"),
             try Row.fetchAll(db, sql: "SELECT wave, vm, fault_domain FROM wave_vms ORDER BY vm").map { "\($0[0] as Int) \($0[1] as Int) \($0[2] as Int)" })
        }
        // web-0 keeps the key its plan gave it; web-2, never planned, gets the next one.
        #expect(fleet == ["web-0=9", "web-2=10"])
        // web-1 left the fleet: its name stays, retired.
        #expect(names == ["7 web-1 1", "9 web-0 0"])
        #expect(counter == 11)
        #expect(pairs == ["1 7 1", "1 9 0"])
        #expect(try await database.writer.read { db in try db.tableExists("vm_keys") } == false)

        // Every read finds what it found before, the removed VM's history by its name included.
        let wave = try await database.read { tx in try tx.events.events(.wave("w1")) }
        #expect(wave.map(\.event.id) == ["w1/web-0", "w1/web-1"])
        #expect(wave.map { $0.approvedAt?.seconds } == [nil, 1796090000])
        let removed = try await database.read { tx in try tx.events.events(.vm("web-1")) }
        #expect(removed.map(\.event.id) == ["w1/web-1"])
        let shown = try await database.read { tx in try tx.events.events(.event("w1/web-1")) }
        #expect(shown.map(\.event.faultDomain) == [1])
        #expect(try await database.read { tx in try tx.events.hasEvents(vm: "web-0") })
        #expect(try await database.read { tx in try tx.events.hasEvents(vm: "web-2") } == false)
    }

    @Test func aVMGetsANewKeyFromTheCounterAndKeepsItsHistoryWhenRemovedAndRecordedAgain() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(path: try release0007(in: directory))
        let vm = VirtualMachine(name: "web-3", region: "eastus", subscription: "contoso", availabilitySet: "web", updateDomain: 2, faultDomain: 1)
        let added = try await database.write { tx in try tx.vms.writer().insertIfAbsent(vm) }
        // A second writer claims a block of its own: no key is given twice.
        let addedToo = try await database.write { tx in
            try tx.vms.writer().insertIfAbsent(VirtualMachine(name: "web-4", region: "eastus", subscription: "contoso"))
        }
        #expect(added && addedToo)
        // Removing web-0 retires its name; recording it again gives it a new key, and its events
        // are still found by its name.
        try await database.write { tx in _ = try tx.fleet.delete(.vm, key: "web-0") }
        let again = try await database.write { tx in
            try tx.vms.writer().insertIfAbsent(VirtualMachine(name: "web-0", region: "eastus", subscription: "contoso"))
        }
        #expect(again)
        let keys = try await database.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT name, key FROM vms ORDER BY name").map { ($0[0] as String, $0[1] as Int) }
        }
        #expect(keys.map(\.0) == ["web-0", "web-2", "web-3", "web-4"])
        #expect(Set(keys.map(\.1)).count == 4)
        #expect(keys.allSatisfy { $0.1 >= 10 })
        #expect(try await database.writer.read { db in try Int.fetchOne(db, sql: "SELECT retired FROM vm_names WHERE key = 9") } == 1)
        let history = try await database.read { tx in try tx.events.events(.vm("web-0")) }
        #expect(history.map(\.event.id) == ["w1/web-0"])
    }

    @Test func aVMWrittenWithoutPitstopGetsItsKeyFromThePlanThatNamesItAndNoKeyEverChanges() async throws {
        let database = try AppDatabase.inMemory()
        try await database.writer.write { db in
            try db.execute(sql: """
                INSERT INTO regions(name) VALUES ('eastus');
                INSERT INTO subscriptions(id) VALUES ('contoso');
                INSERT INTO vms(name, region, subscription) VALUES ('b', 'eastus', 'contoso'), ('a', 'eastus', 'contoso');
                INSERT INTO campaigns(id, kind, created_at, not_before, regions, per_vm_seconds, ud_gap_seconds, horizon_seconds, start_utc, end_utc)
                VALUES ('c1', 'reboot', '2026-12-01T00:00:00Z', '2026-12-08T00:00:00Z', '["eastus"]', 900, 1800, 7776000, '2026-12-10T00:00:00Z', '2026-12-10T02:00:00Z');
                """)
        }
        #expect(try await database.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM vms WHERE key IS NULL") } == 2)
        let start = Timestamp(seconds: 1796860800)
        let events = ["a", "b"].map { vm in
            PlannedEvent(campaign: "c1", vm: vm, region: "eastus", availabilitySet: nil, updateDomain: nil, faultDomain: nil,
                         wave: "w1", kind: .reboot, range: TimeRange(start: start, end: start + 900), plannedAt: Timestamp(seconds: 1796083200))
        }
        try await database.write { tx in try tx.events.insert(events: events, keys: nil, progress: nil) }

        let (keys, names, counter) = try await database.writer.read { db in
            (try Int.fetchAll(db, sql: "SELECT key FROM vms ORDER BY name"),
             try String.fetchAll(db, sql: "SELECT key || ' ' || name FROM vm_names ORDER BY key"),
             try Int.fetchOne(db, sql: "SELECT next FROM vm_key_counter"))
        }
        #expect(keys == [1, 2])
        #expect(names == ["1 a", "2 b"])
        #expect(counter == 3)
        #expect(try await database.read { tx in try tx.events.events(.vm("b")) }.map(\.event.id) == ["w1/b"])
        await #expect(throws: DatabaseError.self) {
            try await database.writer.write { db in try db.execute(sql: "UPDATE vms SET key = 5 WHERE name = 'a'") }
        }
        await #expect(throws: DatabaseError.self) {
            try await database.writer.write { db in try db.execute(sql: "UPDATE vms SET key = NULL WHERE name = 'a'") }
        }
    }

    /// The checker reads the plan's VM names into an array indexed by key, so keys must stay
    /// nearly dense: VMs added one command at a time must not each leave a block of unused keys.
    @Test func keysStayNearlyDenseWhetherVMsComeOneAtATimeOrByTheThousand() async throws {
        let database = try AppDatabase.inMemory()
        try await database.writer.write { db in
            try db.execute(sql: "INSERT INTO regions(name) VALUES ('eastus'); INSERT INTO subscriptions(id) VALUES ('contoso')")
        }
        for i in 0..<20 {
            _ = try await database.write { tx in
                try tx.vms.writer().insertIfAbsent(VirtualMachine(name: "one-\(i)", region: "eastus", subscription: "contoso"))
            }
        }
        try await database.write { tx in
            let writer = try tx.vms.writer()
            for i in 0..<10_000 { _ = try writer.insertIfAbsent(VirtualMachine(name: "many-\(i)", region: "eastus", subscription: "contoso")) }
        }
        let (keys, next) = try await database.writer.read { db in
            (try Int.fetchAll(db, sql: "SELECT key FROM vms"), try Int.fetchOne(db, sql: "SELECT next FROM vm_key_counter") ?? 0)
        }
        #expect(Set(keys).count == 10_020)
        // One at a time: consecutive keys. By the thousand: at most twice as many keys as VMs.
        #expect(try await database.writer.read { db in
            try Int.fetchAll(db, sql: "SELECT key FROM vms WHERE name LIKE 'one-%' ORDER BY key")
        } == Array(1...20))
        #expect(next <= 21 + 2 * 10_000)
    }

    /// Claims double up to the largest block the writer allows (a COPY writer allows more, as
    /// each claim stops its copy), and the keys given are never fewer than half those claimed.
    @Test(arguments: [Int64(4), 4096, 65_536])
    func keyBlocksDoubleUpToTheirLargest(largest: Int64) throws {
        var blocks = StoredVMs.KeyBlocks(largest: largest)
        var claims: [Int64] = [], counter: Int64 = 1, given: [VMKey] = []
        for _ in 0..<10_000 {
            given.append(blocks.next { n in
                claims.append(n)
                defer { counter += n }
                return counter
            })
            blocks.take()
        }
        #expect(given == Array(1...10_000))
        #expect(claims.prefix(3) == [1, 2, 4])
        #expect(claims.max() == min(largest, 8192))
        #expect(claims == claims.sorted())
        #expect(counter - 1 <= 2 * 10_000)
    }
}
