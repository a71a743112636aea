// Single-record changes to the fleet: add, pair, move and remove. Each is one transaction,
// with its audit entry; a removal that others depend on is refused with their names.
import Foundation
import GRDB
import PitstopCore
import PitstopStore

extension InventoryService {
    // MARK: Regions

    public func addRegion(_ region: Region) throws {
        try check(region.name, field: "name")
        try database.writer.write { db in
            guard try FleetRepository.region(db, named: region.name) == nil else {
                throw ServiceError(.conflict, "region \(region.name) already exists")
            }
            _ = try FleetRepository.upsert(db, region: region)
            try audit(db, "region.added", [AuditSubject(.region, region.name)], details: Self.json(region))
        }
    }

    /// Adds the regions and links of DOMAIN.md's published pair table that are missing.
    public func loadDefaultRegions() throws -> (regions: UpsertCounts, pairs: UpsertCounts) {
        try database.writer.write { db in
            var regions = UpsertCounts(), pairs = UpsertCounts()
            var addedRegions: [String] = [], addedPairs: [RegionPair] = []
            for name in Set(RegionPair.defaults.flatMap { [$0.region, $0.pairedWith] }).sorted() {
                if try FleetRepository.region(db, named: name) == nil {
                    regions.record(try FleetRepository.upsert(db, region: Region(name: name)))
                    addedRegions.append(name)
                } else {
                    regions.record(.unchanged)
                }
            }
            for pair in RegionPair.defaults {
                let outcome = try FleetRepository.upsert(db, pair: pair)
                pairs.record(outcome)
                if outcome == .added { addedPairs.append(pair) }
            }
            // Nothing added, nothing changed: a second run leaves no entry.
            if !addedRegions.isEmpty || !addedPairs.isEmpty {
                try audit(db, "region.defaults-loaded",
                          (addedRegions + addedPairs.flatMap { [$0.region, $0.pairedWith] }).map { AuditSubject(.region, $0) },
                          details: JSONText.object([("regionsAdded", JSONText.array(addedRegions.map(JSONText.quote))),
                                                    ("pairsAdded", JSONText.array(addedPairs.map(Self.json)))]))
            }
            return (regions, pairs)
        }
    }

    public func pair(_ region: String, with partner: String) throws -> UpsertOutcome {
        guard region != partner else { throw ServiceError(.invalid, "a region cannot be paired with itself ('\(region)')") }
        return try database.writer.write { db in
            for name in [region, partner] where try FleetRepository.region(db, named: name) == nil {
                throw ServiceError(.notFound, "unknown region '\(name)'")
            }
            let link = RegionPair(region: region, pairedWith: partner)
            let outcome = try FleetRepository.upsert(db, pair: link)
            if outcome == .added {
                try audit(db, "region.paired", [AuditSubject(.region, region), AuditSubject(.region, partner)], details: Self.json(link))
            }
            return outcome
        }
    }

    public func unpair(_ region: String, from partner: String) throws {
        try database.writer.write { db in
            let links = try FleetRepository.removePair(db, region, partner)
            guard links > 0 else {
                throw ServiceError(.notFound, "\(region) and \(partner) are not paired")
            }
            try audit(db, "region.unpaired", [AuditSubject(.region, region), AuditSubject(.region, partner)],
                      details: JSONText.object([("region", JSONText.quote(region)), ("other", JSONText.quote(partner)), ("linksRemoved", "\(links)")]))
        }
    }

    public func removeRegion(_ name: String) throws {
        try database.writer.write { db in
            guard let region = try FleetRepository.region(db, named: name) else { throw ServiceError(.notFound, "unknown region '\(name)'") }
            try refuseIfUsed(db, "region \(name)", [
                ("availability sets", "SELECT name FROM availability_sets WHERE region = ? ORDER BY name", [name]),
                ("VMs", "SELECT name FROM vms WHERE region = ? ORDER BY name", [name]),
                ("maintenance windows", "SELECT name FROM maintenance_windows WHERE region = ? ORDER BY name", [name]),
                ("blackouts", "SELECT name FROM blackouts WHERE region = ? ORDER BY name", [name]),
                ("pair links", "SELECT region || ' -> ' || paired_with FROM region_pairs WHERE region = ?1 OR paired_with = ?1 ORDER BY 1", [name]),
            ])
            _ = try FleetRepository.delete(db, from: .regions, key: name)
            try audit(db, "region.removed", [AuditSubject(.region, name)], details: Self.json(region))
        }
    }

    // MARK: Subscriptions

