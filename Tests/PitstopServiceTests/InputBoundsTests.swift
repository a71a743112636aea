// Issue 11, items 3 and 5 at the service floor: the bounds the CLI enforces hold for every
// caller (the HTTP API included), and a JSON document is refused while it is being read.
// Every test here runs on SQLite and on PostgreSQL.
import Foundation
import PitstopCore
import PitstopStore
import PitstopTestSupport
import Testing
@testable import PitstopService

private let now = Timestamp(iso8601: "2026-11-22T10:00:00Z")!
private let fleet = """
    {"regions": [{"name": "eastus"}], "subscriptions": [{"id": "contoso"}],
     "vms": [{"name": "jump", "region": "eastus", "subscription": "contoso"}],
     "maintenanceWindows": [{"name": "nightly", "region": "eastus", "start": "2026-11-01T22:00:00",
                             "timeZone": "UTC", "duration": "PT4H", "recurEvery": "Day"}]}
    """

private func services(_ engine: TestEngine) async throws -> Services {
    let services = Services(store: try TestDatabase(engine).store)
    _ = try await services.inventory(actor: "test", clock: { now }).importDocument(.bytes(Array(fleet.utf8), name: "fleet.json"))
    return services
}

private func refusal(_ body: () async throws -> Void) async -> PitstopError? {
    do { try await body() } catch let error as PitstopError { return error } catch { Issue.record("unexpected \(error)") }
    return nil
}

@Suite struct RangeBoundTests {
    let tooLong = InputLimits.maximumRangeSeconds + 1

    @Test(arguments: TestEngine.all) func windowOccurrencesRefuseARangeOverTheMaximum(engine: TestEngine) async throws {
        let s = try await services(engine)
        let error = await refusal { _ = try await s.inventory(actor: "test", clock: { now }).windowOccurrences(.all, in: TimeRange(start: now, end: now + tooLong)) }
        #expect(error?.kind == .invalid)
        #expect(error?.message == "within: 366d1s is longer than the maximum of 366d (366 days)")
        let year = try await s.inventory(actor: "test", clock: { now }).windowOccurrences(.all, in: TimeRange(start: now, end: now + InputLimits.maximumRangeSeconds))
        #expect(year.count == 366 || year.count == 367)
    }

    @Test(arguments: TestEngine.all) func upcomingRefusesARangeOverTheMaximum(engine: TestEngine) async throws {
        let s = try await services(engine)
        let error = await refusal { _ = try await s.scheduler.upcoming(.all, now: now, within: tooLong) }
        #expect(error?.kind == .invalid)
        #expect(error?.message.hasPrefix("within: ") == true)
    }

