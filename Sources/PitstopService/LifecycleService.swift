// The event lifecycle with guarded execution: each transition of an event or wave is one audited transaction.
import Foundation
public import PitstopCore
public import PitstopStore

/// What a lifecycle command acts on: one VM's event, or every event of a wave (the VMs of one
/// update domain of one set, or a region's single-instance VMs, that go together).
public enum EventTarget: Sendable, Hashable, CustomStringConvertible {
    case event(String)
    case wave(String)

    public var description: String {
        switch self {
        case .event(let id): "event \(id)"
        case .wave(let id): "wave \(id)"
        }
    }
}

/// A step of the lifecycle: `scheduled -> started -> completed | failed`,
/// `scheduled -> cancelled`; approval keeps an event scheduled and lets it start early.
public enum Transition: String, Sendable, Hashable, CaseIterable {
    case approve, start, complete, fail, cancel

    /// The audit action it appends: `event.approved`, `event.started`...
    public var action: String { "event.\(pastTense)" }

    /// `approved`, `started`, `completed`, `failed`, `cancelled`.
    public var pastTense: String {
        switch self {
        case .approve: "approved"
        case .start: "started"
        case .complete: "completed"
        case .fail: "failed"
        case .cancel: "cancelled"
        }
    }

    /// The status an event must have for this step.
    var source: EventStatus {
        switch self {
        case .approve, .start, .cancel: .scheduled
        case .complete, .fail: .started
        }
    }
}

/// What a transition did.
public struct TransitionResult: Sendable {
    public var transition: Transition
    public var target: EventTarget
    /// The instant the transition happened (actual start or end, approval time).
    public var at: Timestamp
    /// The events it changed, as they are now, in start order then id.
    public var changed: [EventRecord]
    /// Events of the target left as they were: approved already, or past this step (a wave
    /// member started, finished or cancelled on its own).
    public var unchanged: [EventRecord]
    /// Whether a start went ahead only because it was forced.
    public var forced: Bool
    /// The conflicts a forced start overrode.
    public var conflicts: [Finding]
    /// Events a forced start began before their planned start without an approval.
    public var unapproved: [String]
    /// The audit entry appended; `nil` when nothing changed.
    public var audit: AuditEntry?
}

extension PitstopError {
    /// A start refused by guarded execution because it would break a rule or come early
    /// without an approval: every conflict on its own line, naming the conflicting events,
    /// which ``conflicts`` lists. Nothing was written; starting anyway takes `force` and a reason.
    static func startRefused(_ target: EventTarget, at: Timestamp, verdict: StartVerdict, starting: Int) -> PitstopError {
        var lines = ["refused to start \(target)\(starting > 1 ? " (\(starting) events)" : "") at \(at):"]
        lines += verdict.conflicts.map { "  \($0.rule.rawValue): \($0.message)" }
        if !verdict.unapproved.isEmpty {
            lines.append("  not-approved: \(Guard.names(verdict.unapproved)) \(verdict.unapproved.count == 1 ? "is" : "are") planned "
                + "to start later; starting before the planned start needs the owner's approval")
        }
        let ids = Set(verdict.conflicts.flatMap(\.events)).sorted()
        return PitstopError(.refused, lines.joined(separator: "\n"), conflicts: ids)
    }
}

public struct LifecycleService: Sendable {
    public let store: any Store

    public init(store: any Store) {
        self.store = store
    }

    // MARK: Transitions

    /// Marks scheduled events approved by their owner: they may then start before their
    /// planned start, though not before their notice period has run. Approving an approved
    /// event changes nothing and appends no entry.
    ///
    /// - Parameter at: when it was approved.
    /// - Throws: ``PitstopError`` `.notFound` for an unknown event or wave, `.invalid` for an
    ///   event that is not scheduled.
    @discardableResult
    public func approve(_ target: EventTarget, at: Timestamp, reason: String? = nil, actor: String) async throws -> TransitionResult {
        try await transition(.approve, target, at: at, reason: reason, force: false, actor: actor)
    }

