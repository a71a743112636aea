// The turn order of groups of linked regions: over random small fleets with recurring windows in
// several zones (campaigns starting just before a daylight-saving change), blackouts and an
// earlier campaign's events, every plan passes the checker and ends no later than the best of
// all turn orders, found by brute force; and what the planner reports about the orders it weighed.
import Foundation
import PropertyBased
import Testing
@testable import PitstopCore

/// A random fleet of at most six regions with windows in several zones, described by a few
/// numbers and a seed for the details, so that a failure prints something reproducible.
struct TurnOrderScenario: Sendable, CustomStringConvertible {
    var regionCount: Int
    var linkCount: Int
    /// Which start date, each a day or two before a daylight-saving change somewhere.
    var startChoice: Int
    var rebootKind: Bool
    var withBlackouts: Bool
    var withExisting: Bool
    var seed: UInt64

    var description: String {
        "TurnOrderScenario(regions: \(regionCount), links: \(linkCount), start: \(Self.starts[startChoice % Self.starts.count]), "
            + "kind: \(rebootKind ? "reboot" : "freeze"), blackouts: \(withBlackouts), existing: \(withExisting), seed: \(seed))"
    }

    /// Campaign starts shortly before the clock changes of 2026: the US (8 March, 1 November),
    /// the EU (29 March, 25 October) and south-east Australia (5 April, 4 October).
    static let starts = [
        "2026-03-06T18:00:00Z", "2026-03-27T12:00:00Z", "2026-04-03T12:00:00Z",
        "2026-10-02T12:00:00Z", "2026-10-23T12:00:00Z", "2026-10-30T18:00:00Z",
    ]
    static let zones = ["America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin", "Australia/Sydney", "Asia/Tokyo", "UTC"]
    static let recurrences = ["Day", "2Days", "Week Monday", "Week Saturday,Sunday", "Week Tuesday,Thursday", "Month Last Sunday", "Month day1,day15"]

    static func generator(regions: ClosedRange<Int>, links: ClosedRange<Int>) -> Generator<TurnOrderScenario, some SendableSequenceType> {
        zip(Gen.int(in: regions), Gen.int(in: links), Gen.int(in: 0...5), Gen.bool, Gen.bool(0.4), Gen.bool(0.4), Gen.uint64())
            .map { TurnOrderScenario(regionCount: $0, linkCount: $1, startChoice: $2, rebootKind: $3, withBlackouts: $4, withExisting: $5, seed: $6) }
    }

    func build() throws -> Built {
        var random = DetailRandom(state: seed)
        let names = (0..<regionCount).map { "r\($0)" }
        var pairs: [RegionPair] = []
        for _ in 0..<linkCount {
            let a = random.int(0...(regionCount - 1)), b = random.int(0...(regionCount - 1))
            if a != b { pairs.append(RegionPair(region: names[a], pairedWith: names[b])) }
        }
        var sets: [AvailabilitySet] = [], vms: [VirtualMachine] = []
        for (r, region) in names.enumerated() {
            for k in 0..<random.int(1...2) {
                let set = AvailabilitySet(name: "s\(r)-\(k)", region: region, subscription: "sub", faultDomains: 2, updateDomains: random.int(1...5))
                sets.append(set)
                for n in 0..<random.int(1...6) {
                    vms.append(VirtualMachine(name: "\(set.name)-\(n)", region: region, subscription: "sub", availabilitySet: set.name))
                }
            }
            for n in 0..<random.int(0...2) { vms.append(VirtualMachine(name: "\(region)-solo-\(n)", region: region, subscription: "sub")) }
        }

        let kind: MaintenanceKind = rebootKind ? .reboot : .freeze
        let duration: Int64 = kind == .freeze ? [30, 10][random.int(0...1)] : [900, 1800, 3600][random.int(0...2)]
        let gap: Int64 = [0, 600, 1800][random.int(0...2)]
        let notBefore = Timestamp(iso8601: Self.starts[startChoice % Self.starts.count])!
        let createdAt = notBefore - kind.noticePeriod - Int64(random.int(0...86_400))

        var windows: [MaintenanceWindow] = []
        let scopes: [WindowScope] = names.map { .region($0) } + sets.map { .availabilitySet($0.name) }
        for scope in scopes {
            if case .region = scope { guard random.chance(75) else { continue } } else { guard random.chance(15) else { continue } }
            for m in 0..<random.int(1...2) {
                let zone = TimeZone(identifier: Self.zones[random.int(0...(Self.zones.count - 1))])!
                let first = (notBefore.seconds - Int64(random.int(0...7 * 86_400))) / 3600 * 3600
                windows.append(MaintenanceWindow(
                    name: "w-\(scope)-\(m)", scope: scope, start: LocalDateTime(Timestamp(seconds: first), in: zone), timeZone: zone,
                    duration: DurationText(seconds: Int64(random.int(1...10)) * 3600),
                    recurrence: try Recurrence(parsing: Self.recurrences[random.int(0...(Self.recurrences.count - 1))])))
            }
        }
        var blackouts: [Blackout] = []
        if withBlackouts {
            for k in 0..<random.int(1...2) {
                let start = notBefore + Int64(random.int(0...5 * 86_400))
                let region = random.chance(50) ? nil : names[random.int(0...(regionCount - 1))]
                blackouts.append(Blackout(name: "b\(k)", region: region, start: start, end: start + Int64(random.int(3600...86_400))))
            }
        }
        let fleet = try FleetSnapshot(
            regions: names.map { Region(name: $0) }, pairs: pairs, subscriptions: [Subscription(id: "sub", admins: ["ops@example.com"])],
            sets: sets, vms: vms, windows: windows, blackouts: blackouts)
        let campaign = try Campaign(
            id: "new", request: CampaignRequest(kind: kind, notBefore: notBefore, perVMDuration: duration, udGap: gap),
            createdAt: createdAt, fleet: fleet)

        guard withExisting else { return Built(fleet: fleet, campaign: campaign, other: nil, existing: []) }
        // An earlier campaign over some of the regions, planned a few days before, starting
        // around the same time.
        let otherCreated = createdAt - 3 * 86_400
        let otherRegions = names.filter { _ in random.chance(60) }
        let other = try Campaign(
            id: "old",
            request: CampaignRequest(
                kind: .freeze, regions: otherRegions.isEmpty ? nil : otherRegions, notBefore: notBefore + Int64(random.int(-86_400...86_400)),
                perVMDuration: 30, udGap: [0, 300, 1800][random.int(0...2)]),
            createdAt: otherCreated, fleet: fleet)
        guard var existing = try? Planner.plan(other, fleet: fleet, existing: []) else {
            return Built(fleet: fleet, campaign: campaign, other: nil, existing: [])
        }
        for i in existing.indices where random.chance(15) { existing[i].status = random.chance(50) ? .cancelled : .completed }
        return Built(fleet: fleet, campaign: campaign, other: other, existing: existing)
    }
}

