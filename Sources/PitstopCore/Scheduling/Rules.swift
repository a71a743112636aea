// The scheduling rules (docs/rules.md#scheduling-rules) in one place: each definition here is used by the planner
// (to stay inside the rules), the checker (to find where planned events break them), guarded
// execution (to refuse a start that would break them) and the history audit (to find where
// actual times broke them). Overlap among many intervals is found by IntervalSweep.swift; what
// every report says when a rule is broken, the one `Finding` type and each rule's message, is
// in Findings.swift beside this file.

/// The name of every rule and finding, as reports, the checker, the guard and the audit print
/// it. One enum for all of them: a rule judged on plans and on history has one name.
public enum RuleName: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// Rule 1: two update domains of one set under maintenance at the same instant.
    case updateDomainOverlap = "update-domain-overlap"
    /// Rule 1: a set's next update domain starts sooner than the recovery gap after the previous one.
    case udGap = "ud-gap"
    /// Rule 3: the two regions of a pair link under maintenance at the same instant, or their
    /// spans interleaving within one campaign.
    case pairOverlap = "pair-overlap"
    /// Rule 2: a single-instance VM before the multi-instance VMs of its region are done.
    case singleBeforeMulti = "single-before-multi"
    /// Rule 4: an event starting before its notice period has run.
    case shortNotice = "short-notice"
    /// Rule 5: an event not inside one occurrence of one applicable window.
    case outsideWindow = "outside-window"
    /// Rule 5: an event overlapping a blackout.
    case inBlackout = "in-blackout"
    /// Rule 6: a freeze longer than 30 s.
    case freezeTooLong = "freeze-too-long"
    /// Rule 7: a VM in two overlapping events.
    case doubleBooked = "double-booked"
    /// Rule 4: a reboot event whose subscription has no notice.
    case missingNotice = "missing-notice"
    /// Rule 6 on actual times: a reboot took more than ``Rules/rebootOverrunFactor`` times its
    /// planned downtime.
    case rebootOverrun = "reboot-overrun"
    /// Rule 4 on actual times: a reboot started without a notice sent to its subscription a
    /// notice period before.
    case noticeLate = "notice-late"
    /// Guarded execution: a start that was refused and then forced.
    case forcedStart = "forced-start"
    /// The audit log: a notice logged as sent more than once (two senders, or one resent).
    case noticeSentTwice = "notice-sent-twice"
    /// The audit log: a trigger that keeps it append-only is missing.
    case logNotAppendOnly = "log-not-append-only"
    /// The audit log: a checkpoint whose signature does not verify, or whose key the database
    /// does not record.
    case checkpointSignature = "checkpoint-signature"
    /// The audit log: it no longer holds the head a signed checkpoint vouches for (rewritten or cut).
    case checkpointNotExtended = "checkpoint-not-extended"

    /// The rules ``Checker/check(events:fleet:campaigns:notices:)`` judges planned events
    /// against, in report order.
    public static let scheduling: [RuleName] = [
        .updateDomainOverlap, .udGap, .pairOverlap, .singleBeforeMulti, .shortNotice,
        .outsideWindow, .inBlackout, .freezeTooLong, .doubleBooked, .missingNotice,
    ]

    /// The rules ``HistoryAudit/findings(events:pairs:notices:now:)`` judges actual history
    /// against, in report order.
    public static let history: [RuleName] = [
        .updateDomainOverlap, .pairOverlap, .freezeTooLong, .rebootOverrun, .noticeLate, .forcedStart,
    ]

    /// What `audit verify` finds in the log itself, beside its hash chain, in report order.
    public static let log: [RuleName] = [.noticeSentTwice, .logNotAppendOnly, .checkpointSignature, .checkpointNotExtended]

    /// One line saying what the rule asks.
    public var summary: String {
        switch self {
        case .updateDomainOverlap: "within an availability set, one update domain at a time"
        case .udGap: "a set's next update domain waits for the recovery gap"
        case .pairOverlap: "the regions of a pair link are never under maintenance together"
        case .singleBeforeMulti: "single-instance VMs only after the region's availability sets"
        case .shortNotice: "no event starts before its notice period has run"
        case .outsideWindow: "events lie inside one occurrence of an applicable window"
        case .inBlackout: "no event overlaps a blackout"
        case .freezeTooLong: "a freeze lasts at most 30s"
        case .doubleBooked: "a VM is never in two overlapping events"
        case .missingNotice: "every reboot event has a notice for its subscription"
        case .rebootOverrun: "a reboot lasts at most \(Rules.rebootOverrunFactor) times its planned downtime"
        case .noticeLate: "a reboot starts only after its notice was sent a notice period ahead"
        case .forcedStart: "no start overrides the guard"
        case .noticeSentTwice: "a notice is sent once"
        case .logNotAppendOnly: "the audit log's append-only triggers are in place"
        case .checkpointSignature: "every checkpoint is signed by a recorded audit key"
        case .checkpointNotExtended: "the log still holds every head a checkpoint signed"
        }
    }

    public static func < (a: RuleName, b: RuleName) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// The rule definitions, shared by ``Planner``, ``Checker``, ``Guard`` and ``HistoryAudit``.