    /// Starts scheduled events, recording the actual start, if guarded execution allows it:
    /// no rule 1, 2, 3, 4 or 7 broken given what has actually run (``Guard/judge(starting:at:others:campaigns:pairs:)``),
    /// and no start before the planned start without an approval. With `force` (which needs a
    /// reason) it starts anyway and is recorded as forced, with the conflicts it overrode.
    ///
    /// - Throws: ``PitstopError`` `.refused` when the guard refuses; ``PitstopError`` `.invalid` for an
    ///   event that is not scheduled or `force` without a reason, `.notFound` for an unknown id.
    @discardableResult
    public func start(
        _ target: EventTarget, at: Timestamp, reason: String? = nil, force: Bool = false, actor: String
    ) async throws -> TransitionResult {
        try await transition(.start, target, at: at, reason: reason, force: force, actor: actor)
    }

    /// Completes started events, recording the actual end.
    @discardableResult
    public func complete(_ target: EventTarget, at: Timestamp, reason: String? = nil, actor: String) async throws -> TransitionResult {
        try await transition(.complete, target, at: at, reason: reason, force: false, actor: actor)
    }

    /// Marks started events failed, recording the actual end: the maintenance is over, not
    /// necessarily the VM well.
    @discardableResult
    public func fail(_ target: EventTarget, at: Timestamp, reason: String? = nil, actor: String) async throws -> TransitionResult {
        try await transition(.fail, target, at: at, reason: reason, force: false, actor: actor)
    }

    /// Cancels scheduled events; a started event is completed or failed instead.
    @discardableResult
    public func cancel(_ target: EventTarget, at: Timestamp, reason: String? = nil, actor: String) async throws -> TransitionResult {
        try await transition(.cancel, target, at: at, reason: reason, force: false, actor: actor)
    }

    /// Applies `transition` to the target in one transaction with its audit entry.
    ///
    /// For one event, its status must be the step's source status. For a wave, members past
    /// the step (started, finished or cancelled on their own) are left alone, but one that has
    /// not reached it (a scheduled member when completing) refuses the whole wave, and so does
    /// a wave with nothing left to change.
    @discardableResult
    public func transition(
        _ transition: Transition, _ target: EventTarget, at: Timestamp, reason: String? = nil, force: Bool = false,
        actor: String
    ) async throws -> TransitionResult {
        let reason = reason.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        if force {
            guard transition == .start else { throw PitstopError(.invalid, "only a start can be forced") }
            guard reason != nil else { throw PitstopError(.invalid, "a forced start needs a reason: it is recorded in the audit") }
        }
        return try await store.write { tx in
            let (moving, unchanged) = try Self.select(tx, target, for: transition, at: at)
            var result = TransitionResult(transition: transition, target: target, at: at, changed: [], unchanged: unchanged,
                                          forced: false, conflicts: [], unapproved: [], audit: nil)
            guard !moving.isEmpty else { return result }

            if transition == .start {
                let verdict = try Self.judgeStart(tx, moving, at: at)
                if !verdict.isAllowed {
                    guard force else { throw PitstopError.startRefused(target, at: at, verdict: verdict, starting: moving.count) }
                    (result.forced, result.conflicts, result.unapproved) = (true, verdict.conflicts, verdict.unapproved)
                }
            }
            for var record in moving {
                switch transition {
                case .approve: record.approvedAt = at
                case .start:
                    record.event.status = .started
                    record.actualStart = at
                    record.forced = result.forced
                    record.reason = reason
                case .complete, .fail:
                    record.event.status = transition == .complete ? .completed : .failed
                    record.actualEnd = at
                case .cancel: record.event.status = .cancelled
                }
                result.changed.append(record)
            }
            try tx.events.update(result.changed)
            result.audit = try tx.audit.append(at: at, actor: actor, action: transition.action,
                                                subjects: Self.subjects(target, result.changed),
                                                details: Self.details(result, reason: reason))
            return result
        }
    }

    // MARK: Reading

    /// One event with what happened to it, and how many events its wave has (what `event show`
    /// and the API's event answer), read together.
    public func eventDetail(_ id: String) async throws -> (record: EventRecord, waveEvents: Int) {
        try await store.read { tx in
            guard let record = try tx.events.events(.event(id)).first else { throw PitstopError(.notFound, "unknown event '\(id.escapingControlCharacters)'") }
            return (record, try tx.events.eventCount(wave: record.event.wave))
        }
    }

