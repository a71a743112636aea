// The rule checker: judges any list of events against the current fleet, trusting nothing the
// planner wrote down (a VM moved to another update domain, a new pair link or a removed window
// since planning all show up here). The rules are defined in Rules.swift and overlaps among
// many events found with IntervalSweep.swift; this file groups what they find into violations.

/// "Campaign C has sent a notice to subscription S's admins and co-admins."
public struct NoticeKey: Sendable, Hashable, Codable {
    public var campaign: String
    public var subscription: String

    public init(campaign: String, subscription: String) {
        self.campaign = campaign
        self.subscription = subscription
    }
}

/// Checks events against the rules. See ``check(events:fleet:campaigns:notices:)``.
public enum Checker {
    /// Every rule broken by the active (scheduled or started) events among `events`.
    ///
    /// Region, availability set and update domain come from the current fleet, not from the
    /// events; only for a VM no longer in the fleet are the event's own fields used.
    ///
    /// - Parameters:
    ///   - campaigns: the terms of the events' campaigns, for their recovery gaps; a campaign
    ///     missing here is assumed to use the default gap.
    ///   - notices: the (campaign, subscription) pairs whose admins have been notified.
    /// - Returns: findings ordered by instant, then rule, then message. Empty means valid.
    public static func check(
        events: [PlannedEvent], fleet: FleetSnapshot, campaigns: [String: CampaignTerms], notices: Set<NoticeKey>
    ) -> [Finding] {
        check(plan: PlanColumns(events), fleet: fleet, campaigns: campaigns, notices: notices)
    }

    /// The same judgement over events as columns (``PlanColumns``): what the store hands over
    /// when the events come by the million.
    public static func check(
        plan: PlanColumns, fleet: FleetSnapshot, campaigns: [String: CampaignTerms], notices: Set<NoticeKey>
    ) -> [Finding] {
        var run = Run(plan: plan, fleet: fleet, campaigns: campaigns)
        guard run.count > 0 else { return [] }
        run.updateDomains()
        run.pairsAndSingleInstance()
        run.perEvent(notices: notices)
        run.windows()
        run.doubleBooking()
        return run.findings.sorted {
            ($0.at, $0.rule, $0.message, $0.events.first ?? "") < ($1.at, $1.rule, $1.message, $1.events.first ?? "")
        }
    }

    /// The active events as columns, with fleet facts re-derived, and the findings so far.
    private struct Run {
        let plan: PlanColumns
        let fleet: FleetSnapshot
        /// Row in `plan` of each active event; every other column is indexed like it.
        var source: [Int32] = []
        var start: [Int64] = [], end: [Int64] = []
        var vm: [Int32] = []
        var region: [Int32] = []
        var set: [Int32] = []
        var updateDomain: [Int16] = []
        var campaign: [Int32] = []
        var kind: [MaintenanceKind] = []
        var plannedAt: [Int64] = []
        var regionNames: [String]
        var setNames: [String]
        var campaignNames: [String] = []
        var campaignGap: [Int64] = []
        var findings: [Finding] = []
        var count: Int { source.count }

