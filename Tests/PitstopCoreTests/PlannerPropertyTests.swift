// Properties of the planner over random fleets: every plan passes the checker, covers every
// target VM once, and without windows, blackouts or other campaigns stays near the lower bound.
import Foundation
import PropertyBased
import Testing
@testable import PitstopCore

/// A random fleet and campaign, described by small numbers so that a failure prints (and
/// shrinks to) something readable.
struct Scenario: Sendable, CustomStringConvertible {
    var regionCount: Int
    /// Directed links `(from, to)`, taken modulo the region count; asymmetric, repeated and
    /// cyclic links all occur.
    var links: [Link]
    var sets: [SetRecipe]
    /// Single-instance VMs per region (first `regionCount` entries used).
    var singles: [Int]
    var rebootKind: Bool
    var gapChoice: Int
    var durationChoice: Int
    /// Which regions to target: 0 for all, else a bit mask (empty selections fall back to all).
    var targetMask: Int
    var withWindows: Bool
    var withBlackouts: Bool
    var withExisting: Bool
    /// Drives the details (explicit UDs, window and blackout times, statuses) deterministically.
    var seed: UInt64

    struct Link: Sendable, CustomStringConvertible {
        var from: Int, to: Int
        var description: String { "\(from)->\(to)" }
    }

    struct SetRecipe: Sendable, CustomStringConvertible {
        var region: Int, updateDomains: Int, faultDomains: Int, vms: Int
        var description: String { "r\(region):U\(updateDomains)F\(faultDomains)x\(vms)" }
    }

    var isConstrained: Bool { withWindows || withBlackouts || withExisting }

    var description: String {
        "Scenario(regions: \(regionCount), links: \(links), sets: \(sets), singles: \(singles.prefix(regionCount)), "
            + "kind: \(rebootKind ? "reboot" : "freeze"), gap: \(gapChoice), duration: \(durationChoice), targets: \(targetMask), "
            + "windows: \(withWindows), blackouts: \(withBlackouts), existing: \(withExisting), seed: \(seed))"
    }
}

/// SplitMix64: the scenario's own small deterministic randomness for details.
struct DetailRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
}

/// What a scenario builds: the fleet, the campaign and another campaign's events.
struct Built {
    var fleet: FleetSnapshot
    var campaign: Campaign
    var other: Campaign?
    var existing: [PlannedEvent]
}

extension Scenario {
    static let generator = zip(
        Gen.int(in: 1...8),
        zip(Gen.int(in: 0...7), Gen.int(in: 0...7)).map { Link(from: $0, to: $1) }.array(of: 0...14),
        zip(Gen.int(in: 0...7), Gen.int(in: 1...20), Gen.int(in: 1...3), Gen.int(in: 1...30))
            .map { SetRecipe(region: $0.0, updateDomains: $0.1, faultDomains: $0.2, vms: $0.3) }.array(of: 0...24),
        Gen.int(in: 0...3).array(of: 8),
        zip(Gen.bool, Gen.int(in: 0...3), Gen.int(in: 0...3), Gen.int(in: 0...255)),
        zip(Gen.bool(0.35), Gen.bool(0.35), Gen.bool(0.4)),
        Gen.uint64()
    ).map { parts in
        let (campaign, features) = (parts.4, parts.5)
        return Scenario(
            regionCount: parts.0, links: parts.1, sets: parts.2, singles: parts.3, rebootKind: campaign.0,
            gapChoice: campaign.1, durationChoice: campaign.2, targetMask: campaign.3,
            withWindows: features.0, withBlackouts: features.1, withExisting: features.2, seed: parts.6)
    }