    /// The events of a wave, in start order then id.
    public func wave(_ id: String) async throws -> [EventRecord] {
        try await store.read { tx in
            let records = try tx.events.events(.wave(id))
            guard !records.isEmpty else { throw PitstopError(.notFound, "unknown wave '\(id.escapingControlCharacters)'") }
            return records
        }
    }

    // MARK: Steps

    /// The target's events that `transition` changes, and those it leaves alone.
    static func select(_ tx: any Repositories, _ target: EventTarget, for transition: Transition, at: Timestamp) throws
        -> (moving: [EventRecord], unchanged: [EventRecord]) {
        let records: [EventRecord]
        switch target {
        case .event(let id):
            records = try tx.events.events(.event(id))
            guard let record = records.first else { throw PitstopError(.notFound, "unknown event '\(id.escapingControlCharacters)'") }
            guard record.event.status == transition.source else { throw PitstopError(.conflict, illegal(record, transition)) }
        case .wave(let id):
            records = try tx.events.events(.wave(id))
            guard !records.isEmpty else { throw PitstopError(.notFound, "unknown wave '\(id.escapingControlCharacters)'") }
        }
        var moving: [EventRecord] = [], unchanged: [EventRecord] = []
        for record in records {
            let status = record.event.status
            if status == transition.source {
                // Approving twice is no change.
                if transition == .approve, record.approvedAt != nil { unchanged.append(record) } else { moving.append(record) }
            } else if rank(status) > rank(transition.source) {
                unchanged.append(record)
            } else {
                // Behind the step: completing a wave with a member that never started.
                throw PitstopError(.conflict, "\(target): " + illegal(record, transition))
            }
        }
        if case .wave(let id) = target, moving.isEmpty, !(transition == .approve && unchanged.contains { $0.event.status == .scheduled }) {
            var counts: [String: Int] = [:]
            for r in records { counts[r.event.status.rawValue, default: 0] += 1 }
            throw PitstopError(.conflict, "wave \(id): nothing to \(transition.rawValue): its events are "
                + counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        }
        for record in moving where transition == .complete || transition == .fail {
            if let started = record.actualStart, at < started {
                throw PitstopError(.invalid, "event \(record.event.id) started at \(started): it cannot end at \(at), before it started")
            }
        }
        return (moving, unchanged)
    }

    /// How far along the lifecycle a status is: a wave member further along than a step is
    /// left alone by it.
    static func rank(_ status: EventStatus) -> Int {
        switch status {
        case .scheduled: 0
        case .started: 1
        case .completed, .failed, .cancelled: 2
        }
    }

    /// Why `record` cannot take `transition`, in an operator's words.
    static func illegal(_ record: EventRecord, _ transition: Transition) -> String {
        let e = record.event, id = "event \(e.id)"
        switch (e.status, transition) {
        case (.scheduled, .complete), (.scheduled, .fail):
            return "\(id) is scheduled, not started: it cannot be \(transition.pastTense) before it starts"
        case (.started, .start):
            return "\(id) is started already (at \(record.actualStart.map(\.iso8601) ?? "?")): it cannot start twice"
        case (.started, .cancel):
            return "\(id) is started (at \(record.actualStart.map(\.iso8601) ?? "?")): a started event is completed or failed, not cancelled"
        case (.started, .approve):
            return "\(id) is started already: only a scheduled event can be approved"
        case (.cancelled, _):
            return "\(id) is cancelled: it cannot be \(transition.pastTense)"
        case (.completed, _), (.failed, _):
            return "\(id) is \(e.status.rawValue) already (ended \(record.actualEnd.map(\.iso8601) ?? "?")): it cannot be \(transition.pastTense)"
        default:
            return "\(id) is \(e.status.rawValue): it cannot be \(transition.pastTense)"
        }
    }

    /// The guard's verdict on starting `moving` at `at`, given the events that matter: those
    /// that actually ran in the regions involved and their partners (rules 1 and 3), of the
    /// same VMs (rule 7), and the starting campaigns' events there (rules 2 and 3 within a campaign).
    static func judgeStart(_ tx: any Repositories, _ moving: [EventRecord], at: Timestamp) throws -> StartVerdict {
        let pairs = try tx.fleet.regionPairs()
        let terms = try tx.events.campaignTerms()
        let partners = Rules.pairConflicts(pairs)
        let regions = Set(moving.map(\.event.region))
        let near = regions.union(regions.flatMap { partners[$0] ?? [] }).sorted()
        let campaigns = Set(moving.map(\.event.campaign)).sorted()
        // Anything that ended more than the longest recovery gap ago no longer matters.
        let gap = moving.map { (terms[$0.event.campaign] ?? .assumed(kind: $0.event.kind)).udGap }.max() ?? 0
        var others: [String: EventRecord] = [:]
        for r in try tx.events.startedEvents(regions: near, endedAfter: at - gap) { others[r.event.id] = r }
        for r in try tx.events.startedEvents(vms: Array(Set(moving.map(\.event.vm))), endedAfter: at) { others[r.event.id] = r }
        for campaign in campaigns {
            for r in try tx.events.events(campaign: campaign, regions: near) { others[r.event.id] = r }
        }
        return Guard.judge(starting: moving, at: at, others: others.values.sorted { $0.event.id < $1.event.id },
                           campaigns: terms, pairs: pairs)
    }

    // MARK: Audit

    /// An event is about its VM, set, region, campaign and wave; a wave's entry names each of
    /// its events and VMs.
    static func subjects(_ target: EventTarget, _ changed: [EventRecord]) -> [AuditSubject] {
        var subjects: [AuditSubject] = []
        if case .wave(let id) = target { subjects.append(AuditSubject(.wave, id)) }
        for r in changed {
            let e = r.event
            subjects += [AuditSubject(.event, e.id), AuditSubject(.vm, e.vm), AuditSubject(.region, e.region),
                         AuditSubject(.campaign, e.campaign), AuditSubject(.wave, e.wave)]
            if let set = e.availabilitySet { subjects.append(AuditSubject(.set, set)) }
        }
        return subjects
    }

    /// The entry's details: the events and instant; for a start whether it was forced, why,
    /// and the conflicts it overrode; for an end how long each event actually lasted.
    static func details(_ result: TransitionResult, reason: String?) -> String {
        let changed = result.changed
        var members: [(String, String)] = [
            ("at", JSONText.quote(result.at.iso8601)),
            ("events", JSONText.array(changed.map { JSONText.quote($0.event.id) })),
        ]
        if case .wave(let id) = result.target { members.append(("wave", JSONText.quote(id))) }
        if let first = changed.first?.event {
            members.append(("plannedStart", JSONText.quote(first.range.start.iso8601)))
            members.append(("plannedEnd", JSONText.quote(first.range.end.iso8601)))
        }
        switch result.transition {
        case .start:
            members.append(("forced", result.forced ? "true" : "false"))
            members.append(("early", changed.contains { result.at < $0.event.range.start } ? "true" : "false"))
            members.append(("reason", JSONText.quote(reason)))
            members.append(("conflicts", JSONText.array(result.conflicts.map { c in
                JSONText.object([("rule", JSONText.quote(c.rule.rawValue)), ("events", JSONText.array(c.events.map(JSONText.quote))),
                                 ("message", JSONText.quote(c.message))])
            })))
            members.append(("unapproved", JSONText.array(result.unapproved.map(JSONText.quote))))
        case .complete, .fail:
            members.append(("reason", JSONText.quote(reason)))
            // Actual against planned, so that an overrun (a freeze past 30 s, a long reboot) shows.
            members.append(("durations", JSONText.array(changed.map { r in
                let seconds = r.actualStart.map { result.at - $0 } ?? 0
                return JSONText.object([
                    ("event", JSONText.quote(r.event.id)), ("actualStart", JSONText.quote(r.actualStart?.iso8601)),
                    ("seconds", "\(seconds)"), ("plannedSeconds", "\(r.event.range.duration)"),
                    ("tooLong", Rules.tooLong(r.event.kind, seconds: seconds) ? "true" : "false"),
                ])
            })))
        case .approve, .cancel:
            members.append(("reason", JSONText.quote(reason)))
        }
        return JSONText.object(members)
    }
}
