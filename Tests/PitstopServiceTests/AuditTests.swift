// The audit log through the services: inventory changes append entries in their transaction,
// the log refuses changes, queries walk indexes, verify finds tampering and broken rules, and
// reports add up. Every test here runs on SQLite and on PostgreSQL, but one about SQLite's planner.
import Foundation
import GRDB
import PitstopTestSupport
import Testing
@testable import PitstopCore
@testable import PitstopService
@testable import PitstopStore

/// 2026-12-01T00:00:00Z: the clock of every inventory change in these tests.
private let now = Timestamp(iso8601: "2026-12-01T00:00:00Z")!

/// A fresh database on one engine and the services on it, with a fixed actor and clock.
private struct Fixture {
    /// The same data, for SQL written behind Pitstop's back.
    let raw: TestDatabase
    let inventory: InventoryService
    let audit: AuditService
    var database: any Store { raw.store }

    init(_ engine: TestEngine) throws {
        raw = try TestDatabase(engine)
        inventory = InventoryService(store: raw.store, actor: "tester", clock: { now })
        audit = AuditService(store: raw.store)
    }

    /// eastus and westus (paired), subscription contoso, set web (3 UDs) in eastus.
    func smallFleet() async throws {
        try await inventory.addRegion(Region(name: "eastus"))
        try await inventory.addRegion(Region(name: "westus"))
        _ = try await inventory.pair("eastus", with: "westus")
        try await inventory.addSubscription(Subscription(id: "contoso", admins: ["ops@contoso.example"]))
        try await inventory.addAvailabilitySet(AvailabilitySet(name: "web", region: "eastus", subscription: "contoso", faultDomains: 2, updateDomains: 3))
    }

    func all() async throws -> [AuditEntry] { try await audit.entries(AuditFilter()) }
    func count() throws -> Int { try raw.integer("SELECT count(*) FROM audit_log") ?? 0 }
    /// With `checks: false`, foreign keys (and on PostgreSQL, triggers) are off while it runs.
    func sql(_ text: String, checks: Bool = true) throws { try raw.execute(text, checks: checks) }
}

private func details(_ e: AuditEntry) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(e.details.utf8)) as! [String: Any]
}

// MARK: Inventory changes are audited

@Test(arguments: TestEngine.all) func addingARegionAppendsOneEntryWithActorTimeAndSubject(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    try await f.inventory.addRegion(Region(name: "eastus", displayName: "East US"))
    let entries = try await f.all()
    #expect(entries.count == 1)
    #expect(entries[0].action == "region.added")
    #expect(entries[0].actor == "tester")
    #expect(entries[0].at == now)
    #expect(entries[0].subjects == [AuditSubject(.region, "eastus")])
    #expect(try details(entries[0])["displayName"] as? String == "East US")
}

@Test(arguments: TestEngine.all) func eachSingleRecordCommandAppendsItsAction(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    try await f.smallFleet()
    try await f.inventory.addVM(VMDraft(name: "web-0", region: nil, subscription: nil, availabilitySet: "web"))
    try await f.inventory.moveVM("web-0", toSet: "web", updateDomain: 2, faultDomain: nil)
    try await f.inventory.addWindow(MaintenanceWindow(name: "nightly", scope: .region("eastus"), start: LocalDateTime("2026-12-01T22:00")!,
                                                timeZone: TimeZone(identifier: "UTC")!, duration: DurationText(seconds: 3600), recurrence: nil))
    try await f.inventory.removeWindow("nightly")
    try await f.inventory.addBlackout(Blackout(name: "freeze", region: "westus", start: now, end: now + 3600))
    try await f.inventory.removeBlackout("freeze")
    try await f.inventory.removeVM("web-0")
    try await f.inventory.removeAvailabilitySet("web")
    try await f.inventory.unpair("westus", from: "eastus")
    try await f.inventory.removeRegion("westus")
    try await f.inventory.removeSubscription("contoso")
    #expect(try await f.all().map(\.action) == [
        "region.added", "region.added", "region.paired", "subscription.added", "set.added", "vm.added", "vm.moved",
        "window.added", "window.removed", "blackout.added", "blackout.removed", "vm.removed", "set.removed",
        "region.unpaired", "region.removed", "subscription.removed",
    ])
}

