// The audit of what actually happened: actual start and end times judged against the rules of
// Rules.swift (their predicates, and IntervalSweep.swift for overlaps), for `audit verify` and
// reports. Pure: events, pair links and notices in, findings out. Its findings are named by
// RuleName, like the checker's, from RuleName.history.

/// One rule broken by actual history, grouped like the checker groups violations: one finding
/// per two update domains that overlapped, per pair of regions and overlap, per wave.
public struct HistoryFinding: Sendable, Hashable, CustomStringConvertible {
    /// One of ``RuleName/history``.
    public var rule: RuleName
    /// What happened, naming sets, regions, VMs and instants.
    public var message: String
    /// Ids of the events involved, sorted.
    public var events: [String]
    /// The first instant at which the rule was broken.
    public var at: Timestamp

    public init(rule: RuleName, message: String, events: [String], at: Timestamp) {
        self.rule = rule
        self.message = message
        self.events = events.sorted()
        self.at = at
    }

    public var description: String { "\(rule.rawValue) at \(at.iso8601): \(message)" }
}

/// Judges actual history. See ``findings(events:pairs:notices:now:)``.
public enum HistoryAudit {
    /// ``Rules/rebootOverrunFactor``, where the rule is defined.
    public static var rebootOverrunFactor: Int64 { Rules.rebootOverrunFactor }

    /// Every rule that `events` broke as they actually happened, in instant, rule, message order.
    ///
    /// Only events with an actual start count. Pair links count in both directions
    /// (``Rules/pairConflicts(_:)``); they are the links as they are now.
    ///
    /// - Parameters:
    ///   - notices: when each (campaign, subscription) notice was sent, `nil` if it is still
    ///     queued; a pair missing here never had a notice queued.
    ///   - now: the end of events still running.
    public static func findings(
        events: [EventRecord], pairs: [RegionPair], notices: [NoticeKey: Timestamp?], now: Timestamp
    ) -> [HistoryFinding] {
        var down: [(index: Int, range: TimeRange)] = []
        down.reserveCapacity(events.count)
        for (i, e) in events.enumerated() {
            if let r = e.actualRange(now: now) { down.append((i, r)) }
        }
        var findings: [HistoryFinding] = []
        findings += updateDomainOverlaps(events, down)
        findings += pairOverlaps(events, down, pairs: pairs)
        findings += durations(events, down)
        findings += lateNotices(events, down, notices: notices)
        findings += forcedStarts(events, down)
        return findings.sorted {
            ($0.at, $0.rule, $0.message, $0.events.first ?? "") < ($1.at, $1.rule, $1.message, $1.events.first ?? "")
        }
    }

    // MARK: Rule 1

    private static func updateDomainOverlaps(_ events: [EventRecord], _ down: [(index: Int, range: TimeRange)]) -> [HistoryFinding] {
        var bySet: [String: [IntervalSweep.Item]] = [:]
        for d in down {
            let e = events[d.index].event
            guard let set = e.availabilitySet, let ud = e.updateDomain else { continue }
            bySet[set, default: []].append(IntervalSweep.Item(group: ud, range: d.range, index: d.index))
        }
        var findings: [HistoryFinding] = []
        for (set, items) in bySet {
            // Different update domains of one set are never down together, across campaigns too.
            for clash in IntervalSweep.clashes(items, conflict: Rules.updateDomainsConflict) {
                let (a, b) = clash.first.group < clash.second.group ? (clash.first, clash.second) : (clash.second, clash.first)
                let ids = a.members.map { events[$0].event.id } + b.members.map { events[$0].event.id }
                findings.append(HistoryFinding(
                    rule: .updateDomainOverlap,
                    message: "set \(set): update domains \(a.group) and \(b.group) were down together from \(clash.range.start.iso8601) to \(clash.range.end.iso8601) "
                        + "(\(vmList(a.members, events)) with \(vmList(b.members, events)))",
                    events: ids, at: clash.range.start))
            }
        }
        return findings
    }

