// The planner and checker on a large fleet: a mid-size one always, a million VMs on demand
// (`PITSTOP_SCALE=1 swift test -c release -Xswiftc -enable-testing --filter PlannerScaleTests`).
import Foundation
import Testing
@testable import PitstopCore

@Suite struct PlannerScaleTests {
    /// `vms` VMs in `sets` sets over `regions` regions (a thousandth single-instance), with
    /// each even region paired to the next and every sixth one to the region two before.
    static func bigFleet(regions regionCount: Int, sets setCount: Int, vms vmTotal: Int) throws -> FleetSnapshot {
        let regions = (0..<regionCount).map { Region(name: String(format: "region%02d", $0)) }
        var pairs: [RegionPair] = []
        for i in stride(from: 0, to: regionCount - 1, by: 2) { pairs.append(RegionPair(region: regions[i].name, pairedWith: regions[i + 1].name)) }
        for i in stride(from: 0, to: regionCount - 3, by: 6) { pairs.append(RegionPair(region: regions[i + 2].name, pairedWith: regions[i].name)) }
        let sets = (0..<setCount).map {
            AvailabilitySet(name: String(format: "set%04d", $0), region: regions[$0 % regionCount].name, subscription: "sub\($0 % 50)", faultDomains: 3, updateDomains: 5 + $0 % 16)
        }
        var vms: [VirtualMachine] = []
        vms.reserveCapacity(vmTotal)
        for n in 0..<vmTotal / 1000 { vms.append(VirtualMachine(name: "solo\(n)", region: regions[n % regionCount].name, subscription: "sub\(n % 50)")) }
        var n = 0
        while vms.count < vmTotal {
            let set = sets[n % setCount]
            vms.append(VirtualMachine(name: "vm\(n)", region: set.region, subscription: set.subscription, availabilitySet: set.name))
            n += 1
        }
        return try FleetSnapshot(regions: regions, pairs: pairs, subscriptions: (0..<50).map { Subscription(id: "sub\($0)") }, sets: sets, vms: vms)
    }

    func planAndCheck(_ fleet: FleetSnapshot) throws -> (plan: Duration, check: Duration) {
        let campaign = try makeCampaign("big", fleet: fleet)
        let clock = ContinuousClock()
        var events: [PlannedEvent] = []
        let planning = try clock.measure { events = try Planner.plan(campaign, fleet: fleet, existing: []) }
        var found: [Finding] = []
        let checking = clock.measure { found = violations(events, fleet: fleet, campaigns: [campaign]) }
        #expect(events.count == fleet.vms.count)
        #expect(found.isEmpty)
        #expect(PlanSummary(events: events).length == Planner.lowerBound(campaign, fleet: fleet))
        return (planning, checking)
    }

    @Test func fiftyThousandVMsPlanAndCheckClean() throws {
        _ = try planAndCheck(try Self.bigFleet(regions: 12, sets: 200, vms: 50_000))
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["PITSTOP_SCALE"] != nil))
    func aMillionVMsPlanAndCheckClean() throws {
        // Correctness at full scale; its speed is measured by Benchmarks/run.py, not here.
        let (plan, check) = try planAndCheck(try Self.bigFleet(regions: 60, sets: 2000, vms: 1_000_000))
        print("a million VMs: plan \(plan), check \(check)")
    }
}
