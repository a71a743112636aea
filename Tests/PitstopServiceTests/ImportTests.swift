// Tests for importing and exporting the inventory: upsert by name, round-robin placement,
// byte-stable round trips, and bad input that is reported with its place and writes nothing.
// Every test here runs on SQLite and on PostgreSQL, but one refused before the store is written.
import Foundation
import PitstopCore
import PitstopStore
import PitstopTestSupport
import Testing
@testable import PitstopService

// MARK: Helpers

/// The instant the audit entries of these imports record.
private let clock = Timestamp(iso8601: "2026-12-01T00:00:00Z")!

/// A fresh database on `engine` behind the service.
private func emptyInventory(_ engine: TestEngine) throws -> InventoryService {
    InventoryService(store: try TestDatabase(engine).store, actor: "test", clock: { clock })
}

/// Collects what an export writes, from whichever thread it writes on.
private final class Output: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    func append(_ piece: String) { lock.lock(); text += piece; lock.unlock() }
    var value: String { lock.lock(); defer { lock.unlock() }; return text }
}

/// The whole inventory as `pitstop export` prints it.
private func exported(_ inventory: InventoryService) async throws -> String {
    let out = Output()
    try await inventory.export { out.append($0) }
    return out.value
}

@discardableResult
private func importJSON(_ inventory: InventoryService, _ json: String, file: String = "inventory.json") async throws -> ImportSummary {
    try await inventory.importDocument(.bytes(Array(json.utf8), name: file))
}

/// Writes `bytes` to a temporary file named `name` and imports it as CSV.
@discardableResult
private func importCSV(_ inventory: InventoryService, _ bytes: [UInt8], name: String = "fleet.csv") async throws -> ImportSummary {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-import-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return try await inventory.importCSV(try .file(atPath: url.path, name: name))
}

/// A fleet to import into: eastus <-> westus paired, northeurope unpaired, set `web` in eastus
/// (2 FDs, 5 UDs) with three VMs, a standalone VM with an address, a window and a blackout.
private let seedFleet = """
    {
      "regions": [{"name": "eastus", "displayName": "East US"}, {"name": "westus"}, {"name": "northeurope"}],
      "regionPairs": [{"region": "eastus", "pairedWith": "westus"}],
      "subscriptions": [{"id": "contoso", "admins": ["ops@contoso.example"], "coAdmins": ["oncall@contoso.example"]}],
      "availabilitySets": [{"name": "web", "region": "eastus", "subscription": "contoso", "faultDomains": 2, "updateDomains": 5}],
      "vms": [
        {"name": "web-0", "availabilitySet": "web", "ipAddress": "10.0.0.4"},
        {"name": "web-1", "availabilitySet": "web"},
        {"name": "web-2", "availabilitySet": "web"},
        {"name": "jump", "region": "westus", "subscription": "contoso", "ipAddress": "2001:DB8::1"}
      ],
      "maintenanceWindows": [{"name": "weekend", "region": "eastus", "start": "2026-12-05T22:00:00",
                              "timeZone": "America/New_York", "duration": "PT8H", "recurEvery": "Week Saturday,Sunday", "expires": null}],
      "blackouts": [{"name": "year-end", "region": null, "start": "2026-12-20T00:00:00Z", "end": "2027-01-04T00:00:00Z"}]
    }
    """

private func seededInventory(_ engine: TestEngine) async throws -> InventoryService {
    let inventory = try emptyInventory(engine)
    try await importJSON(inventory, seedFleet)
    return inventory
}

/// Runs an import that must be refused and returns its problems, one description a line.
private func refusal(_ body: () async throws -> ImportSummary) async -> [String] {
    do {
        let summary = try await body()
        Issue.record("the import was accepted: \(summary)")
        return []
    } catch let failure as PitstopError where failure.kind == .invalid {
        return failure.problems.map(\.description)
    } catch {
        Issue.record("the import failed with \(type(of: error)) instead of an invalid-input PitstopError: \(error)")
        return []
    }
}

private func counts(_ added: Int, _ updated: Int, _ unchanged: Int) -> UpsertCounts {
    var c = UpsertCounts()
    c.added = added
    c.updated = updated
    c.unchanged = unchanged
    return c
}

// MARK: Upsert and round trips

@Suite struct ImportUpsertTests {
    @Test(arguments: TestEngine.all) func importingTheSameDocumentTwiceLeavesEverythingUnchanged(engine: TestEngine) async throws {
        // Given a database that has imported the fleet once
        let inventory = try await seededInventory(engine)
        let first = try await exported(inventory)

        // when the same document is imported again
        let second = try await importJSON(inventory, seedFleet)

        // then every record is counted unchanged and the stored fleet is the same
        #expect(second.regions == counts(0, 0, 3))
        #expect(second.regionPairs == counts(0, 0, 1))
        #expect(second.subscriptions == counts(0, 0, 1))
        #expect(second.availabilitySets == counts(0, 0, 1))
        #expect(second.vms == counts(0, 0, 4))
        #expect(second.maintenanceWindows == counts(0, 0, 1))
        #expect(second.blackouts == counts(0, 0, 1))
        #expect(try await exported(inventory) == first)
    }

    @Test(arguments: TestEngine.all) func theFirstImportCountsEverythingAdded(engine: TestEngine) async throws {
        let summary = try await importJSON(try emptyInventory(engine), seedFleet)
        #expect(summary.regions == counts(3, 0, 0))
        #expect(summary.vms == counts(4, 0, 0))
        #expect(summary.maintenanceWindows == counts(1, 0, 0))
    }