@Test(arguments: TestEngine.all) func aMovedVMRecordsWhereItWasAndWhereItWent(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    try await f.smallFleet()
    try await f.inventory.addAvailabilitySet(AvailabilitySet(name: "api", region: "westus", subscription: "contoso", faultDomains: 1, updateDomains: 2))
    try await f.inventory.addVM(VMDraft(name: "web-0", region: nil, subscription: nil, availabilitySet: "web"))
    try await f.inventory.moveVM("web-0", toSet: "api", updateDomain: 1, faultDomain: nil)
    let moved = try #require(try await f.audit.entries(AuditFilter(action: "vm.moved")).first)
    #expect(Set(moved.subjects) == [AuditSubject(.vm, "web-0"), AuditSubject(.set, "web"), AuditSubject(.set, "api"),
                                    AuditSubject(.region, "eastus"), AuditSubject(.region, "westus"), AuditSubject(.subscription, "contoso")])
    let d = try details(moved)
    let from = d["from"] as! [String: Any], to = d["to"] as! [String: Any]
    #expect(from["availabilitySet"] as? String == "web")
    #expect(from["updateDomain"] as? Int == 0)
    #expect(to["availabilitySet"] as? String == "api")
    #expect(to["region"] as? String == "westus")
    #expect(to["updateDomain"] as? Int == 1)
}

@Test(arguments: TestEngine.all) func aRefusedCommandAppendsNothing(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    try await f.smallFleet()
    let before = try f.count()
    await #expect(throws: PitstopError.self) { try await f.inventory.addRegion(Region(name: "eastus")) }
    await #expect(throws: PitstopError.self) { try await f.inventory.removeRegion("eastus") }  // the set still uses it
    await #expect(throws: PitstopError.self) { try await f.inventory.removeVM("nobody") }
    #expect(try f.count() == before)
}

@Test(arguments: TestEngine.all) func loadingDefaultsTwiceAuditsOnlyTheFirstTime(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    _ = try await f.inventory.loadDefaultRegions()
    _ = try await f.inventory.loadDefaultRegions()
    let entries = try await f.all()
    #expect(entries.map(\.action) == ["region.defaults-loaded"])
    #expect(entries[0].subjects.contains(AuditSubject(.region, "brazilsouth")))
}

@Test(arguments: TestEngine.all) func aJSONImportAppendsOneEntryWithCountsAndSubjects(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    let document = """
        {"regions": [{"name": "eastus"}, {"name": "westus"}],
         "regionPairs": [{"region": "eastus", "pairedWith": "westus"}],
         "subscriptions": [{"id": "contoso", "admins": ["ops@contoso.example"]}],
         "availabilitySets": [{"name": "web", "region": "eastus", "subscription": "contoso"}],
         "vms": [{"name": "web-0", "availabilitySet": "web"}, {"name": "web-1", "availabilitySet": "web"},
                 {"name": "solo", "region": "westus", "subscription": "contoso"}]}
        """
    _ = try await f.inventory.importDocument(.bytes(Array(document.utf8), name: "fleet.json"))
    let entries = try await f.all()
    #expect(entries.map(\.action) == ["inventory.imported"])
    let subjects = Set(entries[0].subjects)
    #expect(subjects.isSuperset(of: [AuditSubject(.region, "eastus"), AuditSubject(.region, "westus"), AuditSubject(.set, "web"),
                                     AuditSubject(.subscription, "contoso"), AuditSubject(.vm, "web-0"), AuditSubject(.vm, "solo")]))
    let counts = try details(entries[0])["counts"] as! [String: [String: Int]]
    #expect(counts["vms"]?["added"] == 3)
    #expect(counts["regions"]?["added"] == 2)
    #expect(try details(entries[0])["file"] as? String == "fleet.json")
}

