// The seam between the use cases and the database engine. A service opens one unit of work
// (`Store.read` or `Store.write`), calls repositories on it, and gets back values of the core;
// SQL lives only behind these protocols. SQLite (`AppDatabase`) is the one engine today; a
// second one implements the same protocols and every service works on it unchanged.
public import PitstopCore

/// A database Pitstop keeps its fleet and plans in.
public protocol Store: Sendable {
    /// Runs `work` in one read transaction: it sees one consistent state, and never blocks a
    /// caller's thread while it waits.
    func read<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T

    /// Runs `work` in one write transaction: all of it commits, or none of it does.
    func write<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T

    /// Runs `work` in one write transaction that records what was served, not what the fleet
    /// or the plans hold: writes whose every row guards itself (``ScheduledEventsRepository/
    /// incarnate(vm:digest:at:)``), which change no answer another process keeps. It sees every
    /// ``write(_:)`` committed before it and none commits while it runs, but such transactions
    /// run beside one another, and they need not move ``changeMark()``. By default, a write.
    func bookkeepingWrite<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T

    /// Like ``write(_:)``, for loading VMs by the hundred thousand: the engine may defer its
    /// per-row integrity checks to one set-based pass before the commit, with the same result.
    func bulkWrite<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T

    /// Whether the database is reachable and its schema is this build's.
    func isHealthy() async -> Bool

    /// A mark that changes whenever a write commits, in this process or another, read without
    /// a transaction: cheap enough to consult on every request, so that an answer computed
    /// from the data can be reused while the mark stays the same.
    func changeMark() -> ChangeMark

    /// Takes the lock `name` (a word: `notify`, `executor`) on this database if no process
    /// holds it, without waiting.
    func tryLock(_ name: String) async throws -> LockAttempt
}

extension Store {
    public func bookkeepingWrite<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T {
        try await write(work)
    }
}

/// What ``Store/changeMark()`` returns: equal marks mean nothing was committed in between.
public struct ChangeMark: Hashable, Sendable {
    let parts: [Int64]

    public init(_ parts: [Int64]) { self.parts = parts }

    /// The mark as one number (FNV-1a over its parts) that a client can compare: equal marks
    /// give equal numbers, and a different number means something changed. Not ordered (a
    /// later mark may be a smaller number), and meaningful only within one process.
    public var number: Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in parts {
            for shift in stride(from: 0, to: 64, by: 8) {
                hash ^= UInt64(truncatingIfNeeded: part >> Int64(shift)) & 0xff
                hash = hash &* 0x100_0000_01b3
            }
        }
        // JSON readers hold integers exactly up to 2^53.
        return Int64(hash & 0x1f_ffff_ffff_ffff)
    }
}

/// One unit of work: the repositories, all inside the same transaction.
public protocol Repositories {
    var fleet: any FleetRepository { get }
    var vms: any VMRepository { get }
    var events: any EventRepository { get }
    var notices: any NoticeRepository { get }
    var audit: any AuditRepository { get }
    var history: any HistoryRepository { get }
    var scheduledEvents: any ScheduledEventsRepository { get }
    var gauges: any GaugeRepository { get }
    var tokens: any TokenRepository { get }
}

/// Regions, pairs, subscriptions, sets, windows and blackouts.
public protocol FleetRepository {
    func regions() throws -> [Region]
    func region(named name: String) throws -> Region?
    func upsert(region: Region) throws -> UpsertOutcome
    func regionPairs() throws -> [RegionPair]
    func upsert(pair: RegionPair) throws -> UpsertOutcome
    /// Removes the links between `a` and `b`, in either direction; returns how many.
    func removePair(_ a: String, _ b: String) throws -> Int
    func subscriptions() throws -> [Subscription]
    func subscription(id: String) throws -> Subscription?
    func upsert(subscription: Subscription) throws -> UpsertOutcome
    func availabilitySets(region: String?) throws -> [AvailabilitySet]
    func availabilitySet(named name: String) throws -> AvailabilitySet?
    /// How many VMs have joined each set, for round-robin placement.
    func placedCounts() throws -> [String: Int]
    /// Records how many VMs have joined each set named, all in one go.
    func setPlacedCounts(_ counts: [(set: String, placed: Int)]) throws
    func upsert(availabilitySet set: AvailabilitySet) throws -> UpsertOutcome
    /// The names of regions and subscriptions and the sets, for checking VMs.
    func fleetIndex() throws -> FleetIndex
    func maintenanceWindows() throws -> [MaintenanceWindow]
    func maintenanceWindow(named name: String) throws -> MaintenanceWindow?
    func upsert(window: MaintenanceWindow) throws -> UpsertOutcome
    func blackouts() throws -> [Blackout]
    func blackout(named name: String) throws -> Blackout?
    func upsert(blackout: Blackout) throws -> UpsertOutcome
    /// Removes a record by its key; false when there was none.
    func delete(_ kind: FleetRecordKind, key: String) throws -> Bool
    /// What still refers to the record: per kind of dependant (`VMs`, `pair links`, ...), the
    /// first `limit` names in order. Kinds with none are left out.
    func dependants(of kind: FleetRecordKind, key: String, limit: Int) throws -> [(kind: String, names: [String])]
}