///
/// Where each rule lives. Its finding is a ``Finding`` named by ``RuleName``, and its message,
/// in every reading (planned for the checker, starting for the guard, actual for the audit),
/// is the `FindingMessage` function of the rule's name (Findings.swift):
/// - Rule 1: ``updateDomainClash(earlier:later:laterGap:)``, seen by the planner as
///   ``updateDomainExclusion(around:existingGap:newGap:)`` and by the guard as
///   ``updateDomainClash(startingAt:other:gap:)``; `updateDomainsConflict` says which VMs it
///   keeps apart when the checker and the audit sweep for overlaps (`IntervalSweep`).
/// - Rule 2: ``singleInstanceTooEarly(start:multiInstanceDone:)``.
/// - Rule 3: ``pairConflicts(_:)``, ``pairPartners(of:among:)`` and ``linked(_:_:in:)`` say which
///   regions are linked; ``pairBusyClash(_:_:)`` across campaigns, ``pairSpansClash(_:_:)``
///   within one (`spanStart` for the planner).
/// - Rule 4: ``earliestStart(plannedAt:kind:)``, ``needsNotice(_:)``, ``noticeInTime(sent:start:kind:)``.
/// - Rule 5: ``applicableWindows(set:region:among:)`` (and its index form over a snapshot),
///   ``window(containing:among:)``, ``blackout(_:appliesTo:)``; `WindowTimeline` for many events.
/// - Rule 6: ``tooLong(_:seconds:)``, ``rebootOverran(planned:actual:)``.
/// - Rule 7: ``doubleBooked(_:_:)``.
public enum Rules {
    // MARK: Rule 1, one update domain at a time

    /// Judges two intervals of the same availability set with different update domains.
    ///
    /// They must not overlap, and the later-starting one must start at least a recovery gap
    /// after the other ends. The gap is that of the later interval's campaign: recovery
    /// before the next update domain is the choice of the campaign that starts it. This holds
    /// across campaigns too.
    ///
    /// - Precondition: `earlier.start <= later.start`.
    /// - Returns: the rule broken, or `nil`.
    public static func updateDomainClash(earlier: TimeRange, later: TimeRange, laterGap: Int64) -> RuleName? {
        if later.start < earlier.end { return .updateDomainOverlap }
        if later.start < earlier.end + laterGap { return .udGap }
        return nil
    }

    /// The time a new wave of another update domain of the same set must stay clear of, given
    /// an existing interval: the same rule as ``updateDomainClash(earlier:later:laterGap:)``
    /// seen from the planner. Before the existing interval the new wave needs the existing
    /// campaign's gap; after it, its own.
    public static func updateDomainExclusion(around existing: TimeRange, existingGap: Int64, newGap: Int64) -> TimeRange {
        TimeRange(start: existing.start - existingGap, end: existing.end + newGap)
    }

    /// The same rule as ``updateDomainClash(earlier:later:laterGap:)`` seen at the instant a
    /// wave actually starts, as guarded execution asks it: the new wave runs from `start` with
    /// no known end, so another update domain of the set that actually ran over `other` (open
    /// ended while it still runs) clashes if it had not finished by `start`, or finished less
    /// than `gap` (the starting wave's campaign's) before it.
    ///
    /// - Returns: the rule broken, or `nil`.
    public static func updateDomainClash(startingAt start: Timestamp, other: TimeRange, gap: Int64) -> RuleName? {
        if other.end > start { return .updateDomainOverlap }
        return updateDomainClash(earlier: other, later: TimeRange(start: start, end: start), laterGap: gap)
    }

    /// Which VMs of one set rule 1 keeps apart: those of different update domains (VMs of the
    /// same update domain go together).
    static func updateDomainsConflict(_ a: Int, _ b: Int) -> Bool { a != b }

    // MARK: Rule 2, multi-instance first

    /// A region's single-instance VMs start only once every multi-instance VM of the region in
    /// the same campaign is done.
    public static func singleInstanceTooEarly(start: Timestamp, multiInstanceDone: Timestamp) -> Bool {
        start < multiInstanceDone
    }

    // MARK: Rule 3, pair-safe

