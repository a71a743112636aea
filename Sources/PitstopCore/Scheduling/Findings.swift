// What every report says when a rule of Rules.swift is broken: one finding type for the
// checker, guarded execution and the history audit, and each rule's message worded in one
// function (docs/rules.md#scheduling-rules). A report reads events one of three ways, and the
// message follows the reading: as planned (`check`), as a start would make them (the guard), or
// as they actually happened (`audit verify`).

/// One broken rule, grouped: one finding stands for every event that breaks the rule in the
/// same way at the same place (the same two update domains of a set, the same pair link and
/// campaigns, the same region and campaign, the same wave...).
public struct Finding: Sendable, Hashable, Codable, CustomStringConvertible {
    public var rule: RuleName
    /// What is wrong, naming VMs, sets, regions, events and instants.
    public var message: String
    /// Ids of the events involved, sorted. For a start, the other events that make it break the
    /// rule; for ``RuleName/shortNotice`` the starting events themselves.
    public var events: [String]
    /// Regions involved, sorted; empty where a report does not track them (the guard, the audit).
    public var regions: [String]
    /// The first instant at which the rule is broken; for a start, the instant of the start.
    public var at: Timestamp

    public init(rule: RuleName, message: String, events: [String], regions: [String] = [], at: Timestamp) {
        self.rule = rule
        self.message = message
        self.events = events.sorted()
        self.regions = regions.sorted()
        self.at = at
    }

    public var description: String { "\(rule.rawValue): \(message)" }
}

extension Finding {
    /// A notice logged as sent `times.count` times (at each of `times`, in log order).
    public static func noticeSentTwice(notice: String, campaign: String?, subscription: String?, times: [Timestamp]) -> Finding {
        let owner = [campaign.map { "campaign \($0)" }, subscription.map { "subscription \($0)" }].compactMap { $0 }.joined(separator: ", ")
        return Finding(rule: .noticeSentTwice,
                       message: "notice \(notice)\(owner.isEmpty ? "" : " (\(owner))") was sent \(times.count) times: at "
                           + times.map(\.iso8601).joined(separator: ", "),
                       events: [], at: times.dropFirst().first ?? times.first ?? Timestamp(seconds: 0))
    }

    /// The log's append-only triggers named in `missing` are gone: anyone with write access can
    /// now edit it, and only a signed checkpoint shows whether someone did.
    public static func logNotAppendOnly(missing: [String], at: Timestamp) -> Finding {
        Finding(rule: .logNotAppendOnly,
                message: "the audit log is not append-only: trigger\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) "
                    + "\(missing.count == 1 ? "is" : "are") missing, so its entries can be edited or removed",
                events: [], at: at)
    }

    /// A checkpoint (`place`: `entry 41` or a kept file) whose signature or key does not hold.
    public static func checkpointSignature(_ place: String, problem: String, at: Timestamp) -> Finding {
        Finding(rule: .checkpointSignature, message: "\(place): \(problem)", events: [], at: at)
    }

    /// A checkpoint whose signed head (`seq`, `hash`) the log no longer holds.
    public static func checkpointNotExtended(_ place: String, seq: Int64, hash: String, problem: String, at: Timestamp) -> Finding {
        Finding(rule: .checkpointNotExtended,
                message: "\(place): the log does not extend the signed head \(seq) \(hash.prefix(16))…: \(problem)",
                events: [], at: at)
    }
}

/// Each rule's message, one function per rule. A rule judged in several readings takes an enum
/// whose cases are the readings, each with the parts that reading's report computes: `planned`
/// for the checker, `starting` for the guard, `actual` for the history audit.
enum FindingMessage {
    // MARK: Rule 1

    /// Two update domains of a set as the checker found them first, with the other pairs of
    /// update domains of the set that clash the same way.
    struct PlannedDomains {
        var set: String, region: String
        var low: Int, lowVMs: [String]
        var high: Int, highVMs: [String]
        var likewise: [(low: Int, high: Int)]
    }

