// Small fleets, campaigns and helpers shared by the planner and checker tests.
import Foundation
@testable import PitstopCore

/// 2026-11-01T00:00:00Z: when test campaigns are planned.
let planningTime = Timestamp(iso8601: "2026-11-01T00:00:00Z")!

func at(_ text: String) -> Timestamp { Timestamp(iso8601: text)! }

/// A set in a test fleet: `vms` VMs named `<name>-0`... placed round-robin.
struct SetSpec {
    var name: String
    var region: String
    var updateDomains = 5
    var faultDomains = 2
    var vms: Int
}

/// A fleet with one subscription `sub`, sets filled round-robin and `singles` single-instance
/// VMs per region named `<region>-solo-<n>`.
func makeFleet(
    regions: [String], pairs: [(String, String)] = [], sets: [SetSpec] = [], singles: [String: Int] = [:],
    windows: [MaintenanceWindow] = [], blackouts: [Blackout] = []
) throws -> FleetSnapshot {
    var vms: [VirtualMachine] = []
    for spec in sets {
        for n in 0..<spec.vms {
            vms.append(VirtualMachine(name: "\(spec.name)-\(n)", region: spec.region, subscription: "sub", availabilitySet: spec.name))
        }
    }
    for region in singles.keys.sorted() {
        for n in 0..<singles[region]! {
            vms.append(VirtualMachine(name: "\(region)-solo-\(n)", region: region, subscription: "sub"))
        }
    }
    return try FleetSnapshot(
        regions: regions.map { Region(name: $0) },
        pairs: pairs.map { RegionPair(region: $0.0, pairedWith: $0.1) },
        subscriptions: [Subscription(id: "sub", admins: ["ops@example.com"])],
        sets: sets.map { AvailabilitySet(name: $0.name, region: $0.region, subscription: "sub", faultDomains: $0.faultDomains, updateDomains: $0.updateDomains) },
        vms: vms, windows: windows, blackouts: blackouts)
}

/// A one-off (non-recurring) window in UTC.
func oneOffWindow(_ name: String, _ scope: WindowScope, start: String, hours: Int64 = 0, seconds: Int64 = 0) -> MaintenanceWindow {
    MaintenanceWindow(
        name: name, scope: scope, start: LocalDateTime(start)!, timeZone: TimeZone(identifier: "UTC")!,
        duration: DurationText(seconds: hours * 3600 + seconds))
}

func makeCampaign(
    _ id: String = "c1", kind: MaintenanceKind = .reboot, regions: [String]? = nil, fleet: FleetSnapshot,
    notBefore: Timestamp? = nil, perVMDuration: Int64? = nil, udGap: Int64 = 1800, horizon: Int64 = 90 * 86_400,
    createdAt: Timestamp = planningTime
) throws -> Campaign {
    try Campaign(
        id: id,
        request: CampaignRequest(kind: kind, regions: regions, notBefore: notBefore, perVMDuration: perVMDuration, udGap: udGap, horizon: horizon),
        createdAt: createdAt, fleet: fleet)
}

/// Every (campaign, subscription) pair of `events`: all notices sent.
func allNotices(_ events: [PlannedEvent], fleet: FleetSnapshot) -> Set<NoticeKey> {
    Set(events.compactMap { e in fleet.vm(named: e.vm).map { NoticeKey(campaign: e.campaign, subscription: $0.subscription) } })
}

/// Checks `events` with every notice sent and the campaigns' terms known.
func violations(_ events: [PlannedEvent], fleet: FleetSnapshot, campaigns: [Campaign]) -> [Finding] {
    Checker.check(
        events: events, fleet: fleet, campaigns: Dictionary(uniqueKeysWithValues: campaigns.map { ($0.id, $0.terms) }),
        notices: allNotices(events, fleet: fleet))
}

/// The span (first start to last end) of the events in `region`.
func span(_ events: [PlannedEvent], region: String) -> TimeRange? {
    let mine = events.filter { $0.region == region }
    guard let first = mine.map(\.range.start).min(), let last = mine.map(\.range.end).max() else { return nil }
    return TimeRange(start: first, end: last)
}

/// A hand-made event for checker tests.
func event(
    _ vm: String, fleet: FleetSnapshot, campaign: String = "c1", kind: MaintenanceKind = .reboot, start: Timestamp,
    seconds: Int64 = 900, status: EventStatus = .scheduled, plannedAt: Timestamp = planningTime
) -> PlannedEvent {
    let v = fleet.vm(named: vm)!
    let wave = v.availabilitySet.map { StableID.wave(campaign: campaign, region: v.region, availabilitySet: $0, updateDomain: v.updateDomain!) }
        ?? StableID.singleInstanceWave(campaign: campaign, region: v.region)
    return PlannedEvent(
        campaign: campaign, vm: vm, region: v.region, availabilitySet: v.availabilitySet,
        updateDomain: v.updateDomain, faultDomain: v.faultDomain, wave: wave, kind: kind,
        range: TimeRange(start: start, end: start + seconds), status: status, plannedAt: plannedAt)
}