    /// The pair conflict graph: every link counts in both directions, whatever the table says
    /// about the other direction; links of a region to itself are dropped. Partners are sorted
    /// by name.
    public static func pairConflicts(_ pairs: [RegionPair]) -> [String: [String]] {
        var graph: [String: Set<String>] = [:]
        for link in pairs where link.region != link.pairedWith {
            graph[link.region, default: []].insert(link.pairedWith)
            graph[link.pairedWith, default: []].insert(link.region)
        }
        return graph.mapValues { $0.sorted() }
    }

    /// The regions linked to `region` by any of `pairs`, in either direction, sorted by name
    /// (``pairConflicts(_:)`` for one region).
    public static func pairPartners(of region: String, among pairs: [RegionPair]) -> [String] {
        pairConflicts(pairs)[region] ?? []
    }

    /// Whether `a` and `b` may never be under maintenance together, given the conflict graph
    /// of ``pairConflicts(_:)``.
    public static func linked(_ a: String, _ b: String, in conflicts: [String: [String]]) -> Bool {
        conflicts[a]?.contains(b) ?? false
    }

    /// Across campaigns, two linked regions clash when both have an event at the same instant.
    /// The checker, guarded execution and the history audit all ask this, the latter two on
    /// actual times; the planner keeps each region clear of its partners' busy time.
    public static func pairBusyClash(_ a: TimeRange, _ b: TimeRange) -> Bool { a.overlaps(b) }

    /// Within one campaign it is stricter: one region's whole span (first start to last end)
    /// must end before its partner's begins.
    public static func pairSpansClash(_ a: TimeRange, _ b: TimeRange) -> Bool { a.overlaps(b) }

    /// The same rule as ``pairSpansClash(_:_:)`` seen from the planner: the earliest a region's
    /// span may begin at or after `from`, given the spans of its partners placed before it in
    /// the same campaign, and whether one of them made it wait.
    static func spanStart(from: Timestamp, partnerSpans: [TimeRange]) -> (start: Timestamp, waited: [Int]) {
        var start = from, waited: [Int] = []
        let unbounded = TimeRange(start: from, end: Timestamp(seconds: .max))
        for (k, span) in partnerSpans.enumerated() where pairSpansClash(unbounded, span) {
            start = max(start, span.end)
            waited.append(k)
        }
        return (start, waited)
    }

    // MARK: Rule 4, notice

    /// The earliest an event planned at `plannedAt` may start.
    public static func earliestStart(plannedAt: Timestamp, kind: MaintenanceKind) -> Timestamp {
        plannedAt + kind.noticePeriod
    }

    /// Whether an event of `kind` needs a notice to its subscription's admins and co-admins.
    public static func needsNotice(_ kind: MaintenanceKind) -> Bool { kind.needsNotice }

    /// Whether a notice sent at `sent` was in time for an event of `kind` starting at `start`:
    /// the same notice period as ``earliestStart(plannedAt:kind:)``, counted from the sending.
    public static func noticeInTime(sent: Timestamp, start: Timestamp, kind: MaintenanceKind) -> Bool {
        earliestStart(plannedAt: sent, kind: kind) <= start
    }

    // MARK: Rule 5, windows and blackouts

    /// Which windows apply, the one definition: a set with windows of its own uses those,
    /// else its region's (single-instance VMs have no set's). An empty answer means any time
    /// is allowed. Both `applicableWindows` functions and the checker's grouping use it.
    static func chooseWindows<W>(own: [W], region: [W]) -> [W] { own.isEmpty ? region : own }

    /// The windows that constrain a VM of `set` in `region` (``chooseWindows(own:region:)``).
    public static func applicableWindows(set: String?, region: String, among windows: [MaintenanceWindow]) -> [MaintenanceWindow] {
        chooseWindows(
            own: set.map { set in windows.filter { $0.scope == .availabilitySet(set) } } ?? [],
            region: windows.filter { $0.scope == .region(region) })
    }

    /// The first of `windows` with an occurrence that wholly contains `range`.
    public static func window(containing range: TimeRange, among windows: [MaintenanceWindow]) -> MaintenanceWindow? {
        windows.first { w in w.occurrences(overlapping: range).contains { $0.contains(range) } }
    }

    /// The same as ``applicableWindows(set:region:among:)`` over the snapshot's precomputed
    /// indexes (indices into `fleet.windows`). Single-instance VMs (`set < 0`) use their
    /// region's; a set or region not in the fleet (`>= count`, a removed VM's) has none.
    static func applicableWindows(set: Int32, region: Int32, in fleet: FleetSnapshot) -> [Int32] {
        chooseWindows(
            own: set >= 0 && set < fleet.sets.count ? fleet.setWindows[Int(set)] : [],
            region: region >= 0 && region < fleet.regions.count ? fleet.regionWindows[Int(region)] : [])
    }