    /// An update domain of a set about to start, and the events of other update domains it meets.
    struct StartingDomain {
        var set: String, region: String
        var updateDomain: Int
        /// The update domains of `events`, in any order, repeated or not.
        var others: [Int]
        var events: [String]
    }

    enum UpdateDomainOverlap {
        case planned(PlannedDomains, at: Timestamp)
        case starting(StartingDomain, started: Timestamp?)
        case actual(set: String, low: Int, lowVMs: [String], high: Int, highVMs: [String], during: TimeRange)
    }

    static func updateDomainOverlap(_ reading: UpdateDomainOverlap) -> String {
        switch reading {
        case .planned(let d, let at):
            planned(d, "overlap at \(at)")
        case .starting(let d, let started):
            starting(d, "cannot start while update domain \(domains(d.others)) is under maintenance (started \(started.map(\.iso8601) ?? "?"), not finished)")
        case .actual(let set, let low, let lowVMs, let high, let highVMs, let during):
            "set \(set): update domains \(low) and \(high) were down together from \(during.start) to \(during.end) "
                + "(\(actualVMs(lowVMs)) with \(actualVMs(highVMs)))"
        }
    }

    enum UpdateDomainGap {
        /// `starts`, of update domain `later`, is too soon after `ended`, of update domain `earlier`.
        case planned(PlannedDomains, later: Int, starts: Timestamp, earlier: Int, ended: Timestamp, campaign: String, gap: Int64)
        case starting(StartingDomain, at: Timestamp, ended: Timestamp, campaign: String, gap: Int64)
    }

    static func udGap(_ reading: UpdateDomainGap) -> String {
        switch reading {
        case .planned(let d, let later, let starts, let earlier, let ended, let campaign, let gap):
            planned(d, "are too close: UD \(later) starts at \(starts), \(DurationText.short(starts - ended)) after UD \(earlier) ended at "
                + "\(ended); campaign \(campaign) needs a recovery gap of \(DurationText.short(gap))")
        case .starting(let d, let at, let ended, let campaign, let gap):
            starting(d, "is too soon after update domain \(domains(d.others)), which ended at \(ended), \(DurationText.short(at - ended)) before; "
                + "campaign \(campaign) needs a recovery gap of \(DurationText.short(gap)), so not before \(ended + gap)")
        }
    }

    private static func planned(_ d: PlannedDomains, _ detail: String) -> String {
        var message = "\(setPlace(d.set, d.region)): UD \(d.low) (\(plannedVMs(d.lowVMs))) and UD \(d.high) (\(plannedVMs(d.highVMs))) \(detail)"
        if !d.likewise.isEmpty {
            let shown = d.likewise.prefix(3).map { "UD \($0.low) and UD \($0.high)" }.joined(separator: ", ")
            message += "; likewise \(shown)" + (d.likewise.count > 3 ? " and \(d.likewise.count - 3) more pairs" : "")
        }
        return message
    }

    private static func starting(_ d: StartingDomain, _ detail: String) -> String {
        "set \(d.set) (\(d.region)): update domain \(d.updateDomain) \(detail): \(events(d.events))"
    }

    /// `1` or `1, 3`: update domains, deduplicated and sorted.
    private static func domains(_ uds: [Int]) -> String {
        Set(uds).sorted().map(String.init).joined(separator: ", ")
    }

    // MARK: Rule 2

    enum SingleBeforeMulti {
        /// Single-instance VMs starting at `at`, before the last availability-set VM (`lastVM`)
        /// is done at `done`.
        case planned(region: String, vms: [String], at: Timestamp, done: Timestamp, lastVM: String, campaign: String)
        /// The availability-set events not done yet, `running` of them running.
        case starting(region: String, campaign: String, running: Int, events: [String])
    }

    static func singleBeforeMulti(_ reading: SingleBeforeMulti) -> String {
        switch reading {
        case .planned(let region, let vms, let at, let done, let lastVM, let campaign):
            "\(region): single-instance VMs (\(plannedVMs(vms))) start at \(at), before the region's availability sets are done at \(done) "
                + "(\(lastVM), campaign \(campaign))"
        case .starting(let region, let campaign, let running, let events):
            "\(region): single-instance VMs wait until the region's availability-set events of campaign \(campaign) "
                + "are done; \(events.count) \(events.count == 1 ? "is" : "are") not (\(running) running): \(self.events(events))"
        }
    }

