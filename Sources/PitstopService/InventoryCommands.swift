// Single-record changes to the fleet: add, pair, move and remove. Each is one transaction,
// with its audit entry; a removal that others depend on is refused with their names.
import Foundation
public import PitstopCore
import PitstopStore

extension InventoryService {
    // MARK: Regions

    public func addRegion(_ region: Region) async throws {
        try check(region.name, field: "name")
        try await store.write { tx in
            guard try tx.fleet.region(named: region.name) == nil else {
                throw PitstopError(.conflict, "region \(region.name) already exists")
            }
            _ = try tx.fleet.upsert(region: region)
            try audit(tx, "region.added", [AuditSubject(.region, region.name)], details: Responses.region(region))
        }
    }

    /// Adds the regions and links of the published pair table (docs/rules.md#default-region-pairs) that are missing.
    public func loadDefaultRegions() async throws -> (regions: UpsertCounts, pairs: UpsertCounts) {
        try await store.write { tx in
            var regions = UpsertCounts(), pairs = UpsertCounts()
            var addedRegions: [String] = [], addedPairs: [RegionPair] = []
            for name in Set(RegionPair.defaults.flatMap { [$0.region, $0.pairedWith] }).sorted() {
                if try tx.fleet.region(named: name) == nil {
                    regions.record(try tx.fleet.upsert(region: Region(name: name)))
                    addedRegions.append(name)
                } else {
                    regions.record(.unchanged)
                }
            }
            for pair in RegionPair.defaults {
                let outcome = try tx.fleet.upsert(pair: pair)
                pairs.record(outcome)
                if outcome == .added { addedPairs.append(pair) }
            }
            // Nothing added, nothing changed: a second run leaves no entry.
            if !addedRegions.isEmpty || !addedPairs.isEmpty {
                try audit(tx, "region.defaults-loaded",
                          (addedRegions + addedPairs.flatMap { [$0.region, $0.pairedWith] }).map { AuditSubject(.region, $0) },
                          details: JSONText.object([("regionsAdded", JSONText.array(addedRegions.map(JSONText.quote))),
                                                    ("pairsAdded", JSONText.array(addedPairs.map(Responses.regionPair)))]))
            }
            return (regions, pairs)
        }
    }

    public func pair(_ region: String, with partner: String) async throws -> UpsertOutcome {
        guard region != partner else { throw PitstopError(.invalid, "a region cannot be paired with itself ('\(region.escapingControlCharacters)')") }
        return try await store.write { tx in
            for name in [region, partner] where try tx.fleet.region(named: name) == nil {
                throw PitstopError(.notFound, "unknown region '\(name.escapingControlCharacters)'")
            }
            let link = RegionPair(region: region, pairedWith: partner)
            let outcome = try tx.fleet.upsert(pair: link)
            if outcome == .added {
                try audit(tx, "region.paired", [AuditSubject(.region, region), AuditSubject(.region, partner)], details: Responses.regionPair(link))
            }
            return outcome
        }
    }

    public func unpair(_ region: String, from partner: String) async throws {
        try await store.write { tx in
            let links = try tx.fleet.removePair(region, partner)
            guard links > 0 else {
                throw PitstopError(.notFound, "\(region) and \(partner) are not paired")
            }
            try audit(tx, "region.unpaired", [AuditSubject(.region, region), AuditSubject(.region, partner)],
                      details: JSONText.object([("region", JSONText.quote(region)), ("other", JSONText.quote(partner)), ("linksRemoved", "\(links)")]))
        }
    }

    public func removeRegion(_ name: String) async throws {
        try await store.write { tx in
            guard let region = try tx.fleet.region(named: name) else { throw PitstopError(.notFound, "unknown region '\(name.escapingControlCharacters)'") }
            try refuseIfUsed(tx, .region, name, "region \(name)")
            _ = try tx.fleet.delete(.region, key: name)
            try audit(tx, "region.removed", [AuditSubject(.region, name)], details: Responses.region(region))
        }
    }

    // MARK: Subscriptions

    public func addSubscription(_ subscription: Subscription) async throws {
        try check(subscription.id, field: "id")
        for address in subscription.admins + subscription.coAdmins {
            do throws(InputProblem) { try InventoryRules.checkEmail(address) } catch { throw PitstopError(.invalid, error.message) }
        }
        do throws(InputProblem) { _ = try MaintenanceWindow.timeZone(named: subscription.noticeTimeZone) } catch {
            throw PitstopError(.invalid, "notice time zone: \(error.message)")
        }
        try await store.write { tx in
            guard try tx.fleet.subscription(id: subscription.id) == nil else {
                throw PitstopError(.conflict, "subscription \(subscription.id) already exists")
            }
            _ = try tx.fleet.upsert(subscription: subscription)
            try audit(tx, "subscription.added", [AuditSubject(.subscription, subscription.id)], details: Responses.subscription(subscription))
        }
    }