    /// A gap or a per-VM downtime longer than the horizon can reach is no plan an operator
    /// means. Before, SQLite stored a plan with such a gap (for a fleet with no set, where it
    /// never applies) and PostgreSQL refused it as "integer out of range", an internal fault.
    @Test(arguments: TestEngine.all) func aPlanRefusesAGapOrADowntimeOverTheMaximum(engine: TestEngine) async throws {
        let s = try await services(engine)
        for (request, what) in [(CampaignRequest(kind: .reboot, udGap: tooLong * 70), "the recovery gap between update domains"),
                                (CampaignRequest(kind: .reboot, perVMDuration: tooLong), "the per-VM duration")] {
            let error = await refusal { _ = try await s.scheduler.plan(request, now: now, dryRun: false, actor: "test") }
            #expect(error?.kind == .invalid, "\(engine): \(String(describing: error))")
            #expect(error?.message.contains("\(what): ") == true && error?.message.contains("is longer than the maximum of 366d") == true,
                    "\(engine): \(String(describing: error))")
        }
        #expect(try await s.scheduler.campaigns().isEmpty)
    }

    /// A maintenance window longer than a year is refused at its field, as every range is.
    @Test(arguments: TestEngine.all) func aWindowLongerThanTheMaximumIsRefused(engine: TestEngine) async throws {
        let s = try await services(engine)
        let document = """
            {"maintenanceWindows": [{"name": "forever", "region": "eastus", "start": "2026-11-01T22:00:00",
                                     "timeZone": "UTC", "duration": "P30000D"}]}
            """
        let error = await refusal {
            _ = try await s.inventory(actor: "test", clock: { now }).importDocument(.bytes(Array(document.utf8), name: "windows.json"))
        }
        #expect(error?.kind == .invalid, "\(engine): \(String(describing: error))")
        #expect(error.map { "\($0)" }?.contains("windows.json:1: maintenanceWindows[0].duration: 30000d is longer than the maximum of 366d") == true,
                "\(engine): \(String(describing: error))")
        #expect(try await s.inventory(actor: "test", clock: { now }).maintenanceWindows().map(\.name) == ["nightly"])
    }

    /// A window's duration in the short form the CLI accepts everywhere (`90m`), or ISO 8601 in
    /// lower case, is stored in ISO 8601's form. Before, it was stored as written, and the
    /// schema's own check (ISO 8601, starting with `P`) refused it as "the change breaks a rule
    /// of the stored fleet": `window add --duration 2h` always failed.
    @Test(arguments: TestEngine.all) func aWindowsDurationInTheShortFormIsStoredInISO8601(engine: TestEngine) async throws {
        let s = try await services(engine)
        let inventory = s.inventory(actor: "test", clock: { now })
        let document = """
            {"maintenanceWindows": [
              {"name": "short", "region": "eastus", "start": "2026-11-01T22:00:00", "timeZone": "UTC", "duration": "90m"},
              {"name": "lower", "region": "eastus", "start": "2026-11-01T22:00:00", "timeZone": "UTC", "duration": "pt2h"},
              {"name": "iso", "region": "eastus", "start": "2026-11-01T22:00:00", "timeZone": "UTC", "duration": "P1DT30M"}]}
            """
        _ = try await inventory.importDocument(.bytes(Array(document.utf8), name: "windows.json"))
        let stored = Dictionary(uniqueKeysWithValues: try await inventory.maintenanceWindows().map { ($0.name, $0.duration) })
        #expect(stored["short"]?.text == "PT1H30M" && stored["short"]?.seconds == 5400)
        #expect(stored["lower"]?.text == "PT2H" && stored["lower"]?.seconds == 7200)
        #expect(stored["iso"]?.text == "P1DT30M", "ISO 8601 as written is kept, so a document round-trips")
    }

    /// A row the database itself refuses (here a set shrunk below a VM's update domain, which
    /// only the schema's trigger sees) is reported at its place on both engines. PostgreSQL
    /// ends the transaction at the first refused statement, so the import went on into
    /// "current transaction is aborted", an internal fault (exit 3) that hid the refusal.
    @Test(arguments: TestEngine.all) func aRowTheDatabaseRefusesIsReportedAtItsPlaceOnBothEngines(engine: TestEngine) async throws {
        let s = try await services(engine)
        let inventory = s.inventory(actor: "test", clock: { now })
        _ = try await inventory.importDocument(.bytes(Array("""
            {"availabilitySets": [{"name": "web", "region": "eastus", "subscription": "contoso", "updateDomains": 5}],
             "vms": [{"name": "web-4", "availabilitySet": "web", "updateDomain": 4, "faultDomain": 0}]}
            """.utf8), name: "fleet.json"))
        let shrink = """
            {"regions": [{"name": "westus"}],
             "availabilitySets": [{"name": "web", "region": "eastus", "subscription": "contoso", "updateDomains": 2}],
             "vms": [{"name": "web-5", "availabilitySet": "web"}],
             "maintenanceWindows": [{"name": "late", "region": "eastus", "start": "2026-11-01T22:00:00", "timeZone": "UTC", "duration": "PT2H"}],
             "blackouts": [{"name": "quiet", "start": "2026-12-20T00:00:00Z", "end": "2026-12-21T00:00:00Z"}]}
            """
        let error = await refusal { _ = try await inventory.importDocument(.bytes(Array(shrink.utf8), name: "shrink.json")) }
        #expect(error?.kind == .invalid, "\(engine): \(String(describing: error))")
        #expect(error.map { "\($0)" }?.contains("shrink.json:2: availabilitySets[0].name: ") == true
                && error.map { "\($0)" }?.contains("a VM of the set lies outside the new domain ranges") == true, "\(engine): \(String(describing: error))")
        #expect(try await inventory.regions().map(\.name) == ["eastus"], "nothing was written")
        #expect(try await inventory.maintenanceWindows().map(\.name) == ["nightly"])
    }

    @Test(arguments: TestEngine.all) func aPlanRefusesAHorizonOverTheMaximum(engine: TestEngine) async throws {
        let s = try await services(engine)
        let error = await refusal { _ = try await s.scheduler.plan(CampaignRequest(kind: .reboot, horizon: tooLong), now: now, dryRun: true, actor: "test") }
        #expect(error?.kind == .invalid)
        #expect(error?.message.contains("the planning horizon: 366d1s is longer than the maximum of 366d") == true, "\(String(describing: error))")
    }
}

/// Hands out an endless JSON string in 64 KiB chunks, counting how many were taken.
private final class EndlessString: @unchecked Sendable {
    private let lock = NSLock()
    private var served = 0
    var count: Int { lock.lock(); defer { lock.unlock() }; return served }
    func next() -> [UInt8]? {
        lock.lock(); defer { lock.unlock() }
        served += 1
        if served == 1 { return Array("{\"regions\": [{\"name\": \"".utf8) }
        return served > 3200 ? nil : [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 16)  // 200 MB in all
    }
}

@Suite struct StreamedDocumentTests {
    @Test(arguments: TestEngine.all) func aHugeStringIsRefusedBeforeTheRestIsRead(engine: TestEngine) async throws {
        let source = EndlessString()
        let input = ImportInput(name: "big.json", sizeHint: nil) { source.next() }
        let inventory = InventoryService(store: try TestDatabase(engine).store, actor: "test", clock: { now })

        let error = await refusal { _ = try await inventory.importDocument(input) }

        #expect(error?.problems.map(\.description) == ["big.json:1: regions[0].name: a value longer than 65536 bytes (64 KiB, the most a document's string or number may hold); refused while reading"])
        #expect(source.count <= 3, "read \(source.count) chunks of 64 KiB before refusing")
    }
}