    // MARK: Rule 3

    /// A region's events in one campaign, as the checker names a pair clash.
    struct PlannedRegion {
        var region: String, campaign: String
        /// The region's span in the campaign (first start to last end).
        var span: TimeRange
        /// The VM named for the region.
        var vm: String
    }

    enum PairOverlap {
        /// Within one campaign: `second`'s span begins before `first`'s ends (`first.vm` the
        /// last to end, `second.vm` the first to start).
        case plannedSpans(first: PlannedRegion, second: PlannedRegion)
        /// Across campaigns: both regions busy at `at`, each with the VM that began its busy stretch.
        case planned(PlannedRegion, PlannedRegion, at: Timestamp)
        /// A start in `region` while `partner` has `events` running at `at`.
        case starting(region: String, partner: String, at: Timestamp, started: Timestamp?, events: [String])
        /// A start in `region` while `partner`, in the same campaign, has begun its maintenance:
        /// `pending` of its events not ended, `running` of them running; if none is pending, its
        /// events ran until `ranUntil`.
        case startingSpan(region: String, partner: String, campaign: String, pending: Int, running: Int, ranUntil: Timestamp, events: [String])
        case actual(String, [String], with: String, [String], during: TimeRange)
    }

    static func pairOverlap(_ reading: PairOverlap) -> String {
        switch reading {
        case .plannedSpans(let first, let second):
            "campaign \(first.campaign): paired regions \(first.region) (\(first.span)) and \(second.region) (\(second.span)) interleave: "
                + "\(second.region) starts at \(second.span.start) (\(second.vm)) before \(first.region) is done at \(first.span.end) (\(first.vm))"
        case .planned(let a, let b, let at):
            bothUnder("\(a.region) (campaign \(a.campaign), \(a.vm))", "\(b.region) (campaign \(b.campaign), \(b.vm))", "are", "at \(at)")
        case .actual(let a, let aVMs, let b, let bVMs, let during):
            bothUnder(a, b, "were", "from \(during.start) to \(during.end) (\(actualVMs(aVMs)) with \(actualVMs(bVMs)))")
        case .starting(let region, let partner, let at, let started, let events):
            pairedStart(region, partner, "has events under maintenance at \(at) (started \(started.map(\.iso8601) ?? "?"))", events)
        case .startingSpan(let region, let partner, let campaign, let pending, let running, let ranUntil, let events):
            pairedStart(region, partner, "in campaign \(campaign) "
                + (pending == 0 ? "ran until \(ranUntil)" : "is part way through its maintenance (\(running) running, \(pending - running) still scheduled)")
                + "; its waves must all be done before this region's begin", events)
        }
    }

    private static func bothUnder(_ a: String, _ b: String, _ verb: String, _ when: String) -> String {
        "paired regions \(a) and \(b) \(verb) both under maintenance \(when)"
    }

    private static func pairedStart(_ region: String, _ partner: String, _ detail: String, _ events: [String]) -> String {
        "\(region) is paired with \(partner), which \(detail): \(self.events(events))"
    }

    // MARK: Rule 4

    enum ShortNotice {
        /// `vms` of a campaign in a region start as early as `start`, a `kind` planned at `plannedAt`.
        case planned(campaign: String, region: String, vms: [String], start: Timestamp, kind: MaintenanceKind, plannedAt: Timestamp)
        case starting(events: [String], kind: MaintenanceKind, plannedAt: Timestamp, earliest: Timestamp)
    }

    static func shortNotice(_ reading: ShortNotice) -> String {
        switch reading {
        case .planned(let campaign, let region, let vms, let start, let kind, let plannedAt):
            "\(campaignIn(campaign, region)): \(plannedVMs(vms)) start as early as \(start), before the \(DurationText.short(kind.noticePeriod)) "
                + "notice a \(kind.rawValue) needs after planning at \(plannedAt) has run (earliest \(Rules.earliestStart(plannedAt: plannedAt, kind: kind)))"
        case .starting(let events, let kind, let plannedAt, let earliest):
            "\(self.events(events)) planned at \(plannedAt) may not start before \(earliest), "
                + "when the \(kind.rawValue) notice of \(DurationText.short(kind.noticePeriod)) has run"
        }
    }

