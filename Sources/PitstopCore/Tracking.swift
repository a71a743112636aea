// What Pitstop keeps about its work, as values: campaigns, events with what actually
// happened to them, notices, audit entries, import counts and the scopes queries take.
// The store reads and writes these; services and adapters speak only in them.

/// What an upsert did to the stored row.
public enum UpsertOutcome: Sendable, Equatable {
    case added, updated, unchanged
}

/// Counts of upsert outcomes for one kind of record.
public struct UpsertCounts: Sendable, Equatable {
    public var added = 0, updated = 0, unchanged = 0
    public init() {}
    public mutating func record(_ outcome: UpsertOutcome) {
        switch outcome {
        case .added: added += 1
        case .updated: updated += 1
        case .unchanged: unchanged += 1
        }
    }
    public var total: Int { added + updated + unchanged }
}

/// A stored campaign with its status and planned span.
public struct CampaignRecord: Sendable, Hashable {
    public var campaign: Campaign
    public var status: CampaignStatus
    public var span: TimeRange

    public init(campaign: Campaign, status: CampaignStatus, span: TimeRange) {
        self.campaign = campaign
        self.status = status
        self.span = span
    }
}

/// A campaign is scheduled until it is cancelled; its events carry their own progress.
public enum CampaignStatus: String, Sendable, Hashable, CaseIterable {
    case scheduled, cancelled
}

/// A planned event with what actually happened to it: the one event type of the service floor.
/// The planner writes it, guarded execution weighs a start against it, `check` and the history
/// audit judge it, and the CLI and the server show it.
public struct EventRecord: Sendable, Hashable {
    public var event: PlannedEvent
    /// The subscription of its VM (or, once the VM is gone, of its set), where the read that
    /// produced the record looked it up: the history audit needs it for notices.
    public var subscription: String?
    /// When its VM's owner approved it, if they did: it may then start before its planned start.
    public var approvedAt: Timestamp?
    public var actualStart: Timestamp?
    public var actualEnd: Timestamp?
    /// Started although guarded execution refused it.
    public var forced: Bool
    /// Why it was forced (or failed), as the operator wrote it.
    public var reason: String?

    public init(event: PlannedEvent, subscription: String? = nil, approvedAt: Timestamp? = nil, actualStart: Timestamp? = nil,
                actualEnd: Timestamp? = nil, forced: Bool = false, reason: String? = nil) {
        self.event = event
        self.subscription = subscription
        self.approvedAt = approvedAt
        self.actualStart = actualStart
        self.actualEnd = actualEnd
        self.forced = forced
        self.reason = reason
    }

    /// The time it occupies as far as a start is concerned: from its actual start to its
    /// actual end, open ended (``Guard/openEnd``) while it still runs; `nil` if it never started.
    public var occupied: TimeRange? {
        actualStart.map { TimeRange(start: $0, end: actualEnd ?? Guard.openEnd) }
    }

    /// When the VM was actually down, as the audit reports it, or `nil` if the event never
    /// started. A started event without an end is still running: it counts up to `now`. A
    /// finished one without a recorded end (which the lifecycle never writes) is taken to have
    /// lasted as planned, the best guess there is.
    public func actualRange(now: Timestamp) -> TimeRange? {
        guard let start = actualStart else { return nil }
        if let end = actualEnd { return TimeRange(start: start, end: max(start, end)) }
        if event.status == .started { return TimeRange(start: start, end: max(start, now)) }
        return TimeRange(start: start, end: start + event.range.duration)
    }

    /// Not finished as of the record: scheduled, or started without an end.
    public var isPending: Bool {
        switch event.status {
        case .scheduled: true
        case .started: actualEnd == nil
        case .completed, .failed, .cancelled: false
        }
    }
}

/// A queued maintenance notice.
public struct NoticeRecord: Sendable, Hashable {
    public var id: Int64
    public var campaign: String
    public var subscription: String
    public var recipients: [String]
    public var subject: String
    public var body: String
    public var queuedAt: Timestamp
    public var firstStart: Timestamp
    public var sentAt: Timestamp?
    public var attempts: Int
    public var lastError: String?

    public init(id: Int64, campaign: String, subscription: String, recipients: [String], subject: String, body: String,
                queuedAt: Timestamp, firstStart: Timestamp, sentAt: Timestamp?, attempts: Int, lastError: String?) {
        self.id = id
        self.campaign = campaign
        self.subscription = subscription
        self.recipients = recipients
        self.subject = subject
        self.body = body
        self.queuedAt = queuedAt
        self.firstStart = firstStart
        self.sentAt = sentAt
        self.attempts = attempts
        self.lastError = lastError
    }
}

/// What an audit entry is about: `vm web-0`, `campaign 1f2e…`.
public struct AuditSubject: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case vm, set, region, subscription, campaign, event, wave, window, blackout, notice
    }

    public var kind: Kind
    public var name: String

    public init(_ kind: Kind, _ name: String) {
        self.kind = kind
        self.name = name
    }
}

