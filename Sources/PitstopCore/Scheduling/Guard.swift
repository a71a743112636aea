// Guarded execution (docs/rules.md#guarded-execution): may these events actually start now, given what actually ran?
// The rules themselves live in Rules.swift; this file asks them at the instant of a start.

/// How a start at an instant stands against an event's planned start and notice period.
public enum StartTiming: Sendable, Hashable {
    /// At or after the planned start.
    case onTime
    /// Before the planned start, and approved by the VM's owner: allowed.
    case approvedEarly
    /// Before the planned start without an approval.
    case needsApproval(plannedStart: Timestamp)
    /// Before the notice period has run since the event was planned (rule 4): not even an
    /// approval allows it.
    case beforeNotice(earliest: Timestamp)
}

/// What the guard says about starting some events at an instant.
public struct StartVerdict: Sendable, Hashable {
    /// Rules 1, 2, 3, 4 and 7 the start would break, ordered by rule, then message.
    public var conflicts: [Finding]
    /// Starting events that would start before their planned start without an approval, sorted.
    public var unapproved: [String]

    public init(conflicts: [Finding], unapproved: [String]) {
        self.conflicts = conflicts
        self.unapproved = unapproved
    }

    /// Whether the start may go ahead without being forced.
    public var isAllowed: Bool { conflicts.isEmpty && unapproved.isEmpty }
}

/// The guarded-execution rules: what may start now, given what has actually run.
public enum Guard {
    /// The end of an event that still runs: far enough that no instant of interest reaches
    /// it, near enough that adding a recovery gap cannot overflow.
    public static let openEnd = Timestamp(seconds: Int64.max / 4)

    /// The timing of starting `event` at `at`: the notice period (``Rules/earliestStart(plannedAt:kind:)``)
    /// binds always; before the planned start, an approval is needed.
    public static func timing(of event: EventRecord, at: Timestamp) -> StartTiming {
        let e = event.event
        let earliest = Rules.earliestStart(plannedAt: e.plannedAt, kind: e.kind)
        if at < earliest { return .beforeNotice(earliest: earliest) }
        if at >= e.range.start { return .onTime }
        return event.approvedAt == nil ? .needsApproval(plannedStart: e.range.start) : .approvedEarly
    }

    /// Judges starting `starting` (one event, or a whole wave) at `at`.
    ///
    /// Only what has actually happened counts: events of `others` that started (their actual
    /// times), and for rules 2 and 3 within a campaign, which are still pending. `others` may
    /// hold more than needed (any event of the regions involved); the starting events are
    /// ignored among them. Places come from the events as planned.
    ///
    /// - Parameters:
    ///   - campaigns: the campaigns' terms, for the recovery gap of the starting events'
    ///     campaigns; one missing here is held to ``CampaignTerms/assumed(kind:)``.
    ///   - pairs: the region pair links; every link counts in both directions.
    public static func judge(
        starting: [EventRecord], at: Timestamp, others: [EventRecord],
        campaigns: [String: CampaignTerms], pairs: [RegionPair]
    ) -> StartVerdict {
        var conflicts = self.conflicts(starting: starting.map(\.event), at: at, others: others, campaigns: campaigns, pairs: pairs)
        var unapproved: [String] = [], early: [String] = [], earliest: Timestamp? = nil
        for event in starting {
            switch timing(of: event, at: at) {
            case .onTime, .approvedEarly: break
            case .needsApproval: unapproved.append(event.event.id)
            case .beforeNotice(let t):
                early.append(event.event.id)
                earliest = max(earliest ?? t, t)
            }
        }
        if let earliest, let first = starting.first?.event {
            conflicts.append(Finding(
                rule: .shortNotice,
                message: FindingMessage.shortNotice(.starting(events: early, kind: first.kind, plannedAt: first.plannedAt, earliest: earliest)),
                events: early, at: at))
        }
        return StartVerdict(conflicts: conflicts.sorted { ($0.rule, $0.message) < ($1.rule, $1.message) }, unapproved: unapproved.sorted())
    }