@Test(arguments: TestEngine.all) func anImportThatChangesNothingAppendsNothing(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    let document = #"{"regions": [{"name": "eastus"}]}"#
    _ = try await f.inventory.importDocument(.bytes(Array(document.utf8), name: "fleet.json"))
    let before = try f.count()
    _ = try await f.inventory.importDocument(.bytes(Array(document.utf8), name: "fleet.json"))
    #expect(try f.count() == before)
}

@Test(arguments: TestEngine.all) func aFailedImportAppendsNothing(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    try await f.smallFleet()
    let before = try f.count()
    let bad = #"{"vms": [{"name": "web-0", "availabilitySet": "nowhere"}]}"#
    let badJSON = await #expect(throws: PitstopError.self) { try await f.inventory.importDocument(.bytes(Array(bad.utf8), name: "bad.json")) }
    #expect(badJSON?.kind == .invalid && badJSON?.problems.isEmpty == false)
    let csv = FileManager.default.temporaryDirectory.appendingPathComponent("audit-bad-\(UUID()).csv")
    defer { try? FileManager.default.removeItem(at: csv) }
    try "name,region,subscription,availabilitySet,updateDomain,faultDomain\nweb-0,eastus,contoso,web,7,0\n".write(to: csv, atomically: true, encoding: .utf8)
    let badCSV = await #expect(throws: PitstopError.self) { try await f.inventory.importCSV(try .file(atPath: csv.path, name: "bad.csv")) }
    #expect(badCSV?.kind == .invalid && badCSV?.problems.isEmpty == false)
    #expect(try f.count() == before)
}

@Test(arguments: TestEngine.all, [(1000, true), (1001, false)])
func aCSVImportNamesItsVMsOnlyWhenThereAreFew(engine: TestEngine, fleet: (vms: Int, named: Bool)) async throws {
    let (vms, named) = fleet
    let f = try Fixture(engine)
    try await f.smallFleet()
    let csv = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID()).csv")
    defer { try? FileManager.default.removeItem(at: csv) }
    var text = "name,region,subscription,availabilitySet,updateDomain,faultDomain\n"
    for i in 0..<vms { text += i % 10 == 0 ? "solo-\(i),westus,contoso,,,\n" : "web-\(i),eastus,contoso,web,,\n" }
    try text.write(to: csv, atomically: true, encoding: .utf8)
    let before = try f.count()
    _ = try await f.inventory.importCSV(try .file(atPath: csv.path, name: "vms.csv"))
    let entries = try await f.audit.entries(AuditFilter(action: "inventory.imported"))
    #expect(try f.count() == before + 1)
    let entry = try #require(entries.first)
    #expect(Set(entry.subjects.filter { $0.kind != .vm }) == [AuditSubject(.region, "eastus"), AuditSubject(.region, "westus"),
                                                               AuditSubject(.set, "web"), AuditSubject(.subscription, "contoso")])
    #expect(entry.subjects.filter { $0.kind == .vm }.count == (named ? vms : 0))
    #expect(try details(entry)["vmSubjects"] as? Bool == named)
}

// MARK: The hash