        init(plan: PlanColumns, fleet: FleetSnapshot, campaigns: [String: CampaignTerms]) {
            self.plan = plan
            self.fleet = fleet
            regionNames = fleet.regions.map(\.name)
            setNames = fleet.sets.map(\.name)
            var extraRegions: [String: Int32] = [:], extraSets: [String: Int32] = [:], extraVMs: [String: Int32] = [:]
            var campaignIndex: [String: Int32] = [:]
            var lastCampaign = "", lastIndex: Int32 = -1
            let n = plan.count
            source.reserveCapacity(n)
            start.reserveCapacity(n)
            end.reserveCapacity(n)
            vm.reserveCapacity(n)
            region.reserveCapacity(n)
            set.reserveCapacity(n)
            updateDomain.reserveCapacity(n)
            campaign.reserveCapacity(n)
            kind.reserveCapacity(n)
            plannedAt.reserveCapacity(n)
            // Fields are read in place (`plan.vm(i)`), not by copying a wave with its strings.
            for i in 0..<n where plan.status[i].isActive {
                let w = Int(plan.wave[i])
                source.append(Int32(i))
                start.append(plan.waves[w].range.start.seconds)
                end.append(plan.waves[w].range.end.seconds)
                kind.append(plan.waves[w].kind)
                plannedAt.append(plan.waves[w].plannedAt.seconds)
                if let v = plan.fleetPosition(i, in: fleet) {
                    vm.append(v)
                    region.append(fleet.vmRegion[Int(v)])
                    set.append(fleet.vmSet[Int(v)])
                    updateDomain.append(fleet.vmUpdateDomain[Int(v)])
                } else {
                    // A VM gone from the fleet: its event's own record is all there is.
                    let e = plan.waves[w]
                    if let v = extraVMs[plan.vm(i)] {
                        vm.append(v)
                    } else {
                        let v = Int32(fleet.vms.count + extraVMs.count)
                        extraVMs[plan.vm(i)] = v
                        vm.append(v)
                    }
                    if let r = fleet.regionIndex[e.region] ?? extraRegions[e.region] {
                        region.append(r)
                    } else {
                        let r = Int32(regionNames.count)
                        extraRegions[e.region] = r
                        regionNames.append(e.region)
                        region.append(r)
                    }
                    if let name = e.availabilitySet {
                        if let s = fleet.setIndex[name] ?? extraSets[name] {
                            set.append(s)
                        } else {
                            let s = Int32(setNames.count)
                            extraSets[name] = s
                            setNames.append(name)
                            set.append(s)
                        }
                        updateDomain.append(Int16(clamping: e.updateDomain ?? -1))
                    } else {
                        set.append(-1)
                        updateDomain.append(-1)
                    }
                }
                // Events come grouped by campaign: compare with the last one before hashing.
                if lastIndex < 0 || plan.waves[w].campaign != lastCampaign {
                    lastCampaign = plan.waves[w].campaign
                    if let c = campaignIndex[lastCampaign] {
                        lastIndex = c
                    } else {
                        lastIndex = Int32(campaignNames.count)
                        campaignIndex[lastCampaign] = lastIndex
                        campaignNames.append(lastCampaign)
                        campaignGap.append((campaigns[lastCampaign] ?? .assumed(kind: plan.waves[w].kind)).udGap)
                    }
                }
                campaign.append(lastIndex)
            }
        }

        func event(_ k: Int32) -> PlannedEvent { plan.event(Int(source[Int(k)])) }
        func id(_ k: Int32) -> String { plan.id(Int(source[Int(k)])) }
        func range(_ k: Int32) -> TimeRange {
            TimeRange(start: Timestamp(seconds: start[Int(k)]), end: Timestamp(seconds: end[Int(k)]))
        }
        func vmName(_ k: Int32) -> String { plan.vm(Int(source[Int(k)])) }
        func vmNames(_ members: [Int32]) -> [String] { members.map { vmName($0) } }

        mutating func report(_ rule: RuleName, _ message: String, events members: [Int32], regions: [Int32], at: Int64) {
            findings.append(Finding(
                rule: rule, message: message, events: Set(members).map { id($0) },
                regions: Array(Set(regions.map { regionNames[Int($0)] })), at: Timestamp(seconds: at)))
        }

        /// Positions of the active events, sorted by a key whose high bits say `group` and low
        /// bits the start: one pass of a single integer sort instead of millions of comparisons
        /// of tuples.
        func sortedByStart(within group: [Int32], filter: (Int) -> Bool) -> [(key: UInt64, k: Int32)] {
            let base = start.min() ?? 0
            var keyed: [(key: UInt64, k: Int32)] = []
            keyed.reserveCapacity(count)
            for k in 0..<count where filter(k) {
                keyed.append(((UInt64(UInt32(bitPattern: group[k])) << 40) | UInt64(start[k] - base), Int32(k)))
            }
            keyed.sort { ($0.key, $0.k) < ($1.key, $1.k) }
            return keyed
        }

        // MARK: Rule 1