    /// The rules 1, 2, 3 and 7 that starting `starting` at `at` would break, given what
    /// actually ran among `others`: one conflict per rule and place (set, partner region,
    /// region, VM), ordered by rule, then message.
    ///
    /// - Rule 1: another update domain of a starting event's set (any campaign) started and not
    ///   finished by `at` (update-domain-overlap), or finished less than the starting
    ///   campaign's recovery gap before (ud-gap), per ``Rules/updateDomainClash(startingAt:other:gap:)``.
    /// - Rule 2: a single-instance VM while its region still has availability-set events of
    ///   the same campaign not done by `at` (scheduled, running, or ended after `at`).
    /// - Rule 3: a region linked to a starting event's region (either direction) has an event
    ///   running at `at`, of any campaign; or, within the same campaign, has begun its
    ///   maintenance and not finished it (its waves would interleave).
    /// - Rule 7: the VM is in another event running at `at`.
    public static func conflicts(
        starting: [PlannedEvent], at: Timestamp, others: [EventRecord],
        campaigns: [String: CampaignTerms], pairs: [RegionPair]
    ) -> [Finding] {
        let startingIDs = Set(starting.map(\.id))
        let others = others.filter { !startingIDs.contains($0.event.id) }
        let partners = Rules.pairConflicts(pairs)
        // The new events run from `at` with no known end.
        let running = TimeRange(start: at, end: openEnd)
        var found: [Key: Found] = [:]
        func note(_ key: Key, _ other: EventRecord, _ describe: () -> Found) {
            if found[key] == nil { found[key] = describe() }
            // Several starting places can meet the same other event (a wave of two sets).
            if found[key]!.events.insert(other.event.id).inserted { found[key]!.members.append(other) }
        }

        // Rule 7 is per VM.
        let startingVMs = Set(starting.map(\.vm))
        for o in others where startingVMs.contains(o.event.vm) {
            guard let ran = o.occupied, Rules.doubleBooked(running, ran) else { continue }
            note(Key(rule: .doubleBooked, place: o.event.vm), o) { Found(region: o.event.region, vm: o.event.vm, campaign: o.event.campaign) }
        }

        // Rules 1 and 3 across campaigns depend on the set, update domain and region only: a
        // wave's events differ by VM alone, so each place is judged once.
        var places: [Place: PlannedEvent] = [:]
        for s in starting where places[Place(s)] == nil { places[Place(s)] = s }
        for s in places.values {
            let gap = (campaigns[s.campaign] ?? .assumed(kind: s.kind)).udGap
            let linked = Set(partners[s.region] ?? [])
            for o in others {
                let e = o.event
                guard let ran = o.occupied else { continue }
                if let set = s.availabilitySet, e.availabilitySet == set,
                   Rules.updateDomainsConflict(e.updateDomain ?? -1, s.updateDomain ?? -1),
                   let rule = Rules.updateDomainClash(startingAt: at, other: ran, gap: gap) {
                    note(Key(rule: rule, place: set + "\u{1}" + String(s.updateDomain ?? -1)), o) {
                        Found(region: s.region, set: set, campaign: s.campaign, gap: gap, updateDomain: s.updateDomain)
                    }
                }
                if linked.contains(e.region), Rules.pairBusyClash(running, ran) {
                    note(Key(rule: .pairOverlap, place: s.region + "\u{1}" + e.region), o) {
                        Found(region: s.region, partner: e.region, campaign: e.campaign)
                    }
                }
            }
        }

        // Rule 2 and rule 3 within a campaign look at the campaign's events of a region as a whole.
        var seen: Set<String> = []
        for s in starting where seen.insert(s.campaign + "\u{1}" + s.region + "\u{1}" + (s.isSingleInstance ? "1" : "0")).inserted {
            if s.isSingleInstance {
                // Rule 2: done means ended; a scheduled or running set event is not done yet.
                let sets = others.filter { $0.event.campaign == s.campaign && $0.event.region == s.region && !$0.event.isSingleInstance }
                let notDone = sets.filter { o in
                    guard o.event.status != .cancelled else { return false }
                    let done = o.isPending ? openEnd : (o.actualEnd ?? o.actualStart ?? at)
                    return Rules.singleInstanceTooEarly(start: at, multiInstanceDone: done)
                }
                for o in notDone {
                    note(Key(rule: .singleBeforeMulti, place: s.region + "\u{1}" + s.campaign), o) {
                        Found(region: s.region, campaign: s.campaign)
                    }
                }
            }
            // Rule 3 within a campaign: a partner's whole span ends before this region's begins.
            for partner in partners[s.region] ?? [] {
                let theirs = others.filter { $0.event.campaign == s.campaign && $0.event.region == partner && $0.event.status != .cancelled }
                guard let first = theirs.compactMap(\.actualStart).min() else { continue }
                let pending = theirs.filter(\.isPending)
                let end = pending.isEmpty ? (theirs.compactMap(\.actualEnd).max() ?? openEnd) : openEnd
                guard Rules.pairSpansClash(running, TimeRange(start: first, end: end)) else { continue }
                // A partner running an event of this campaign is reported above already.
                let busy = found[Key(rule: .pairOverlap, place: s.region + "\u{1}" + partner)]?.members ?? []
                if busy.contains(where: { $0.event.campaign == s.campaign }) { continue }
                let key = Key(rule: .pairOverlap, place: s.region + "\u{1}" + partner + "\u{1}span")
                for o in (pending.isEmpty ? theirs : pending) {
                    note(key, o) { Found(region: s.region, partner: partner, campaign: s.campaign, span: true) }
                }
            }
        }

        return found.map { key, f in
            Finding(rule: key.rule, message: message(key.rule, f, at: at), events: Array(f.events), at: at)
        }.sorted { ($0.rule, $0.message) < ($1.rule, $1.message) }
    }