@Test func theEntryHashIsSHA256OverLengthPrefixedFieldsAndByteSortedSubjects() {
    // Computed independently (Python's hashlib) from the format AuditLog.hash documents.
    let hash = AuditLog.hash(seq: 1, at: "2026-12-01T00:00:00Z", actor: "tester", action: "region.added",
                             subjects: [AuditSubject(.vm, "été"), AuditSubject(.vm, "web-0"), AuditSubject(.region, "eastus")],
                             details: #"{"name": "eastus"}"#, previousHash: AuditLog.genesis)
    #expect(hash == "3395627f52aa7ec9115a7c2b6e0d4058c7edf719f48253aa289478d623962ed4")
}

// MARK: Append-only

/// The same edits on both engines, and each engine's own way of writing over an entry
/// (SQLite's INSERT OR REPLACE, PostgreSQL's upsert) or of emptying the log (TRUNCATE).
private let tampering: [(TestEngine, String)] = TestEngine.all.flatMap { engine in
    let edits = [
        "UPDATE audit_log SET actor = 'mallory'",
        "DELETE FROM audit_log",
        "UPDATE audit_subjects SET name = 'other'",
        "DELETE FROM audit_subjects",
    ]
    let values = "(seq, at, actor, action, details, prev_hash, hash) VALUES (1, 'x', 'm', 'a', '{}', 'p', 'h')"
    let own = switch engine {
    case .sqlite: ["INSERT OR REPLACE INTO audit_log\(values)"]
    case .postgres: ["INSERT INTO audit_log\(values) ON CONFLICT (seq) DO UPDATE SET actor = excluded.actor",
                     "TRUNCATE audit_subjects, audit_log"]
    }
    return (edits + own).map { (engine, $0) }
}

@Test(arguments: tampering)
func theLogRefusesChangesEvenByRawSQL(engine: TestEngine, statement: String) async throws {
    let f = try Fixture(engine)
    try await f.inventory.addRegion(Region(name: "eastus"))
    let before = try await f.all()
    let error = #expect(throws: (any Error).self) { try f.sql(statement) }
    #expect(String(describing: error).contains("is append-only"), "\(String(describing: error))")
    #expect(try await f.all() == before)
}

// MARK: Queries

@Test(arguments: TestEngine.all) func aQueryBySubjectTimeAndActionSelectsOnlyThoseEntries(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    var clock = now
    let database = f.database
    func inventory() -> InventoryService { let t = clock; return InventoryService(store: database, actor: "tester", clock: { t }) }
    try await inventory().addRegion(Region(name: "eastus"))
    try await inventory().addSubscription(Subscription(id: "contoso"))
    try await inventory().addAvailabilitySet(AvailabilitySet(name: "web", region: "eastus", subscription: "contoso", faultDomains: 2, updateDomains: 3))
    for i in 0..<3 {
        clock = now + Int64(i + 1) * 3600
        try await inventory().addVM(VMDraft(name: "web-\(i)", region: nil, subscription: nil, availabilitySet: "web"))
    }
    clock = now + 5 * 3600
    try await inventory().moveVM("web-1", toSet: "web", updateDomain: 0, faultDomain: nil)

    #expect(try await f.audit.entries(AuditFilter(subject: AuditSubject(.vm, "web-1"))).map(\.action) == ["vm.added", "vm.moved"])
    #expect(try await f.audit.entries(AuditFilter(subject: AuditSubject(.set, "web"))).count == 5)
    #expect(try await f.audit.entries(AuditFilter(subject: AuditSubject(.set, "web"), since: now + 2 * 3600, until: now + 5 * 3600)).map(\.seq) == [5, 6])
    #expect(try await f.audit.entries(AuditFilter(since: now + 5 * 3600)).map(\.action) == ["vm.moved"])
    #expect(try await f.audit.entries(AuditFilter(action: "vm.added")).map(\.seq) == [4, 5, 6])
    #expect(try await f.audit.entries(AuditFilter(subject: AuditSubject(.vm, "never-existed"))).isEmpty)
    // Newest last.
    let seqs = try await f.all().map(\.seq)
    #expect(seqs == seqs.sorted())
}

@Test(arguments: [
    AuditFilter(subject: AuditSubject(.vm, "web-0")),
    AuditFilter(subject: AuditSubject(.vm, "web-0"), since: now, until: now + 60, action: "vm.moved"),
    AuditFilter(action: "vm.moved"),
    AuditFilter(since: now, until: now + 60),
])
func queriesWalkAnIndexNeverTheWholeLog(filter: AuditFilter) async throws {
    // SQLite only: EXPLAIN QUERY PLAN, its SEARCH and SCAN steps and AuditLog's SQL are SQLite's.
    let database = try AppDatabase.inMemory()
    let plan = try await database.writer.read { db in
        try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + AuditLog.selectSQL(filter),
                         arguments: StatementArguments(Array(repeating: "x", count: AuditLog.selectSQL(filter).filter { $0 == "?" }.count)))
            .map { $0["detail"] as String }
    }
    #expect(!plan.isEmpty)
    for step in plan {
        // A SEARCH uses a key range; a SCAN reads a whole table.
        #expect(!step.hasPrefix("SCAN"), "\(plan)")
    }
    #expect(!plan.contains { $0.contains("TEMP B-TREE") } || filter.subject == nil && filter.action == nil, "\(plan)")
}