/// One entry as appended.
public struct AuditEntry: Sendable, Hashable {
    public var seq: Int64
    public var at: Timestamp
    public var actor: String
    public var action: String
    public var subjects: [AuditSubject]
    /// A JSON object.
    public var details: String
    public var previousHash: String
    public var hash: String

    public init(seq: Int64, at: Timestamp, actor: String, action: String, subjects: [AuditSubject], details: String,
                previousHash: String, hash: String) {
        self.seq = seq
        self.at = at
        self.actor = actor
        self.action = action
        self.subjects = subjects
        self.details = details
        self.previousHash = previousHash
        self.hash = hash
    }
}

/// What `pitstop audit` selects. Every part is optional; the parts given must all hold.
public struct AuditFilter: Sendable, Hashable {
    /// Entries about this subject, through the `audit_subjects` index.
    public var subject: AuditSubject?
    /// Entries recorded at or after this instant.
    public var since: Timestamp?
    /// Entries recorded before this instant.
    public var until: Timestamp?
    /// Entries with exactly this action, like `vm.moved`.
    public var action: String?
    /// Entries after this sequence number: where a page of the API's audit list resumes.
    public var afterSeq: Int64?
    /// At most this many entries.
    public var limit: Int?

    public init(subject: AuditSubject? = nil, since: Timestamp? = nil, until: Timestamp? = nil, action: String? = nil,
                afterSeq: Int64? = nil, limit: Int? = nil) {
        self.subject = subject
        self.since = since
        self.until = until
        self.action = action
        self.afterSeq = afterSeq
        self.limit = limit
    }
}

/// Where the chain first breaks, and why.
public struct ChainBreak: Sendable, Hashable {
    /// The first entry that cannot be trusted.
    public var seq: Int64
    /// What is wrong with it, in an operator's words.
    public var reason: String

    public init(seq: Int64, reason: String) {
        self.seq = seq
        self.reason = reason
    }
}

/// The last entry of the log.
public struct ChainHead: Sendable, Hashable {
    public var seq: Int64
    public var hash: String

    public init(seq: Int64, hash: String) {
        self.seq = seq
        self.hash = hash
    }
}

/// The outcome of walking the whole hash chain.
public struct ChainCheck: Sendable, Hashable {
    /// How many entries the log holds.
    public var entries: Int
    /// The first broken entry, or `nil` when every entry is intact.
    public var firstBroken: ChainBreak?
    /// The last entry: written down elsewhere, its hash also exposes a log cut short at the
    /// end, which the chain alone cannot show.
    public var head: ChainHead?

    public var ok: Bool { firstBroken == nil }

    public init(entries: Int, firstBroken: ChainBreak?, head: ChainHead?) {
        self.entries = entries
        self.firstBroken = firstBroken
        self.head = head
    }
}

/// A public key recorded by `pitstop audit keygen`: the checkpoints it signs are checked
/// against it.
public struct AuditKeyRecord: Sendable, Hashable {
    /// Base64 of the 32-byte Ed25519 public key.
    public var publicKey: String
    /// The first 16 hex digits of the SHA-256 of the raw key: how messages name it.
    public var fingerprint: String
    public var createdAt: Timestamp

    public init(publicKey: String, fingerprint: String, createdAt: Timestamp) {
        self.publicKey = publicKey
        self.fingerprint = fingerprint
        self.createdAt = createdAt
    }
}

/// A notice the log records as sent more than once.
public struct RepeatedSending: Sendable, Hashable {
    public var notice: String
    public var campaign: String?
    public var subscription: String?
    /// When each `notice.sent` entry says it went, in log order.
    public var times: [Timestamp]

    public init(notice: String, campaign: String?, subscription: String?, times: [Timestamp]) {
        self.notice = notice
        self.campaign = campaign
        self.subscription = subscription
        self.times = times
    }
}

// MARK: Scopes

/// Which VMs a query reads.
public enum VMScope: Sendable, Hashable {
    case all, region(String), availabilitySet(String), subscription(String)
}

/// Which events a query reads.
public enum EventFilter: Sendable, Hashable {
    case all
    /// Scheduled or started.
    case active
    case campaign(String)
    case vm(String)
    case wave(String)
    case event(String)
    /// Events of the set, of the region, or of the subscription's VMs.
    case availabilitySet(String), region(String), subscription(String)
}

/// The kinds of fleet record that are removed by their key.
public enum FleetRecordKind: String, Sendable, Hashable {
    case region, subscription, availabilitySet, vm, maintenanceWindow, blackout
}

/// How many events have one status and one kind: what `GET /metrics` reports per series.
public struct EventTally: Sendable, Hashable {
    public var status: EventStatus
    public var kind: MaintenanceKind
    public var count: Int

    public init(status: EventStatus, kind: MaintenanceKind, count: Int) {
        self.status = status
        self.kind = kind
        self.count = count
    }
}