    public func removeSubscription(_ id: String) async throws {
        try await store.write { tx in
            guard let subscription = try tx.fleet.subscription(id: id) else { throw PitstopError(.notFound, "unknown subscription '\(id.escapingControlCharacters)'") }
            try refuseIfUsed(tx, .subscription, id, "subscription \(id)")
            _ = try tx.fleet.delete(.subscription, key: id)
            try audit(tx, "subscription.removed", [AuditSubject(.subscription, id)], details: Responses.subscription(subscription))
        }
    }

    // MARK: Availability sets

    public func addAvailabilitySet(_ set: AvailabilitySet) async throws {
        try check(set.name, field: "name")
        do throws(InputProblem) {
            try InventoryRules.checkFaultDomains(set.faultDomains)
        } catch { throw PitstopError(.invalid, "fault domains: \(error.message)") }
        do throws(InputProblem) {
            try InventoryRules.checkUpdateDomains(set.updateDomains)
        } catch { throw PitstopError(.invalid, "update domains: \(error.message)") }
        try await store.write { tx in
            guard try tx.fleet.availabilitySet(named: set.name) == nil else {
                throw PitstopError(.conflict, "availability set \(set.name) already exists")
            }
            guard try tx.fleet.region(named: set.region) != nil else { throw PitstopError(.notFound, "unknown region '\(set.region.escapingControlCharacters)'") }
            guard try tx.fleet.subscription(id: set.subscription) != nil else {
                throw PitstopError(.notFound, "unknown subscription '\(set.subscription.escapingControlCharacters)'")
            }
            _ = try tx.fleet.upsert(availabilitySet: set)
            try audit(tx, "set.added", Self.subjects(of: set), details: Responses.availabilitySet(set))
        }
    }

    public func removeAvailabilitySet(_ name: String) async throws {
        try await store.write { tx in
            guard let set = try tx.fleet.availabilitySet(named: name) else { throw PitstopError(.notFound, "unknown availability set '\(name.escapingControlCharacters)'") }
            try refuseIfUsed(tx, .availabilitySet, name, "availability set \(name)")
            _ = try tx.fleet.delete(.availabilitySet, key: name)
            try audit(tx, "set.removed", Self.subjects(of: set), details: Responses.availabilitySet(set))
        }
    }

    // MARK: VMs

    /// Adds one VM; a set VM without domains is placed round-robin.
    @discardableResult
    public func addVM(_ draft: VMDraft) async throws -> VirtualMachine {
        try await store.write { tx in
            guard try tx.vms.vm(named: draft.name) == nil else { throw PitstopError(.conflict, "VM \(draft.name) already exists") }
            let vm = try place(tx, draft, existing: nil)
            try audit(tx, "vm.added", Self.subjects(of: vm), details: Responses.vm(vm))
            return vm
        }
    }

    /// Moves a VM to another set (or out of any set with `set == nil`), or to other domains
    /// of its set.
    @discardableResult
    public func moveVM(_ name: String, toSet set: String?, updateDomain: Int?, faultDomain: Int?) async throws -> VirtualMachine {
        try await store.write { tx in
            guard let existing = try tx.vms.vm(named: name) else { throw PitstopError(.notFound, "unknown VM '\(name.escapingControlCharacters)'") }
            // A VM moved into a set of another region moves with it.
            let region = try set.flatMap { try tx.fleet.availabilitySet(named: $0)?.region } ?? existing.region
            let draft = VMDraft(name: name, region: region, subscription: existing.subscription, availabilitySet: set,
                                updateDomain: updateDomain, faultDomain: faultDomain, ipAddress: existing.ipAddress)
            let moved = try place(tx, draft, existing: existing)
            if moved != existing {
                try audit(tx, "vm.moved", Self.subjects(of: existing) + Self.subjects(of: moved), details: JSONText.object([
                    ("vm", JSONText.quote(name)), ("from", Self.placement(existing)), ("to", Self.placement(moved)),
                ]))
            }
            return moved
        }
    }

