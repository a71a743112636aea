// Read-side use cases on the fleet: the per-region summary and the coming window occurrences.
import Foundation
public import PitstopCore
import PitstopStore

/// One region as `pitstop inventory` shows it.
public struct RegionSummary: Sendable, Equatable {
    public var region: Region
    /// Regions linked to this one, in either direction.
    public var partners: [String]
    public var availabilitySets: Int
    public var vms: Int
    public var singleInstanceVMs: Int
    /// VM counts per update domain and per fault domain, over all the region's sets.
    public var byUpdateDomain: [Int]
    public var byFaultDomain: [Int]
    public var warnings: [String]
}

/// One occurrence of a maintenance window, with the parts a blackout leaves usable.
public struct WindowOccurrence: Sendable, Equatable {
    public var window: String
    public var scope: WindowScope
    public var timeZone: String
    public var range: TimeRange
    public var localStart: LocalDateTime
    public var localEnd: LocalDateTime
    /// The occurrence minus blackouts; empty when a blackout covers all of it.
    public var usable: [TimeRange]
    /// Names of the blackouts that cut it.
    public var blackouts: [String]
}

extension InventoryService {
    public func inventorySummary() async throws -> [RegionSummary] {
        try await store.read { tx in
            let regions = try tx.fleet.regions()
            let pairs = try tx.fleet.regionPairs()
            let sets = try tx.fleet.availabilitySets()
            var summaries: [String: RegionSummary] = [:]
            for r in regions {
                let partners = Rules.pairPartners(of: r.name, among: pairs)
                summaries[r.name] = RegionSummary(region: r, partners: partners.sorted(), availabilitySets: 0, vms: 0, singleInstanceVMs: 0,
                                                  byUpdateDomain: [], byFaultDomain: [], warnings: partners.isEmpty ? ["no pair partner is recorded: pair-safety cannot be checked for this region"] : [])
            }
            for set in sets { summaries[set.region]?.availabilitySets += 1 }
            // Per set: VM count and the fault domains in use.
            var setVMs: [String: Int] = [:], setFDs: [String: Set<Int>] = [:]
            for count in try tx.vms.domainCounts() {
                let (region, set, ud, fd, n) = (count.region, count.availabilitySet, count.updateDomain, count.faultDomain, count.vms)
                guard var s = summaries[region] else { continue }
                s.vms += n
                if let set, let ud, let fd {
                    if s.byUpdateDomain.count <= ud { s.byUpdateDomain += Array(repeating: 0, count: ud + 1 - s.byUpdateDomain.count) }
                    if s.byFaultDomain.count <= fd { s.byFaultDomain += Array(repeating: 0, count: fd + 1 - s.byFaultDomain.count) }
                    s.byUpdateDomain[ud] += n
                    s.byFaultDomain[fd] += n
                    setVMs[set, default: 0] += n
                    setFDs[set, default: []].insert(fd)
                } else {
                    s.singleInstanceVMs += n
                }
                summaries[region] = s
            }
            for set in sets {
                let n = setVMs[set.name, default: 0]
                if n == 0 {
                    summaries[set.region]?.warnings.append("set \(set.name) has no VMs")
                } else if n == 1 {
                    summaries[set.region]?.warnings.append("set \(set.name) has a single VM: it is not protected by update domains")
                } else if setFDs[set.name]?.count == 1 {
                    summaries[set.region]?.warnings.append("set \(set.name): all \(n) VMs share fault domain \(setFDs[set.name]!.first!)")
                }
            }
            return regions.compactMap { summaries[$0.name] }
        }
    }

    /// Which windows `windows` lists.
    public enum WindowFilter: Sendable {
        case all, region(String), availabilitySet(String)
    }

