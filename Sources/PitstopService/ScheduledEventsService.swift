// The scheduled-events and instance-metadata use cases (docs/rules.md#scheduled-events-and-instance-metadata):
// which VM is calling, its document with a DocumentIncarnation that only rises, its approvals
// (through the same guarded lifecycle as `pitstop event approve`), and its instance metadata.
// The server is a thin adapter over this; who asks and when are arguments.
public import PitstopCore
public import PitstopStore
import Synchronization

public struct ScheduledEventsService: Sendable {
    public let store: any Store
    /// The documents last served, by caller address.
    private let cache = DocumentCache()
    /// Their contents, one copy for all the VMs of a set.
    private let contents = DocumentContents()

    public init(store: any Store) {
        self.store = store
    }

    /// How long before its planned start a wave appears in its VMs' documents: 15 minutes for
    /// `Freeze` and `Reboot` (distinct from rule 4's notice to owners).
    public static func appearsBefore(_ kind: MaintenanceKind) -> Int64 {
        switch kind {
        case .freeze, .reboot: 15 * 60
        }
    }

    /// The longest ``appearsBefore(_:)`` of any kind: what a poll reads ahead.
    static let lookAhead: Int64 = MaintenanceKind.allCases.map(appearsBefore).max() ?? 0

    // MARK: Who is asking

    /// The VM whose recorded IP address is `address` (as a socket reports it: an IPv4-mapped
    /// IPv6 address counts as its IPv4 address).
    ///
    /// - Throws: ``PitstopError`` `.notFound` when no VM has it: a caller never gets another
    ///   VM's document.
    public func caller(address: String) async throws -> VirtualMachine {
        let canonical = Self.canonical(address)
        return try await store.read { tx in try Self.caller(tx, address: canonical, as: address) }
    }

    static func canonical(_ address: String) -> String? {
        var text = address
        if text.lowercased().hasPrefix("::ffff:"), text.contains(".") { text = String(text.dropFirst(7)) }
        do throws(InputProblem) { return try InventoryRules.canonicalIPAddress(text) } catch { return nil }
    }

    static func caller(_ tx: any Repositories, address canonical: String?, as given: String) throws -> VirtualMachine {
        guard let canonical, let vm = try tx.vms.vm(ipAddress: canonical) else {
            throw PitstopError(.notFound, "no VM in the inventory has the address \(given.truncatedForMessage)")
        }
        return vm
    }

    // MARK: The document

    /// How far beyond ``lookAhead`` a poll reads: the document it computes then stays right for
    /// that long while nothing is committed, so a VM polling every second reads the store about
    /// once a minute, or when something changed.
    public static let readAhead: Int64 = 60

    /// The scheduled-events document of the VM calling from `address`, at `now`: one event per
    /// wave of its set (its own events for a single-instance VM) that has started or starts
    /// within ``appearsBefore(_:)``. When its content differs from the last one served to
    /// that VM, its incarnation rises by one and is stored; otherwise it is the stored one.
    public func document(forAddress address: String, at now: Timestamp) async throws -> ScheduledEventsDocument {
        // Read before the data: a commit in between only makes the entry stale sooner.
        let mark = store.changeMark()
        if let served = cache.document(for: address, at: now.seconds, mark: mark) { return served }
        let (fresh, through) = try await freshDocument(forAddress: address, at: now)
        let document = fresh.interned(in: contents)
        cache.keep(document, for: address, from: now.seconds, through: through, mark: mark)
        return document
    }

    /// ``document(forAddress:at:)`` when the one last served to `address` is still right at
    /// `now` (nothing committed since, and no wave has come into view): no read, no wait. `nil`
    /// when only the store can say.
    public func servedDocument(forAddress address: String, at now: Timestamp) -> ScheduledEventsDocument? {
        cache.document(for: address, at: now.seconds, mark: store.changeMark())
    }

    /// ``document(forAddress:at:)`` read from the store, with the last second it stays right
    /// through while nothing is committed.
    func freshDocument(forAddress address: String, at now: Timestamp) async throws -> (ScheduledEventsDocument, Int64) {
        let canonical = Self.canonical(address)
        // Most polls find the document unchanged: read only.
        let (current, stored) = try await store.read { tx in
            let vm = try Self.caller(tx, address: canonical, as: address)
            return (try Self.events(tx, of: vm, at: now), try tx.scheduledEvents.incarnation(vm: vm.name))
        }
        if let stored, stored.digest == current.document.digest { return (current.document.numbered(stored.number), current.through) }
        // Changed, or never served: read again where no plan or approval can commit meanwhile,
        // and number it atomically for the VM, so that two polls that race (on two servers)
        // never raise the number twice for one change. Only the number is written: polls of
        // other VMs go on beside this one (a plan changes a million documents at once), and
        // no server's kept answers are made stale by it.
        return try await store.bookkeepingWrite { tx in
            let vm = try Self.caller(tx, address: canonical, as: address)
            let (document, through) = try Self.events(tx, of: vm, at: now)
            return (document.numbered(try tx.scheduledEvents.incarnate(vm: vm.name, digest: document.digest, at: now)), through)
        }
    }