    @Test(arguments: TestEngine.all) func aChangedRecordIsCountedUpdatedAndTheRestUnchanged(engine: TestEngine) async throws {
        // Given the seeded fleet, when one VM gets an explicit UD and a region a display name
        let inventory = try await seededInventory(engine)
        let summary = try await importJSON(inventory, """
            {"regions": [{"name": "westus", "displayName": "West US"}, {"name": "eastus", "displayName": "East US"}],
             "vms": [{"name": "web-1", "availabilitySet": "web", "updateDomain": 4, "faultDomain": 0},
                     {"name": "web-2", "availabilitySet": "web"}]}
            """)

        // then those are updated, the rest unchanged, and web-2 kept its placement
        #expect(summary.regions == counts(0, 1, 1))
        #expect(summary.vms == counts(0, 1, 1))
        #expect(try await inventory.vm(named: "web-1").updateDomain == 4)
        #expect(try await inventory.vm(named: "web-2").updateDomain == 2)
        #expect(try await inventory.regions().first { $0.name == "westus" }?.displayName == "West US")
    }

    @Test(arguments: TestEngine.all) func anExportImportedIntoAnEmptyDatabaseExportsByteForByteTheSame(engine: TestEngine) async throws {
        // Given an exported fleet with every kind of record
        let original = try await seededInventory(engine)
        try await importJSON(original, """
            {"subscriptions": [{"id": "fabrikam", "admins": [], "coAdmins": [], "noticeTimeZone": "Europe/Berlin"}],
             "availabilitySets": [{"name": "db", "region": "northeurope", "subscription": "fabrikam", "faultDomains": 3, "updateDomains": 20}],
             "vms": [{"name": "db-0", "availabilitySet": "db", "updateDomain": 19, "faultDomain": 2}],
             "maintenanceWindows": [{"name": "db-monthly", "availabilitySet": "db", "start": "2026-11-22T01:00:00", "timeZone": "Europe/Berlin",
                                     "duration": "PT4H30M", "recurEvery": "Month Fourth Monday Offset3", "expires": "2027-06-30T00:00:00"}],
             "blackouts": [{"name": "eu-freeze", "region": "northeurope", "start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z"}]}
            """)
        let first = try await exported(original)

        // when it is imported into an empty database and exported again
        let copy = try emptyInventory(engine)
        try await importJSON(copy, first, file: "export.json")
        let second = try await exported(copy)

        // then the two exports are the same bytes
        #expect(second == first)
    }

    @Test(arguments: TestEngine.all) func anExportParsesAsJSONWithEveryKeyAndSortedNames(engine: TestEngine) async throws {
        let text = try await exported(try await seededInventory(engine))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(object.keys) == Set(InventoryDocument.topLevelKeys))
        let vms = try #require(object["vms"] as? [[String: Any]])
        #expect(vms.compactMap { $0["name"] as? String } == ["jump", "web-0", "web-1", "web-2"])
        #expect(vms.allSatisfy { $0.keys.count == 7 })
        // An IPv6 address is stored in its canonical form, the one requests come from.
        #expect(vms.first?["ipAddress"] as? String == "2001:db8::1")
    }

    @Test(arguments: TestEngine.all) func importingAnEmptyDocumentChangesNothing(engine: TestEngine) async throws {
        let inventory = try await seededInventory(engine)
        let before = try await exported(inventory)
        let summary = try await importJSON(inventory, "{}")
        #expect(summary.rows.allSatisfy { $0.counts.total == 0 })
        #expect(try await exported(inventory) == before)
    }
}

// MARK: Round-robin placement

@Suite struct PlacementTests {
    private static let threeByTwo = """
        {"regions": [{"name": "eastus"}], "subscriptions": [{"id": "contoso"}],
         "availabilitySets": [{"name": "api", "region": "eastus", "subscription": "contoso", "faultDomains": 2, "updateDomains": 3}]}
        """

    @Test(arguments: TestEngine.all) func theNthVMGetsUDnModUAndFDnModFCountingExplicitOnes(engine: TestEngine) async throws {
        // Given a set with 3 UDs and 2 FDs
        let inventory = try emptyInventory(engine)
        try await importJSON(inventory, Self.threeByTwo)

        // when six VMs join it in one file, the second with explicit domains
        try await importJSON(inventory, """
            {"vms": [{"name": "a", "availabilitySet": "api"},
                     {"name": "b", "availabilitySet": "api", "updateDomain": 2, "faultDomain": 1},
                     {"name": "c", "availabilitySet": "api"},
                     {"name": "d", "availabilitySet": "api"},
                     {"name": "e", "availabilitySet": "api"},
                     {"name": "f", "availabilitySet": "api", "updateDomain": 0}]}
            """)

        // then the n-th VM (n from 0) sits in UD n mod 3, FD n mod 2, except where told otherwise
        var placed: [[Int]] = []
        for name in ["a", "b", "c", "d", "e", "f"] {
            let vm = try await inventory.vm(named: name)
            placed.append([vm.updateDomain!, vm.faultDomain!])
        }
        #expect(placed == [[0, 0], [2, 1], [2, 0], [0, 1], [1, 0], [0, 1]])
    }