extension FleetRepository {
    public func availabilitySets() throws -> [AvailabilitySet] { try availabilitySets(region: nil) }
}

/// VMs, which come by the million: streamed reads and prepared writes.
public protocol VMRepository {
    func vm(named name: String) throws -> VirtualMachine?
    func vm(ipAddress: String) throws -> VirtualMachine?
    /// Calls `body` for each VM in scope whose name comes after `after` (if given), in name
    /// order (of the names' bytes), without holding them all: a page of a listing starts at its
    /// cursor instead of reading the names before it.
    func forEach(in scope: VMScope, after: String?, _ body: (VirtualMachine) throws -> Void) throws
    /// As ``forEach(in:after:_:)`` from the first VM, with each VM's key: what a plan written in the same unit of
    /// work hands back to ``EventRepository/insert(events:keys:progress:)``.
    func forEachKeyed(in scope: VMScope, _ body: (VirtualMachine, VMKey) throws -> Void) throws
    func count(in scope: VMScope) throws -> Int
    /// VM counts per set.
    func countsBySet() throws -> [String: Int]
    /// VM counts per (region, set, update domain, fault domain); single-instance VMs have no
    /// set or domains.
    func domainCounts() throws -> [DomainCount]
    /// A writer whose statements are prepared once, for many VMs in this unit of work; about
    /// `expectedVMs` may be added through it (a hint: a writer that keeps what it wrote
    /// makes room once instead of growing by doubling).
    func writer(expectedVMs: Int) throws -> any VMWriting
}

extension VMRepository {
    /// Every VM in scope, in name order (``forEach(in:after:_:)`` from the first).
    public func forEach(in scope: VMScope, _ body: (VirtualMachine) throws -> Void) throws {
        try forEach(in: scope, after: nil, body)
    }

    /// ``writer(expectedVMs:)`` for a few VMs.
    public func writer() throws -> any VMWriting { try writer(expectedVMs: 0) }
}

/// How many VMs share one place in the fleet.
public struct DomainCount: Sendable, Hashable {
    public var region: String
    public var availabilitySet: String?
    public var updateDomain: Int?
    public var faultDomain: Int?
    public var vms: Int

    public init(region: String, availabilitySet: String?, updateDomain: Int?, faultDomain: Int?, vms: Int) {
        self.region = region
        self.availabilitySet = availabilitySet
        self.updateDomain = updateDomain
        self.faultDomain = faultDomain
        self.vms = vms
    }
}

/// A VM's integer key in the store, given when the VM is recorded and never changed: what a
/// plan's (wave, VM) pairs hold. 0 stands for none (a VM another tool wrote without one, which
/// the plan that names it keys).
public typealias VMKey = Int64

extension EventRepository {
    /// The active plan, its VMs found in the fleet by name.
    public func activePlan() throws -> PlanColumns { try activePlan(fleetKeys: nil) }
}

/// Writes VMs one at a time inside a unit of work.
public protocol VMWriting {
    /// Inserts `vm` unless a VM of that name exists; returns whether it was inserted.
    func insertIfAbsent(_ vm: VirtualMachine) throws -> Bool
    /// Overwrites the stored VM of the same name.
    func overwrite(_ vm: VirtualMachine) throws
    func existing(named name: String) throws -> VirtualMachine?
}

