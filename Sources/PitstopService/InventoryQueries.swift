// Read-side use cases on the fleet: the per-region summary and the coming window occurrences.
import Foundation
import GRDB
import PitstopCore
import PitstopStore

/// The clock every command reads: `PITSTOP_NOW` (ISO 8601 with offset) replaces the system
/// clock so that plans can be rehearsed and tested.
public enum Clock {
    public static func now(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Timestamp {
        guard let text = environment["PITSTOP_NOW"], !text.isEmpty else { return Timestamp(Date()) }
        guard let t = Timestamp(iso8601: text) else {
            throw ServiceError(.invalid, "PITSTOP_NOW: '\(text.truncatedForMessage)' is not an ISO 8601 instant with an offset (like 2026-11-22T10:00:00Z)")
        }
        return t
    }
}

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
    public func inventorySummary() throws -> [RegionSummary] {
        try database.writer.read { db in
            let regions = try FleetRepository.regions(db)
            let pairs = try FleetRepository.regionPairs(db)
            let sets = try FleetRepository.availabilitySets(db)
            var summaries: [String: RegionSummary] = [:]
            for r in regions {
                let partners = Rules.pairPartners(of: r.name, among: pairs)
                summaries[r.name] = RegionSummary(region: r, partners: partners.sorted(), availabilitySets: 0, vms: 0, singleInstanceVMs: 0,
                                                  byUpdateDomain: [], byFaultDomain: [], warnings: partners.isEmpty ? ["no pair partner is recorded: pair-safety cannot be checked for this region"] : [])
            }
            for set in sets { summaries[set.region]?.availabilitySets += 1 }
            // Per set: VM count and the fault domains in use.
            var setVMs: [String: Int] = [:], setFDs: [String: Set<Int>] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT region, availability_set, update_domain, fault_domain, count(*) FROM vms
                GROUP BY region, availability_set, update_domain, fault_domain
                """)
            while let row = try rows.next() {
                let region: String = row[0], set: String? = row[1], ud: Int? = row[2], fd: Int? = row[3], n: Int = row[4]
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
    public func windowOccurrences(_ filter: WindowFilter, in range: TimeRange) throws -> [WindowOccurrence] {
        try database.writer.read { db in
            let windows = try FleetRepository.maintenanceWindows(db)
            let blackouts = try FleetRepository.blackouts(db)
            let setRegions = Dictionary(uniqueKeysWithValues: try FleetRepository.availabilitySets(db).map { ($0.name, $0.region) })
            let chosen: [MaintenanceWindow]
            switch filter {
            case .all:
                chosen = windows
            case .region(let r):
                guard try FleetRepository.region(db, named: r) != nil else { throw ServiceError(.notFound, "unknown region '\(r)'") }
                chosen = windows.filter {
                    switch $0.scope {
                    case .region(let wr): wr == r
                    case .availabilitySet(let s): setRegions[s] == r
                    }
                }
            case .availabilitySet(let s):
                guard let region = setRegions[s] else { throw ServiceError(.notFound, "unknown availability set '\(s)'") }
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
                        window: window.name, scope: window.scope, timeZone: window.timeZone.identifier, range: occurrence,
                        localStart: LocalDateTime(occurrence.start, in: window.timeZone), localEnd: LocalDateTime(occurrence.end, in: window.timeZone),
                        usable: occurrence.subtracting(cutting.map(\.range)), blackouts: cutting.map(\.name)))
                }
            }
            return result.sorted { ($0.range.start, $0.window) < ($1.range.start, $1.window) }
        }
    }

    // MARK: Lists and lookups

    public func regions() throws -> [Region] { try database.writer.read(FleetRepository.regions) }
    public func regionPairs() throws -> [RegionPair] { try database.writer.read(FleetRepository.regionPairs) }
    public func subscriptions() throws -> [Subscription] { try database.writer.read(FleetRepository.subscriptions) }
    public func maintenanceWindows() throws -> [MaintenanceWindow] { try database.writer.read(FleetRepository.maintenanceWindows) }
    public func blackouts() throws -> [Blackout] { try database.writer.read(FleetRepository.blackouts) }

    public func availabilitySets(region: String? = nil) throws -> [(set: AvailabilitySet, vms: Int)] {
        try database.writer.read { db in
            let counts = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: """
                SELECT availability_set, count(*) FROM vms WHERE availability_set IS NOT NULL GROUP BY availability_set
                """).map { ($0[0] as String, $0[1] as Int) })
            return try FleetRepository.availabilitySets(db, region: region).map { ($0, counts[$0.name, default: 0]) }
        }
    }

    /// A set and its VMs, in name order.
    public func availabilitySet(named name: String) throws -> (set: AvailabilitySet, vms: [VirtualMachine]) {
        try database.writer.read { db in
            guard let set = try FleetRepository.availabilitySet(db, named: name) else { throw ServiceError(.notFound, "unknown availability set '\(name)'") }
            var vms: [VirtualMachine] = []
            try VMRepository.forEach(db, in: .availabilitySet(name)) { vms.append($0) }
            return (set, vms)
        }
    }

    public func vm(named name: String) throws -> VirtualMachine {
        try database.writer.read { db in
            guard let vm = try VMRepository.vm(db, named: name) else { throw ServiceError(.notFound, "unknown VM '\(name)'") }
            return vm
        }
    }

    /// Streams the VMs in scope in name order.
    public func forEachVM(in scope: VMRepository.Scope, _ body: (VirtualMachine) throws -> Void) throws {
        try database.writer.read { db in try VMRepository.forEach(db, in: scope, body) }
    }
}