    @Test(arguments: TestEngine.all) func placementContinuesAcrossImportsAndSingleAdds(engine: TestEngine) async throws {
        // Given a set that already received two VMs by import
        let inventory = try emptyInventory(engine)
        try await importJSON(inventory, Self.threeByTwo)
        try await importJSON(inventory, #"{"vms": [{"name": "a", "availabilitySet": "api"}, {"name": "b", "availabilitySet": "api"}]}"#)

        // when a third arrives by `vm add` and a fourth by CSV
        let c = try await inventory.addVM(VMDraft(name: "c", region: nil, subscription: nil, availabilitySet: "api"))
        try await importCSV(inventory, Array("name,region,subscription,availabilitySet,updateDomain,faultDomain\nd,,,api,,\n".utf8))

        // then they are VM number 2 and 3 of the set
        #expect([c.updateDomain, c.faultDomain] == [2, 0])
        let d = try await inventory.vm(named: "d")
        #expect([d.updateDomain, d.faultDomain] == [0, 1])
    }

    @Test(arguments: TestEngine.all) func eachSetCountsItsOwnJoinersWhenOneIsNewInTheDocument(engine: TestEngine) async throws {
        // Given a stored set (3 UDs, 2 FDs) that received one VM
        let inventory = try emptyInventory(engine)
        try await importJSON(inventory, Self.threeByTwo)
        try await importJSON(inventory, #"{"vms": [{"name": "a", "availabilitySet": "api"}]}"#)

        // when one document adds a second set (5 UDs, 3 FDs), VMs to both in turns, and moves a into it
        try await importJSON(inventory, """
            {"availabilitySets": [{"name": "web", "region": "eastus", "subscription": "contoso", "faultDomains": 3, "updateDomains": 5}],
             "vms": [{"name": "w1", "availabilitySet": "web"}, {"name": "b", "availabilitySet": "api"},
                     {"name": "a", "availabilitySet": "web"}, {"name": "w2", "availabilitySet": "web"},
                     {"name": "c", "availabilitySet": "api"}]}
            """)

        // then each set numbered its own joiners: api a, b, c as 0, 1, 2; web w1, a, w2 as 0, 1, 2
        var placed: [String: [Int]] = [:]
        for name in ["b", "c", "w1", "a", "w2"] {
            let vm = try await inventory.vm(named: name)
            placed[name] = [vm.updateDomain!, vm.faultDomain!]
        }
        #expect(placed == ["b": [1, 1], "c": [2, 0], "w1": [0, 0], "a": [1, 1], "w2": [2, 2]])
        // and the next VM of each is its set's number 3
        let d = try await inventory.addVM(VMDraft(name: "d", region: nil, subscription: nil, availabilitySet: "api"))
        let w3 = try await inventory.addVM(VMDraft(name: "w3", region: nil, subscription: nil, availabilitySet: "web"))
        #expect([d.updateDomain, d.faultDomain] == [0, 1])
        #expect([w3.updateDomain, w3.faultDomain] == [3, 0])
    }

    @Test(arguments: TestEngine.all) func reimportingVMsDoesNotAdvanceThePlacement(engine: TestEngine) async throws {
        // Given two auto-placed VMs imported twice
        let inventory = try emptyInventory(engine)
        try await importJSON(inventory, Self.threeByTwo)
        let twoVMs = #"{"vms": [{"name": "a", "availabilitySet": "api"}, {"name": "b", "availabilitySet": "api"}]}"#
        try await importJSON(inventory, twoVMs)
        try await importJSON(inventory, twoVMs)

        // when a new VM joins, then it is VM number 2, not 4
        let c = try await inventory.addVM(VMDraft(name: "c", region: nil, subscription: nil, availabilitySet: "api"))
        #expect([c.updateDomain, c.faultDomain] == [2, 0])
    }

    @Test(arguments: TestEngine.all) func aRefusedImportDoesNotAdvanceThePlacement(engine: TestEngine) async throws {
        // Given a set, when an import that places a VM is refused for another record
        let inventory = try emptyInventory(engine)
        try await importJSON(inventory, Self.threeByTwo)
        _ = await refusal { try await importJSON(inventory, #"{"vms": [{"name": "a", "availabilitySet": "api"}, {"name": "b", "availabilitySet": "nope"}]}"#) }

        // then the next VM is still the set's first
        let a = try await inventory.addVM(VMDraft(name: "a", region: nil, subscription: nil, availabilitySet: "api"))
        #expect([a.updateDomain, a.faultDomain] == [0, 0])
    }
}

// MARK: Bad input

/// A document the importer must refuse, and what its problems must say.
struct BadDocument: Sendable, CustomTestStringConvertible {
    var what: String
    var bytes: [UInt8]
    /// Each must appear in one of the reported problems: file, line, path and words.
    var expected: [String]

    init(_ what: String, _ json: String, expect expected: String...) {
        self.what = what
        self.bytes = Array(json.utf8)
        self.expected = expected
    }

    init(_ what: String, bytes: [UInt8], expect expected: String...) {
        self.what = what
        self.bytes = bytes
        self.expected = expected
    }

    var testDescription: String { what }
}

@Suite struct BadImportTests {
    static let documents: [BadDocument] = [
        BadDocument("unknown region of a VM", """
            {"vms": [
              {"name": "web-9", "availabilitySet": "web"},
              {"name": "lost", "region": "nowhere", "subscription": "contoso"}
            ]}
            """, expect: "inventory.json:3: vms[1].region: unknown region 'nowhere'"),
        BadDocument("unknown region of a set", """
            {"availabilitySets": [
              {"name": "api", "region": "nowhere", "subscription": "contoso"}
            ]}
            """, expect: "inventory.json:2: availabilitySets[0].region: unknown region 'nowhere'"),
        BadDocument("unknown region in a pair link", """
            {"regionPairs": [
              {"region": "northeurope", "pairedWith": "westeurope"}
            ]}
            """, expect: "inventory.json:2: regionPairs[0].pairedWith: unknown region 'westeurope'"),
        BadDocument("unknown region of a window", """
            {"maintenanceWindows": [
              {"name": "w", "region": "nowhere", "start": "2026-12-05T22:00:00", "timeZone": "UTC", "duration": "PT1H"}
            ]}
            """, expect: "inventory.json:2: maintenanceWindows[0].region: unknown region 'nowhere'"),
        BadDocument("unknown region of a blackout", """
            {"blackouts": [
              {"name": "b", "region": "nowhere", "start": "2026-12-20T00:00:00Z", "end": "2026-12-21T00:00:00Z"}
            ]}
            """, expect: "inventory.json:2: blackouts[0].region: unknown region 'nowhere'"),
        BadDocument("unknown set of a VM", """
            {"vms": [
              {"name": "api-0", "region": "eastus", "availabilitySet": "api"}
            ]}
            """, expect: "inventory.json:2: vms[0].availabilitySet: unknown availability set 'api'"),
        BadDocument("unknown set of a window", """
            {"maintenanceWindows": [
              {"name": "w", "availabilitySet": "api", "start": "2026-12-05T22:00:00", "timeZone": "UTC", "duration": "PT1H"}
            ]}
            """, expect: "inventory.json:2: maintenanceWindows[0].availabilitySet: unknown availability set 'api'"),
        BadDocument("unknown subscription of a VM", """
            {"vms": [
              {"name": "lost", "region": "eastus", "subscription": "nobody"}
            ]}
            """, expect: "inventory.json:2: vms[0].subscription: unknown subscription 'nobody'"),
        BadDocument("unknown subscription of a set", """
            {"availabilitySets": [
              {"name": "api", "region": "eastus", "subscription": "nobody"}
            ]}
            """, expect: "inventory.json:2: availabilitySets[0].subscription: unknown subscription 'nobody'"),
        BadDocument("UD out of range", """
            {"vms": [
              {"name": "web-9", "availabilitySet": "web"},
              {"name": "web-10", "availabilitySet": "web", "updateDomain": 7, "faultDomain": 0}
            ]}
            """, expect: "inventory.json:3: vms[1].updateDomain: 7 is outside 0..4 for set web"),
        BadDocument("negative UD", """
            {"vms": [
              {"name": "web-9", "availabilitySet": "web", "updateDomain": -1}
            ]}
            """, expect: "inventory.json:2: vms[0].updateDomain: -1 is outside 0..4 for set web"),
        BadDocument("FD out of range", """
            {"vms": [
              {"name": "web-9", "availabilitySet": "web", "faultDomain": 2}
            ]}
            """, expect: "inventory.json:2: vms[0].faultDomain: 2 is outside 0..1 for set web"),
        BadDocument("a set with 21 update domains", """
            {"availabilitySets": [
              {"name": "api", "region": "eastus", "subscription": "contoso", "updateDomains": 21, "faultDomains": 4}
            ]}
            """, expect: "inventory.json:2: availabilitySets[0].updateDomains: 21 is outside 1..20",
                 "inventory.json:2: availabilitySets[0].faultDomains: 4 is outside 1..3"),
        BadDocument("a UD for a single-instance VM", """
            {"vms": [
              {"name": "lone", "region": "eastus", "subscription": "contoso", "updateDomain": 1}
            ]}
            """, expect: "inventory.json:2: vms[0].updateDomain: 1 given for a single-instance VM"),
        BadDocument("a set VM in another region than its set", """
            {"vms": [
              {"name": "web-9", "region": "westus", "availabilitySet": "web"}
            ]}
            """, expect: "inventory.json:2: vms[0].region: 'westus' is not the region of set web (eastus)"),
        BadDocument("shrinking a set below its VMs", """
            {"availabilitySets": [
              {"name": "web", "region": "eastus", "subscription": "contoso", "updateDomains": 2}
            ]}
            """, expect: "inventory.json:2: availabilitySets[0]"),
        BadDocument("moving a set with VMs to another region", """
            {"availabilitySets": [
              {"name": "web", "region": "westus", "subscription": "contoso"}
            ]}
            """, expect: "inventory.json:2: availabilitySets[0].region: set web has VMs in eastus"),
        BadDocument("duplicate region names in one file", """
            {"regions": [
              {"name": "japaneast"},
              {"name": "japaneast", "displayName": "Japan East"}
            ]}
            """, expect: "inventory.json:3: regions[1].name: duplicate region 'japaneast' (also at regions[0], line 2)"),
        BadDocument("duplicate VM names in one file", """
            {"vms": [
              {"name": "web-9", "availabilitySet": "web"},
              {"name": "web-9", "availabilitySet": "web"}
            ]}
            """, expect: "inventory.json:3: vms[1].name: duplicate VM 'web-9'"),
        BadDocument("duplicate set names in one file", """
            {"availabilitySets": [
              {"name": "api", "region": "eastus", "subscription": "contoso"},
              {"name": "api", "region": "westus", "subscription": "contoso"}
            ]}
            """, expect: "inventory.json:3: availabilitySets[1].name: duplicate availability set 'api'"),
        BadDocument("a region paired with itself", """
            {"regionPairs": [
              {"region": "eastus", "pairedWith": "eastus"}
            ]}
            """, expect: "inventory.json:2: regionPairs[0].pairedWith: a region cannot be paired with itself ('eastus')"),
        BadDocument("an unknown time zone", """
            {"maintenanceWindows": [
              {"name": "w", "region": "eastus", "start": "2026-12-05T22:00:00", "timeZone": "Mars/Olympus_Mons", "duration": "PT1H"}
            ]}
            """, expect: "inventory.json:2: maintenanceWindows[0].timeZone: 'Mars/Olympus_Mons' is not an IANA time zone"),
        BadDocument("an unknown notice time zone", """
            {"subscriptions": [
              {"id": "fabrikam", "noticeTimeZone": "EST5EDT-ish"}
            ]}
            """, expect: "inventory.json:2: subscriptions[0].noticeTimeZone: 'EST5EDT-ish' is not an IANA time zone"),
        BadDocument("a bad duration", """
            {"maintenanceWindows": [
              {"name": "w", "region": "eastus", "start": "2026-12-05T22:00:00", "timeZone": "UTC", "duration": "8 hours"}
            ]}
            """, expect: "inventory.json:2: maintenanceWindows[0].duration: '8 hours' is not a duration"),
        BadDocument("a zero duration", """
            {"maintenanceWindows": [
              {"name": "w", "region": "eastus", "start": "2026-12-05T22:00:00", "timeZone": "UTC", "duration": "PT0S"}
            ]}
            """, expect: "inventory.json:2: maintenanceWindows[0].duration:"),
        BadDocument("a bad recurEvery", """
            {"maintenanceWindows": [
              {"name": "w", "region": "eastus", "start": "2026-12-05T22:00:00", "timeZone": "UTC", "duration": "PT1H", "recurEvery": "Fortnight"}
            ]}
            """, expect: "inventory.json:2: maintenanceWindows[0].recurEvery: 'Fortnight'"),
        BadDocument("a bad start", """
            {"maintenanceWindows": [
              {"name": "w", "region": "eastus", "start": "2026-13-05 22:00", "timeZone": "UTC", "duration": "PT1H"}
            ]}
            """, expect: "inventory.json:2: maintenanceWindows[0].start: '2026-13-05 22:00' is not a local date and time"),
        BadDocument("a window with both a region and a set", """
            {"maintenanceWindows": [
              {"name": "w", "region": "eastus", "availabilitySet": "web", "start": "2026-12-05T22:00:00", "timeZone": "UTC", "duration": "PT1H"}
            ]}
            """, expect: "inventory.json:2: maintenanceWindows[0].availabilitySet: a window names either region or availabilitySet, not both"),
        BadDocument("a blackout that ends before it starts", """
            {"blackouts": [
              {"name": "b", "start": "2026-12-20T00:00:00Z", "end": "2026-12-19T00:00:00Z"}
            ]}
            """, expect: "inventory.json:2: blackouts[0].end: 2026-12-19T00:00:00Z is not after start 2026-12-20T00:00:00Z"),
        BadDocument("a malformed admin e-mail", """
            {"subscriptions": [
              {"id": "fabrikam", "admins": ["infra@fabrikam.example", "infra-at-fabrikam"]}
            ]}
            """, expect: "inventory.json:2: subscriptions[0].admins[1]: 'infra-at-fabrikam' is not an e-mail address"),
        BadDocument("a malformed co-admin e-mail", """
            {"subscriptions": [
              {"id": "fabrikam", "coAdmins": ["on call@fabrikam.example"]}
            ]}
            """, expect: "inventory.json:2: subscriptions[0].coAdmins[0]: 'on call@fabrikam.example' is not an e-mail address"),
        BadDocument("a malformed IPv4 address", """
            {"vms": [
              {"name": "web-9", "availabilitySet": "web", "ipAddress": "10.0.0.256"}
            ]}
            """, expect: "inventory.json:2: vms[0].ipAddress: '10.0.0.256' is not an IPv4 or IPv6 address"),
        BadDocument("a malformed IPv6 address", """
            {"vms": [
              {"name": "web-9", "availabilitySet": "web", "ipAddress": "2001:db8:::1"}
            ]}
            """, expect: "inventory.json:2: vms[0].ipAddress: '2001:db8:::1' is not an IPv4 or IPv6 address"),
        BadDocument("an IP address another VM has", """
            {"vms": [
              {"name": "web-9", "availabilitySet": "web", "ipAddress": "10.0.0.4"}
            ]}
            """, expect: "inventory.json:2: vms[0]: ipAddress 10.0.0.4 is already used by VM web-0"),
        BadDocument("an IP address given to two VMs of the document", """
            {"vms": [
              {"name": "web-8", "availabilitySet": "web", "ipAddress": "10.0.9.1"},
              {"name": "web-9", "availabilitySet": "web", "ipAddress": "10.0.9.1"}
            ]}
            """, expect: "inventory.json:3: vms[1].ipAddress: 10.0.9.1 is already given to VM web-8 on line 2 of this file"),
        BadDocument("a misspelt key", """
            {"vms": [
              {"name": "web-9", "availabilitySet": "web", "updateDomian": 1}
            ]}
            """, expect: "inventory.json:2: vms[0].updateDomian: unknown key"),
        BadDocument("a UD that is not a number", """
            {"vms": [
              {"name": "web-9", "availabilitySet": "web", "updateDomain": "1"}
            ]}
            """, expect: "inventory.json:2: vms[0].updateDomain: must be a whole number, not a string"),
        BadDocument("a name with a control character", """
            {"regions": [
              {"name": "east\\u0007us"}
            ]}
            """, expect: "inventory.json:2: regions[0].name:", "control character U+7"),
        BadDocument("truncated JSON", """
            {"vms": [
              {"name": "web-9", "availabilitySet": "web"},
              {"name": "web-10", "availabilitySet": "w
            """, expect: "inventory.json:3: the document ends inside a string (truncated?)"),
        BadDocument("JSON cut off after a record", """
            {"vms": [
              {"name": "web-9", "availabilitySet": "web"},
            """, expect: "inventory.json:2: the document ends early (truncated?)"),
        BadDocument("invalid UTF-8 in JSON",
                    bytes: Array(#"{"regions": [{"name": "z"#.utf8) + [0xFC, 0x72] + Array("ich\"}]}".utf8),
                    expect: "inventory.json:1: invalid UTF-8 (byte 0xFC"),
        BadDocument("an array instead of the document", "[]", expect: "inventory.json:1: the document must be a JSON object"),
    ]

    @Test(arguments: TestEngine.all, documents)
    func aBadDocumentIsRefusedWithItsPlaceAndWritesNothing(engine: TestEngine, document: BadDocument) async throws {
        // Given a seeded fleet
        let inventory = try await seededInventory(engine)
        let before = try await exported(inventory)

        // when a bad document is imported
        let problems = await refusal { try await inventory.importDocument(.bytes(document.bytes, name: "inventory.json")) }

        // then each problem is reported with file, line and path, and the fleet is as it was
        for fragment in document.expected {
            #expect(problems.contains { $0.contains(fragment) }, "no problem says \(fragment) in:\n\(problems.joined(separator: "\n"))")
        }
        #expect(try await exported(inventory) == before)
    }

    @Test(arguments: TestEngine.all) func everyBadRecordOfADocumentIsReportedNotJustTheFirst(engine: TestEngine) async throws {
        // Given a seeded fleet and a document with four bad records among good ones
        let inventory = try await seededInventory(engine)
        let before = try await exported(inventory)
        let document = """
            {"regions": [{"name": "japaneast"}],
             "subscriptions": [{"id": "fabrikam", "admins": ["nope"]}],
             "vms": [
              {"name": "web-9", "availabilitySet": "web", "updateDomain": 9},
              {"name": "web-10", "availabilitySet": "web"},
              {"name": "lost", "region": "nowhere", "subscription": "contoso"}
            ],
             "maintenanceWindows": [{"name": "w", "region": "eastus", "start": "2026-12-05T22:00:00", "timeZone": "UTC", "duration": "PT1H", "recurEvery": "Sometimes"}]}
            """

        // when it is imported
        let problems = await refusal { try await importJSON(inventory, document) }

        // then all four are reported, in document order, and nothing is written
        let places = ["inventory.json:2: subscriptions[0].admins[0]", "inventory.json:4: vms[0].updateDomain",
                      "inventory.json:6: vms[2].region", "inventory.json:8: maintenanceWindows[0].recurEvery"]
        #expect(problems.count == 4, "\(problems)")
        for (problem, place) in zip(problems, places) { #expect(problem.hasPrefix(place)) }
        #expect(try await exported(inventory) == before)
    }

    @Test(arguments: TestEngine.all) func aDuplicateVMIsReportedOnce(engine: TestEngine) async throws {
        let inventory = try await seededInventory(engine)
        let problems = await refusal {
            try await importJSON(inventory, """
                {"vms": [
                  {"name": "web-9", "availabilitySet": "web"},
                  {"name": "web-9", "availabilitySet": "web"}
                ]}
                """)
        }
        #expect(problems == ["inventory.json:3: vms[1].name: duplicate VM 'web-9' (also at vms[0], line 2)"])
    }

    @Test(arguments: TestEngine.all) func aFailureNamesTheFileItWasGiven(engine: TestEngine) async throws {
        let inventory = try await seededInventory(engine)
        let problems = await refusal { try await importJSON(inventory, #"{"regions": [{"name": ""}]}"#, file: "/srv/fleet/inventory-2026.json") }
        #expect(problems == ["/srv/fleet/inventory-2026.json:1: regions[0].name: must not be empty"])
    }
}

// MARK: CSV

@Suite struct CSVImportTests {
    static let header = "name,region,subscription,availabilitySet,updateDomain,faultDomain\n"

    @Test(arguments: TestEngine.all) func vmsFromCSVArePlacedAndCounted(engine: TestEngine) async throws {
        // Given the seeded fleet, when a CSV adds a set VM, a placed one, a standalone one and repeats one
        let inventory = try await seededInventory(engine)
        let summary = try await importCSV(inventory, Array((Self.header + """
            web-3,,,web,,
            web-4,eastus,contoso,web,4,1
            batch,northeurope,contoso,,,
            web-1,,,web,,
            """).utf8))

        // then three are added and the existing one is unchanged
        #expect(summary.vms == counts(3, 0, 1))
        let web3 = try await inventory.vm(named: "web-3")
        #expect([web3.updateDomain, web3.faultDomain] == [3, 1])
        #expect(try await inventory.vm(named: "batch").availabilitySet == nil)
    }

    @Test(arguments: TestEngine.all) func importingTheSameCSVTwiceLeavesItUnchanged(engine: TestEngine) async throws {
        let inventory = try await seededInventory(engine)
        let csv = Array((Self.header + "web-3,,,web,,\r\nbatch,northeurope,contoso,,,\r\n").utf8)
        try await importCSV(inventory, csv)
        let before = try await exported(inventory)
        let second = try await importCSV(inventory, csv)
        #expect(second.vms == counts(0, 0, 2))
        #expect(try await exported(inventory) == before)
    }

    @Test(arguments: TestEngine.all) func aCSVMayCarryAnIPAddressColumn(engine: TestEngine) async throws {
        let inventory = try await seededInventory(engine)
        try await importCSV(inventory, Array("name,region,subscription,availabilitySet,updateDomain,faultDomain,ipAddress\nweb-3,,,web,,,10.0.0.7\n".utf8))
        #expect(try await inventory.vm(named: "web-3").ipAddress == "10.0.0.7")
    }

    @Test(arguments: TestEngine.all) func aCSVWithoutTheAddressColumnKeepsStoredAddresses(engine: TestEngine) async throws {
        // Given web-0 stored with an address, when a six-column CSV updates it
        let inventory = try await seededInventory(engine)
        let summary = try await importCSV(inventory, Array((Self.header + "web-0,,,web,0,0\n").utf8))

        // then the address stays: the file did not speak of addresses at all
        #expect(summary.vms == counts(0, 0, 1))
        #expect(try await inventory.vm(named: "web-0").ipAddress == "10.0.0.4")
    }

    @Test(arguments: TestEngine.all) func anEmptyAddressCellClearsTheAddress(engine: TestEngine) async throws {
        let inventory = try await seededInventory(engine)
        try await importCSV(inventory, Array("name,region,subscription,availabilitySet,updateDomain,faultDomain,ipAddress\nweb-0,,,web,0,0,\n".utf8))
        #expect(try await inventory.vm(named: "web-0").ipAddress == nil)
    }

    static let badFiles: [BadDocument] = [
        BadDocument("a wrong header", "name,region,subscription,set,ud,fd\nweb-3,,,web,,\n",
                    expect: "fleet.csv:1: the header must be 'name,region,subscription,availabilitySet,updateDomain,faultDomain' (optionally followed by ',ipAddress'); column 4 is 'set', not 'availabilitySet'"),
        BadDocument("a header short of columns", "name,region,subscription\n",
                    expect: "fleet.csv:1: the header must be 'name,region,subscription,availabilitySet,updateDomain,faultDomain' (optionally followed by ',ipAddress'); it has 3 columns: 'availabilitySet' is missing"),
        BadDocument("a header with a column too many", "name,region,subscription,availabilitySet,updateDomain,faultDomain,ipAddress,owner\n",
                    expect: "fleet.csv:1: the header must be 'name,region,subscription,availabilitySet,updateDomain,faultDomain' (optionally followed by ',ipAddress'); column 8 ('owner') is not one Pitstop reads"),
        BadDocument("an empty file", "", expect: "fleet.csv:1: the file is empty"),
        BadDocument("a header that is not UTF-8", bytes: [0x6E, 0x61, 0x6D, 0xE9, 0x0A], expect: "fleet.csv:1: cannot read the header: field 1 is not valid UTF-8"),
        BadDocument("a short row", header + "web-3,,,web,,\nweb-4,eastus,contoso\n",
                    expect: "fleet.csv:3: record: has 3 fields, the header has 6"),
        BadDocument("a long row", header + "web-3,,,web,,,,\n", expect: "fleet.csv:2: record: has 8 fields, the header has 6"),
        BadDocument("invalid UTF-8", bytes: Array((header + "web-3,,,web,,\nz").utf8) + [0xC3, 0x28] + Array("rich,northeurope,contoso,,,\n".utf8),
                    expect: "fleet.csv:3: record: field 1 is not valid UTF-8"),
        BadDocument("an unknown region", header + "lost,nowhere,contoso,,,\n", expect: "fleet.csv:2: region: unknown region 'nowhere'"),
        BadDocument("an unknown set", header + "lost,eastus,contoso,nope,,\n", expect: "fleet.csv:2: availabilitySet: unknown availability set 'nope'"),
        BadDocument("an unknown subscription", header + "lost,eastus,nobody,,,\n", expect: "fleet.csv:2: subscription: unknown subscription 'nobody'"),
        BadDocument("a UD out of range", header + "web-3,,,web,5,\n", expect: "fleet.csv:2: updateDomain: 5 is outside 0..4 for set web"),
        BadDocument("an FD out of range", header + "web-3,,,web,,7\n", expect: "fleet.csv:2: faultDomain: 7 is outside 0..1 for set web"),
        BadDocument("a UD that is not a number", header + "web-3,,,web,two,\n", expect: "fleet.csv:2: updateDomain: 'two' is not a whole number"),
        BadDocument("a set VM in another region", header + "web-3,westus,,web,,\n", expect: "fleet.csv:2: region: 'westus' is not the region of set web (eastus)"),
        BadDocument("a duplicate name", header + "web-3,,,web,,\nweb-3,,,web,,\n", expect: "fleet.csv:3: name: duplicate VM 'web-3'"),
        BadDocument("a duplicate name after the order breaks", header + "web-3,,,web,,\nweb-5,,,web,,\nweb-4,,,web,,\nweb-3,,,web,,\n",
                    expect: "fleet.csv:5: name: duplicate VM 'web-3'"),
        BadDocument("a duplicate name once the order broke", header + "web-5,,,web,,\nweb-3,,,web,,\nweb-5,,,web,,\n",
                    expect: "fleet.csv:4: name: duplicate VM 'web-5'"),
        BadDocument("an unclosed quote", header + "\"web-3,,,web,,\n", expect: "fleet.csv:2: record: a quoted field is not closed"),
        BadDocument("a quote inside an unquoted field", header + "web\"3,,,web,,\n", expect: "fleet.csv:2: record: a quote inside an unquoted field"),
        BadDocument("an IP address given to two VMs of the file",
                    "name,region,subscription,availabilitySet,updateDomain,faultDomain,ipAddress\nweb-3,,,web,,,10.0.9.1\nweb-5,,,web,,,10.0.9.1\n",
                    expect: "fleet.csv:3: ipAddress: 10.0.9.1 is already given to VM web-3 on line 2 of this file"),
        BadDocument("a malformed IP address", "name,region,subscription,availabilitySet,updateDomain,faultDomain,ipAddress\nweb-3,,,web,,,10.0.0\n",
                    expect: "fleet.csv:2: ipAddress: '10.0.0' is not an IPv4 or IPv6 address"),
    ]

    @Test(arguments: TestEngine.all, badFiles)
    func aBadCSVIsRefusedWithItsPlaceAndWritesNothing(engine: TestEngine, file: BadDocument) async throws {
        // Given a seeded fleet
        let inventory = try await seededInventory(engine)
        let before = try await exported(inventory)

        // when a bad CSV is imported
        let problems = await refusal { try await importCSV(inventory, file.bytes) }

        // then the problem names file and line, and the fleet is as it was
        for fragment in file.expected {
            #expect(problems.contains { $0.contains(fragment) }, "no problem says \(fragment) in:\n\(problems.joined(separator: "\n"))")
        }
        #expect(try await exported(inventory) == before)
    }

    @Test func aRefusedHeaderIsTheOneProblemNotEachRowUnderIt() async throws {
        // Given a header that names the ipAddress column wrongly, over rows of seven fields
        let inventory = try await seededInventory(.sqlite)
        let problems = await refusal {
            try await importCSV(inventory, Array("name,region,subscription,availabilitySet,updateDomain,faultDomain,ip\nweb-3,,,web,,,10.0.9.1\nweb-4,,,web,,,\n".utf8))
        }
        // then the header is reported, and the rows are not each said to have too many fields
        #expect(problems == ["fleet.csv:1: the header must be 'name,region,subscription,availabilitySet,updateDomain,faultDomain' (optionally followed by ',ipAddress'); column 7 is 'ip', not 'ipAddress'"])
    }

    @Test(arguments: TestEngine.all) func everyBadRowIsReportedNotJustTheFirst(engine: TestEngine) async throws {
        let inventory = try await seededInventory(engine)
        let before = try await exported(inventory)
        let problems = await refusal {
            try await importCSV(inventory, Array((Self.header + """
                web-3,,,web,,
                bad-1,nowhere,contoso,,,
                web-4,,,web,9,
                bad-2
                web-5,,,web,,
                """).utf8))
        }
        #expect(problems.count == 3, "\(problems)")
        #expect(problems.first == "fleet.csv:3: region: unknown region 'nowhere'")
        #expect(problems.dropFirst().first == "fleet.csv:4: updateDomain: 9 is outside 0..4 for set web")
        #expect(problems.last?.hasPrefix("fleet.csv:5: record: has 1 field") == true)
        #expect(try await exported(inventory) == before)
    }

    /// Imports a CSV file made of `prefix`, 100 MB of one repeated byte on one line, and
    /// `suffix`, written in 1 MB pieces so that the test never holds it whole.
    private func importHugeLine(_ inventory: InventoryService, prefix: String, suffix: String) async throws -> ImportSummary {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-huge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("fleet.csv")
        _ = FileManager.default.createFile(atPath: url.path, contents: Data(prefix.utf8))
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        let piece = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        for _ in 0..<100 { try handle.write(contentsOf: piece) }
        try handle.write(contentsOf: Data(suffix.utf8))
        try handle.close()
        return try await inventory.importCSV(try .file(atPath: url.path, name: "fleet.csv"))
    }

    @Test(.hangGuard, arguments: TestEngine.all)
    func aHundredMegabyteRowIsRefusedCleanly(engine: TestEngine) async throws {
        // Given a header and a data row of 100 MB on one line, followed by a good row
        let inventory = try await seededInventory(engine)
        let before = try await exported(inventory)

        // when it is imported
        let problems = await refusal {
            try await importHugeLine(inventory, prefix: Self.header + "web-3,,,web,,\n", suffix: ",eastus,contoso,,,\nweb-4,,,web,,\n")
        }

        // then that row is refused with a short message (the time limit guards against a hang)
        // and nothing is written
        #expect(problems == ["fleet.csv:3: record: the record is longer than 1048576 bytes"])
        #expect(try await exported(inventory) == before)
    }

    // SQLite only: refused in its header before any row reaches a store, a 100 MB file twice would be CI time for nothing.
    @Test(.hangGuard)
    func aFileThatIsOneHundredMegabyteLineIsRefusedCleanly() async throws {
        // Given a file that is one 100 MB line with no newline at all
        let inventory = try await seededInventory(.sqlite)
        let before = try await exported(inventory)

        // when it is imported
        let problems = await refusal { try await importHugeLine(inventory, prefix: "name,", suffix: "") }

        // then it is refused with one short message on line 1, and nothing is written
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("fleet.csv:1: ") == true)
        #expect(problems.first?.contains("longer than 1048576 bytes") == true, "\(problems)")
        #expect(problems.allSatisfy { $0.utf8.count < 500 })
        #expect(try await exported(inventory) == before)
    }
}

// MARK: Names kept verbatim

@Suite struct VerbatimNameTests {
    static let names = [
        #"web "blue"; DROP TABLE vms;--"#,
        "o'brien's box",
        "Zürich-Ærø-東京-Ελλάδα",
        #"semi;colon,comma\back"#,
        "emoji 🛠️ rack",
    ]

    @Test(arguments: TestEngine.all, names)
    func aNameRoundTripsThroughJSONImportAndExport(engine: TestEngine, name: String) async throws {
        // Given a region, set and VM that all carry the name
        let inventory = try emptyInventory(engine)
        let q = JSONText.quote(name)
        try await importJSON(inventory, """
            {"regions": [{"name": \(q), "displayName": \(q)}],
             "subscriptions": [{"id": \(q)}],
             "availabilitySets": [{"name": \(q), "region": \(q), "subscription": \(q)}],
             "vms": [{"name": \(q), "availabilitySet": \(q)}]}
            """)

        // then each is stored exactly as written
        let vm = try await inventory.vm(named: name)
        #expect(vm.name == name && vm.region == name && vm.subscription == name && vm.availabilitySet == name)
        #expect(try await inventory.regions().map(\.displayName) == [name])

        // and an export imported elsewhere exports the same bytes
        let first = try await exported(inventory)
        let copy = try emptyInventory(engine)
        try await importJSON(copy, first)
        #expect(try await exported(copy) == first)
        #expect(try await copy.vm(named: name).name.utf8.elementsEqual(name.utf8))
    }

    @Test(arguments: TestEngine.all, names)
    func aNameInAQuotedCSVFieldIsStoredVerbatim(engine: TestEngine, name: String) async throws {
        // Given the seeded fleet, when a CSV row names a VM with a quoted field
        let inventory = try await seededInventory(engine)
        let quoted = "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        try await importCSV(inventory, Array((CSVImportTests.header + "\(quoted),,,web,,\n").utf8))

        // then the VM carries exactly that name
        #expect(try await inventory.vm(named: name).name.utf8.elementsEqual(name.utf8))
    }

    @Test(arguments: TestEngine.all) func aQuotedCSVFieldMayHoldCommasAndDoubledQuotes(engine: TestEngine) async throws {
        let inventory = try await seededInventory(engine)
        try await importCSV(inventory, Array((CSVImportTests.header + "\"web, the \"\"third\"\"\",eastus,\"contoso\",web,,\n").utf8))
        #expect(try await inventory.vm(named: #"web, the "third""#).availabilitySet == "web")
    }
}

/// The streamed JSON list: the bytes of one document, and none before the first item or the
/// close, so that a command refused before its first item prints no half document.
@Suite struct JSONListWriterTests {
    final class Sink: @unchecked Sendable {
        var text = ""
        var writes = 0
    }

    @Test func nothingIsWrittenBeforeTheFirstItemOrTheClose() {
        let sink = Sink()
        let list = JSONListWriter(key: "events", write: { sink.text += $0; sink.writes += 1 })
        #expect(sink.writes == 0)
        list.append(#"{"a": 1}"#)
        list.append(#"{"a": 2}"#)
        list.close()
        #expect(sink.text == "{\"events\": [\n  {\"a\": 1},\n  {\"a\": 2}\n]}\n")

        let empty = Sink()
        JSONListWriter(key: "vms", prefix: #"{"campaign": 1, "#, write: { empty.text += $0 }).close(suffix: #", "more": true"#)
        #expect(empty.text == #"{"campaign": 1, "vms": [], "more": true}"# + "\n")
    }
}
