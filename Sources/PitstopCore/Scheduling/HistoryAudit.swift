// The audit of what actually happened: actual start and end times judged against the rules of
// Rules.swift (their predicates, and IntervalSweep.swift for overlaps), for `audit verify` and
// reports. Pure: events, pair links and notices in, findings out. Its findings are named by
// RuleName, like the checker's, from RuleName.history.

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
    ) -> [Finding] {
        var down: [(index: Int, range: TimeRange)] = []
        down.reserveCapacity(events.count)
        for (i, e) in events.enumerated() {
            if let r = e.actualRange(now: now) { down.append((i, r)) }
        }
        var findings: [Finding] = []
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

    private static func updateDomainOverlaps(_ events: [EventRecord], _ down: [(index: Int, range: TimeRange)]) -> [Finding] {
        var bySet: [String: [IntervalSweep.Item]] = [:]
        for d in down {
            let e = events[d.index].event
            guard let set = e.availabilitySet, let ud = e.updateDomain else { continue }
            bySet[set, default: []].append(IntervalSweep.Item(group: ud, range: d.range, index: d.index))
        }
        var findings: [Finding] = []
        for (set, items) in bySet {
            // Different update domains of one set are never down together, across campaigns too.
            for clash in IntervalSweep.clashes(items, conflict: Rules.updateDomainsConflict) {
                let (a, b) = clash.first.group < clash.second.group ? (clash.first, clash.second) : (clash.second, clash.first)
                let ids = a.members.map { events[$0].event.id } + b.members.map { events[$0].event.id }
                findings.append(Finding(
                    rule: .updateDomainOverlap,
                    message: FindingMessage.updateDomainOverlap(.actual(
                        set: set, low: a.group, lowVMs: vms(a.members, events), high: b.group, highVMs: vms(b.members, events), during: clash.range)),
                    events: ids, at: clash.range.start))
            }
        }
        return findings
    }

    // MARK: Rule 3

    private static func pairOverlaps(_ events: [EventRecord], _ down: [(index: Int, range: TimeRange)], pairs: [RegionPair]) -> [Finding] {
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
        var findings: [Finding] = []
        // Rules.pairBusyClash on actual times: any overlap of linked regions, whatever the campaigns.
        for clash in IntervalSweep.clashes(items, conflict: { Rules.linked(regionNames[$0], regionNames[$1], in: graph) }) {
            let (a, b) = regionNames[clash.first.group] < regionNames[clash.second.group] ? (clash.first, clash.second) : (clash.second, clash.first)
            let ids = a.members.map { events[$0].event.id } + b.members.map { events[$0].event.id }
            findings.append(Finding(
                rule: .pairOverlap,
                message: FindingMessage.pairOverlap(.actual(
                    regionNames[a.group], vms(a.members, events), with: regionNames[b.group], vms(b.members, events), during: clash.range)),
                events: ids, at: clash.range.start))
        }
        return findings
    }

    // MARK: Rule 6 and the overrun

    private static func durations(_ events: [EventRecord], _ down: [(index: Int, range: TimeRange)]) -> [Finding] {
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
        var findings: [Finding] = []
        for hits in freezes.values {
            let longest = hits.max { $0.1 < $1.1 }!
            findings.append(Finding(
                rule: .freezeTooLong,
                message: FindingMessage.freezeTooLong(.actual(
                    FindingMessage.Wave(events[hits[0].0].event), vms: vms(hits.map(\.0), events), longest: longest.1, longestVM: events[longest.0].event.vm)),
                events: hits.map { events[$0.0].event.id }, at: hits.compactMap { events[$0.0].actualStart }.min()!))
        }
        for hits in reboots.values {
            let longest = hits.max { $0.1 < $1.1 }!
            let planned = events[longest.0].event.range.duration
            findings.append(Finding(
                rule: .rebootOverrun,
                message: FindingMessage.rebootOverrun(
                    FindingMessage.Wave(events[hits[0].0].event), vms: vms(hits.map(\.0), events), planned: planned, longest: longest.1,
                    longestVM: events[longest.0].event.vm),
                events: hits.map { events[$0.0].event.id },
                // The instant the overrun began: the planned downtime times the factor after the start.
                at: hits.map { events[$0.0].actualStart! + rebootOverrunFactor * events[$0.0].event.range.duration }.min()!))
        }
        return findings
    }

    // MARK: Rule 4

    private static func lateNotices(_ events: [EventRecord], _ down: [(index: Int, range: TimeRange)], notices: [NoticeKey: Timestamp?]) -> [Finding] {
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
            let state: FindingMessage.NoticeState = if let subscription = key.subscription {
                switch notices[NoticeKey(campaign: key.campaign, subscription: subscription)] {
                case .none: .neverQueued
                case .some(.none): .neverSent
                case .some(.some(let sent)): .sentLate(sent)
                }
            } else {
                .campaignFirstSent(earliestByCampaign[key.campaign])
            }
            return Finding(
                rule: .noticeLate,
                message: FindingMessage.noticeLate(
                    campaign: key.campaign, subscription: key.subscription, vms: vms(members, events), first: first, notice: state),
                events: members.map { events[$0].event.id }, at: first)
        }
    }

    // MARK: Guarded execution

    private static func forcedStarts(_ events: [EventRecord], _ down: [(index: Int, range: TimeRange)]) -> [Finding] {
        var byWave: [String: [Int]] = [:]
        for d in down where events[d.index].forced { byWave[events[d.index].event.wave, default: []].append(d.index) }
        return byWave.values.map { members in
            let reasons = Set(members.compactMap { events[$0].reason }.filter { !$0.isEmpty }).sorted()
            return Finding(
                rule: .forcedStart,
                message: FindingMessage.forcedStart(FindingMessage.Wave(events[members[0]].event), vms: vms(members, events), reasons: reasons),
                events: members.map { events[$0].event.id }, at: members.compactMap { events[$0].actualStart }.min()!)
        }
    }

    // MARK: Helpers

    /// The VMs of the events at `indices`.
    static func vms(_ indices: [Int], _ events: [EventRecord]) -> [String] { indices.map { events[$0].event.vm } }
}