    /// The occurrences of maintenance windows that overlap `range`, soonest first, with
    /// blackouts cut out. For a set, its own windows if it has any, else its region's.
    /// A range longer than ``InputLimits/maximumRangeSeconds`` is refused before anything is read.
    public func windowOccurrences(_ filter: WindowFilter, in range: TimeRange) async throws -> [WindowOccurrence] {
        try PitstopError.validating("within") { () throws(InputProblem) in try InputLimits.checkRange(range.duration) }
        return try await store.read { tx in
            let windows = try tx.fleet.maintenanceWindows()
            let blackouts = try tx.fleet.blackouts()
            let setRegions = Dictionary(uniqueKeysWithValues: try tx.fleet.availabilitySets().map { ($0.name, $0.region) })
            let chosen: [MaintenanceWindow]
            switch filter {
            case .all:
                chosen = windows
            case .region(let r):
                guard try tx.fleet.region(named: r) != nil else { throw PitstopError(.notFound, "unknown region '\(r.escapingControlCharacters)'") }
                chosen = windows.filter {
                    switch $0.scope {
                    case .region(let wr): wr == r
                    case .availabilitySet(let s): setRegions[s] == r
                    }
                }
            case .availabilitySet(let s):
                guard let region = setRegions[s] else { throw PitstopError(.notFound, "unknown availability set '\(s.escapingControlCharacters)'") }
                chosen = Rules.applicableWindows(set: s, region: region, among: windows)
            }
            var result: [WindowOccurrence] = []
            for window in chosen {
                let region: String? = switch window.scope {
                case .region(let r): r
                case .availabilitySet(let s): setRegions[s]
                }
                let applicable = blackouts.filter { b in region.map { b.covers(region: $0) } ?? (b.region == nil) }
                for occurrence in window.occurrences(overlapping: range) {
                    let cutting = applicable.filter { $0.range.overlaps(occurrence) }
                    result.append(WindowOccurrence(
                        window: window.name, scope: window.scope, timeZone: MaintenanceWindow.name(of: window.timeZone), range: occurrence,
                        localStart: LocalDateTime(occurrence.start, in: window.timeZone), localEnd: LocalDateTime(occurrence.end, in: window.timeZone),
                        usable: occurrence.subtracting(cutting.map(\.range)), blackouts: cutting.map(\.name)))
                }
            }
            return result.sorted { ($0.range.start, $0.window) < ($1.range.start, $1.window) }
        }
    }

    // MARK: Lists and lookups

    public func regions() async throws -> [Region] { try await store.read { tx in try tx.fleet.regions() } }
    public func regionPairs() async throws -> [RegionPair] { try await store.read { tx in try tx.fleet.regionPairs() } }
    public func subscriptions() async throws -> [Subscription] { try await store.read { tx in try tx.fleet.subscriptions() } }
    public func maintenanceWindows() async throws -> [MaintenanceWindow] { try await store.read { tx in try tx.fleet.maintenanceWindows() } }
    public func blackouts() async throws -> [Blackout] { try await store.read { tx in try tx.fleet.blackouts() } }

    public func availabilitySets(region: String? = nil) async throws -> [(set: AvailabilitySet, vms: Int)] {
        try await store.read { tx in
            let counts = try tx.vms.countsBySet()
            return try tx.fleet.availabilitySets(region: region).map { ($0, counts[$0.name, default: 0]) }
        }
    }

    /// A set and its VMs, in name order.
    public func availabilitySet(named name: String) async throws -> (set: AvailabilitySet, vms: [VirtualMachine]) {
        try await store.read { tx in
            guard let set = try tx.fleet.availabilitySet(named: name) else { throw PitstopError(.notFound, "unknown availability set '\(name.escapingControlCharacters)'") }
            var vms: [VirtualMachine] = []
            try tx.vms.forEach(in: .availabilitySet(name)) { vms.append($0) }
            return (set, vms)
        }
    }

    public func region(named name: String) async throws -> Region {
        try await store.read { tx in
            guard let region = try tx.fleet.region(named: name) else { throw PitstopError(.notFound, "unknown region '\(name.escapingControlCharacters)'") }
            return region
        }
    }

    public func subscription(id: String) async throws -> Subscription {
        try await store.read { tx in
            guard let subscription = try tx.fleet.subscription(id: id) else { throw PitstopError(.notFound, "unknown subscription '\(id.escapingControlCharacters)'") }
            return subscription
        }
    }

    public func maintenanceWindow(named name: String) async throws -> MaintenanceWindow {
        try await store.read { tx in
            guard let window = try tx.fleet.maintenanceWindow(named: name) else {
                throw PitstopError(.notFound, "unknown maintenance window '\(name.escapingControlCharacters)'")
            }
            return window
        }
    }

    public func vm(named name: String) async throws -> VirtualMachine {
        try await store.read { tx in
            guard let vm = try tx.vms.vm(named: name) else { throw PitstopError(.notFound, "unknown VM '\(name.escapingControlCharacters)'") }
            return vm
        }
    }

    /// Streams the VMs in scope in name order (of the names' bytes), from the first after
    /// `after` if given.
    public func forEachVM(in scope: VMScope, after: String? = nil, _ body: @escaping @Sendable (VirtualMachine) throws -> Void) async throws {
        try await store.read { tx in try tx.vms.forEach(in: scope, after: after, body) }
    }
}
