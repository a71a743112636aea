// One meaning per rule: the checker on planned intervals, the history audit on the same
// intervals taken as actual, and guarded execution starting each event at its planned start
// find the same events breaking every rule they all judge, over random fleets and random
// (often rule-breaking) event sets.
import Foundation
import PropertyBased
import Testing
@testable import PitstopCore

/// A random fleet with random events on it, described by small numbers so that a failure
/// prints (and shrinks to) something readable.
struct RuleBreakingScenario: Sendable, CustomStringConvertible {
    var regionCount: Int
    /// Directed links `(from, to)`, taken modulo the region count.
    var links: [Scenario.Link]
    var sets: [Scenario.SetRecipe]
    var singles: Int
    var events: [EventRecipe]

    /// One event, or a whole update domain's wave when `wave` is set: on the `vm`-th VM (modulo
    /// the fleet), `start` minutes after a base instant, `length` in the kind's own unit.
    struct EventRecipe: Sendable, CustomStringConvertible {
        var vm: Int, start: Int, length: Int, freeze: Bool, wave: Bool, campaign: Int
        var description: String { "vm\(vm)@\(start)m+\(length)\(freeze ? "s" : "m")\(wave ? "W" : "")c\(campaign)" }
    }

    var description: String {
        "RuleBreakingScenario(regions: \(regionCount), links: \(links), sets: \(sets), singles: \(singles), events: \(events))"
    }

    static let generator = zip(
        Gen.int(in: 1...5),
        zip(Gen.int(in: 0...4), Gen.int(in: 0...4)).map { Scenario.Link(from: $0, to: $1) }.array(of: 0...6),
        zip(Gen.int(in: 0...4), Gen.int(in: 1...4), Gen.int(in: 1...3), Gen.int(in: 1...6))
            .map { Scenario.SetRecipe(region: $0.0, updateDomains: $0.1, faultDomains: $0.2, vms: $0.3) }.array(of: 0...5),
        Gen.int(in: 0...2),
        zip(Gen.int(in: 0...99), Gen.int(in: 0...240), Gen.int(in: 1...60), Gen.bool, Gen.bool(0.3), Gen.int(in: 0...2))
            .map { EventRecipe(vm: $0.0, start: $0.1, length: $0.2, freeze: $0.3, wave: $0.4, campaign: $0.5) }.array(of: 1...25)
    ).map { RuleBreakingScenario(regionCount: $0.0, links: $0.1, sets: $0.2, singles: $0.3, events: $0.4) }

    /// The fleet, and the events as planned (all scheduled, noticed long before).
    func build() throws -> (fleet: FleetSnapshot, events: [PlannedEvent]) {
        let names = (0..<regionCount).map { "r\($0)" }
        let pairs = links.map { RegionPair(region: names[$0.from % regionCount], pairedWith: names[$0.to % regionCount]) }
        var sets: [AvailabilitySet] = [], vms: [VirtualMachine] = []
        for (i, recipe) in self.sets.enumerated() {
            let set = AvailabilitySet(
                name: "s\(i)", region: names[recipe.region % regionCount], subscription: "sub",
                faultDomains: recipe.faultDomains, updateDomains: recipe.updateDomains)
            sets.append(set)
            for n in 0..<recipe.vms {
                vms.append(VirtualMachine(name: "s\(i)-\(n)", region: set.region, subscription: "sub", availabilitySet: set.name))
            }
        }
        for r in 0..<regionCount {
            for n in 0..<singles { vms.append(VirtualMachine(name: "r\(r)-solo-\(n)", region: names[r], subscription: "sub")) }
        }
        if vms.isEmpty { vms.append(VirtualMachine(name: "r0-solo-x", region: names[0], subscription: "sub")) }
        let fleet = try FleetSnapshot(
            regions: names.map { Region(name: $0) }, pairs: pairs, subscriptions: [Subscription(id: "sub")],
            sets: sets, vms: vms, windows: [], blackouts: [])

        let base = planningTime + 30 * 86_400
        var events: [PlannedEvent] = []
        for (n, recipe) in self.events.enumerated() {
            let picked = fleet.vm(named: vms[recipe.vm % vms.count].name)!
            // A wave: every VM of the picked VM's update domain, together.
            let members = recipe.wave && picked.availabilitySet != nil
                ? fleet.vms.compactMap { fleet.vm(named: $0.name) }.filter {
                    $0.availabilitySet == picked.availabilitySet && $0.updateDomain == picked.updateDomain
                }
                : [picked]
            let kind: MaintenanceKind = recipe.freeze ? .freeze : .reboot
            let start = base + Int64(recipe.start) * 60
            let range = TimeRange(start: start, end: start + Int64(recipe.length) * (recipe.freeze ? 1 : 60))
            for vm in members {
                events.append(PlannedEvent(
                    // Each region its own campaigns: the span rule within one campaign is the
                    // checker's and the guard's alone, so it stays out of the comparison.
                    campaign: "c\(recipe.campaign)-\(vm.region)", vm: vm.name, region: vm.region,
                    availabilitySet: vm.availabilitySet, updateDomain: vm.updateDomain, faultDomain: vm.faultDomain,
                    wave: "w\(n)", kind: kind, range: range, status: .scheduled, plannedAt: planningTime))
            }
        }
        return (fleet, events)
    }
}