// MARK: Verify: the chain

private func fleetWithHistory(_ engine: TestEngine) async throws -> Fixture {
    let f = try Fixture(engine)
    try await f.smallFleet()
    for i in 0..<3 { try await f.inventory.addVM(VMDraft(name: "web-\(i)", region: nil, subscription: nil, availabilitySet: "web")) }
    return f
}

@Test(arguments: TestEngine.all) func anIntactChainVerifies(engine: TestEngine) async throws {
    let f = try await fleetWithHistory(engine)
    let result = try await f.audit.verify(now: now)
    #expect(result.chain.ok)
    #expect(result.chain.entries == 8)
    #expect(result.chain.head?.seq == 8)
    #expect(result.ok)
}

@Test(arguments: TestEngine.all) func anEmptyLogVerifies(engine: TestEngine) async throws {
    let result = try await Fixture(engine).audit.verify(now: now)
    #expect(result.ok)
    #expect(result.chain.entries == 0)
}

/// Drops the append-only triggers, as someone editing the database with the sqlite3 shell or
/// psql would; the edits that follow run with the foreign keys off (``Fixture/sql(_:checks:)``).
private func disarm(_ f: Fixture) throws {
    let triggers = [("audit_log_no_update", "audit_log"), ("audit_log_no_delete", "audit_log"), ("audit_log_no_replace", "audit_log"),
                    ("audit_subjects_no_update", "audit_subjects"), ("audit_subjects_no_delete", "audit_subjects")]
    for (trigger, table) in triggers {
        switch f.raw.engine {
        case .sqlite: try f.sql("DROP TRIGGER \(trigger)")
        case .postgres: try f.sql("DROP TRIGGER \(trigger) ON \(table)")
        }
    }
}

@Test(arguments: TestEngine.all) func verifyNamesAnEditedEntry(engine: TestEngine) async throws {
    let f = try await fleetWithHistory(engine)
    try disarm(f)
    try f.sql("UPDATE audit_log SET actor = 'mallory' WHERE seq = 6", checks: false)
    let chain = try await f.audit.verify(now: now).chain
    #expect(chain.firstBroken?.seq == 6)
    #expect(chain.firstBroken?.reason.contains("edited") == true)
    #expect(chain.entries == 8)
}

@Test(arguments: TestEngine.all) func verifyNamesAnEntryWhoseSubjectsWereChanged(engine: TestEngine) async throws {
    let f = try await fleetWithHistory(engine)
    try disarm(f)
    try f.sql("UPDATE audit_subjects SET name = 'web-9' WHERE seq = 7 AND kind = 'vm'", checks: false)
    #expect(try await f.audit.verify(now: now).chain.firstBroken?.seq == 7)
}

