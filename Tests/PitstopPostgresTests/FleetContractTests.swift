// The fleet and VM repositories' contract, run on SQLite and on PostgreSQL: the same values,
// in the same order, and the same refusals in the same words.
import Foundation
import GRDB
import PitstopCore
import PitstopPostgres
import PitstopStore
import PitstopTestSupport
import Testing

@Suite("Fleet and VM repositories on both engines")
struct FleetContractTests {
    // MARK: Regions and pairs

    @Test("regions: added, unchanged, updated, in byte order", arguments: TestEngine.all)
    func regions(engine: TestEngine) async throws {
        let store = try engine.store()
        let outcomes = try await store.write { repos in
            [
                try repos.fleet.upsert(region: Region(name: "b1", displayName: "B one")),
                try repos.fleet.upsert(region: Region(name: "B2")),
                try repos.fleet.upsert(region: Region(name: "a3")),
                try repos.fleet.upsert(region: Region(name: "b1", displayName: "B one")),
                try repos.fleet.upsert(region: Region(name: "b1", displayName: nil)),
            ]
        }
        #expect(outcomes == [.added, .added, .added, .unchanged, .updated])
        let (regions, b1, none) = try await store.read { repos in
            (try repos.fleet.regions(), try repos.fleet.region(named: "b1"), try repos.fleet.region(named: "zz"))
        }
        // Byte order: upper case first, whatever the server's locale.
        #expect(regions == [Region(name: "B2"), Region(name: "a3"), Region(name: "b1")])
        #expect(b1 == Region(name: "b1", displayName: nil))
        #expect(none == nil)
    }

