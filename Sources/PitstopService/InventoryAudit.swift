// Audit entries for changes to the fleet: what each inventory command and import appends, in
// the same transaction as the change, so that a change and its record commit or fail together.
import Foundation
import PitstopCore
import PitstopStore

extension InventoryService {
    /// Appends one entry to the audit log inside the caller's transaction.
    func audit(_ tx: any Repositories, _ action: String, _ subjects: [AuditSubject], details: String) throws {
        try tx.audit.append(at: try clock(), actor: actor, action: action, subjects: subjects, details: details)
    }

    /// A VM's subjects: itself, its region, subscription and set.
    static func subjects(of vm: VirtualMachine) -> [AuditSubject] {
        [AuditSubject(.vm, vm.name), AuditSubject(.region, vm.region), AuditSubject(.subscription, vm.subscription)]
            + (vm.availabilitySet.map { [AuditSubject(.set, $0)] } ?? [])
    }

    static func subjects(of set: AvailabilitySet) -> [AuditSubject] {
        [AuditSubject(.set, set.name), AuditSubject(.region, set.region), AuditSubject(.subscription, set.subscription)]
    }

    static func subjects(of window: MaintenanceWindow) -> [AuditSubject] {
        switch window.scope {
        case .region(let r): [AuditSubject(.window, window.name), AuditSubject(.region, r)]
        case .availabilitySet(let s): [AuditSubject(.window, window.name), AuditSubject(.set, s)]
        }
    }

    static func subjects(of blackout: Blackout) -> [AuditSubject] {
        [AuditSubject(.blackout, blackout.name)] + (blackout.region.map { [AuditSubject(.region, $0)] } ?? [])
    }

    /// Where a VM sits, for `vm.moved`'s from and to.
    static func placement(_ vm: VirtualMachine) -> String {
        JSONText.object([
            ("region", JSONText.quote(vm.region)), ("availabilitySet", JSONText.quote(vm.availabilitySet)),
            ("updateDomain", JSONText.number(vm.updateDomain)), ("faultDomain", JSONText.number(vm.faultDomain)),
        ])
    }

    /// The single `inventory.imported` entry of an import: counts per kind in the details, and
    /// the regions, sets, subscriptions, windows and blackouts it touched as subjects. VMs are
    /// subjects only while there are at most ``ImportSubjects/maxVMs`` of them: the entry of a
    /// million-VM import must cost nothing next to the import.
    /// An import that changed nothing appends nothing, like every other command.
    func auditImport(_ tx: any Repositories, file: String, format: String, summary: ImportSummary, touched: ImportSubjects) throws {
        guard summary.rows.contains(where: { $0.counts.added + $0.counts.updated > 0 }) else { return }
        let counts = summary.rows.filter { $0.counts.total > 0 || $0.kind == "vms" }.map { kind, c in
            (kind, JSONText.object([("added", "\(c.added)"), ("updated", "\(c.updated)"), ("unchanged", "\(c.unchanged)")]))
        }
        try audit(tx, "inventory.imported", touched.subjects, details: JSONText.object([
            ("file", JSONText.quote(file)), ("format", JSONText.quote(format)), ("counts", JSONText.object(counts)),
            ("vmSubjects", "\(touched.vms != nil)"),
        ]))
    }
}

/// What an import touched, gathered as it goes. Recording a VM costs a string comparison in the
/// usual case: rows of one set tend to come together, and only a change of set is hashed.
struct ImportSubjects {
    /// Past this many VMs an import names none of them (a partial list would mislead
    /// `audit --vm`): its regions and sets stand for them.
    static let maxVMs = 1000

    private(set) var regions = Set<String>(), subscriptions = Set<String>(), sets = Set<String>()
    private(set) var windows = Set<String>(), blackouts = Set<String>()
    /// `nil` once more than ``maxVMs`` VMs were recorded.
    private(set) var vms: [String]? = []
    private var lastRegion: String?, lastSubscription: String?

    init() {}

    mutating func record(region: String) { regions.insert(region) }
    mutating func record(subscription: String) { subscriptions.insert(subscription) }
    mutating func record(window: MaintenanceWindow) {
        windows.insert(window.name)
        switch window.scope {
        case .region(let r): regions.insert(r)
        case .availabilitySet(let s): sets.insert(s)
        }
    }
    mutating func record(blackout: Blackout) {
        blackouts.insert(blackout.name)
        if let r = blackout.region { regions.insert(r) }
    }
    mutating func record(set: AvailabilitySet) {
        sets.insert(set.name)
        regions.insert(set.region)
        subscriptions.insert(set.subscription)
    }

    /// Records a VM written (or found unchanged) by the import. Its set, if it has one, is
    /// recorded with `record(set:)`: the importer does that once per set, not once per row.
    mutating func record(member vm: VirtualMachine, of set: AvailabilitySet?) {
        if vms != nil {
            if vms!.count < Self.maxVMs { vms!.append(vm.name) } else { vms = nil }
        }
        if let set {
            // A VM of a set shares its region, and almost always its subscription.
            if vm.subscription != set.subscription { noteSubscription(vm.subscription) }
        } else {
            if vm.region != lastRegion { lastRegion = vm.region; regions.insert(vm.region) }
            noteSubscription(vm.subscription)
        }
    }

    private mutating func noteSubscription(_ s: String) {
        if s != lastSubscription { lastSubscription = s; subscriptions.insert(s) }
    }

    /// Every subject recorded; `AuditLog.append` orders them.
    var subjects: [AuditSubject] {
        regions.map { AuditSubject(.region, $0) } + subscriptions.map { AuditSubject(.subscription, $0) }
            + sets.map { AuditSubject(.set, $0) } + windows.map { AuditSubject(.window, $0) }
            + blackouts.map { AuditSubject(.blackout, $0) } + (vms ?? []).map { AuditSubject(.vm, $0) }
    }
}