        /// One violation per (rule, set): the first clash in full, the other pairs of update
        /// domains that clash the same way named after it.
        mutating func updateDomains() {
            struct Pair: Hashable, Comparable {
                var low: Int16, high: Int16
                static func < (a: Pair, b: Pair) -> Bool { (a.low, a.high) < (b.low, b.high) }
            }
            struct Clash {
                var at: Int64
                var first: Pair
                /// For ud-gap: the update domains of the later and the earlier interval, when the
                /// earlier ended, and the later's campaign.
                var later: Int16, earlier: Int16, ended: Int64, campaign: Int32
                var low: [Int32] = [], high: [Int32] = []
                var members: [Int32] = []
                var otherPairs: Set<Pair> = []
            }
            struct Key: Hashable { var rule: RuleName; var set: Int32 }
            var clashes: [Key: Clash] = [:]
            var setItems: [Int32: ArraySlice<(key: UInt64, k: Int32)>] = [:]
            let sorted = sortedByStart(within: set) { set[$0] >= 0 }
            var i = 0
            while i < sorted.count {
                let s = set[Int(sorted[i].k)], first = i
                // The latest-ending earlier interval of another update domain decides both rules.
                var latest = LatestEnds<Int16>()
                while i < sorted.count, set[Int(sorted[i].k)] == s {
                    let b = sorted[i].k, ud = updateDomain[Int(b)]
                    i += 1
                    let gap = campaignGap[Int(campaign[Int(b)])]
                    if let other = latest.latest(otherThan: ud).map({ (ud: $0.group, k: $0.item) }),
                       let rule = Rules.updateDomainClash(earlier: range(other.k), later: range(b), laterGap: gap) {
                        let key = Key(rule: rule, set: s)
                        let pair = Pair(low: min(ud, other.ud), high: max(ud, other.ud))
                        let (lowK, highK) = ud < other.ud ? (b, other.k) : (other.k, b)
                        if clashes[key] == nil {
                            clashes[key] = Clash(
                                at: start[Int(b)], first: pair, later: ud, earlier: other.ud, ended: end[Int(other.k)], campaign: campaign[Int(b)])
                        }
                        if clashes[key]!.first == pair {
                            clashes[key]!.low.append(lowK)
                            clashes[key]!.high.append(highK)
                        } else {
                            clashes[key]!.otherPairs.insert(pair)
                        }
                        clashes[key]!.members.append(contentsOf: [lowK, highK])
                    }
                    latest.add(end: end[Int(b)], group: ud, item: b)
                }
                setItems[s] = sorted[first..<i]
            }
            for (key, clash) in clashes {
                let r = region[Int(clash.low[0])]
                let domains = FindingMessage.PlannedDomains(
                    set: setNames[Int(key.set)], region: regionNames[Int(r)],
                    low: Int(clash.first.low), lowVMs: vmNames(clash.low), high: Int(clash.first.high), highVMs: vmNames(clash.high),
                    likewise: clash.otherPairs.sorted().map { (Int($0.low), Int($0.high)) })
                let message = key.rule == .updateDomainOverlap
                    ? FindingMessage.updateDomainOverlap(.planned(domains, at: Timestamp(seconds: clash.at)))
                    : FindingMessage.udGap(.planned(
                        domains, later: Int(clash.later), starts: Timestamp(seconds: clash.at), earlier: Int(clash.earlier),
                        ended: Timestamp(seconds: clash.ended), campaign: campaignNames[Int(clash.campaign)], gap: campaignGap[Int(clash.campaign)]))
                // The events involved are every one that overlapped another update domain of the
                // set, found by the shared sweep, as the history audit names them.
                var members = clash.members
                if key.rule == .updateDomainOverlap {
                    members += overlapping(setItems[key.set]!, group: { Int(updateDomain[$0]) }, conflict: Rules.updateDomainsConflict)
                }
                report(key.rule, message, events: members, regions: [r], at: clash.at)
            }
        }

        /// The events among `members` that overlap one of another group that `conflict`s with
        /// theirs (``IntervalSweep/involved(_:conflict:)``).
        func overlapping(
            _ members: some Collection<(key: UInt64, k: Int32)>, group: (Int) -> Int, conflict: (Int, Int) -> Bool
        ) -> [Int32] {
            let items = members.map { IntervalSweep.Item(group: group(Int($0.k)), range: range($0.k), index: Int($0.k)) }
            return IntervalSweep.involved(items, conflict: conflict).map(Int32.init)
        }

        // MARK: Rules 2 and 3