/// The end of the plan when each group of linked regions takes its turns in the order of
/// `order`, or `nil` when that order leaves some wave no place.
func forcedEnd(_ built: Built, order: [String]) -> Timestamp? {
    let plan = try? Planner.plan(
        built.campaign, fleet: built.fleet, existing: built.existing,
        existingCampaigns: built.other.map { [$0.id: $0.terms] } ?? [:], turnOrder: order)
    return plan?.events.map(\.range.end).max()
}

/// Every order of `names`, one per orientation of the links among them (which side of each
/// link goes first): the plans of two orders with the same orientation are the same.
func ordersByOrientation(_ names: [String], links: [String: [String]]) -> [[String]] {
    var result: [[String]] = [], seen: Set<[Bool]> = []
    func visit(_ prefix: [String], _ rest: [String]) {
        guard !rest.isEmpty else {
            let position = Dictionary(uniqueKeysWithValues: prefix.enumerated().map { ($1, $0) })
            var orientation: [Bool] = []
            for a in names { for b in links[a] ?? [] where a < b && position[b] != nil { orientation.append(position[a]! < position[b]!) } }
            if seen.insert(orientation).inserted { result.append(prefix) }
            return
        }
        for (i, next) in rest.enumerated() {
            var remaining = rest
            remaining.remove(at: i)
            visit(prefix + [next], remaining)
        }
    }
    visit([], names)
    return result
}

@Suite struct TurnOrderPropertyTests {
    @Test func everyPlanPassesTheCheckerAndEndsNoLaterThanTheBestTurnOrder() async throws {
        await propertyCheck(count: 120, input: TurnOrderScenario.generator(regions: 2...6, links: 1...8)) { scenario in
            let built = try scenario.build()
            let terms = built.other.map { [$0.id: $0.terms] } ?? [:]
            let outcome = try? Planner.planWithTurnOrders(built.campaign, fleet: built.fleet, existing: built.existing, existingCampaigns: terms)
            let targets = built.fleet.regionsWithVMs.filter(built.campaign.regions.contains)
            let best = ordersByOrientation(targets, links: Rules.pairConflicts(built.fleet.pairs))
                .compactMap { forcedEnd(built, order: $0) }.min()
            guard let outcome else {
                #expect(best == nil, "the planner found no plan, yet some turn order ends at \(best!)")
                return
            }
            let plan = outcome.events
            let end = try #require(plan.map(\.range.end).max())
            #expect(end <= best!, "the plan ends at \(end), the best turn order at \(best!)")

            let found = violations(built.existing + plan, fleet: built.fleet, campaigns: [built.campaign] + (built.other.map { [$0] } ?? []))
            #expect(found.isEmpty, "\(found.prefix(5).map(\.description))")

            // What the planner reports is what it did.
            for choice in outcome.turnOrders {
                #expect(choice.exhaustive)
                let groupEnd = plan.filter { choice.regions.contains($0.region) }.map(\.range.end).max()
                #expect(choice.chosen.end == groupEnd)
                #expect(choice.others.allSatisfy { $0.end.map { $0 >= groupEnd! } ?? true })
                #expect(choice.chosen.turns.flatMap { $0 }.sorted() == choice.regions)
            }
        }
    }