@Test(arguments: TestEngine.all) func verifyNamesTheEntryAfterADeletedOne(engine: TestEngine) async throws {
    let f = try await fleetWithHistory(engine)
    try disarm(f)
    try f.sql("DELETE FROM audit_subjects WHERE seq = 4; DELETE FROM audit_log WHERE seq = 4", checks: false)
    let chain = try await f.audit.verify(now: now).chain
    #expect(chain.firstBroken?.seq == 5)
    #expect(chain.firstBroken?.reason.contains("entry 4 is missing") == true)
}

@Test(arguments: TestEngine.all) func verifyNamesADeletionHiddenByRenumbering(engine: TestEngine) async throws {
    let f = try await fleetWithHistory(engine)
    try disarm(f)
    try f.sql("""
        DELETE FROM audit_subjects WHERE seq = 4; DELETE FROM audit_log WHERE seq = 4;
        UPDATE audit_log SET seq = seq - 1 WHERE seq > 4; UPDATE audit_subjects SET seq = seq - 1 WHERE seq > 4;
        """, checks: false)
    #expect(try await f.audit.verify(now: now).chain.firstBroken?.seq == 4)
}

@Test(arguments: TestEngine.all) func verifyNamesAReorderedChain(engine: TestEngine) async throws {
    let f = try await fleetWithHistory(engine)
    try disarm(f)
    // Entries 6 and 7 swap places, subjects and all.
    try f.sql("""
        UPDATE audit_log SET seq = 100 WHERE seq = 6; UPDATE audit_log SET seq = 6 WHERE seq = 7; UPDATE audit_log SET seq = 7 WHERE seq = 100;
        UPDATE audit_subjects SET seq = 100 WHERE seq = 6; UPDATE audit_subjects SET seq = 6 WHERE seq = 7; UPDATE audit_subjects SET seq = 7 WHERE seq = 100;
        """, checks: false)
    let chain = try await f.audit.verify(now: now).chain
    #expect(chain.firstBroken?.seq == 6)
    #expect(chain.firstBroken?.reason.contains("does not follow entry 5") == true)
}

@Test(arguments: TestEngine.all) func verifyNamesAChainWithItsFirstEntriesCut(engine: TestEngine) async throws {
    let f = try await fleetWithHistory(engine)
    try disarm(f)
    try f.sql("DELETE FROM audit_subjects WHERE seq <= 2; DELETE FROM audit_log WHERE seq <= 2", checks: false)
    let chain = try await f.audit.verify(now: now).chain
    #expect(chain.firstBroken?.seq == 3)
    #expect(chain.firstBroken?.reason.contains("entries 1 to 2 are missing") == true)
}

// MARK: Verify: the rules, on a synthetic history

/// Writes campaign `id` straight into its table, and events with actual times the way the
/// lifecycle would have left them.
private struct History {
    let f: Fixture
    static let t0 = Timestamp(iso8601: "2026-12-10T00:00:00Z")!

    func campaign(_ id: String, kind: String = "reboot", perVM: Int = 900) throws {
        try f.raw.execute("""
            INSERT INTO campaigns(id, kind, created_at, not_before, regions, per_vm_seconds, ud_gap_seconds, horizon_seconds, start_utc, end_utc)
            VALUES (?, ?, '2026-11-01T00:00:00Z', '2026-11-08T00:00:00Z', '["eastus","westus"]', ?, 1800, 7776000, '2026-12-10T00:00:00Z', '2026-12-11T00:00:00Z')
            """, [.text(id), .text(kind), .integer(Int64(perVM))])
    }