/// For each rule among `rules`, every event id that any of `found` names under it.
private func involved(_ found: [(rule: RuleName, events: [String])], in rules: [RuleName]) -> [RuleName: Set<String>] {
    var out: [RuleName: Set<String>] = [:]
    for rule in rules { out[rule] = [] }
    for f in found where out[f.rule] != nil { out[f.rule]!.formUnion(f.events) }
    return out
}

/// The checker's findings on `events` as planned.
private func checked(_ events: [PlannedEvent], fleet: FleetSnapshot) -> [(rule: RuleName, events: [String])] {
    Checker.check(events: events, fleet: fleet, campaigns: [:], notices: allNotices(events, fleet: fleet)).map { ($0.rule, $0.events) }
}

/// Each event as it actually happened: started at its planned start, ended at its planned end.
private func asActual(_ e: PlannedEvent) -> PlannedEvent {
    var done = e
    done.status = .completed
    return done
}

@Suite struct RuleAgreementPropertyTests {
    /// Update-domain overlap, pair overlap and freeze too long are judged by both the checker
    /// and the history audit: on the same intervals they name the same events.
    @Test func theCheckerAndTheHistoryAuditFindTheSameEventsOnTheSameIntervals() async throws {
        await propertyCheck(count: 300, input: RuleBreakingScenario.generator) { scenario in
            let (fleet, events) = try scenario.build()
            let history = events.map {
                EventRecord(event: asActual($0), subscription: "sub", actualStart: $0.range.start, actualEnd: $0.range.end)
            }
            let audited = HistoryAudit.findings(events: history, pairs: fleet.pairs, notices: [:], now: planningTime + 365 * 86_400)
            let shared = Set(RuleName.scheduling).intersection(RuleName.history).sorted()
            #expect(shared == [.updateDomainOverlap, .pairOverlap, .freezeTooLong])
            let byChecker = involved(checked(events, fleet: fleet), in: shared)
            let byAudit = involved(audited.map { ($0.rule, $0.events) }, in: shared)
            for rule in shared {
                #expect(byChecker[rule] == byAudit[rule], "\(rule.rawValue): checker \(byChecker[rule]!.sorted()), audit \(byAudit[rule]!.sorted())")
            }
        }
    }

    /// Guarded execution, starting each event at its planned start with every event that started
    /// no later as what actually ran, refuses for pair overlap (and for update-domain overlap and
    /// double booking) exactly the events the checker names under that rule.
    @Test func guardedExecutionRefusesWhatTheCheckerReports() async throws {
        await propertyCheck(count: 300, input: RuleBreakingScenario.generator) { scenario in
            let (fleet, events) = try scenario.build()
            let ran = events.map { EventRecord(event: asActual($0), actualStart: $0.range.start, actualEnd: $0.range.end) }
            var refused: [(rule: RuleName, events: [String])] = []
            for e in events {
                let before = ran.filter { $0.event.id != e.id && $0.actualStart! <= e.range.start }
                for c in Guard.conflicts(starting: [e], at: e.range.start, others: before, campaigns: [:], pairs: fleet.pairs) {
                    refused.append((c.rule, c.events + [e.id]))
                }
            }
            let rules: [RuleName] = [.pairOverlap, .updateDomainOverlap, .doubleBooked]
            let byChecker = involved(checked(events, fleet: fleet), in: rules)
            let byGuard = involved(refused, in: rules)
            for rule in rules {
                #expect(byChecker[rule] == byGuard[rule], "\(rule.rawValue): checker \(byChecker[rule]!.sorted()), guard \(byGuard[rule]!.sorted())")
            }
        }
    }
}