/// Campaigns and their planned events.
public protocol EventRepository {
    func insert(campaign: Campaign, span: TimeRange) throws
    func campaigns() throws -> [CampaignRecord]
    func campaign(id: String) throws -> CampaignRecord?
    /// How many campaigns were ever planned.
    func campaignCount() throws -> Int
    /// Per campaign: its events, and how many of them are scheduled or started.
    func eventCounts() throws -> [String: (events: Int, active: Int)]
    /// The recovery gap and duration of every campaign, for the planner and the checker.
    func campaignTerms() throws -> [String: CampaignTerms]
    func setStatus(ofCampaign id: String, to status: CampaignStatus) throws
    /// Cancels the campaign's scheduled events; returns how many.
    func cancelScheduledEvents(ofCampaign id: String) throws -> Int
    /// Keys the VMs another tool wrote without a key, and records key -> name for the VMs of
    /// `regions` that no plan named before: what a wave's VMs are read by (SQLite; PostgreSQL
    /// reads a fleet VM's name from the fleet, and only keys). A plan may call it
    /// before its events are known (it does, while it plans on another thread); inserting
    /// the events then records only the regions this left out.
    func recordNames(inRegions regions: [String]) throws -> RecordedNames
    /// Writes a plan's events, in order; `progress` gets the count written so far. `keys`,
    /// when given, holds each event's VM key as ``VMRepository/forEachKeyed(in:_:)`` read it
    /// in this unit of work (0: look it up by name); without it, every key is looked up by
    /// name. `recorded` names the regions whose VMs' names were recorded in this unit of work.
    func insert(events: [PlannedEvent], keys: [VMKey]?, recorded: RecordedNames?, progress: ((Int) -> Void)?) throws
    /// Hands `body` each event overlapping `[from, until)` (either bound optional) that comes
    /// after `after` (if given) in the listing order (start, wave, VM), in that order, as it is
    /// read: a million of them need not be held at once, and a page deep in the list does not
    /// read the events before it.
    func forEachEvent(_ filter: EventFilter, from: Timestamp?, until: Timestamp?, after: EventPosition?,
                      _ body: (EventRecord) throws -> Void) throws
    /// How many events, of any status, the wave `id` has (0 for an unknown wave).
    func eventCount(wave id: String) throws -> Int
    /// Records what happened to events: status, approval, actual times, forced and reason.
    func update(_ records: [EventRecord]) throws
    /// Events in `regions` that actually started and had not ended by `since`.
    func startedEvents(regions: [String], endedAfter since: Timestamp) throws -> [EventRecord]
    /// Events of `vms` that actually started and had not ended by `since`.
    func startedEvents(vms: [String], endedAfter since: Timestamp) throws -> [EventRecord]
    /// The scheduled and started events as columns, in no particular order: the whole active
    /// plan for the checker, without a struct and an id string per VM. With `fleetKeys` (the
    /// fleet's VM keys by position, as ``VMRepository/forEachKeyed(in:_:)`` read them in this
    /// unit of work), the columns carry each VM's fleet position, so no name is looked up.
    func activePlan(fleetKeys: [VMKey]?) throws -> PlanColumns
    /// Every event of `campaign` in `regions`, whatever its status.
    func events(campaign: String, regions: [String]) throws -> [EventRecord]
    /// Whether any event, of any status, names this VM.
    func hasEvents(vm: String) throws -> Bool
    /// Whether any event, of any status, lies in this region.
    func hasEvents(region: String) throws -> Bool
    /// The waves with an event whose planned range overlaps `[from, until)`, or that actually
    /// ran (or still runs) within it, each aggregated over all its events in one GROUP BY: no
    /// event is read into memory. In planned start order, then wave id.
    func waves(from: Timestamp, until: Timestamp) throws -> [WaveSummary]
    /// One wave aggregated over its events; nil when no event has that wave id.
    func wave(id: String) throws -> WaveSummary?
}