    /// Planned: `count` reboot events of a campaign, of `vms`, whose subscription has no notice.
    static func missingNotice(campaign: String, subscription: String, count: Int, vms: [String], first: Timestamp) -> String {
        "campaign \(campaign): subscription \(subscription) has no notice for \(count) reboot event\(count == 1 ? "" : "s") "
            + "(\(plannedVMs(vms))), the first at \(first)"
    }

    /// Where a reboot's notice stood when it actually started.
    enum NoticeState {
        case neverQueued, neverSent, sentLate(Timestamp)
        /// For a VM whose subscription is unknown: the campaign's first notice, if any was sent.
        case campaignFirstSent(Timestamp?)
    }

    /// Actual: `vms` of a campaign rebooted from `first` without a notice in time. `subscription`
    /// is `nil` for a removed VM whose set is gone too.
    static func noticeLate(campaign: String, subscription: String?, vms: [String], first: Timestamp, notice: NoticeState) -> String {
        let owner = subscription.map { "subscription \($0)" } ?? "an unknown subscription (VM and set removed)"
        let state = switch notice {
        case .neverQueued: "no notice was queued"
        case .neverSent: "its notice was never sent"
        case .sentLate(let sent): "its notice was sent only at \(sent)"
        case .campaignFirstSent(let sent): sent.map { "the campaign's first notice was sent only at \($0)" } ?? "no notice of the campaign was sent"
        }
        return "campaign \(campaign): \(actualVMs(vms)) of \(owner) rebooted from \(first), but \(state) "
            + "(a reboot needs \(DurationText.short(MaintenanceKind.reboot.noticePeriod)) of notice)"
    }

    // MARK: Rule 5

    /// Planned: `vms` (the first over `first`) outside every occurrence of `windows`, the set's
    /// own if `ownWindows`, else the region's; `set` is `nil` for single-instance VMs.
    static func outsideWindow(
        set: String?, region: String, vms: [String], first: TimeRange, ownWindows: Bool, windows: [String], campaign: String
    ) -> String {
        let place = set.map { setPlace($0, region) } ?? "single-instance VMs of \(region)"
        let names = windows.map { "'\($0)'" }.joined(separator: ", ")
        return "\(place): \(plannedVMs(vms)) (the first \(first)) lie outside every occurrence of "
            + "\(ownWindows ? "the set's" : "the region's") windows \(names) (campaign \(campaign))"
    }

    /// Planned: `vms` overlap a blackout, the first from `first`.
    static func inBlackout(campaign: String, region: String, vms: [String], blackout: Blackout, first: Timestamp) -> String {
        "\(campaignIn(campaign, region)): \(plannedVMs(vms)) overlap blackout '\(blackout.name)' (\(blackout.range)), the first at \(first)"
    }

    // MARK: Rule 6

    /// A wave as the audit names it.
    struct Wave {
        var id: String, set: String?, updateDomain: Int?, region: String
        init(_ e: PlannedEvent) { (id, set, updateDomain, region) = (e.wave, e.availabilitySet, e.updateDomain, e.region) }
    }

    enum FreezeTooLong {
        case planned(campaign: String, region: String, vms: [String], longest: Int64)
        /// `longestVM` paused `longest` seconds, the longest of `vms`.
        case actual(Wave, vms: [String], longest: Int64, longestVM: String)
    }

    static func freezeTooLong(_ reading: FreezeTooLong) -> String {
        let limit = DurationText.short(MaintenanceKind.freeze.maxPerVMDuration ?? 30)
        return switch reading {
        case .planned(let campaign, let region, let vms, let longest):
            "\(campaignIn(campaign, region)): freeze events of \(plannedVMs(vms)) last up to \(DurationText.short(longest)), more than the \(limit) a freeze may"
        case .actual(let wave, let vms, let longest, let longestVM):
            inWave(wave, vms, "paused longer than \(limit); longest \(DurationText.short(longest)) (\(longestVM))")
        }
    }