    func build() throws -> Built {
        var random = DetailRandom(state: seed)
        let names = (0..<regionCount).map { "r\($0)" }
        let pairs = links.map { RegionPair(region: names[$0.from % regionCount], pairedWith: names[$0.to % regionCount]) }
        var sets: [AvailabilitySet] = [], vms: [VirtualMachine] = []
        var setsPerRegion = [Int](repeating: 0, count: regionCount)
        for (i, recipe) in self.sets.enumerated() {
            let region = recipe.region % regionCount
            guard setsPerRegion[region] < 5 else { continue }
            setsPerRegion[region] += 1
            let set = AvailabilitySet(
                name: "s\(i)", region: names[region], subscription: "sub-\(i % 3)",
                faultDomains: recipe.faultDomains, updateDomains: recipe.updateDomains)
            sets.append(set)
            let explicit = random.chance(50)  // else round-robin, as the inventory places them
            for n in 0..<recipe.vms {
                vms.append(VirtualMachine(
                    name: "s\(i)-\(n)", region: names[region], subscription: set.subscription, availabilitySet: set.name,
                    updateDomain: explicit ? random.int(0...(recipe.updateDomains - 1)) : nil,
                    faultDomain: explicit ? random.int(0...(recipe.faultDomains - 1)) : nil))
            }
        }
        for r in 0..<regionCount {
            for n in 0..<singles[r] { vms.append(VirtualMachine(name: "r\(r)-solo-\(n)", region: names[r], subscription: "sub-solo")) }
        }
        if vms.isEmpty { vms.append(VirtualMachine(name: "r0-solo-x", region: names[0], subscription: "sub-solo")) }

        let kind: MaintenanceKind = rebootKind ? .reboot : .freeze
        let duration: Int64 = kind == .freeze ? [1, 10, 30, 30][durationChoice] : [300, 900, 1200, 3600][durationChoice]
        let gap: Int64 = [0, 60, 600, 1800][gapChoice]
        let earliest = planningTime + kind.noticePeriod

        var windows: [MaintenanceWindow] = []
        if withWindows {
            let utc = TimeZone(identifier: "UTC")!
            var scopes: [WindowScope] = names.map { .region($0) } + sets.map { .availabilitySet($0.name) }
            scopes = scopes.filter { _ in random.chance(40) }
            for (k, scope) in scopes.enumerated() {
                for m in 0..<random.int(1...3) {
                    let start = earliest + Int64(random.int(-86_400...20 * 86_400))
                    let length = Int64(random.int(Int(duration)...Int(max(duration, 3 * 86_400))))
                    windows.append(MaintenanceWindow(
                        name: "w\(k)-\(m)", scope: scope, start: LocalDateTime(start, in: utc), timeZone: utc,
                        duration: DurationText(seconds: length)))
                }
            }
        }
        var blackouts: [Blackout] = []
        if withBlackouts {
            for k in 0..<random.int(1...3) {
                let start = earliest + Int64(random.int(-86_400...5 * 86_400))
                let region = random.chance(50) ? nil : names[random.int(0...(regionCount - 1))]
                blackouts.append(Blackout(name: "b\(k)", region: region, start: start, end: start + Int64(random.int(3600...2 * 86_400))))
            }
        }
        let fleet = try FleetSnapshot(
            regions: names.map { Region(name: $0) }, pairs: pairs,
            subscriptions: ["sub-0", "sub-1", "sub-2", "sub-solo"].map { Subscription(id: $0) },
            sets: sets, vms: vms, windows: windows, blackouts: blackouts)

        let withVMs = fleet.regionsWithVMs
        let chosen = withVMs.filter { targetMask & (1 << Int($0.dropFirst())!) != 0 }
        let campaign = try Campaign(
            id: "new", request: CampaignRequest(kind: kind, regions: chosen.isEmpty ? nil : chosen, perVMDuration: duration, udGap: gap),
            createdAt: planningTime, fleet: fleet)

        guard withExisting else { return Built(fleet: fleet, campaign: campaign, other: nil, existing: []) }
        // Another campaign planned a week earlier, starting around the same time as this one.
        let otherKind: MaintenanceKind = random.chance(50) ? .reboot : .freeze
        let otherCreated = planningTime - 7 * 86_400
        let otherStart = max(otherCreated + otherKind.noticePeriod, earliest + Int64(random.int(-86_400...86_400)))
        let otherRegions = withVMs.filter { _ in random.chance(60) }
        let other = try Campaign(
            id: "old",
            request: CampaignRequest(
                kind: otherKind, regions: otherRegions.isEmpty ? nil : otherRegions, notBefore: otherStart,
                perVMDuration: otherKind == .freeze ? 30 : Int64(random.int(60...1800)), udGap: Int64([0, 300, 1800, 3600][random.int(0...3)])),
            createdAt: otherCreated, fleet: fleet)
        let otherPlan = try? Planner.plan(other, fleet: fleet, existing: [])
        var existing = otherPlan ?? []
        for i in existing.indices {
            switch random.int(0...9) {
            case 0: existing[i].status = .cancelled
            case 1: existing[i].status = .completed
            case 2: existing[i].status = .started
            default: break
            }
        }
        // And a few arbitrary events of a third campaign nobody described, which may break
        // rules among themselves: the new plan must stay clear of them all the same.
        let vmNames = fleet.vms.map(\.name)
        for n in 0..<random.int(0...12) {
            let v = fleet.vm(named: vmNames[random.int(0...(vmNames.count - 1))])!
            let start = earliest + Int64(random.int(-86_400...3 * 86_400))
            let junkKind: MaintenanceKind = random.chance(50) ? .reboot : .freeze
            existing.append(PlannedEvent(
                campaign: "junk", vm: v.name, region: v.region, availabilitySet: v.availabilitySet,
                updateDomain: v.updateDomain, faultDomain: v.faultDomain, wave: "junk-\(n)", kind: junkKind,
                range: TimeRange(start: start, end: start + Int64(random.int(1...(junkKind == .freeze ? 30 : 3600)))),
                plannedAt: planningTime - 30 * 86_400))
        }
        return Built(fleet: fleet, campaign: campaign, other: otherPlan == nil ? nil : other, existing: existing)
    }
}