        mutating func pairsAndSingleInstance() {
            // Group by (region, campaign).
            struct Group {
                var members: [Int32] = []
                var span = TimeRange(start: Timestamp(seconds: .max), end: Timestamp(seconds: .min))
                var first: Int32 = -1, last: Int32 = -1
            }
            var groups: [Int64: Group] = [:]
            for k in 0..<count {
                let key = Int64(region[k]) << 32 | Int64(campaign[k])
                groups[key, default: Group()].members.append(Int32(k))
            }
            var campaignsOfRegion: [Int32: [Int32]] = [:]
            for (key, var group) in groups {
                for k in group.members {
                    if start[Int(k)] < group.span.start.seconds { group.span.start = Timestamp(seconds: start[Int(k)]); group.first = k }
                    if end[Int(k)] > group.span.end.seconds { group.span.end = Timestamp(seconds: end[Int(k)]); group.last = k }
                }
                groups[key] = group
                campaignsOfRegion[Int32(key >> 32), default: []].append(Int32(truncatingIfNeeded: key))
            }

            // Rule 2: within a (region, campaign), single-instance VMs after every set's VMs.
            for key in groups.keys.sorted() {
                let group = groups[key]!
                var multiDone: Int64 = .min, lastMulti: Int32 = -1
                for k in group.members where set[Int(k)] >= 0 && end[Int(k)] > multiDone {
                    (multiDone, lastMulti) = (end[Int(k)], k)
                }
                guard lastMulti >= 0 else { continue }
                let early = group.members.filter {
                    set[Int($0)] < 0
                        && Rules.singleInstanceTooEarly(start: Timestamp(seconds: start[Int($0)]), multiInstanceDone: Timestamp(seconds: multiDone))
                }
                guard !early.isEmpty else { continue }
                let at = early.map { start[Int($0)] }.min()!
                let r = Int32(key >> 32)
                report(
                    .singleBeforeMulti,
                    FindingMessage.singleBeforeMulti(.planned(
                        region: regionNames[Int(r)], vms: vmNames(early), at: Timestamp(seconds: at), done: Timestamp(seconds: multiDone),
                        lastVM: vmName(lastMulti), campaign: campaignNames[Int(Int32(truncatingIfNeeded: key))])),
                    events: early + [lastMulti], regions: [r], at: at)
            }

            // Rule 3: every link, both directions, once per unordered pair of regions.
            for a in 0..<Int32(fleet.regions.count) {
                guard let campaignsA = campaignsOfRegion[a]?.sorted() else { continue }
                for b in fleet.partnerRegions[Int(a)] where b > a {
                    guard let campaignsB = campaignsOfRegion[b]?.sorted() else { continue }
                    for x in campaignsA {
                        for y in campaignsB {
                            let keyA = Int64(a) << 32 | Int64(x), keyB = Int64(b) << 32 | Int64(y)
                            let ga = groups[keyA]!, gb = groups[keyB]!
                            if x == y {
                                guard Rules.pairSpansClash(ga.span, gb.span) else { continue }
                                let ((first, firstRegion), (second, secondRegion)) = ga.span.start <= gb.span.start ? ((ga, a), (gb, b)) : ((gb, b), (ga, a))
                                report(
                                    .pairOverlap,
                                    FindingMessage.pairOverlap(.plannedSpans(
                                        first: .init(region: regionNames[Int(firstRegion)], campaign: campaignNames[Int(x)], span: first.span, vm: vmName(first.last)),
                                        second: .init(region: regionNames[Int(secondRegion)], campaign: campaignNames[Int(x)], span: second.span, vm: vmName(second.first)))),
                                    events: [second.first, first.last], regions: [a, b], at: second.span.start.seconds)
                            } else {
                                // Both regions' events, by region, through the shared sweep: the first
                                // instant both are busy, and every event busy with the other region.
                                let items = [(0, ga), (1, gb)].flatMap { side, g in
                                    g.members.map { IntervalSweep.Item(group: side, range: range($0), index: Int($0)) }
                                }
                                let clashes = IntervalSweep.clashes(items) { $0 != $1 }
                                guard let first = clashes.first else { continue }
                                let (ka, kb) = first.first.group == 0 ? (first.first.lead, first.second.lead) : (first.second.lead, first.first.lead)
                                let involved = clashes.flatMap { $0.first.members + $0.second.members }.map(Int32.init)
                                report(
                                    .pairOverlap,
                                    FindingMessage.pairOverlap(.planned(
                                        .init(region: regionNames[Int(a)], campaign: campaignNames[Int(x)], span: ga.span, vm: vmName(Int32(ka))),
                                        .init(region: regionNames[Int(b)], campaign: campaignNames[Int(y)], span: gb.span, vm: vmName(Int32(kb))),
                                        at: first.range.start)),
                                    events: involved, regions: [a, b], at: first.range.start.seconds)
                            }
                        }
                    }
                }
            }
        }