    public func addSubscription(_ subscription: Subscription) throws {
        try check(subscription.id, field: "id")
        for address in subscription.admins + subscription.coAdmins {
            do throws(InputProblem) { try InventoryRules.checkEmail(address) } catch { throw ServiceError(.invalid, error.message) }
        }
        do throws(InputProblem) { _ = try MaintenanceWindow.timeZone(named: subscription.noticeTimeZone) } catch {
            throw ServiceError(.invalid, "notice time zone: \(error.message)")
        }
        try database.writer.write { db in
            guard try FleetRepository.subscription(db, id: subscription.id) == nil else {
                throw ServiceError(.conflict, "subscription \(subscription.id) already exists")
            }
            _ = try FleetRepository.upsert(db, subscription: subscription)
            try audit(db, "subscription.added", [AuditSubject(.subscription, subscription.id)], details: Self.json(subscription))
        }
    }

    public func removeSubscription(_ id: String) throws {
        try database.writer.write { db in
            guard let subscription = try FleetRepository.subscription(db, id: id) else { throw ServiceError(.notFound, "unknown subscription '\(id)'") }
            try refuseIfUsed(db, "subscription \(id)", [
                ("availability sets", "SELECT name FROM availability_sets WHERE subscription = ? ORDER BY name", [id]),
                ("VMs", "SELECT name FROM vms WHERE subscription = ? ORDER BY name", [id]),
            ])
            _ = try FleetRepository.delete(db, from: .subscriptions, key: id)
            try audit(db, "subscription.removed", [AuditSubject(.subscription, id)], details: Self.json(subscription))
        }
    }

    // MARK: Availability sets

    public func addAvailabilitySet(_ set: AvailabilitySet) throws {
        try check(set.name, field: "name")
        do throws(InputProblem) {
            try InventoryRules.checkFaultDomains(set.faultDomains)
        } catch { throw ServiceError(.invalid, "fault domains: \(error.message)") }
        do throws(InputProblem) {
            try InventoryRules.checkUpdateDomains(set.updateDomains)
        } catch { throw ServiceError(.invalid, "update domains: \(error.message)") }
        try database.writer.write { db in
            guard try FleetRepository.availabilitySet(db, named: set.name) == nil else {
                throw ServiceError(.conflict, "availability set \(set.name) already exists")
            }
            guard try FleetRepository.region(db, named: set.region) != nil else { throw ServiceError(.notFound, "unknown region '\(set.region)'") }
            guard try FleetRepository.subscription(db, id: set.subscription) != nil else {
                throw ServiceError(.notFound, "unknown subscription '\(set.subscription)'")
            }
            _ = try FleetRepository.upsert(db, availabilitySet: set)
            try audit(db, "set.added", Self.subjects(of: set), details: Self.json(set))
        }
    }

    public func removeAvailabilitySet(_ name: String) throws {
        try database.writer.write { db in
            guard let set = try FleetRepository.availabilitySet(db, named: name) else { throw ServiceError(.notFound, "unknown availability set '\(name)'") }
            try refuseIfUsed(db, "availability set \(name)", [
                ("VMs", "SELECT name FROM vms WHERE availability_set = ? ORDER BY name", [name]),
                ("maintenance windows", "SELECT name FROM maintenance_windows WHERE availability_set = ? ORDER BY name", [name]),
            ])
            _ = try FleetRepository.delete(db, from: .availabilitySets, key: name)
            try audit(db, "set.removed", Self.subjects(of: set), details: Self.json(set))
        }
    }

    // MARK: VMs

    /// Adds one VM; a set VM without domains is placed round-robin.
    @discardableResult
    public func addVM(_ draft: VMDraft) throws -> VirtualMachine {
        try database.writer.write { db in
            guard try VMRepository.vm(db, named: draft.name) == nil else { throw ServiceError(.conflict, "VM \(draft.name) already exists") }
            let vm = try place(db, draft, existing: nil)
            try audit(db, "vm.added", Self.subjects(of: vm), details: Self.json(vm))
            return vm
        }
    }

    /// Moves a VM to another set (or out of any set with `set == nil`), or to other domains
    /// of its set.
    @discardableResult
    public func moveVM(_ name: String, toSet set: String?, updateDomain: Int?, faultDomain: Int?) throws -> VirtualMachine {
        try database.writer.write { db in
            guard let existing = try VMRepository.vm(db, named: name) else { throw ServiceError(.notFound, "unknown VM '\(name)'") }
            // A VM moved into a set of another region moves with it.
            let region = try set.flatMap { try FleetRepository.availabilitySet(db, named: $0)?.region } ?? existing.region
            let draft = VMDraft(name: name, region: region, subscription: existing.subscription, availabilitySet: set,
                                updateDomain: updateDomain, faultDomain: faultDomain, ipAddress: existing.ipAddress)
            let moved = try place(db, draft, existing: existing)
            if moved != existing {
                try audit(db, "vm.moved", Self.subjects(of: existing) + Self.subjects(of: moved), details: JSONText.object([
                    ("vm", JSONText.quote(name)), ("from", Self.placement(existing)), ("to", Self.placement(moved)),
                ]))
            }
            return moved
        }
    }