    @Test("pairs: added once, in order, removed in both directions", arguments: TestEngine.all)
    func pairs(engine: TestEngine) async throws {
        let store = try engine.store()
        try await store.write { repos in
            for name in ["r1", "r2", "r3"] { _ = try repos.fleet.upsert(region: Region(name: name)) }
        }
        let outcomes = try await store.write { repos in
            [
                try repos.fleet.upsert(pair: RegionPair(region: "r2", pairedWith: "r1")),
                try repos.fleet.upsert(pair: RegionPair(region: "r1", pairedWith: "r2")),
                try repos.fleet.upsert(pair: RegionPair(region: "r1", pairedWith: "r3")),
                try repos.fleet.upsert(pair: RegionPair(region: "r1", pairedWith: "r2")),
                // A region paired with itself is skipped, not refused, as SQLite's OR IGNORE does.
                try repos.fleet.upsert(pair: RegionPair(region: "r3", pairedWith: "r3")),
            ]
        }
        #expect(outcomes == [.added, .added, .added, .unchanged, .unchanged])
        let pairs = try await store.read { repos in try repos.fleet.regionPairs() }
        #expect(pairs == [RegionPair(region: "r1", pairedWith: "r2"), RegionPair(region: "r1", pairedWith: "r3"),
                          RegionPair(region: "r2", pairedWith: "r1")])
        let removed = try await store.write { repos in
            [try repos.fleet.removePair("r1", "r2"), try repos.fleet.removePair("r2", "r1"), try repos.fleet.removePair("r3", "r1")]
        }
        #expect(removed == [2, 0, 1])
        let left = try await store.read { repos in try repos.fleet.regionPairs() }
        #expect(left.isEmpty)
        let refusal = await refusal(store) { repos in _ = try repos.fleet.upsert(pair: RegionPair(region: "r1", pairedWith: "nowhere")) }
        #expect(refusal == PitstopError(.conflict, "refers to something that does not exist"))
    }

    // MARK: Subscriptions and sets

    @Test("subscriptions: admin lists round-trip, outcomes, order", arguments: TestEngine.all)
    func subscriptions(engine: TestEngine) async throws {
        let store = try engine.store()
        let odd = Subscription(id: "s-b", admins: ["a\"quote@example.com", "ünï@example.com", "back\\slash"], coAdmins: [],
                               noticeTimeZone: "Europe/Paris")
        let outcomes = try await store.write { repos in
            [
                try repos.fleet.upsert(subscription: odd),
                try repos.fleet.upsert(subscription: Subscription(id: "s-a", coAdmins: ["co@example.com"])),
                try repos.fleet.upsert(subscription: odd),
                try repos.fleet.upsert(subscription: Subscription(id: "s-a", coAdmins: ["co@example.com", "two@example.com"])),
            ]
        }
        #expect(outcomes == [.added, .added, .unchanged, .updated])
        let (all, one) = try await store.read { repos in (try repos.fleet.subscriptions(), try repos.fleet.subscription(id: "s-b")) }
        #expect(all == [Subscription(id: "s-a", coAdmins: ["co@example.com", "two@example.com"]), odd])
        #expect(one == odd)
    }

    @Test("sets: outcomes, per-region lists, placed counts, the fleet index", arguments: TestEngine.all)
    func sets(engine: TestEngine) async throws {
        let store = try engine.store()
        try await Self.fleet(store)
        let outcomes = try await store.write { repos in
            [
                try repos.fleet.upsert(availabilitySet: AvailabilitySet(name: "web", region: "r1", subscription: "s1", faultDomains: 2, updateDomains: 3)),
                try repos.fleet.upsert(availabilitySet: AvailabilitySet(name: "web", region: "r1", subscription: "s1", faultDomains: 3, updateDomains: 3)),
                try repos.fleet.upsert(availabilitySet: AvailabilitySet(name: "new", region: "r2", subscription: "s1")),
            ]
        }
        #expect(outcomes == [.unchanged, .updated, .added])
        try await store.write { repos in try repos.fleet.setPlacedCounts([("web", 7), ("db", 2)]) }
        let (all, inR1, one, placed, index) = try await store.read { repos in
            (try repos.fleet.availabilitySets(), try repos.fleet.availabilitySets(region: "r1"), try repos.fleet.availabilitySet(named: "db"),
             try repos.fleet.placedCounts(), try repos.fleet.fleetIndex())
        }
        #expect(all.map(\.name) == ["Zeta", "db", "new", "web"])
        #expect(inR1.map(\.name) == ["Zeta", "db", "web"])
        #expect(one == AvailabilitySet(name: "db", region: "r1", subscription: "s2", faultDomains: 2, updateDomains: 5))
        #expect(all.last == AvailabilitySet(name: "web", region: "r1", subscription: "s1", faultDomains: 3, updateDomains: 3))
        #expect(placed == ["Zeta": 0, "db": 2, "new": 0, "web": 7])
        #expect(index.regions == ["r1", "r2"])
        #expect(index.subscriptions == ["s1", "s2"])
        #expect(index.sets.map(\.name) == ["Zeta", "db", "new", "web"])
        #expect(index.availabilitySet(named: "web")?.faultDomains == 3)
        // A set that would leave a VM outside its domains is refused by the schema's trigger.
        let refusal = await refusal(store) { repos in
            _ = try repos.fleet.upsert(availabilitySet: AvailabilitySet(name: "web", region: "r1", subscription: "s1", faultDomains: 1, updateDomains: 3))
        }
        #expect(refusal == PitstopError(.conflict, "availability_sets: a VM of the set lies outside the new domain ranges"))
    }

    // MARK: Windows and blackouts

    @Test("windows and blackouts round-trip, with their outcomes and order", arguments: TestEngine.all)
    func windowsAndBlackouts(engine: TestEngine) async throws {
        let store = try engine.store()
        try await Self.fleet(store)
        let weekly = MaintenanceWindow(name: "sat", scope: .availabilitySet("web"), start: LocalDateTime("2026-11-14T22:00:00")!,
                                       timeZone: TimeZone(identifier: "America/New_York")!, duration: try DurationText(parsing: "PT4H"),
                                       recurrence: try Recurrence(parsing: "Week Saturday"), expires: LocalDateTime("2027-06-30T00:00:00")!)
        let once = MaintenanceWindow(name: "once", scope: .region("r2"), start: LocalDateTime("2026-12-01T01:00:00")!,
                                     timeZone: TimeZone(identifier: "UTC")!, duration: try DurationText(parsing: "PT90M"))
        let fleetWide = Blackout(name: "newyear", region: nil, start: Timestamp(iso8601: "2026-12-31T00:00:00Z")!,
                                 end: Timestamp(iso8601: "2027-01-02T00:00:00Z")!)
        let regional = Blackout(name: "freeze", region: "r1", start: Timestamp(iso8601: "2026-11-20T00:00:00Z")!,
                                end: Timestamp(iso8601: "2026-11-21T00:00:00Z")!)
        var longerDraft = once
        longerDraft.duration = try DurationText(parsing: "PT3H")
        var movedDraft = regional
        movedDraft.region = "r2"
        let (longer, moved) = (longerDraft, movedDraft)
        let outcomes = try await store.write { repos in
            [
                try repos.fleet.upsert(window: weekly), try repos.fleet.upsert(window: once), try repos.fleet.upsert(window: weekly),
                try repos.fleet.upsert(window: longer),
                try repos.fleet.upsert(blackout: fleetWide), try repos.fleet.upsert(blackout: regional),
                try repos.fleet.upsert(blackout: fleetWide), try repos.fleet.upsert(blackout: moved),
            ]
        }
        #expect(outcomes == [.added, .added, .unchanged, .updated, .added, .added, .unchanged, .updated])
        let (windows, sat, blackouts, freeze) = try await store.read { repos in
            (try repos.fleet.maintenanceWindows(), try repos.fleet.maintenanceWindow(named: "sat"),
             try repos.fleet.blackouts(), try repos.fleet.blackout(named: "freeze"))
        }
        #expect(windows == [longer, weekly])
        #expect(sat == weekly)
        #expect(blackouts == [moved, fleetWide])
        #expect(freeze == moved)
    }

    @Test("a window row changed behind Pitstop's back is reported, not skipped", arguments: TestEngine.all)
    func corruptWindow(engine: TestEngine) async throws {
        let (store, sql) = try Self.openWithBackDoor(engine)
        try await Self.fleet(store)
        try await store.write { repos in
            _ = try repos.fleet.upsert(window: MaintenanceWindow(name: "w1", scope: .region("r1"), start: LocalDateTime("2026-11-14T22:00:00")!,
                                                                timeZone: TimeZone(identifier: "UTC")!, duration: try DurationText(parsing: "PT4H")))
        }
        _ = try sql("UPDATE maintenance_windows SET time_zone = 'Nowhere/Atlantis' WHERE name = 'w1'")
        let refusal = await refusal(store, reading: true) { repos in _ = try repos.fleet.maintenanceWindows() }
        #expect(refusal?.kind == .internal)
        #expect(refusal?.message.hasPrefix("maintenance_windows row 'w1' cannot be read: timeZone") == true)
        #expect(refusal?.message.hasSuffix("; the database was changed outside Pitstop") == true)
    }

    // MARK: Removal

    @Test("dependants are listed per kind, in order, up to the limit; deletes say whether a row went", arguments: TestEngine.all)
    func deleteAndDependants(engine: TestEngine) async throws {
        let store = try engine.store()
        try await Self.fleet(store)
        try await store.write { repos in
            _ = try repos.fleet.upsert(pair: RegionPair(region: "r2", pairedWith: "r1"))
            _ = try repos.fleet.upsert(pair: RegionPair(region: "r1", pairedWith: "r2"))
            _ = try repos.fleet.upsert(window: MaintenanceWindow(name: "w-r1", scope: .region("r1"), start: LocalDateTime("2026-11-14T22:00:00")!,
                                                                timeZone: TimeZone(identifier: "UTC")!, duration: try DurationText(parsing: "PT4H")))
            _ = try repos.fleet.upsert(window: MaintenanceWindow(name: "w-web", scope: .availabilitySet("web"), start: LocalDateTime("2026-11-14T22:00:00")!,
                                                                timeZone: TimeZone(identifier: "UTC")!, duration: try DurationText(parsing: "PT4H")))
            _ = try repos.fleet.upsert(blackout: Blackout(name: "b-r1", region: "r1", start: Timestamp(seconds: 0), end: Timestamp(seconds: 3600)))
        }
        let (region, limited, subscription, set, window) = try await store.read { repos in
            (try repos.fleet.dependants(of: .region, key: "r1", limit: 10), try repos.fleet.dependants(of: .region, key: "r1", limit: 2),
             try repos.fleet.dependants(of: .subscription, key: "s2", limit: 10), try repos.fleet.dependants(of: .availabilitySet, key: "web", limit: 10),
             try repos.fleet.dependants(of: .maintenanceWindow, key: "w-r1", limit: 10))
        }
        #expect(region.map(\.kind) == ["availability sets", "VMs", "maintenance windows", "blackouts", "pair links"])
        #expect(region.map(\.names) == [["Zeta", "db", "web"], ["Vm-0", "vm-1", "vm-2", "vm-3", "vm-single"], ["w-r1"], ["b-r1"], ["r1 -> r2", "r2 -> r1"]])
        #expect(limited.map(\.names) == [["Zeta", "db"], ["Vm-0", "vm-1"], ["w-r1"], ["b-r1"], ["r1 -> r2", "r2 -> r1"]])
        #expect(subscription.map(\.kind) == ["availability sets", "VMs"])
        #expect(subscription.map(\.names) == [["db"], ["vm-3", "z-other"]])
        #expect(set.map(\.kind) == ["VMs", "maintenance windows"])
        #expect(set.map(\.names) == [["Vm-0", "vm-1", "vm-2"], ["w-web"]])
        #expect(window.isEmpty)

        let refusal = await refusal(store) { repos in _ = try repos.fleet.delete(.region, key: "r1") }
        #expect(refusal == PitstopError(.conflict, "refers to something that does not exist"))
        let deleted = try await store.write { repos in
            [try repos.fleet.delete(.maintenanceWindow, key: "w-r1"), try repos.fleet.delete(.maintenanceWindow, key: "w-r1"),
             try repos.fleet.delete(.vm, key: "vm-single"), try repos.fleet.delete(.blackout, key: "nothing")]
        }
        #expect(deleted == [true, false, true, false])
        let (windows, vm) = try await store.read { repos in (try repos.fleet.maintenanceWindows().map(\.name), try repos.vms.vm(named: "vm-single")) }
        #expect(windows == ["w-web"])
        #expect(vm == nil)
    }

    @Test("a VM's dependants are the campaigns with an event of it still scheduled or started", arguments: TestEngine.all)
    func vmDependants(engine: TestEngine) async throws {
        let (store, sql) = try Self.openWithBackDoor(engine)
        try await Self.fleet(store)
        // Waves written behind the back: the event repository is not what is tested here.
        // c0: a key vm-1 had before it was removed and recorded again; c1: the wave's own
        // status; c2: a completed wave whose VM's own departure started; c3: a scheduled wave
        // the VM left (cancelled); c4: another VM's.
        let campaign = { (id: String) in
            """
            INSERT INTO campaigns(id, kind, status, created_at, not_before, regions, per_vm_seconds, ud_gap_seconds, horizon_seconds,
                description, start_utc, end_utc)
            VALUES ('\(id)', 'reboot', 'scheduled', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '["r1"]', 600, 0, 86400, '',
                '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z');
            """
        }
        let wave = { (id: Int, status: String) in
            """
            INSERT INTO waves(id, public_id, campaign, kind, region, start_at, end_at, planned_at, status)
            VALUES (\(id), 'w\(id)', 'c\(id)', 'reboot', 'r1', 100, 200, 50, '\(status)');
            """
        }
        _ = try sql((0...4).map { campaign("c\($0)") }.joined() + wave(0, "scheduled") + wave(1, "started") + wave(2, "completed")
            + wave(3, "scheduled") + wave(4, "scheduled") + """
            INSERT INTO vm_names(key, name, retired) VALUES (900001, 'vm-1', 1);
            INSERT INTO wave_vms(wave, vm) VALUES (0, 900001);
            INSERT INTO wave_vms(wave, vm) SELECT 1, key FROM vms WHERE name = 'vm-1';
            INSERT INTO wave_vms(wave, vm) SELECT 2, key FROM vms WHERE name = 'vm-1';
            INSERT INTO vm_departures(wave, vm, status, forced) SELECT 2, key, 'started', 0 FROM vms WHERE name = 'vm-1';
            INSERT INTO wave_vms(wave, vm) SELECT 3, key FROM vms WHERE name = 'vm-1';
            INSERT INTO vm_departures(wave, vm, status, forced) SELECT 3, key, 'cancelled', 0 FROM vms WHERE name = 'vm-1';
            INSERT INTO wave_vms(wave, vm) SELECT 4, key FROM vms WHERE name = 'vm-2';
            """)
        let (all, two, none) = try await store.read { repos in
            (try repos.fleet.dependants(of: .vm, key: "vm-1", limit: 10), try repos.fleet.dependants(of: .vm, key: "vm-1", limit: 2),
             try repos.fleet.dependants(of: .vm, key: "vm-3", limit: 10))
        }
        #expect(all.map(\.kind) == ["scheduled or started events of campaigns"])
        #expect(all.map(\.names) == [["c0", "c1", "c2"]])
        #expect(two.map(\.names) == [["c0", "c1"]])
        #expect(none.isEmpty)
    }

    // MARK: VMs

    @Test("refusals: a taken IP address, an unknown region, domains outside the set's; nothing is left of the write", arguments: TestEngine.all)
    func refusals(engine: TestEngine) async throws {
        let store = try engine.store()
        try await Self.fleet(store)
        let cases: [(VirtualMachine, String)] = [
            (VirtualMachine(name: "new", region: "r1", subscription: "s1", ipAddress: "10.0.0.1"), "ipAddress 10.0.0.1 is already used by VM vm-1"),
            (VirtualMachine(name: "new", region: "mars", subscription: "s1"), "refers to something that does not exist"),
            (VirtualMachine(name: "new", region: "r1", subscription: "s1", availabilitySet: "web", updateDomain: 3, faultDomain: 0),
             "vms: update or fault domain outside the availability set's range"),
        ]
        for (vm, message) in cases {
            let refusal = await refusal(store) { repos in
                _ = try repos.vms.writer().insertIfAbsent(VirtualMachine(name: "first", region: "r1", subscription: "s1"))
                _ = try repos.vms.writer().insertIfAbsent(vm)
            }
            #expect(refusal == PitstopError(.conflict, message))
        }
        // Moving a VM onto a taken address is refused as well.
        let moved = await refusal(store) { repos in
            try repos.vms.writer().overwrite(VirtualMachine(name: "vm-2", region: "r1", subscription: "s1", availabilitySet: "web",
                                                            updateDomain: 2, faultDomain: 0, ipAddress: "10.0.0.1"))
        }
        #expect(moved == PitstopError(.conflict, "ipAddress 10.0.0.1 is already used by VM vm-1"))
        let (count, first) = try await store.read { repos in (try repos.vms.count(in: .all), try repos.vms.vm(named: "first")) }
        #expect(count == Self.vms.count)
        #expect(first == nil)
    }

    @Test("the writer inserts once, overwrites, reads back; a VM keeps its key", arguments: TestEngine.all)
    func writer(engine: TestEngine) async throws {
        let store = try engine.store()
        try await Self.fleet(store)
        let keysBefore = try await Self.keys(store)
        let one = VirtualMachine(name: "added", region: "r2", subscription: "s2", ipAddress: "10.0.9.9")
        let (inserted, again, existing, missing) = try await store.write { repos in
            let writer = try repos.vms.writer()
            return (try writer.insertIfAbsent(one), try writer.insertIfAbsent(VirtualMachine(name: "added", region: "r1", subscription: "s1")),
                    try writer.existing(named: "added"), try writer.existing(named: "ghost"))
        }
        #expect(inserted && !again)
        #expect(existing == one)
        #expect(missing == nil)
        let changed = VirtualMachine(name: "added", region: "r1", subscription: "s1", availabilitySet: "web", updateDomain: 2, faultDomain: 1)
        try await store.write { repos in try repos.vms.writer().overwrite(changed) }
        let (read, keysAfter) = (try await store.read { repos in try repos.vms.vm(named: "added") }, try await Self.keys(store))
        #expect(read == changed)
        // Every VM keeps the key it had; the new one has a key no other VM has.
        #expect(keysAfter.filter { $0.key != "added" } == keysBefore)
        let added = try #require(keysAfter["added"])
        #expect(added > 0 && !keysBefore.values.contains(added))
        #expect(Set(keysAfter.values).count == keysAfter.count)
    }

    @Test("keys are handed out from the counter, in growing blocks, never twice", arguments: TestEngine.all)
    func keyBlocks(engine: TestEngine) async throws {
        let (store, sql) = try Self.openWithBackDoor(engine)
        try await Self.fleet(store)
        try await store.write { repos in
            let writer = try repos.vms.writer()
            for i in 0..<20 { _ = try writer.insertIfAbsent(VirtualMachine(name: String(format: "bulk-%02d", i), region: "r2", subscription: "s2")) }
        }
        let keys = try await Self.keys(store)
        let bulk = (0..<20).map { keys[String(format: "bulk-%02d", $0)]! }
        // The fleet's six VMs took keys 1...6 (blocks of 1, 2, 4); a new writer starts at one key
        // again, so the 20 added here are dense and rising.
        #expect(bulk == Array(bulk[0]..<(bulk[0] + 20)))
        #expect(Set(keys.values).count == keys.count)
        // 1 + 2 + 4 + 8 + 16 keys claimed for 20 VMs: the counter moved past the block, not past each VM.
        let next = try sql("SELECT next FROM vm_key_counter").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Int64(next) == bulk[0] + 31)
    }

    @Test("a bulk write on PostgreSQL claims its keys at once and gives back those it did not use")
    func bulkKeysGivenBack() async throws {
        let (store, sql) = try Self.openWithBackDoor(.postgres)
        try await Self.fleet(store)
        func counter() throws -> Int64? { Int64(try sql("SELECT next FROM vm_key_counter").trimmingCharacters(in: .whitespacesAndNewlines)) }
        let before = try #require(try counter())
        try await store.bulkWrite { repos in
            let writer = try repos.vms.writer()
            for i in 0..<30 { _ = try writer.insertIfAbsent(VirtualMachine(name: String(format: "copied-%02d", i), region: "r2", subscription: "s2")) }
        }
        let keys = try await Self.keys(store)
        #expect((0..<30).map { keys[String(format: "copied-%02d", $0)] } == (0..<30).map { before + Int64($0) })
        // The counter stands just past the last key given: none skipped.
        #expect(try counter() == before + 30)

        // A bulk write refused at its end (a VM names no region) takes no key either.
        await #expect(throws: PitstopError.self) {
            try await store.bulkWrite { repos in
                let writer = try repos.vms.writer()
                _ = try writer.insertIfAbsent(VirtualMachine(name: "copied-more", region: "r2", subscription: "s2"))
                _ = try writer.insertIfAbsent(VirtualMachine(name: "nowhere", region: "no-such-region", subscription: "s2"))
            }
        }
        #expect(try counter() == before + 30)
        #expect(try await Self.keys(store).count == keys.count)
    }

    @Test("a bulk write on PostgreSQL stores what COPY's text format escapes as it was given")
    func bulkEscapes() async throws {
        let store = try TestEngine.postgres.store()
        try await Self.fleet(store)
        let names = ["back\\slash", "tab\tin", "new\nline", "carriage\rreturn", "\\N", "ünïcødé-名前", String(repeating: "long-", count: 40)]
        let vms = names.enumerated().map { i, name in
            VirtualMachine(name: name, region: "r2", subscription: "s2", ipAddress: i % 2 == 0 ? "fe80::\\\(i)" : nil)
        }
        try await store.bulkWrite { repos in
            let writer = try repos.vms.writer()
            for vm in vms { #expect(try writer.insertIfAbsent(vm)) }
        }
        let stored = try await store.read { repos in try vms.map { try repos.vms.vm(named: $0.name) } }
        #expect(stored == vms)
    }

    @Test("a bulk write into an empty fleet on PostgreSQL loads the VMs first and makes their indexes again, as they were")
    func bulkIntoEmptyFleetRemakesIndexes() async throws {
        let (store, sql) = try Self.openWithBackDoor(.postgres)
        let database = try #require(store as? PostgresStore).location.database
        try await store.write { repos in try Self.places(repos) }
        func catalog() throws -> [[String?]] {
            try PostgresServer.psqlRows(database: database, """
                SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'vms'
                UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'vms'::regclass
                ORDER BY 1, 2
                """)
        }
        let before = try catalog()
        #expect(before.contains { $0.first == "vms_pkey" } && before.contains { $0.first == "vms_by_ip" })
        // Another connection's read, unable to wait more than a moment for the table.
        @Sendable func readsMeanwhile() -> String {
            do { return try PostgresServer.psql(database: database, "SET lock_timeout = '200ms'; SELECT count(*) FROM vms") } catch { return "\(error)" }
        }
        let placed = Self.vms.filter { $0.availabilitySet != "db" }

        // A refused load (a VM names no region) leaves the indexes as they were.
        await #expect(throws: PitstopError.self) {
            try await store.bulkWrite { repos in
                let writer = try repos.vms.writer()
                for vm in placed { _ = try writer.insertIfAbsent(vm) }
                _ = try writer.insertIfAbsent(VirtualMachine(name: "nowhere", region: "no-such-region", subscription: "s2"))
            }
        }
        #expect(try catalog() == before)
        #expect(try sql("SELECT count(*) FROM vms").trimmingCharacters(in: .whitespacesAndNewlines) == "0")

        // While the load runs, the table is locked: a read waits for the commit, not for
        // indexes that are not there.
        let meanwhile = try await store.bulkWrite { repos in
            let writer = try repos.vms.writer()
            for vm in placed { _ = try writer.insertIfAbsent(vm) }
            return readsMeanwhile()
        }
        #expect(meanwhile.contains("lock timeout"), "\(meanwhile)")
        #expect(try catalog() == before)
        let stored = try await store.read { repos in
            var vms: [VirtualMachine] = []
            try repos.vms.forEach(in: .all) { vms.append($0) }
            return (vms, try repos.vms.vm(ipAddress: "10.0.0.2"))
        }
        #expect(stored.0 == placed.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) })
        #expect(stored.1?.name == "vm-2")
        // The indexes made again hold the loaded rows: they refuse a second VM of a name, an
        // address or a key.
        for clash in ["('vm-1', 'r2', 's2', NULL, 999)", "('other', 'r2', 's2', '10.0.0.1', 999)", "('other', 'r2', 's2', NULL, (SELECT min(key) FROM vms))"] {
            #expect(throws: (any Error).self) { try sql("INSERT INTO vms(name, region, subscription, ip_address, key) VALUES \(clash)") }
        }

        // Into a fleet that has VMs, the indexes stay and reads go on beside the load.
        let beside = try await store.bulkWrite { repos in
            _ = try repos.vms.writer().insertIfAbsent(VirtualMachine(name: "later", region: "r2", subscription: "s2"))
            return readsMeanwhile()
        }
        #expect(beside.trimmingCharacters(in: .whitespacesAndNewlines) == "\(placed.count)")
        #expect(try catalog() == before)
    }

    @Test("forEach streams in byte order within its scope; counts agree", arguments: TestEngine.all)
    func forEachAndCounts(engine: TestEngine) async throws {
        let store = try engine.store()
        try await Self.fleet(store)
        let scopes: [VMScope] = [.all, .region("r1"), .availabilitySet("web"), .subscription("s2"), .region("nowhere")]
        let (names, keyed, counts) = try await store.read { repos in
            var names: [[String]] = []
            var keyed: [[String]] = []
            var counts: [Int] = []
            for scope in scopes {
                var seen: [String] = []
                try repos.vms.forEach(in: scope) { seen.append($0.name) }
                names.append(seen)
                var seenKeyed: [String] = []
                try repos.vms.forEachKeyed(in: scope) { vm, key in
                    #expect(key > 0)
                    seenKeyed.append(vm.name)
                }
                keyed.append(seenKeyed)
                counts.append(try repos.vms.count(in: scope))
            }
            return (names, keyed, counts)
        }
        #expect(names == [["Vm-0", "vm-1", "vm-2", "vm-3", "vm-single", "z-other"], ["Vm-0", "vm-1", "vm-2", "vm-3", "vm-single"],
                          ["Vm-0", "vm-1", "vm-2"], ["vm-3", "z-other"], []])
        #expect(keyed == names)
        #expect(counts == names.map(\.count))
        // Whole values, not only names.
        let all = try await store.read { repos in
            var vms: [VirtualMachine] = []
            try repos.vms.forEach(in: .all) { vms.append($0) }
            return vms
        }
        #expect(all == Self.vms.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) })
        // After a name, in the scope: exactly the names past it in byte order ('V' before 'v'),
        // whether or not a VM has that name.
        for (scope, inScope) in zip(scopes, names) {
            for after in inScope + ["A", "Vm-0a", "vm-2a", "vm-3", "zz"] {
                let seen = try await store.read { repos in
                    var seen: [String] = []
                    try repos.vms.forEach(in: scope, after: after) { seen.append($0.name) }
                    return seen
                }
                #expect(seen == inScope.filter { Array(after.utf8).lexicographicallyPrecedes(Array($0.utf8)) }, "\(scope) after \(after)")
            }
        }
    }

    @Test("forEach reads whole batches and the empty one after them, every value as written", arguments: TestEngine.all)
    func manyVMs(engine: TestEngine) async throws {
        let store = try engine.store()
        try await Self.fleet(store)
        // With the one VM r2 holds already: exactly two of PostgreSQL's batches.
        let total = 2 * PostgresVMRepository.batch - 1
        let many = (0..<total).map { i in
            VirtualMachine(name: "many-\(i)", region: "r2", subscription: "s2", ipAddress: i % 2 == 0 ? "172.\(16 + i / 65_536).\(i / 256 % 256).\(i % 256)" : nil)
        }
        try await store.write { repos in
            let writer = try repos.vms.writer()
            for vm in many { _ = try writer.insertIfAbsent(vm) }
        }
        let (seen, distinctKeys) = try await store.read { repos in
            var seen: [VirtualMachine] = []
            var keys = Set<VMKey>()
            try repos.vms.forEachKeyed(in: .region("r2")) { vm, key in
                seen.append(vm)
                keys.insert(key)
            }
            return (seen, keys.count)
        }
        let expected = (many + Self.vms.filter { $0.region == "r2" }).sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        #expect(seen.count == 2 * PostgresVMRepository.batch)
        #expect(seen == expected)
        #expect(distinctKeys == seen.count)
        // From a name just short of a batch's end: the rest of that batch, then the next ones.
        let start = PostgresVMRepository.batch - 10
        let rest = try await store.read { repos in
            var rest: [VirtualMachine] = []
            try repos.vms.forEach(in: .region("r2"), after: expected[start].name) { rest.append($0) }
            return rest
        }
        #expect(rest == Array(expected[(start + 1)...]))
    }

    @Test("a read stopped in a full batch leaves the unit of work answering its next statement", arguments: TestEngine.all)
    func stoppedRead(engine: TestEngine) async throws {
        let store = try engine.store()
        try await Self.fleet(store)
        // A full batch: on PostgreSQL the next one is already asked for when the body stops.
        let many = (0..<PostgresVMRepository.batch).map { VirtualMachine(name: "many-\($0)", region: "r2", subscription: "s2") }
        try await store.write { repos in
            let writer = try repos.vms.writer()
            for vm in many { _ = try writer.insertIfAbsent(vm) }
        }
        struct Stop: Error {}
        let (read, count, vm) = try await store.read { repos in
            var read = 0
            do {
                try repos.vms.forEach(in: .region("r2")) { _ in
                    read += 1
                    if read == 3 { throw Stop() }
                }
            } catch is Stop {}
            return (read, try repos.vms.count(in: .region("r2")), try repos.vms.vm(named: "many-7"))
        }
        #expect(read == 3)
        #expect(count == many.count + 1)
        #expect(vm == many[7])
    }

    @Test("counts by set, by domain, and a VM by its address", arguments: TestEngine.all)
    func tallies(engine: TestEngine) async throws {
        let store = try engine.store()
        try await Self.fleet(store)
        let (bySet, domains, byIP, noIP) = try await store.read { repos in
            (try repos.vms.countsBySet(), try repos.vms.domainCounts(), try repos.vms.vm(ipAddress: "10.0.0.1"), try repos.vms.vm(ipAddress: "10.9.9.9"))
        }
        #expect(bySet == ["web": 3, "db": 1])
        #expect(Set(domains) == [
            DomainCount(region: "r1", availabilitySet: "web", updateDomain: 0, faultDomain: 0, vms: 2),
            DomainCount(region: "r1", availabilitySet: "web", updateDomain: 1, faultDomain: 1, vms: 1),
            DomainCount(region: "r1", availabilitySet: "db", updateDomain: 4, faultDomain: 1, vms: 1),
            DomainCount(region: "r1", availabilitySet: nil, updateDomain: nil, faultDomain: nil, vms: 1),
            DomainCount(region: "r2", availabilitySet: nil, updateDomain: nil, faultDomain: nil, vms: 1),
        ])
        #expect(domains.count == 5)
        #expect(byIP == Self.vms.first { $0.name == "vm-1" })
        #expect(noIP == nil)
    }

    // MARK: Support

    /// The VMs ``fleet(_:)`` records, in the order it records them.
    static let vms: [VirtualMachine] = [
        VirtualMachine(name: "vm-1", region: "r1", subscription: "s1", availabilitySet: "web", updateDomain: 0, faultDomain: 0, ipAddress: "10.0.0.1"),
        VirtualMachine(name: "vm-2", region: "r1", subscription: "s1", availabilitySet: "web", updateDomain: 1, faultDomain: 1, ipAddress: "10.0.0.2"),
        VirtualMachine(name: "Vm-0", region: "r1", subscription: "s1", availabilitySet: "web", updateDomain: 0, faultDomain: 0),
        VirtualMachine(name: "vm-3", region: "r1", subscription: "s2", availabilitySet: "db", updateDomain: 4, faultDomain: 1),
        VirtualMachine(name: "vm-single", region: "r1", subscription: "s1"),
        VirtualMachine(name: "z-other", region: "r2", subscription: "s2"),
    ]

    /// Regions r1 and r2, subscriptions s1 and s2, and set web (r1, s1, 3 update domains, 2
    /// fault domains): where ``fleet(_:)`` puts its VMs.
    static func places(_ repos: any Repositories) throws {
        _ = try repos.fleet.upsert(region: Region(name: "r1"))
        _ = try repos.fleet.upsert(region: Region(name: "r2"))
        _ = try repos.fleet.upsert(subscription: Subscription(id: "s1"))
        _ = try repos.fleet.upsert(subscription: Subscription(id: "s2"))
        _ = try repos.fleet.upsert(availabilitySet: AvailabilitySet(name: "web", region: "r1", subscription: "s1", faultDomains: 2, updateDomains: 3))
    }

    /// Two regions, two subscriptions, three sets in r1, and ``vms``.
    static func fleet(_ store: any Store) async throws {
        try await store.write { repos in
            try places(repos)
            _ = try repos.fleet.upsert(availabilitySet: AvailabilitySet(name: "db", region: "r1", subscription: "s2"))
            _ = try repos.fleet.upsert(availabilitySet: AvailabilitySet(name: "Zeta", region: "r1", subscription: "s1"))
            let writer = try repos.vms.writer()
            for vm in vms {
                let inserted = try writer.insertIfAbsent(vm)
                #expect(inserted)
            }
        }
    }

    /// Every VM's key, by name.
    static func keys(_ store: any Store) async throws -> [String: VMKey] {
        try await store.read { repos in
            var keys: [String: VMKey] = [:]
            try repos.vms.forEachKeyed(in: .all) { vm, key in keys[vm.name] = key }
            return keys
        }
    }

    /// The error a write refused with (rolled back), or nil when it committed.
    func refusal(_ store: any Store, reading: Bool = false, _ work: @escaping @Sendable (any Repositories) throws -> Void) async -> PitstopError? {
        do {
            if reading { try await store.read(work) } else { try await store.write(work) }
            return nil
        } catch {
            return error as? PitstopError ?? PitstopError(.internal, "not a PitstopError: \(error)")
        }
    }

    /// A fresh store and a way to run SQL on its database behind Pitstop's back: a second
    /// connection to the SQLite file, or psql. A query gives back its first value as text.
    static func openWithBackDoor(_ engine: TestEngine) throws -> (any Store, (String) throws -> String) {
        switch engine {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-contract-\(UUID().uuidString).sqlite").path
            let store = try AppDatabase.open(path: path)
            return (store, { sql in
                try DatabaseQueue(path: path).write { db in
                    guard sql.hasPrefix("SELECT") else { try db.execute(sql: sql); return "" }
                    return try String.fetchOne(db, sql: sql) ?? ""
                }
            })
        case .postgres:
            let store = try engine.store()
            let database = try #require(store as? PostgresStore).location.database
            return (store, { sql in try PostgresServer.psql(database: database, sql) })
        }
    }
}