        // MARK: Rules 4, 5 (blackouts) and 6: one event at a time

        mutating func perEvent(notices: Set<NoticeKey>) {
            struct Found { var at: Int64; var members: [Int32] }
            struct Key: Hashable { var rule: RuleName; var campaign: Int32; var place: Int32; var other: Int32 }
            var found: [Key: Found] = [:]
            func note(_ key: Key, _ k: Int) {
                if found[key] == nil {
                    found[key] = Found(at: start[k], members: [Int32(k)])
                } else {
                    found[key]!.at = min(found[key]!.at, start[k])
                    found[key]!.members.append(Int32(k))
                }
            }
            // Blackouts per region (Rules.applicableBlackouts), sorted by start with the latest end
            // so far, so that one binary search tells whether an event overlaps any of them.
            var blackoutIndex: [Int32: (reach: ReachIndex, which: [Int32])] = [:]
            // Whether (campaign, subscription) has a notice, asked once per pair rather than per event.
            var noticeSent: [Int64: Bool] = [:]
            var lastPair: Int64 = -1, lastSent = false
            for k in 0..<count {
                let c = campaign[k], r = region[k]
                if start[k] < Rules.earliestStart(plannedAt: Timestamp(seconds: plannedAt[k]), kind: kind[k]).seconds {
                    note(Key(rule: .shortNotice, campaign: c, place: r, other: 0), k)
                }
                if Rules.tooLong(kind[k], seconds: end[k] - start[k]) {
                    note(Key(rule: .freezeTooLong, campaign: c, place: r, other: 0), k)
                }
                if Rules.needsNotice(kind[k]), vm[k] < fleet.vms.count {
                    let subscription = fleet.vmSubscription[Int(vm[k])]
                    let pair = Int64(c) << 32 | Int64(subscription)
                    let sent: Bool
                    if pair == lastPair {
                        sent = lastSent
                    } else if let known = noticeSent[pair] {
                        sent = known
                    } else {
                        sent = notices.contains(NoticeKey(campaign: campaignNames[Int(c)], subscription: fleet.subscriptionNames[Int(subscription)]))
                        noticeSent[pair] = sent
                    }
                    (lastPair, lastSent) = (pair, sent)
                    if !sent { note(Key(rule: .missingNotice, campaign: c, place: -1, other: subscription), k) }
                }
                guard r < fleet.regions.count, !fleet.blackouts.isEmpty else { continue }
                if blackoutIndex[r] == nil {
                    let list = Rules.applicableBlackouts(region: r, in: fleet).sorted {
                        (fleet.blackouts[Int($0)].start, $0) < (fleet.blackouts[Int($1)].start, $1)
                    }
                    blackoutIndex[r] = (ReachIndex(sorted: list.map { fleet.blackouts[Int($0)].range }), list)
                }
                let index = blackoutIndex[r]!
                // Among the blackouts starting before the event ends, the one that ends latest
                // overlaps the event exactly when any of them does.
                if end[k] > start[k], let b = index.reach.furthest(startingAtOrBefore: Timestamp(seconds: end[k] - 1)),
                   index.reach.ranges[b].end.seconds > start[k] {
                    note(Key(rule: .inBlackout, campaign: c, place: r, other: index.which[b]), k)
                }
            }
            for (key, f) in found {
                let c = campaignNames[Int(key.campaign)]
                let sample = f.members.min { (start[Int($0)], $0) < (start[Int($1)], $1) }!
                let e = event(sample)
                var regions = [key.place]
                let message: String
                switch key.rule {
                case .shortNotice:
                    message = FindingMessage.shortNotice(.planned(
                        campaign: c, region: regionNames[Int(key.place)], vms: vmNames(f.members), start: e.range.start, kind: e.kind, plannedAt: e.plannedAt))
                case .freezeTooLong:
                    message = FindingMessage.freezeTooLong(.planned(
                        campaign: c, region: regionNames[Int(key.place)], vms: vmNames(f.members),
                        longest: f.members.map { end[Int($0)] - start[Int($0)] }.max()!))
                case .missingNotice:
                    regions = Array(Set(f.members.map { region[Int($0)] }))
                    message = FindingMessage.missingNotice(
                        campaign: c, subscription: fleet.subscriptionNames[Int(key.other)], count: f.members.count, vms: vmNames(f.members),
                        first: Timestamp(seconds: f.at))
                default:
                    message = FindingMessage.inBlackout(
                        campaign: c, region: regionNames[Int(key.place)], vms: vmNames(f.members), blackout: fleet.blackouts[Int(key.other)],
                        first: Timestamp(seconds: f.at))
                }
                report(key.rule, message, events: f.members, regions: regions, at: f.at)
            }
        }