/// A wave as the timeline shows it: its events counted by status instead of listed.
public struct WaveSummary: Sendable, Hashable {
    public var id: String
    public var campaign: String
    public var kind: MaintenanceKind
    public var region: String
    /// `nil` for a region's single-instance VMs.
    public var availabilitySet: String?
    public var updateDomain: Int?
    /// The earliest planned start and latest planned end of its events.
    public var planned: TimeRange
    /// The earliest actual start and, once every started event ended, the latest actual end.
    public var actualStart: Timestamp?
    public var actualEnd: Timestamp?
    /// How many of its events have each status; absent statuses are left out.
    public var statusCounts: [EventStatus: Int]
    /// Events approved by their owner, and scheduled events not (yet) approved.
    public var approvedEvents: Int
    public var unapprovedScheduled: Int

    public init(id: String, campaign: String, kind: MaintenanceKind, region: String, availabilitySet: String?, updateDomain: Int?,
                planned: TimeRange, actualStart: Timestamp?, actualEnd: Timestamp?, statusCounts: [EventStatus: Int],
                approvedEvents: Int, unapprovedScheduled: Int) {
        self.id = id
        self.campaign = campaign
        self.kind = kind
        self.region = region
        self.availabilitySet = availabilitySet
        self.updateDomain = updateDomain
        self.planned = planned
        self.actualStart = actualStart
        self.actualEnd = actualEnd
        self.statusCounts = statusCounts
        self.approvedEvents = approvedEvents
        self.unapprovedScheduled = unapprovedScheduled
    }

    /// How many VMs (events) it has.
    public var vms: Int { statusCounts.values.reduce(0, +) }
}

extension EventRepository {
    /// Events overlapping `[from, until)` (either bound optional), in start order, then id.
    public func events(_ filter: EventFilter, from: Timestamp?, until: Timestamp?) throws -> [EventRecord] {
        var records: [EventRecord] = []
        try forEachEvent(filter, from: from, until: until, after: nil) { records.append($0) }
        return records
    }

    public func events(_ filter: EventFilter) throws -> [EventRecord] { try events(filter, from: nil, until: nil) }
}

/// The notice outbox.
public protocol NoticeRepository {
    func insert(notice: NoticeRecord) throws
    func notices(campaign: String?) throws -> [NoticeRecord]
    func notice(id: Int64) throws -> NoticeRecord?
    /// The (campaign, subscription) pairs that have a notice queued or sent.
    func noticeKeys() throws -> Set<NoticeKey>
    /// The ids of cancelled campaigns: their notices are no longer owed.
    func cancelledCampaigns() throws -> Set<String>
    /// Marks a notice sent; false, changing nothing, when it already was.
    func markSent(id: Int64, at: Timestamp) throws -> Bool
    /// Counts a failed attempt; false when the notice is unknown or already sent.
    func recordFailure(id: Int64, error: String) throws -> Bool
}

extension NoticeRepository {
    public func notices() throws -> [NoticeRecord] { try notices(campaign: nil) }
}

/// The append-only, hash-chained audit log.
public protocol AuditRepository {
    /// Appends one entry and returns it.
    @discardableResult
    func append(at: Timestamp, actor: String, action: String, subjects: [AuditSubject], details: String) throws -> AuditEntry
    /// Calls `body` for each entry the filter selects, oldest first.
    func forEach(_ filter: AuditFilter, _ body: (AuditEntry) throws -> Void) throws
    /// Walks the whole chain.
    func verifyChain() throws -> ChainCheck
    /// The last entry's seq and hash; `nil` for an empty log.
    func head() throws -> ChainHead?
    /// The stored hash of entry `seq`, if the log holds it.
    func entryHash(seq: Int64) throws -> String?
    /// Records a public key that signs checkpoints.
    func record(key: AuditKeyRecord) throws
    /// Every recorded audit key, oldest first.
    func keys() throws -> [AuditKeyRecord]
    /// The triggers that keep the log append-only and are missing from the database, by name.
    func missingAppendOnlyTriggers() throws -> [String]
    /// The notices that more than one `notice.sent` entry names, in log order.
    func repeatedNoticeSendings() throws -> [RepeatedSending]
}

/// Maintenance as it happened.
public protocol HistoryRepository {
    /// Every event that actually started, in actual start order.
    func startedEvents() throws -> [EventRecord]
    /// Events planned to start in `[from, until)`, optionally of one region, in planned order.
    func events(plannedFrom from: Timestamp?, until: Timestamp?, region: String?) throws -> [EventRecord]
    /// When each notice was sent; `nil` while queued.
    func noticesSent() throws -> [NoticeKey: Timestamp?]
}