    /// The VM's document at `now`, not yet numbered, and the last second it stays the same
    /// through if nothing is committed: a wave's status changes only by a commit, so only a wave
    /// coming into view changes it, and every wave that can by `now + readAhead` is read.
    static func events(_ tx: any Repositories, of vm: VirtualMachine, at now: Timestamp) throws -> (document: ScheduledEventsDocument, through: Int64) {
        let until = now + lookAhead + readAhead
        let records = try vm.availabilitySet.map { try tx.scheduledEvents.activeEvents(availabilitySet: $0, startingBy: until) }
            ?? tx.scheduledEvents.activeEvents(vm: vm.name, startingBy: until)
        var descriptions: [String: String] = [:]
        for campaign in Set(records.map(\.event.campaign)) {
            descriptions[campaign] = try tx.events.campaign(id: campaign)?.campaign.description ?? ""
        }
        // A wave not read starts after `until`, so it comes into view after now + readAhead.
        var through = now.seconds + readAhead
        for r in records where r.event.status != .started && !visible(r.event, at: now) {
            through = min(through, appearsAt(r.event).seconds - 1)
        }
        let document = ScheduledEventsDocument(vm: vm.name, incarnation: 0,
                                               events: waves(for: vm, records, at: now, descriptions: descriptions))
        return (document, through)
    }

    /// One event per wave among `records` (active events of the VM's set, or its own), those
    /// that have started or appear by `now`, in planned start order then id.
    static func waves(for vm: VirtualMachine, _ records: [EventRecord], at now: Timestamp, descriptions: [String: String]) -> [ScheduledEvent] {
        var order: [String] = [], members: [String: [EventRecord]] = [:]
        for r in records {
            if members[r.event.wave] == nil { order.append(r.event.wave) }
            members[r.event.wave, default: []].append(r)
        }
        var events: [ScheduledEvent] = []
        for wave in order {
            let group = members[wave]!, first = group[0].event
            let started = group.contains { $0.event.status == .started }
            guard started || visible(first, at: now) else { continue }
            // A single-instance VM sees only itself: the other VMs of its wave are other owners'.
            let resources = vm.isSingleInstance ? [vm.name] : group.map(\.event.vm).sorted()
            events.append(ScheduledEvent(
                eventId: wave, eventType: ScheduledEvent.eventType(first.kind), resources: resources,
                status: started ? .started : .scheduled, notBefore: first.range.start,
                description: descriptions[first.campaign] ?? "", durationInSeconds: first.range.duration))
        }
        return events.sorted { ($0.notBefore, $0.eventId) < ($1.notBefore, $1.eventId) }
    }

    static func visible(_ event: PlannedEvent, at now: Timestamp) -> Bool {
        appearsAt(event) <= now
    }

    /// When `event`'s wave comes into its VMs' documents.
    static func appearsAt(_ event: PlannedEvent) -> Timestamp {
        event.range.start - appearsBefore(event.kind)
    }

    // MARK: Approval