    /// Which blackouts apply, the one definition: a blackout without a region applies to the
    /// whole fleet, one with a region to that region only. `region` is `nil` for a place
    /// outside every region, where only the fleet-wide ones apply.
    public static func blackout(_ blackout: Blackout, appliesTo region: String?) -> Bool {
        blackout.region == nil || blackout.region == region
    }

    /// The blackouts an event in `region` must avoid (indices into `fleet.blackouts`), per
    /// ``blackout(_:appliesTo:)``.
    static func applicableBlackouts(region: Int32, in fleet: FleetSnapshot) -> [Int32] {
        if region >= 0, region < fleet.regions.count { return fleet.regionBlackouts[Int(region)] }
        return fleet.blackouts.indices.filter { blackout(fleet.blackouts[$0], appliesTo: nil) }.map(Int32.init)
    }

    // MARK: Rule 6, durations

    /// Whether an event of `kind` lasting `seconds` is longer than the kind allows.
    public static func tooLong(_ kind: MaintenanceKind, seconds: Int64) -> Bool {
        kind.maxPerVMDuration.map { seconds > $0 } ?? false
    }

    /// "A reboot far longer than planned": its actual downtime is more than this many times the
    /// planned one (a 15-minute reboot is flagged past 30 minutes). Twice leaves room for a
    /// slow boot without hiding a host that hung.
    public static let rebootOverrunFactor: Int64 = 2

    /// Whether a reboot planned to last `planned` seconds overran when it actually lasted `actual`.
    public static func rebootOverran(planned: Int64, actual: Int64) -> Bool { actual > rebootOverrunFactor * planned }

    // MARK: Rule 7, no double booking

    /// Two events of the same VM clash when they overlap, whatever their campaigns.
    public static func doubleBooked(_ a: TimeRange, _ b: TimeRange) -> Bool { a.overlaps(b) }
}

/// The occurrences of a group of windows over a stretch of time, answering rule 5's question
/// "does this range lie inside one occurrence of one of them?" for planner and checker alike.
/// Occurrences of different windows are kept apart, never merged: a range that straddles two
/// overlapping occurrences lies inside neither.
struct WindowTimeline {
    /// The occurrences, sorted, with which reaches furthest (``ReachIndex``).
    private let index: ReachIndex
    var occurrences: [TimeRange] { index.ranges }
    /// The longest occurrence, in seconds.
    let longest: Int64

    init(windows: [MaintenanceWindow], over range: TimeRange) {
        var all: [TimeRange] = []
        for window in windows { all.append(contentsOf: window.occurrences(overlapping: range)) }
        all.sort()
        index = ReachIndex(sorted: all)
        longest = all.map(\.duration).max() ?? 0
    }

    /// An occurrence that wholly contains `range`, if any.
    func occurrence(containing range: TimeRange) -> TimeRange? {
        guard let i = index.furthest(startingAtOrBefore: range.start), occurrences[i].end >= range.end else { return nil }
        return occurrences[i]
    }

    /// The earliest `t >= from` such that `[t, t + duration)` lies inside one occurrence.
    func earliestStart(from: Timestamp, duration: Int64) -> Timestamp? {
        guard duration <= longest else { return nil }
        let i = index.lastStarting(atOrBefore: from)
        if i >= 0, occurrences[index.furthest(upTo: i)].end >= from + duration { return from }
        var j = i + 1
        while j < occurrences.count {
            if occurrences[j].duration >= duration { return occurrences[j].start }
            j += 1
        }
        return nil
    }
}

/// Sorted, merged busy ranges: time a wave must stay clear of.
struct BusyTimeline {
    private(set) var ranges: [TimeRange]

    /// Sorts and merges `ranges`; empty ranges are dropped.
    init(_ ranges: [TimeRange]) {
        let sorted = ranges.filter { !$0.isEmpty }.sorted()
        var merged: [TimeRange] = []
        merged.reserveCapacity(sorted.count)
        for r in sorted {
            if let last = merged.last, r.start <= last.end {
                if r.end > last.end { merged[merged.count - 1].end = r.end }
            } else {
                merged.append(r)
            }
        }
        self.ranges = merged
    }

    var isEmpty: Bool { ranges.isEmpty }

    /// The first busy range that overlaps `range`, if any.
    func firstOverlap(with range: TimeRange) -> TimeRange? {
        var lo = 0, hi = ranges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ranges[mid].end <= range.start { lo = mid + 1 } else { hi = mid }
        }
        guard lo < ranges.count, ranges[lo].start < range.end else { return nil }
        return ranges[lo]
    }
}
