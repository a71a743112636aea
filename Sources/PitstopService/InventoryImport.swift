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
    private var placed: [String: Int]
    private var placedChanged: Set<String> = []
    private var seen: Set<String> = []
    private(set) var counts = UpsertCounts()
    /// What the import touched, for its audit entry.
    var touched = ImportSubjects()
    private(set) var errors: [InputError] = []
    /// Past this many problems the rest are counted, not kept: a broken million-row file
    /// should not print a million lines.
    static let maxErrors = 1000
    private(set) var suppressedErrors = 0

    init(_ tx: any Repositories, file: String) throws {
        self.tx = tx
        self.file = file
        writer = try tx.vms.writer()
        fleet = try tx.fleet.fleetIndex()
        placed = try tx.fleet.placedCounts()
    }

    func hasRegion(_ name: String) -> Bool { fleet.hasRegion(name) }
    func hasSubscription(_ id: String) -> Bool { fleet.hasSubscription(id) }
    func availabilitySet(named name: String) -> AvailabilitySet? { fleet.availabilitySet(named: name) }


    var failed: Bool { !errors.isEmpty || suppressedErrors > 0 }

    mutating func report(_ error: InputError) {
        if errors.count < Self.maxErrors { errors.append(error) } else { suppressedErrors += 1 }
    }

    mutating func report(_ problems: RecordProblems, at place: SourcePlace) {
        for p in problems.problems { report(InputError(file: file, place: place, problem: p)) }
    }

    mutating func ingest(_ draft: VMDraft, at place: SourcePlace) throws {
        guard seen.insert(draft.name).inserted else {
            report(InputError(file: file, line: place.line, field: place.field("name"), message: "duplicate VM '\(draft.name.truncatedForMessage)' in this file"))
            return
        }
        switch draft.check(in: fleet) {
        case .failure(let problems): report(problems, at: place)
        case .success(let checked): try store(checked, at: place)
        }
    }

    /// Places and writes a checked VM: added, updated or unchanged.
    mutating func store(_ checked: CheckedVM, at place: SourcePlace) throws {
        guard !failed else { return }  // keep validating; nothing more will be written
        do {
            // Most imports add VMs: try the insert first and look the VM up only on a conflict.
            var joined: String?
            let vm = checked.placed(existing: nil) { set in joined = set.name; return placed[set.name, default: 0] }
            if try writer.insertIfAbsent(vm) {
                if let joined { bumpPlacement(joined) }
                counts.record(.added)
                touched.record(vm, in: checked.set)
                return
            }
            let existing = try writer.existing(named: vm.name)
            joined = nil
            let updated = checked.placed(existing: existing) { set in joined = set.name; return placed[set.name, default: 0] }
            if let joined { bumpPlacement(joined) }
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
            touched.record(updated, in: checked.set)
        } catch let error as PitstopError where error.kind == .conflict {
            // A constraint of the stored fleet, such as an address another VM already has.
            report(InputError(file: file, line: place.line, field: place.path.isEmpty ? nil : place.path, message: error.message))
        }
    }

    private mutating func bumpPlacement(_ set: String) {
        placed[set, default: 0] += 1
        placedChanged.insert(set)
    }

    /// Called after the document's regions, subscriptions and sets were written.
    mutating func learn(region: String) { fleet.regions.insert(region) }
    mutating func learn(subscription: String) { fleet.subscriptions.insert(subscription) }
    mutating func learn(set: AvailabilitySet) { fleet.sets[set.name] = set }

    func savePlacementCounters() throws {
        for set in placedChanged.sorted() { try tx.fleet.setPlacedCount(set: set, to: placed[set]!) }
    }

    var allErrors: [InputError] {
        suppressedErrors == 0 ? errors
            : errors + [InputError(file: file, line: nil, field: nil, message: "\(suppressedErrors) more problems not shown")]
    }
}