    /// Approves, for the VM calling from `address`, the events named by their `EventId` (wave
    /// ids): each releases its whole wave through ``LifecycleService/approve(_:at:reason:actor:)``
    /// with the actor `vm:NAME`. An event already approved or started, or one that was in the
    /// VM's document and has since finished or been cancelled, changes nothing.
    ///
    /// - Throws: ``PitstopError`` `.invalid`, approving nothing, when any id was never in the
    ///   caller's document (another set's wave, one not yet announced, an unknown id);
    ///   `.notFound` for an unknown address.
    public func approve(_ eventIds: [String], byAddress address: String, at now: Timestamp) async throws -> ApprovalOutcome {
        let canonical = Self.canonical(address)
        var seen = Set<String>()
        let ids = eventIds.filter { seen.insert($0).inserted }
        let (vm, pending) = try await store.read { tx in
            let vm = try Self.caller(tx, address: canonical, as: address)
            var pending: [String: Bool] = [:], foreign: [String] = []
            for id in ids {
                switch try Self.standing(tx, wave: id, for: vm, at: now) {
                case .notInDocument: foreign.append(id)
                case .awaitingApproval: pending[id] = true
                case .settled: pending[id] = false
                }
            }
            guard foreign.isEmpty else {
                throw PitstopError(.invalid, "\(foreign.count == 1 ? "EventId" : "EventIds") \(foreign.map { "'\($0.truncatedForMessage)'" }.joined(separator: ", ")) "
                    + "\(foreign.count == 1 ? "is" : "are") not in the scheduled events of VM \(vm.name); nothing was approved")
            }
            return (vm, pending)
        }
        var outcome = ApprovalOutcome(vm: vm.name, approved: [], unchanged: [])
        let lifecycle = LifecycleService(store: store)
        for id in ids {
            guard pending[id] == true else { outcome.unchanged.append(id); continue }
            do {
                let result = try await lifecycle.approve(.wave(id), at: now, actor: "vm:\(vm.name)")
                if result.changed.isEmpty { outcome.unchanged.append(id) } else { outcome.approved.append(id) }
            } catch let error as PitstopError where error.kind == .conflict {
                // The wave started or ended between the check and the approval: nothing to do.
                outcome.unchanged.append(id)
            }
        }
        return outcome
    }

    enum Standing { case notInDocument, awaitingApproval, settled }

    /// Where the wave stands for `vm`: in its document and approvable, in it (or once in it)
    /// with nothing to approve, or never in it.
    static func standing(_ tx: any Repositories, wave id: String, for vm: VirtualMachine, at now: Timestamp) throws -> Standing {
        let records = try tx.events.events(.wave(id))
        let inScope = records.contains { r in
            if let set = vm.availabilitySet { return r.event.availabilitySet == set }
            return r.event.vm == vm.name && r.event.isSingleInstance
        }
        guard inScope, let first = records.first?.event else { return .notInDocument }
        let active = records.filter { $0.event.status == .scheduled || $0.event.status == .started }
        // Finished or cancelled: it has left the document.
        guard !active.isEmpty else { return .settled }
        guard active.contains(where: { $0.event.status == .started }) || visible(first, at: now) else { return .notInDocument }
        return active.contains { $0.event.status == .scheduled && $0.approvedAt == nil } ? .awaitingApproval : .settled
    }

    // MARK: Instance metadata

    /// The instance metadata of the VM calling from `address`.
    public func instance(forAddress address: String) async throws -> InstanceMetadata {
        InstanceMetadata(try await caller(address: address))
    }
}

/// What an approval did: the waves it released, and those it left as they were.
public struct ApprovalOutcome: Sendable, Hashable {
    /// The approving VM.
    public var vm: String
    public var approved: [String]
    public var unchanged: [String]

    /// `{"Approved": [...], "Unchanged": [...]}`: a JSON body for clients that parse the answer.
    public var json: String {
        JSONText.object([("Approved", JSONText.array(approved.map(JSONText.quote))),
                         ("Unchanged", JSONText.array(unchanged.map(JSONText.quote)))])
    }
}

/// The document last served to each address, with the store's change mark it was computed at
/// and the seconds it is right for (from when it was computed until a wave comes into view). A
/// VM polls about once a second; while nothing is committed (no plan, approval, transition,
/// inventory change, by any process) and no wave comes into view, a poll gets the same answer
/// without a read: the document depends only on the data and on which waves are in view.
/// Bounded: past ``capacity`` addresses it starts afresh rather than grow with the fleet.
final class DocumentCache: Sendable {
    private struct Entry {
        var from: Int64
        var through: Int64
        var mark: ChangeMark
        var document: ScheduledEventsDocument
    }

    static let capacity = 65_536
    private let entries = Mutex<[String: Entry]>([:])

    func document(for address: String, at second: Int64, mark: ChangeMark) -> ScheduledEventsDocument? {
        entries.withLock { entries in
            // A clock set back is before `from`: only the store can say what was in view then.
            guard let entry = entries[address], entry.from <= second, second <= entry.through, entry.mark == mark else { return nil }
            return entry.document
        }
    }

    func keep(_ document: ScheduledEventsDocument, for address: String, from: Int64, through: Int64, mark: ChangeMark) {
        entries.withLock { entries in
            if entries.count >= Self.capacity, entries[address] == nil { entries.removeAll(keepingCapacity: true) }
            entries[address] = Entry(from: from, through: through, mark: mark, document: document)
        }
    }
}