    // MARK: Rule 3

    private static func pairOverlaps(_ events: [EventRecord], _ down: [(index: Int, range: TimeRange)], pairs: [RegionPair]) -> [HistoryFinding] {
        let graph = Rules.pairConflicts(pairs)
        guard !graph.isEmpty else { return [] }
        var regionIndex: [String: Int] = [:], regionNames: [String] = []
        var items: [IntervalSweep.Item] = []
        for d in down {
            let region = events[d.index].event.region
            guard graph[region] != nil else { continue }
            let g = regionIndex[region] ?? { regionIndex[region] = regionNames.count; regionNames.append(region); return regionNames.count - 1 }()
            items.append(IntervalSweep.Item(group: g, range: d.range, index: d.index))
        }
        var findings: [HistoryFinding] = []
        // Rules.pairBusyClash on actual times: any overlap of linked regions, whatever the campaigns.
        for clash in IntervalSweep.clashes(items, conflict: { Rules.linked(regionNames[$0], regionNames[$1], in: graph) }) {
            let (a, b) = regionNames[clash.first.group] < regionNames[clash.second.group] ? (clash.first, clash.second) : (clash.second, clash.first)
            let ids = a.members.map { events[$0].event.id } + b.members.map { events[$0].event.id }
            findings.append(HistoryFinding(
                rule: .pairOverlap,
                message: "paired regions \(regionNames[a.group]) and \(regionNames[b.group]) were both under maintenance from "
                    + "\(clash.range.start.iso8601) to \(clash.range.end.iso8601) (\(vmList(a.members, events)) with \(vmList(b.members, events)))",
                events: ids, at: clash.range.start))
        }
        return findings
    }

    // MARK: Rule 6 and the overrun

    private static func durations(_ events: [EventRecord], _ down: [(index: Int, range: TimeRange)]) -> [HistoryFinding] {
        // Grouped per wave: its VMs went down together, so they overran together.
        var freezes: [String: [(Int, Int64)]] = [:], reboots: [String: [(Int, Int64)]] = [:]
        for d in down {
            let e = events[d.index].event
            let seconds = d.range.duration
            switch e.kind {
            case .freeze where Rules.tooLong(.freeze, seconds: seconds):
                freezes[e.wave, default: []].append((d.index, seconds))
            case .reboot where Rules.rebootOverran(planned: e.range.duration, actual: seconds):
                reboots[e.wave, default: []].append((d.index, seconds))
            default: break
            }
        }
        var findings: [HistoryFinding] = []
        for (wave, hits) in freezes {
            let longest = hits.max { $0.1 < $1.1 }!
            findings.append(HistoryFinding(
                rule: .freezeTooLong,
                message: "\(place(events[hits[0].0].event)) wave \(wave): \(vmList(hits.map(\.0), events)) paused longer than "
                    + "\(DurationText.short(MaintenanceKind.freeze.maxPerVMDuration ?? 30)); longest \(DurationText.short(longest.1)) (\(events[longest.0].event.vm))",
                events: hits.map { events[$0.0].event.id }, at: hits.compactMap { events[$0.0].actualStart }.min()!))
        }
        for (wave, hits) in reboots {
            let longest = hits.max { $0.1 < $1.1 }!
            let planned = events[longest.0].event.range.duration
            findings.append(HistoryFinding(
                rule: .rebootOverrun,
                message: "\(place(events[hits[0].0].event)) wave \(wave): \(vmList(hits.map(\.0), events)) down more than \(rebootOverrunFactor)x the planned "
                    + "\(DurationText.short(planned)); longest \(DurationText.short(longest.1)) (\(events[longest.0].event.vm))",
                events: hits.map { events[$0.0].event.id },
                // The instant the overrun began: the planned downtime times the factor after the start.
                at: hits.map { events[$0.0].actualStart! + rebootOverrunFactor * events[$0.0].event.range.duration }.min()!))
        }
        return findings
    }