@Suite struct PlannerPropertyTests {
    @Test func everyPlanPassesTheCheckerAndCoversEveryTargetVMOnce() async throws {
        await propertyCheck(count: 150, input: Scenario.generator) { scenario in
            let built = try scenario.build()
            let plan: [PlannedEvent]
            do {
                plan = try Planner.plan(
                    built.campaign, fleet: built.fleet, existing: built.existing,
                    existingCampaigns: built.other.map { [$0.id: $0.terms] } ?? [:])
            } catch {
                // Only windows, blackouts or other campaigns can leave no room.
                #expect(scenario.isConstrained, "unconstrained plan failed: \(error)")
                return
            }
            let targets = Set(built.campaign.regions)
            let expected = built.fleet.vms.filter { targets.contains($0.region) }.map(\.name).sorted()
            #expect(plan.map(\.vm).sorted() == expected)
            #expect(plan.allSatisfy { $0.campaign == "new" && $0.range.end <= built.campaign.deadline })

            let found = violations(built.existing + plan, fleet: built.fleet, campaigns: [built.campaign] + (built.other.map { [$0] } ?? []))
            if built.existing.contains(where: { $0.campaign == "junk" }) {
                // The junk may break rules on its own; no broken rule may involve the new plan.
                let planned = Set(plan.map(\.id))
                let involving = found.filter { $0.events.contains(where: planned.contains) }
                #expect(involving.isEmpty, "\(involving.prefix(5).map(\.description))")
            } else {
                #expect(found.isEmpty, "\(found.prefix(5).map(\.description))")
            }

            let length = PlanSummary(events: plan).length
            #expect(Planner.lowerBound(built.campaign, fleet: built.fleet) <= length)
        }
    }

    /// Without windows, blackouts or other campaigns every region's span is its ideal span, and
    /// the turn order of each group of linked regions is the best of all orders; the only gap
    /// to the clique bound left is that of graphs that are not perfect (an odd cycle of five
    /// equal regions needs 3 turns where its heaviest clique has 2). 3x leaves room for that.
    @Test func anUnconstrainedPlanStaysWithinThreeTimesTheLowerBound() async throws {
        await propertyCheck(count: 150, input: Scenario.generator) { scenario in
            var scenario = scenario
            (scenario.withWindows, scenario.withBlackouts, scenario.withExisting) = (false, false, false)
            try expectNearTheLowerBound(try scenario.build())
        }
    }

    /// The property above on a fixed fleet where the best turn order makes the plan's first
    /// event, which is r0's (events come by region name), start after `earliestStart`. Freezes
    /// of 1 s, no recovery gap: r0, r1 and r2 (one single-instance VM each, 1 s spans) form a
    /// triangle of links, so they take three turns, and r1 and r2 each have a partner with a
    /// 2 s span (r3, r4). Only r1 or r2 taking the first turn, with r0 in the second, fits the
    /// 3 s the triangle needs at least; r0 first would leave r1, r2 and their 2 s partners 4 s.
    /// So the plan is as short as it can be and starts on time (with r1, r3 and r4), yet r0
    /// starts at 00:15:01, as in the one failure the property reported (00:15:01, not 00:15:00).
    @Test func theFirstRegionByNameMayWaitForItsTurnWithoutDelayingThePlan() throws {
        let fleet = try makeFleet(
            regions: ["r0", "r1", "r2", "r3", "r4"],
            pairs: [("r0", "r1"), ("r0", "r2"), ("r1", "r2"), ("r1", "r3"), ("r2", "r4")],
            sets: ["r3", "r4"].map { SetSpec(name: "\($0)-set", region: $0, updateDomains: 2, faultDomains: 1, vms: 2) },
            singles: ["r0": 1, "r1": 1, "r2": 1])
        let campaign = try makeCampaign(kind: .freeze, fleet: fleet, perVMDuration: 1, udGap: 0)
        try expectNearTheLowerBound(Built(fleet: fleet, campaign: campaign, other: nil, existing: []))

        let plan = try Planner.plan(campaign, fleet: fleet, existing: [])
        #expect(PlanSummary(events: plan).length == Planner.lowerBound(campaign, fleet: fleet))
        #expect(plan.first?.region == "r0")
        #expect(plan.first?.range.start == campaign.earliestStart + 1)
    }