    /// An event of `vm` planned at t0+`planned` for `length` seconds, actually from t0+`start` to t0+`end`.
    func event(_ vm: String, campaign: String = "c1", region: String = "eastus", set: String? = "web", ud: Int? = 0, kind: String = "reboot",
               planned: Int64 = 0, length: Int64 = 900, start: Int64?, end: Int64?, status: String = "completed", forced: Bool = false, reason: String? = nil) async throws {
        let wave = "\(campaign)-\(set ?? region)-\(ud ?? -1)"
        func at(_ s: Int64?) -> Timestamp? { s.map { Self.t0 + $0 } }
        let planned = PlannedEvent(
            campaign: campaign, vm: vm, region: region, availabilitySet: set, updateDomain: set == nil ? nil : ud,
            faultDomain: set == nil ? nil : 0, wave: wave, kind: MaintenanceKind(rawValue: kind)!,
            range: TimeRange(start: Self.t0 + planned, end: Self.t0 + planned + length), plannedAt: Timestamp(iso8601: "2026-11-01T00:00:00Z")!)
        var record = EventRecord(event: planned, actualStart: at(start), actualEnd: at(end), forced: forced, reason: reason)
        record.event.status = EventStatus(rawValue: status)!
        // Through the repository: the wave layout keeps a VM's lifecycle on its wave or beside it.
        let done = record
        try await f.database.write { tx in
            try tx.events.insert(events: [planned], keys: nil, progress: nil)
            try tx.events.update([done])
        }
    }

    func notice(campaign: String = "c1", subscription: String = "contoso", sentAt: Timestamp?) throws {
        let sent: TestDatabase.Value = sentAt.map { .text($0.iso8601) } ?? .null
        try f.raw.execute("""
            INSERT INTO notices(campaign, subscription, recipients, subject, body, queued_at, first_start, sent_at)
            VALUES (?, ?, '["ops@contoso.example"]', 's', 'b', '2026-11-01T00:00:00Z', '2026-12-10T00:00:00Z', ?)
            """, [.text(campaign), .text(subscription), sent])
    }
}

private func brokenHistory(_ engine: TestEngine) async throws -> (Fixture, History) {
    let f = try await fleetWithHistory(engine)
    try await f.inventory.addAvailabilitySet(AvailabilitySet(name: "api", region: "westus", subscription: "contoso", faultDomains: 1, updateDomains: 2))
    let h = History(f: f)
    try h.campaign("c1")
    try h.campaign("c2", kind: "freeze", perVM: 30)
    try h.campaign("c3")
    try h.notice(sentAt: History.t0 - 8 * 86_400)
    // update-domain-overlap: web UD 0 and UD 1 down together from 600 s.
    try await h.event("web-0", ud: 0, start: 0, end: 900)
    try await h.event("web-1", ud: 1, planned: 1800, start: 600, end: 1500, forced: true, reason: "change window closing")
    // pair-overlap: westus (paired with eastus) down from 1000 s.
    try await h.event("api-0", region: "westus", set: "api", ud: 0, start: 1000, end: 1200)
    // freeze-too-long: 45 s.
    try await h.event("web-2", campaign: "c2", ud: 2, kind: "freeze", planned: 5000, length: 30, start: 5000, end: 5045)
    // reboot-overrun and notice-late: campaign c3 has no notice, and web-2 was down 40 minutes.
    try await h.event("web-2", campaign: "c3", ud: 2, planned: 9000, start: 9000, end: 9000 + 2400)
    return (f, h)
}

@Test(arguments: TestEngine.all) func verifyFindsEveryRuleTheHistoryBroke(engine: TestEngine) async throws {
    let (f, _) = try await brokenHistory(engine)
    let result = try await f.audit.verify(now: History.t0 + 86_400)
    #expect(result.chain.ok)
    #expect(!result.ok)
    #expect(Set(result.findings.map(\.rule)) == Set(RuleName.history))
    let overlap = try #require(result.findings.first { $0.rule == .updateDomainOverlap })
    #expect(overlap.at == History.t0 + 600)
    #expect(overlap.events == ["c1-web-0/web-0", "c1-web-1/web-1"])
    let forced = try #require(result.findings.first { $0.rule == .forcedStart })
    #expect(forced.message.contains("change window closing"))
}