    // MARK: Rule 4

    private static func lateNotices(_ events: [EventRecord], _ down: [(index: Int, range: TimeRange)], notices: [NoticeKey: Timestamp?]) -> [HistoryFinding] {
        struct Key: Hashable { var campaign: String; var subscription: String? }
        var late: [Key: [Int]] = [:]
        // A removed VM whose set is gone too has no known subscription: any notice of its
        // campaign sent in time will do, which can only hide a finding, never invent one.
        var earliestByCampaign: [String: Timestamp] = [:]
        for (key, sent) in notices {
            guard let sent else { continue }
            earliestByCampaign[key.campaign] = min(earliestByCampaign[key.campaign] ?? sent, sent)
        }
        for d in down {
            let h = events[d.index], e = h.event
            guard Rules.needsNotice(e.kind) else { continue }
            let sent: Timestamp? = if let s = h.subscription {
                notices[NoticeKey(campaign: e.campaign, subscription: s)] ?? nil
            } else {
                earliestByCampaign[e.campaign]
            }
            if let sent, Rules.noticeInTime(sent: sent, start: d.range.start, kind: e.kind) { continue }
            late[Key(campaign: e.campaign, subscription: h.subscription), default: []].append(d.index)
        }
        return late.map { key, members in
            let first = members.compactMap { events[$0].actualStart }.min()!
            let owner = key.subscription.map { "subscription \($0)" } ?? "an unknown subscription (VM and set removed)"
            let notice = key.subscription.map { NoticeKey(campaign: key.campaign, subscription: $0) }
            let state: String = if let notice {
                switch notices[notice] {
                case .none: "no notice was queued"
                case .some(.none): "its notice was never sent"
                case .some(.some(let sent)): "its notice was sent only at \(sent.iso8601)"
                }
            } else {
                earliestByCampaign[key.campaign].map { "the campaign's first notice was sent only at \($0.iso8601)" } ?? "no notice of the campaign was sent"
            }
            let period = DurationText.short(MaintenanceKind.reboot.noticePeriod)
            return HistoryFinding(
                rule: .noticeLate,
                message: "campaign \(key.campaign): \(vmList(members, events)) of \(owner) rebooted from \(first.iso8601), but \(state) (a reboot needs \(period) of notice)",
                events: members.map { events[$0].event.id }, at: first)
        }
    }

    // MARK: Guarded execution

    private static func forcedStarts(_ events: [EventRecord], _ down: [(index: Int, range: TimeRange)]) -> [HistoryFinding] {
        var byWave: [String: [Int]] = [:]
        for d in down where events[d.index].forced { byWave[events[d.index].event.wave, default: []].append(d.index) }
        return byWave.map { wave, members in
            let reasons = Set(members.compactMap { events[$0].reason }.filter { !$0.isEmpty }).sorted()
            return HistoryFinding(
                rule: .forcedStart,
                message: "\(place(events[members[0]].event)) wave \(wave): \(vmList(members, events)) started by force"
                    + (reasons.isEmpty ? ", no reason given" : ": \(reasons.joined(separator: "; "))"),
                events: members.map { events[$0].event.id }, at: members.compactMap { events[$0].actualStart }.min()!)
        }
    }

    // MARK: Helpers

    /// `web-0, web-1 and 3 more VMs`: short enough for a message line.
    static func vmList(_ indices: [Int], _ events: [EventRecord]) -> String {
        let names = Set(indices.map { events[$0].event.vm }).sorted()
        if names.count <= 3 { return names.joined(separator: ", ") }
        return names.prefix(2).joined(separator: ", ") + " and \(names.count - 2) more VMs"
    }

    static func place(_ e: PlannedEvent) -> String {
        e.availabilitySet.map { "set \($0) UD \(e.updateDomain ?? 0)" } ?? "\(e.region) single-instance"
    }
}