    /// Actual: `vms` of a wave down more than ``Rules/rebootOverrunFactor`` times the `planned`
    /// downtime; `longestVM` down `longest` seconds.
    static func rebootOverrun(_ wave: Wave, vms: [String], planned: Int64, longest: Int64, longestVM: String) -> String {
        inWave(wave, vms, "down more than \(Rules.rebootOverrunFactor)x the planned \(DurationText.short(planned)); "
            + "longest \(DurationText.short(longest)) (\(longestVM))")
    }

    // MARK: Rule 7

    enum DoubleBooked {
        /// `vm` in events `a` and `b` over their ranges; `vms` every VM double-booked the same way.
        case planned(region: String, vm: String, a: (id: String, range: TimeRange), b: (id: String, range: TimeRange), vms: [String])
        case starting(vm: String, events: [String], started: Timestamp?)
    }

    static func doubleBooked(_ reading: DoubleBooked) -> String {
        switch reading {
        case .planned(let region, let vm, let a, let b, let vms):
            "\(region): VM \(vm) is in overlapping events \(a.id) (\(a.range)) and \(b.id) (\(b.range))"
                + (Set(vms).count > 1 ? ", and \(Set(vms).count - 1) more VM\(Set(vms).count > 2 ? "s" : "") (\(plannedVMs(vms)))" : "")
        case .starting(let vm, let events, let started):
            "VM \(vm) is already under maintenance in \(self.events(events)) (started \(started.map(\.iso8601) ?? "?"))"
        }
    }

    // MARK: Guarded execution

    /// Actual: `vms` of a wave started by force, for `reasons` (sorted, none empty).
    static func forcedStart(_ wave: Wave, vms: [String], reasons: [String]) -> String {
        inWave(wave, vms, "started by force") + (reasons.isEmpty ? ", no reason given" : ": \(reasons.joined(separator: "; "))")
    }

    // MARK: Places and lists

    /// `set web in eastus`.
    private static func setPlace(_ set: String, _ region: String) -> String { "set \(set) in \(region)" }

    /// `campaign c1 in eastus`.
    private static func campaignIn(_ campaign: String, _ region: String) -> String { "campaign \(campaign) in \(region)" }

    /// `set web UD 1 wave w3: web-0, web-1 ...` or `eastus single-instance wave w3: ...`.
    private static func inWave(_ wave: Wave, _ vms: [String], _ detail: String) -> String {
        let place = wave.set.map { "set \($0) UD \(wave.updateDomain ?? 0)" } ?? "\(wave.region) single-instance"
        return "\(place) wave \(wave.id): \(actualVMs(vms)) \(detail)"
    }

    /// `web-0, web-5, web-9 and 12 more`: VMs as the checker names them, deduplicated, by name.
    private static func plannedVMs(_ vms: [String]) -> String {
        let names = Array(Set(vms)).sorted()
        let shown = names.prefix(3).joined(separator: ", ")
        return names.count > 3 ? "\(shown) and \(names.count - 3) more" : shown
    }

    /// `web-0, web-1 and 3 more VMs`: VMs as the audit names them, short enough for a message line.
    private static func actualVMs(_ vms: [String]) -> String {
        let names = Set(vms).sorted()
        if names.count <= 3 { return names.joined(separator: ", ") }
        return names.prefix(2).joined(separator: ", ") + " and \(names.count - 2) more VMs"
    }

    /// How many event ids a message names before it says "and N more".
    static let namedEvents = 4

    /// `event a, b, c, d and 12 more`: ids deduplicated and sorted, as the guard names them.
    static func events(_ ids: [String]) -> String {
        let sorted = Array(Set(ids)).sorted()
        let shown = sorted.prefix(namedEvents).joined(separator: ", ")
        let head = sorted.count == 1 ? "event " : "events "
        return head + shown + (sorted.count > namedEvents ? " and \(sorted.count - namedEvents) more" : "")
    }
}