        // MARK: Rule 5, windows

        mutating func windows() {
            guard !fleet.windows.isEmpty else { return }
            // Events grouped by the list of windows that applies to them (one set's own, or one
            // region's); events no window constrains are left out.
            var byScope: [[Int32]: [Int32]] = [:]
            for k in 0..<count {
                let indices = Rules.applicableWindows(set: set[k], region: region[k], in: fleet)
                if !indices.isEmpty { byScope[indices, default: []].append(Int32(k)) }
            }
            for (indices, members) in byScope {
                let from = members.map { start[Int($0)] }.min()!, to = members.map { end[Int($0)] }.max()!
                let timeline = WindowTimeline(
                    windows: indices.map { fleet.windows[Int($0)] },
                    over: TimeRange(start: Timestamp(seconds: from), end: Timestamp(seconds: max(to, from + 1))))
                var outside: [Int64: [Int32]] = [:]  // by (campaign, set or region)
                for k in members where timeline.occurrence(containing: range(k)) == nil {
                    outside[Int64(campaign[Int(k)]) << 32 | Int64(UInt32(bitPattern: set[Int(k)])), default: []].append(k)
                }
                let names = indices.map { fleet.windows[Int($0)].name }
                for (key, list) in outside {
                    let first = list.min { (start[Int($0)], $0) < (start[Int($1)], $1) }!
                    let s = set[Int(first)], r = region[Int(first)]
                    report(
                        .outsideWindow,
                        FindingMessage.outsideWindow(
                            set: s >= 0 ? setNames[Int(s)] : nil, region: regionNames[Int(r)], vms: vmNames(list), first: range(first),
                            ownWindows: s >= 0 && s < fleet.sets.count && !fleet.setWindows[Int(s)].isEmpty, windows: names,
                            campaign: campaignNames[Int(key >> 32)]),
                        events: list, regions: [r], at: start[Int(first)])
                }
            }
        }

        // MARK: Rule 7

        mutating func doubleBooking() {
            struct Key: Hashable { var region: Int32; var low: Int32; var high: Int32 }
            var found: [Key: (at: Int64, members: [Int32], first: (Int32, Int32))] = [:]
            let sorted = sortedByStart(within: vm) { _ in true }
            var i = 0
            while i < sorted.count {
                let v = vm[Int(sorted[i].k)]
                // Each event its own group: the latest-ending earlier event of the VM.
                var ends = LatestEnds<Int32>()
                while i < sorted.count, vm[Int(sorted[i].k)] == v {
                    let b = sorted[i].k
                    i += 1
                    if let latest = ends.latest(otherThan: b)?.item, Rules.doubleBooked(range(latest), range(b)) {
                        let key = Key(region: region[Int(b)], low: min(campaign[Int(b)], campaign[Int(latest)]), high: max(campaign[Int(b)], campaign[Int(latest)]))
                        if found[key] == nil {
                            found[key] = (start[Int(b)], [latest, b], (latest, b))
                        } else {
                            found[key]!.members.append(contentsOf: [latest, b])
                        }
                    }
                    ends.add(end: end[Int(b)], group: b, item: b)
                }
            }
            for (key, f) in found {
                let (a, b) = f.first
                report(
                    .doubleBooked,
                    FindingMessage.doubleBooked(.planned(
                        region: regionNames[Int(key.region)], vm: vmName(a), a: (id(a), range(a)), b: (id(b), range(b)),
                        vms: vmNames(f.members))),
                    events: f.members, regions: [key.region], at: f.at)
            }
        }
    }
}