    // MARK: Messages

    private struct Key: Hashable {
        var rule: RuleName
        var place: String
    }

    /// Where a starting event stands for rules 1 and 3.
    private struct Place: Hashable {
        var campaign: String, region: String, set: String?, updateDomain: Int?
        init(_ e: PlannedEvent) {
            (campaign, region, set, updateDomain) = (e.campaign, e.region, e.availabilitySet, e.updateDomain)
        }
    }

    /// One conflict's place and the other events found there: the starting events' region, and
    /// their set (rule 1), the partner region (rule 3) or the VM (rule 7).
    private struct Found {
        var region: String
        var set = "", partner = "", vm = ""
        var campaign: String
        var gap: Int64 = 0
        /// The starting events' update domain, for rule 1.
        var updateDomain: Int? = nil
        var span = false
        var events: Set<String> = []
        var members: [EventRecord] = []
    }

    private static func message(_ rule: RuleName, _ f: Found, at: Timestamp) -> String {
        let ids = f.members.map(\.event.id)
        let started = f.members.compactMap(\.actualStart).min()
        let running = f.members.filter { $0.actualStart != nil && ($0.actualEnd ?? openEnd) > at }.count
        let domain = FindingMessage.StartingDomain(
            set: f.set, region: f.region, updateDomain: f.updateDomain ?? 0, others: f.members.compactMap(\.event.updateDomain), events: ids)
        switch rule {
        case .doubleBooked:
            return FindingMessage.doubleBooked(.starting(vm: f.vm, events: ids, started: started))
        case .updateDomainOverlap:
            return FindingMessage.updateDomainOverlap(.starting(domain, started: started))
        case .udGap:
            return FindingMessage.udGap(.starting(
                domain, at: at, ended: f.members.compactMap(\.actualEnd).max() ?? at, campaign: f.campaign, gap: f.gap))
        case .pairOverlap where f.span:
            return FindingMessage.pairOverlap(.startingSpan(
                region: f.region, partner: f.partner, campaign: f.campaign, pending: f.members.filter(\.isPending).count, running: running,
                ranUntil: f.members.compactMap(\.actualEnd).max() ?? at, events: ids))
        case .pairOverlap:
            return FindingMessage.pairOverlap(.starting(region: f.region, partner: f.partner, at: at, started: started, events: ids))
        case .singleBeforeMulti:
            return FindingMessage.singleBeforeMulti(.starting(region: f.region, campaign: f.campaign, running: running, events: ids))
        default:
            return FindingMessage.events(ids)
        }
    }

    /// `event a, b, c, d and 12 more`, as conflict messages name events (``FindingMessage/events(_:)``).
    public static func names(_ ids: [String]) -> String { FindingMessage.events(ids) }
}