@Test(arguments: TestEngine.all) func verifyJSONHasTheDocumentedShape(engine: TestEngine) async throws {
    let (f, _) = try await brokenHistory(engine)
    let json = Responses.verification(try await f.audit.verify(now: History.t0 + 86_400))
    let document = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
    #expect(document["ok"] as? Bool == false)
    let chain = document["chain"] as! [String: Any]
    #expect(chain["ok"] as? Bool == true)
    #expect(chain["entries"] as? Int == 9)
    #expect(chain["firstBroken"] is NSNull)
    let findings = document["findings"] as! [[String: Any]]
    #expect(findings.count == 6)
    for finding in findings {
        #expect(Set(finding.keys) == ["rule", "message", "events", "at"])
        #expect((finding["at"] as? String)?.hasSuffix("Z") == true)
    }
}

// MARK: Reports

@Test(arguments: TestEngine.all) func aReportAddsUpPerRegionSetAndSubscription(engine: TestEngine) async throws {
    let (f, h) = try await brokenHistory(engine)
    try await h.event("web-0", campaign: "c3", ud: 0, planned: 20_000, start: nil, end: nil, status: "scheduled")
    try await h.event("web-1", campaign: "c3", ud: 1, planned: 30_000, start: nil, end: nil, status: "cancelled")
    let report = try await f.audit.report(ReportQuery(since: History.t0, until: History.t0 + 86_400), now: History.t0 + 86_400)
    #expect(report.regions.map(\.name) == ["eastus", "westus"])
    let east = report.regions[0]
    #expect(east.events == 6)
    #expect((east.freezes, east.reboots) == (1, 5))
    #expect((east.completed, east.scheduled, east.cancelled) == (4, 1, 1))
    // Planned: four reboots of 900 s not cancelled, and a 30 s freeze.
    #expect(east.plannedDowntime == 4 * 900 + 30)
    // Actual: 900 + 900 + 45 + 2400.
    #expect(east.actualDowntime == 900 + 900 + 45 + 2400)
    #expect(east.longestFreeze == 45)
    #expect(report.sets.map(\.name) == ["web", "api"])  // by region, then name
    #expect(report.subscriptions.map(\.name) == ["contoso"])
    #expect(report.total.events == 7)
    #expect(report.total.findings == 6)
    // The pair overlap involves both regions; forced start, freeze, overrun and notice only eastus.
    #expect(report.regions[1].findings == 1)
    #expect(east.findings == 6)
}

@Test(arguments: TestEngine.all) func aReportOfOneRegionOrAnEmptyPeriodHoldsOnlyThat(engine: TestEngine) async throws {
    let (f, _) = try await brokenHistory(engine)
    let west = try await f.audit.report(ReportQuery(region: "westus"), now: History.t0 + 86_400)
    #expect(west.regions.map(\.name) == ["westus"])
    #expect(west.total.events == 1)
    let empty = try await f.audit.report(ReportQuery(since: History.t0 + 30 * 86_400), now: History.t0 + 86_400)
    #expect(empty.total.events == 0)
    #expect(empty.findings.isEmpty)
    await #expect(throws: PitstopError.self) { try await f.audit.report(ReportQuery(region: "atlantis"), now: History.t0) }
}

@Test(arguments: TestEngine.all) func aReportsSetSectionShowsSingleInstanceVMsPerRegionSoItAddsUp(engine: TestEngine) async throws {
    let (f, h) = try await brokenHistory(engine)
    try await h.event("jump-east", campaign: "c1", set: nil, ud: nil, planned: 3000, start: 3000, end: 3600)
    let report = try await f.audit.report(ReportQuery(), now: History.t0 + 86_400)
    #expect(report.sets.map(\.name) == ["web", ReportLine.singleInstanceName, "api"])
    #expect(report.sets.map(\.events).reduce(0, +) == report.total.events)
    #expect(Responses.reportLine(report.sets[1]).contains(#""name": null, "region": "eastus", "singleInstance": true"#))
}
