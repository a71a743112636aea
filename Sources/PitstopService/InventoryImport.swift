// Importing an inventory: a JSON document or a CSV of VMs becomes upserts in one
// transaction. Every bad record is reported, and any bad record leaves the database as it was.
import Foundation
public import PitstopCore
import PitstopStore

/// The outcome of an import: per kind, how many records were added, updated or unchanged.
public struct ImportSummary: Sendable, Equatable {
    public var regions = UpsertCounts(), regionPairs = UpsertCounts(), subscriptions = UpsertCounts()
    public var availabilitySets = UpsertCounts(), vms = UpsertCounts()
    public var maintenanceWindows = UpsertCounts(), blackouts = UpsertCounts()

    public init() {}

    /// Kinds in document order, for printing.
    public var rows: [(kind: String, counts: UpsertCounts)] {
        [("regions", regions), ("regionPairs", regionPairs), ("subscriptions", subscriptions),
         ("availabilitySets", availabilitySets), ("vms", vms), ("maintenanceWindows", maintenanceWindows),
         ("blackouts", blackouts)]
    }
}

/// Reports progress of long work (a million-row import) to whoever shows it.
public typealias ProgressHandler = @Sendable (_ done: Int, _ total: Int?) -> Void

/// Upserts VMs inside one transaction, resolving each against the fleet as it stands, and
/// counting n per set for round-robin placement.
struct VMIngest {
    let tx: any Repositories
    let file: String
    private let writer: any VMWriting
    private(set) var fleet: FleetIndex
    /// Per set, by its slot in `fleet`: how many VMs have joined it (round-robin's n), whether
    /// that changed, and whether the audit entry names it yet.
    private struct SetTally {
        var placed: Int
        var changed = false
        var recorded = false
    }
    private var tallies: [SetTally]
    private var claims = ImportClaims()
    private(set) var counts = UpsertCounts()
    /// What the import touched, for its audit entry.
    var touched = ImportSubjects()
    private(set) var errors: [InputError] = []
    /// Past this many problems the rest are counted, not kept: a broken million-row file
    /// should not print a million lines.
    static let maxErrors = 1000
    private(set) var suppressedErrors = 0

    init(_ tx: any Repositories, file: String, expectedVMs: Int = 0) throws {
        self.tx = tx
        self.file = file
        writer = try tx.vms.writer(expectedVMs: expectedVMs)
        fleet = try tx.fleet.fleetIndex()
        let counts = try tx.fleet.placedCounts()
        tallies = fleet.sets.map { SetTally(placed: counts[$0.name, default: 0]) }
    }

    func hasRegion(_ name: String) -> Bool { fleet.hasRegion(name) }
    func hasSubscription(_ id: String) -> Bool { fleet.hasSubscription(id) }
    func availabilitySet(named name: String) -> AvailabilitySet? { fleet.availabilitySet(named: name) }


    /// Set when the document this ingest is part of was refused at another record.
    private var stopped = false

    /// Whether the import is refused: the rest is still checked, but nothing more is written.
    var failed: Bool { stopped || !errors.isEmpty || suppressedErrors > 0 }

    /// The import was refused elsewhere (a region, a set): check the VMs, write none.
    mutating func stopWriting() { stopped = true }

    mutating func report(_ error: InputError) {
        if errors.count < Self.maxErrors { errors.append(error) } else { suppressedErrors += 1 }
    }

    mutating func report(_ problems: RecordProblems, at place: SourcePlace) {
        for p in problems.problems { report(InputError(file: file, place: place, problem: p)) }
    }

    mutating func ingest(_ draft: VMDraft, at place: SourcePlace) throws {
        if let duplicate = claims.claim(name: draft.name) {
            report(InputError(file: file, place: place, problem: duplicate))
            return
        }
        switch draft.check(in: fleet) {
        case .failure(let problems): report(problems, at: place)
        case .success(let checked):
            if let taken = claims.claimAddress(of: checked.vm, line: place.line) {
                report(InputError(file: file, place: place, problem: taken))
            } else {
                try store(checked, at: place)
            }
        }
    }

    /// Places and writes a checked VM: added, updated or unchanged.
    mutating func store(_ checked: CheckedVM, at place: SourcePlace) throws {
        guard !failed else { return }  // keep validating; nothing more will be written
        do {
            // Most imports add VMs: try the insert first and look the VM up only on a conflict.
            var joined = false
            let vm = checked.placed(existing: nil) { _ in joined = true; return tallies[checked.setSlot!].placed }
            if try writer.insertIfAbsent(vm) {
                if joined { bumpPlacement(checked) }
                counts.record(.added)
                record(vm, checked)
                return
            }
            let existing = try writer.existing(named: vm.name)
            joined = false
            let updated = checked.placed(existing: existing) { _ in joined = true; return tallies[checked.setSlot!].placed }
            if joined { bumpPlacement(checked) }
            if updated == existing {
                counts.record(.unchanged)
            } else {
                try writer.overwrite(updated)
                counts.record(.updated)
                // A VM that left another region or set touched that one too.
                if let existing, existing.region != updated.region { touched.record(region: existing.region) }
                if let old = existing?.availabilitySet, old != updated.availabilitySet, let oldSet = fleet.availabilitySet(named: old) {
                    touched.record(set: oldSet)
                }
            }
            record(updated, checked)
        } catch let error as PitstopError where error.kind == .conflict {
            // A constraint of the stored fleet, such as an address another VM already has.
            report(InputError(file: file, line: place.line, field: place.path.isEmpty ? nil : place.path, message: error.message))
        }
    }

    private mutating func bumpPlacement(_ checked: CheckedVM) {
        let slot = checked.setSlot!
        tallies[slot].placed += 1
        tallies[slot].changed = true
    }

    /// Names the VM, and the first time its set, in the import's audit entry.
    private mutating func record(_ vm: VirtualMachine, _ checked: CheckedVM) {
        if let slot = checked.setSlot, let set = checked.set, !tallies[slot].recorded {
            tallies[slot].recorded = true
            touched.record(set: set)
        }
        touched.record(member: vm, of: checked.set)
    }

    /// Called after the document's regions, subscriptions and sets were written.
    mutating func learn(region: String) { fleet.regions.insert(region) }
    mutating func learn(subscription: String) { fleet.subscriptions.insert(subscription) }
    mutating func learn(set: AvailabilitySet) {
        fleet.learn(set)
        // A set new to the fleet takes the next slot; none has joined it yet.
        while tallies.count < fleet.sets.count { tallies.append(SetTally(placed: 0)) }
    }

    func savePlacementCounters() throws {
        try tx.fleet.setPlacedCounts(tallies.indices.filter { tallies[$0].changed }.map { (fleet.sets[$0].name, tallies[$0].placed) })
    }

    var allErrors: [InputError] {
        suppressedErrors == 0 ? errors
            : errors + [InputError(file: file, line: nil, field: nil, message: "\(suppressedErrors) more problems not shown")]
    }
}