    /// Groups of more than ``Planner/exhaustiveGroupLimit`` regions: the bounded search keeps
    /// plans valid and deterministic, weighs at most its budget of orders and keeps the best
    /// of those it weighed.
    @Test func aLargeGroupIsOrderedByABoundedSearch() async throws {
        await propertyCheck(count: 25, input: TurnOrderScenario.generator(regions: 7...9, links: 10...16)) { scenario in
            var scenario = scenario
            scenario.withExisting = false
            let built = try scenario.build()
            guard let outcome = try? Planner.planWithTurnOrders(built.campaign, fleet: built.fleet, existing: []) else { return }
            let found = violations(outcome.events, fleet: built.fleet, campaigns: [built.campaign])
            #expect(found.isEmpty, "\(found.prefix(5).map(\.description))")
            #expect(outcome == (try? Planner.planWithTurnOrders(built.campaign, fleet: built.fleet, existing: [])))
            for choice in outcome.turnOrders {
                #expect(choice.exhaustive == (choice.regions.count <= Planner.exhaustiveGroupLimit))
                if !choice.exhaustive { #expect(choice.others.count < Planner.heuristicOrderBudget) }
                #expect(choice.others.allSatisfy { $0.end.map { $0 >= choice.chosen.end! } ?? true })
                let groupEnd = outcome.events.filter { choice.regions.contains($0.region) }.map(\.range.end).max()
                #expect(choice.chosen.end == groupEnd)
            }
        }
    }
}

/// What the planner says about the turn orders it weighed, on the fleets of issue 12.
@Suite struct TurnOrderReportTests {
    @Test func theRebootCaseReportsWestusFirstAndEastusFirstElevenHoursLater() throws {
        let (fleet, campaign) = try TurnOrderRegressionTests.rebootCase()

        let outcome = try Planner.planWithTurnOrders(campaign, fleet: fleet, existing: [])

        #expect(outcome.turnOrders == [TurnOrderChoice(
            regions: ["eastus", "westus"],
            chosen: .init(turns: [["westus"], ["eastus"]], end: at("2026-11-14T18:30:00Z")),
            others: [.init(turns: [["eastus"], ["westus"]], end: at("2026-11-15T05:30:00Z"))],
            exhaustive: true)])
    }

    @Test func aChainOfThreeWeighsItsFourOrdersAndOneThatDoesNotFitIsSaidSo() throws {
        // southcentralus's only window is the first night: it must go first, and then
        // brazilsouth and northcentralus share the second turn.
        let fleet = try makeFleet(
            regions: ["brazilsouth", "northcentralus", "southcentralus"],
            pairs: [("brazilsouth", "southcentralus"), ("northcentralus", "southcentralus")],
            sets: ["brazilsouth", "northcentralus", "southcentralus"].map { SetSpec(name: "\($0)-set", region: $0, updateDomains: 2, vms: 2) },
            windows: [oneOffWindow("scus-night", .region("southcentralus"), start: "2026-11-08T00:00", seconds: 2700)])
        let campaign = try makeCampaign(fleet: fleet, udGap: 0)

        let outcome = try Planner.planWithTurnOrders(campaign, fleet: fleet, existing: [])

        let choice = try #require(outcome.turnOrders.first)
        #expect(outcome.turnOrders.count == 1)
        #expect(choice.chosen == .init(turns: [["southcentralus"], ["brazilsouth", "northcentralus"]], end: at("2026-11-08T01:00:00Z")))
        #expect(choice.others.count == 3)
        #expect(choice.others.allSatisfy { $0.end == nil })
        #expect(Set(choice.others.map(\.turns)) == [
            [["brazilsouth", "northcentralus"], ["southcentralus"]],
            [["brazilsouth"], ["southcentralus"], ["northcentralus"]],
            [["northcentralus"], ["southcentralus"], ["brazilsouth"]],
        ])
    }

    @Test func aRegionWithoutPartnersHasNoTurnOrder() throws {
        let fleet = try makeFleet(regions: ["eastus", "northeurope"], sets: [SetSpec(name: "web", region: "eastus", vms: 2), SetSpec(name: "db", region: "northeurope", vms: 2)])
        let outcome = try Planner.planWithTurnOrders(try makeCampaign(fleet: fleet), fleet: fleet, existing: [])
        #expect(outcome.turnOrders.isEmpty)
        #expect(outcome.events.count == 4)
    }
}