    @Test func planningIsDeterministic() async throws {
        await propertyCheck(count: 30, input: Scenario.generator) { scenario in
            let built = try scenario.build()
            let terms = built.other.map { [$0.id: $0.terms] } ?? [:]
            let first = try? Planner.plan(built.campaign, fleet: built.fleet, existing: built.existing, existingCampaigns: terms)
            let again = try? Planner.plan(built.campaign, fleet: built.fleet, existing: built.existing.reversed(), existingCampaigns: terms)
            #expect(first == again)
        }
    }

    /// The checker does not trust the planner: moving one planned event by a random amount,
    /// or giving it to another VM, must either keep the plan valid or be reported.
    @Test func theCheckerCatchesAMovedEventOrTheMoveWasHarmless() async throws {
        await propertyCheck(count: 80, input: Scenario.generator, Gen.int(in: 0...10_000), Gen.int(in: -7200...7200)) { scenario, pick, shift in
            var scenario = scenario
            scenario.withWindows = false
            scenario.withExisting = false
            let built = try scenario.build()
            guard var plan = try? Planner.plan(built.campaign, fleet: built.fleet, existing: []), !plan.isEmpty else { return }
            let i = pick % plan.count
            let moved = plan[i].range.start + Int64(shift)
            plan[i].range = TimeRange(start: moved, end: moved + plan[i].range.duration)
            let found = violations(plan, fleet: built.fleet, campaigns: [built.campaign])
            #expect(found.isEmpty == independentlyValid(plan, fleet: built.fleet, campaign: built.campaign))
        }
    }
}

/// Plans `built` (no windows, blackouts or other campaigns) and checks it against the lower
/// bound, and that nothing delays its start.
///
/// The start checked is the plan's earliest, not `plan.first`'s: the planner returns events
/// by region name, and the first region by name may rightly wait for the turn of a linked
/// region (``PlannerPropertyTests/theFirstRegionByNameMayWaitForItsTurnWithoutDelayingThePlan()``).
/// Some region always takes the first turn, so without windows, blackouts or other campaigns
/// the earliest event starts at `earliestStart`.
func expectNearTheLowerBound(_ built: Built) throws {
    let plan = try Planner.plan(built.campaign, fleet: built.fleet, existing: [])
    let length = PlanSummary(events: plan).length
    let bound = Planner.lowerBound(built.campaign, fleet: built.fleet)
    #expect(bound <= length)
    #expect(length <= 3 * bound, "length \(length)s, lower bound \(bound)s")
    #expect(plan.map(\.range.start).min() == built.campaign.earliestStart)
}

/// A slow, obviously correct judge of the rules the moved-event property can break
/// (pairwise, straight from docs/rules.md#scheduling-rules), to cross-check the checker's sweeps.
func independentlyValid(_ events: [PlannedEvent], fleet: FleetSnapshot, campaign: Campaign) -> Bool {
    let partners = Rules.pairConflicts(fleet.pairs)
    for (i, a) in events.enumerated() {
        if a.range.start < a.plannedAt + a.kind.noticePeriod { return false }
        for b in fleet.blackouts where b.covers(region: a.region) && b.range.overlaps(a.range) { return false }
        for b in events[(i + 1)...] {
            if a.vm == b.vm && a.range.overlaps(b.range) { return false }
            if let s = a.availabilitySet, s == b.availabilitySet, a.updateDomain != b.updateDomain {
                let (first, second) = a.range.start <= b.range.start ? (a, b) : (b, a)
                if second.range.start < first.range.end + campaign.udGap { return false }
            }
        }
    }
    var spans: [String: TimeRange] = [:]
    for e in events {
        let s = spans[e.region] ?? e.range
        spans[e.region] = TimeRange(start: min(s.start, e.range.start), end: max(s.end, e.range.end))
    }
    for (region, span) in spans {
        for partner in partners[region] ?? [] { if let other = spans[partner], other.overlaps(span) { return false } }
        let multiEnd = events.filter { $0.region == region && $0.availabilitySet != nil }.map(\.range.end).max()
        if let multiEnd, events.contains(where: { $0.region == region && $0.availabilitySet == nil && $0.range.start < multiEnd }) {
            return false
        }
    }
    return true
}
