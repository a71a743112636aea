// The timeline use case: a wave is found while it runs even once its planned slot has passed,
// it is always counted whole, and regions linked through a chain of pairs form one group.
// Every test here runs on SQLite and on PostgreSQL.
import Foundation
import PitstopCore
import PitstopService
import PitstopTestSupport
import Testing

@Suite struct TimelineServiceTests {
    private static let planned = Timestamp(iso8601: "2026-11-01T00:00:00Z")!
    private static let fleet = """
        {"regions": [{"name": "alpha"}, {"name": "beta"}, {"name": "gamma"}, {"name": "lone"}],
         "regionPairs": [{"region": "alpha", "pairedWith": "beta"}, {"region": "gamma", "pairedWith": "beta"}],
         "subscriptions": [{"id": "s", "admins": ["ops@example.com"]}],
         "availabilitySets": [{"name": "web", "region": "alpha", "subscription": "s", "updateDomains": 2, "faultDomains": 1}],
         "vms": [{"name": "web-0", "availabilitySet": "web"}, {"name": "web-1", "availabilitySet": "web"},
                 {"name": "web-2", "availabilitySet": "web"}, {"name": "web-3", "availabilitySet": "web"}]}
        """

    private static func planned(_ engine: TestEngine) async throws -> (Services, [EventRecord]) {
        let services = Services(store: try TestDatabase(engine).store)
        _ = try await services.inventory(actor: "test", clock: { planned }).importDocument(.bytes(Array(fleet.utf8), name: "fleet.json"))
        let plan = try await services.scheduler.plan(CampaignRequest(kind: .reboot, regions: ["alpha"], description: "patch"),
                                                     now: planned, dryRun: false, actor: "test")
        return (services, try await services.scheduler.campaign(plan.campaign.id).events)
    }

    @Test(arguments: TestEngine.all) func aRunningWaveIsOnTheTimelineAfterItsPlannedSlot(engine: TestEngine) async throws {
        let (services, events) = try await Self.planned(engine)
        let first = try #require(events.first).event
        try await services.lifecycle.start(.wave(first.wave), at: first.range.start, actor: "test")
        // A day after its planned end, it still runs: the timeline of that day shows it.
        let later = TimeRange(start: first.range.end + 86_400, end: first.range.end + 2 * 86_400)
        let timeline = try await services.timeline.timeline(later)
        let wave = try #require(timeline.waves.first { $0.summary.id == first.wave })
        #expect(wave.status == .started && wave.summary.vms == 2 && wave.summary.actualEnd == nil)
        #expect(timeline.waves.count == 1, "the other wave ended in its slot: not running, not planned then")
    }

    @Test(arguments: TestEngine.all) func aWaveIsCountedWholeWhenTheRangeCutsIt(engine: TestEngine) async throws {
        let (services, events) = try await Self.planned(engine)
        let first = try #require(events.first).event
        let cut = TimeRange(start: first.range.start + 60, end: first.range.start + 120)
        let wave = try #require(try await services.timeline.timeline(cut).waves.first { $0.summary.id == first.wave })
        #expect(wave.summary.vms == events.filter { $0.event.wave == first.wave }.count)
        #expect(wave.summary.planned == first.range)
    }

    @Test(arguments: TestEngine.all) func regionsLinkedThroughAChainShareAGroup(engine: TestEngine) async throws {
        let (services, _) = try await Self.planned(engine)
        let regions = try await services.timeline.timeline(TimeRange(start: Self.planned, end: Self.planned + 86_400)).regions
        #expect(regions.map(\.region.name) == ["alpha", "beta", "gamma", "lone"])
        #expect(regions.map(\.group) == [0, 0, 0, 1])
        #expect(regions.first { $0.region.name == "beta" }?.pairedWith == ["alpha", "gamma"])
    }

    @Test(arguments: TestEngine.all) func aRangeLongerThan31DaysIsRefused(engine: TestEngine) async throws {
        let services = Services(store: try TestDatabase(engine).store)
        await #expect(throws: PitstopError.self) {
            _ = try await services.timeline.timeline(TimeRange(start: Self.planned, end: Self.planned + 32 * 86_400))
        }
    }
}