    private func place(_ db: Database, _ draft: VMDraft, existing: VirtualMachine?) throws -> VirtualMachine {
        var joined: String?
        let placed = try FleetRepository.placedCounts(db)
        switch draft.resolve(in: try FleetRepository.fleetIndex(db), existing: existing, nextPlacement: { set in joined = set.name; return placed[set.name, default: 0] }) {
        case .failure(let problems):
            throw ServiceError(.invalid, problems.problems.map(\.description).joined(separator: "; "))
        case .success(let vm):
            do {
                let writer = try VMWriter(db)
                if existing == nil { _ = try writer.insertIfAbsent(vm) } else { try writer.overwrite(vm) }
            } catch let error as DatabaseError {
                throw ServiceError(.conflict, StoreMessages.describe(error))
            }
            if let joined { try FleetRepository.setPlacedCount(db, set: joined, to: placed[joined, default: 0] + 1) }
            return vm
        }
    }

    /// Removes a VM; one with scheduled or started maintenance is refused, naming the
    /// campaigns, since its events would be planned for a VM that no longer exists.
    public func removeVM(_ name: String) throws {
        try database.writer.write { db in
            guard let vm = try VMRepository.vm(db, named: name) else { throw ServiceError(.notFound, "unknown VM '\(name)'") }
            try refuseIfUsed(db, "VM \(name)", [
                ("scheduled or started events of campaigns",
                 "SELECT DISTINCT campaign FROM events WHERE vm = ? AND status IN ('scheduled', 'started') ORDER BY 1", [name]),
            ])
            _ = try FleetRepository.delete(db, from: .vms, key: name)
            try audit(db, "vm.removed", Self.subjects(of: vm), details: Self.json(vm))
        }
    }

    // MARK: Windows and blackouts

    public func addWindow(_ window: MaintenanceWindow) throws {
        try check(window.name, field: "name")
        try database.writer.write { db in
            guard try FleetRepository.maintenanceWindow(db, named: window.name) == nil else {
                throw ServiceError(.conflict, "maintenance window \(window.name) already exists")
            }
            switch window.scope {
            case .region(let r):
                guard try FleetRepository.region(db, named: r) != nil else { throw ServiceError(.notFound, "unknown region '\(r)'") }
            case .availabilitySet(let s):
                guard try FleetRepository.availabilitySet(db, named: s) != nil else { throw ServiceError(.notFound, "unknown availability set '\(s)'") }
            }
            _ = try FleetRepository.upsert(db, window: window)
            try audit(db, "window.added", Self.subjects(of: window), details: Self.json(window))
        }
    }

    public func removeWindow(_ name: String) throws {
        try database.writer.write { db in
            guard let window = try FleetRepository.maintenanceWindow(db, named: name),
                  try FleetRepository.delete(db, from: .maintenanceWindows, key: name) else {
                throw ServiceError(.notFound, "unknown maintenance window '\(name)'")
            }
            try audit(db, "window.removed", Self.subjects(of: window), details: Self.json(window))
        }
    }

    public func addBlackout(_ blackout: Blackout) throws {
        try check(blackout.name, field: "name")
        guard blackout.end > blackout.start else {
            throw ServiceError(.invalid, "blackout end \(blackout.end.iso8601) is not after its start \(blackout.start.iso8601)")
        }
        try database.writer.write { db in
            guard try FleetRepository.blackout(db, named: blackout.name) == nil else {
                throw ServiceError(.conflict, "blackout \(blackout.name) already exists")
            }
            if let r = blackout.region, try FleetRepository.region(db, named: r) == nil {
                throw ServiceError(.notFound, "unknown region '\(r)'")
            }
            _ = try FleetRepository.upsert(db, blackout: blackout)
            try audit(db, "blackout.added", Self.subjects(of: blackout), details: Self.json(blackout))
        }
    }

    public func removeBlackout(_ name: String) throws {
        try database.writer.write { db in
            guard let blackout = try FleetRepository.blackout(db, named: name), try FleetRepository.delete(db, from: .blackouts, key: name) else {
                throw ServiceError(.notFound, "unknown blackout '\(name)'")
            }
            try audit(db, "blackout.removed", Self.subjects(of: blackout), details: Self.json(blackout))
        }
    }

    // MARK: Helpers

    private func check(_ name: String, field: String) throws {
        do throws(InputProblem) { try InventoryRules.checkName(name) } catch {
            throw ServiceError(.invalid, "\(field): \(error.message)")
        }
    }

    /// Refuses when any dependant exists, naming the first few of each kind.
    private func refuseIfUsed(_ db: Database, _ subject: String, _ dependants: [(kind: String, sql: String, arguments: StatementArguments)]) throws {
        var found: [String] = []
        for dependant in dependants {
            let names = try String.fetchAll(db, sql: dependant.sql + " LIMIT 6", arguments: dependant.arguments)
            guard !names.isEmpty else { continue }
            let shown = names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", …" : "")
            found.append("\(dependant.kind): \(shown)")
        }
        guard found.isEmpty else {
            throw ServiceError(.conflict, "\(subject) is still used by \(found.joined(separator: "; ")); remove or move those first")
        }
    }
}