/// What the scheduled-events endpoint reads per poll, the incarnation it keeps per VM, and
/// what the simulated executor reads each tick.
public protocol ScheduledEventsRepository {
    /// Every scheduled or started event planned to start at or before `until`, in start order
    /// then id.
    func activeEvents(startingBy until: Timestamp) throws -> [EventRecord]
    /// The set's scheduled and started events that started already or are planned to start
    /// at or before `until`, in start order then id.
    func activeEvents(availabilitySet: String, startingBy until: Timestamp) throws -> [EventRecord]
    /// The VM's own scheduled and started events that started already or are planned to start
    /// at or before `until`, in start order then id.
    func activeEvents(vm: String, startingBy until: Timestamp) throws -> [EventRecord]
    /// The incarnation last served to the VM; `nil` before its first document.
    func incarnation(vm: String) throws -> DocumentIncarnation?
    /// The number of the VM's document whose content is `digest`: the stored incarnation when
    /// it numbers that digest, else one more than it (1 for the VM's first), stored with
    /// `digest` and `at`. Atomic for the VM: two calls at once with one new digest raise the
    /// number once, and with two digests twice. The store refuses a number lower than the last.
    func incarnate(vm: String, digest: String, at: Timestamp) throws -> Int64
}

/// A VM's DocumentIncarnation and the digest of the document it numbers.
public struct DocumentIncarnation: Sendable, Hashable {
    public var vm: String
    public var number: Int64
    /// Identifies the document's content, without its incarnation.
    public var digest: String
    /// When the document last changed.
    public var changedAt: Timestamp

    public init(vm: String, number: Int64, digest: String, changedAt: Timestamp) {
        self.vm = vm
        self.number = number
        self.digest = digest
        self.changedAt = changedAt
    }
}

/// What `GET /metrics` reads at scrape time: a few counts over the whole database, each one
/// query, so that a scrape costs the same however often it comes.
public protocol GaugeRepository {
    /// How many events there are of each status and kind that has any (one GROUP BY).
    func eventCounts() throws -> [EventTally]
    /// How many waves have an event started and not yet ended.
    func wavesRunning() throws -> Int
    /// How many notices are unsent while their campaign is not cancelled.
    func noticesQueued() throws -> Int
    /// The database's size in bytes: its page count times its page size.
    func databaseSizeBytes() throws -> Int64
}


/// The REST API's bearer tokens. Only the SHA-256 of each secret is stored: nothing here can
/// give a secret back, and no lookup is made by one.
public protocol TokenRepository {
    /// Records a new token; a name already taken is refused (`conflict`).
    func insert(_ token: StoredToken) throws
    /// Every token, in name order.
    func all() throws -> [StoredToken]
    func byName(_ name: String) throws -> StoredToken?
    /// Removes the token; false when there was none.
    func delete(name: String) throws -> Bool
    /// Sets when the token was last used; false when there is no such token.
    @discardableResult
    func stampLastUsed(name: String, at: Timestamp) throws -> Bool
}

/// One row of the tokens table. The role is kept as stored; the service knows the roles.
public struct StoredToken: Sendable, Hashable {
    public var name: String
    public var role: String
    /// Lowercase hex SHA-256 of the secret.
    public var hash: String
    public var createdAt: Timestamp
    public var createdBy: String
    public var lastUsedAt: Timestamp?

    public init(name: String, role: String, hash: String, createdAt: Timestamp, createdBy: String, lastUsedAt: Timestamp? = nil) {
        self.name = name
        self.role = role
        self.hash = hash
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.lastUsedAt = lastUsedAt
    }
}

/// What ``EventRepository/recordNames(inRegions:)`` did in a unit of work, for
/// ``EventRepository/insert(events:keys:recorded:progress:)`` not to do again. Only the
/// repository makes one.
public struct RecordedNames: Sendable {
    package let regions: Set<String>

    package init(regions: Set<String>) { self.regions = regions }
}

extension EventRepository {
    /// Writes a plan's events, recording their VMs' names (see the full form).
    public func insert(events: [PlannedEvent], keys: [VMKey]?, progress: ((Int) -> Void)?) throws {
        try insert(events: events, keys: keys, recorded: nil, progress: progress)
    }
}