    private func place(_ tx: any Repositories, _ draft: VMDraft, existing: VirtualMachine?) throws -> VirtualMachine {
        var joined: String?
        let placed = try tx.fleet.placedCounts()
        switch draft.resolve(in: try tx.fleet.fleetIndex(), existing: existing, nextPlacement: { set in joined = set.name; return placed[set.name, default: 0] }) {
        case .failure(let problems):
            throw PitstopError(.invalid, problems.problems.map(\.description).joined(separator: "; "))
        case .success(let vm):
            let writer = try tx.vms.writer()
            if existing == nil { _ = try writer.insertIfAbsent(vm) } else { try writer.overwrite(vm) }
            if let joined { try tx.fleet.setPlacedCounts([(joined, placed[joined, default: 0] + 1)]) }
            return vm
        }
    }

    /// Removes a VM; one with scheduled or started maintenance is refused, naming the
    /// campaigns, since its events would be planned for a VM that no longer exists.
    public func removeVM(_ name: String) async throws {
        try await store.write { tx in
            guard let vm = try tx.vms.vm(named: name) else { throw PitstopError(.notFound, "unknown VM '\(name.escapingControlCharacters)'") }
            try refuseIfUsed(tx, .vm, name, "VM \(name)")
            _ = try tx.fleet.delete(.vm, key: name)
            try audit(tx, "vm.removed", Self.subjects(of: vm), details: Responses.vm(vm))
        }
    }

    // MARK: Windows and blackouts

    public func addWindow(_ window: MaintenanceWindow) async throws {
        try check(window.name, field: "name")
        try await store.write { tx in
            guard try tx.fleet.maintenanceWindow(named: window.name) == nil else {
                throw PitstopError(.conflict, "maintenance window \(window.name) already exists")
            }
            switch window.scope {
            case .region(let r):
                guard try tx.fleet.region(named: r) != nil else { throw PitstopError(.notFound, "unknown region '\(r.escapingControlCharacters)'") }
            case .availabilitySet(let s):
                guard try tx.fleet.availabilitySet(named: s) != nil else { throw PitstopError(.notFound, "unknown availability set '\(s.escapingControlCharacters)'") }
            }
            _ = try tx.fleet.upsert(window: window)
            try audit(tx, "window.added", Self.subjects(of: window), details: Responses.window(window))
        }
    }

    public func removeWindow(_ name: String) async throws {
        try await store.write { tx in
            guard let window = try tx.fleet.maintenanceWindow(named: name),
                  try tx.fleet.delete(.maintenanceWindow, key: name) else {
                throw PitstopError(.notFound, "unknown maintenance window '\(name.escapingControlCharacters)'")
            }
            try audit(tx, "window.removed", Self.subjects(of: window), details: Responses.window(window))
        }
    }

    public func addBlackout(_ blackout: Blackout) async throws {
        try check(blackout.name, field: "name")
        guard blackout.end > blackout.start else {
            throw PitstopError(.invalid, "blackout end \(blackout.end.iso8601) is not after its start \(blackout.start.iso8601)")
        }
        try await store.write { tx in
            guard try tx.fleet.blackout(named: blackout.name) == nil else {
                throw PitstopError(.conflict, "blackout \(blackout.name) already exists")
            }
            if let r = blackout.region, try tx.fleet.region(named: r) == nil {
                throw PitstopError(.notFound, "unknown region '\(r.escapingControlCharacters)'")
            }
            _ = try tx.fleet.upsert(blackout: blackout)
            try audit(tx, "blackout.added", Self.subjects(of: blackout), details: Responses.blackout(blackout))
        }
    }

    public func removeBlackout(_ name: String) async throws {
        try await store.write { tx in
            guard let blackout = try tx.fleet.blackout(named: name), try tx.fleet.delete(.blackout, key: name) else {
                throw PitstopError(.notFound, "unknown blackout '\(name.escapingControlCharacters)'")
            }
            try audit(tx, "blackout.removed", Self.subjects(of: blackout), details: Responses.blackout(blackout))
        }
    }

    // MARK: Helpers

    private func check(_ name: String, field: String) throws {
        do throws(InputProblem) { try InventoryRules.checkName(name) } catch {
            throw PitstopError(.invalid, "\(field): \(error.message)")
        }
    }

    /// Refuses when anything still refers to the record, naming the first few of each kind.
    private func refuseIfUsed(_ tx: any Repositories, _ kind: FleetRecordKind, _ key: String, _ subject: String) throws {
        let found = try tx.fleet.dependants(of: kind, key: key, limit: 6).map { kind, names in
            "\(kind): " + names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", …" : "")
        }
        guard found.isEmpty else {
            throw PitstopError(.conflict, "\(subject) is still used by \(found.joined(separator: "; ")); remove or move those first")
        }
    }
}
