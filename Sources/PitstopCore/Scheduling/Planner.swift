// The planner: turns a campaign into one event per VM that keeps every rule of docs/rules.md#scheduling-rules, as
// short as it can make it. Pure: the fleet and the other campaigns' events come in as values.
// The rules it keeps are defined in Rules.swift, which the checker judges plans by too.

/// Why a campaign cannot be planned, naming the region or set and the numbers involved.
public struct PlanningFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// The region that could not be placed, when one is to blame.
    public var region: String?
    /// The availability set that could not be placed, when one is to blame.
    public var availabilitySet: String?

    public init(_ message: String, region: String? = nil, availabilitySet: String? = nil) {
        self.message = message
        self.region = region
        self.availabilitySet = availabilitySet
    }

    public var description: String { message }
}

/// Plans campaigns. See ``plan(_:fleet:existing:existingCampaigns:)``.
///
/// How a plan is laid out:
/// - every set of a region runs in parallel; a set's update domains go one wave each, back
///   to back in numeric order, separated by the campaign's recovery gap; UDs without VMs are
///   skipped; all VMs of a wave share one start and one end;
/// - a region's single-instance VMs go in one more wave, right after its last set wave ends;
/// - regions not tied by a pair link run in parallel; linked regions take turns, each
///   starting after every linked region placed before it has finished. Each group of linked
///   regions takes the turn order that really finishes first once its waves are placed
///   (windows, blackouts and other campaigns included): every order for groups of up to
///   ``exhaustiveGroupLimit`` regions, a bounded search for larger ones (TurnOrder.swift);
/// - a wave that does not fit where it would go (outside every occurrence of its windows,
///   over a blackout, over another campaign's events of its VMs, its set's other update
///   domains or its region's partners) waits for the earliest start where it fits.
public enum Planner {
    /// Plans `campaign` over `fleet`, keeping rules 1-7 against `existing` too.
    ///
    /// - Parameters:
    ///   - existing: events of other campaigns. Only active ones (scheduled, started) count;
    ///     events of `campaign` itself are ignored, so re-planning replaces them.
    ///   - existingCampaigns: the terms of the campaigns of `existing`, for their recovery
    ///     gaps; a campaign missing here is assumed to use the default gap.
    /// - Returns: one scheduled event per VM of the target regions, ordered by region name,
    ///   then set name, update domain and fleet order, with each region's single-instance
    ///   VMs last. Same inputs, same output.
    /// - Throws: ``PlanningFailure`` when some wave has no valid place before
    ///   `campaign.deadline`; nothing is planned then.
    public static func plan(
        _ campaign: Campaign, fleet: FleetSnapshot, existing: [PlannedEvent],
        existingCampaigns: [String: CampaignTerms] = [:]
    ) throws(PlanningFailure) -> [PlannedEvent] {
        try planWithTurnOrders(campaign, fleet: fleet, existing: existing, existingCampaigns: existingCampaigns).events
    }

    /// The same plan as ``plan(_:fleet:existing:existingCampaigns:)``, with how the turn order of
    /// each group of linked regions was chosen (``TurnOrderChoice``), for the operator to see why.
    public static func planWithTurnOrders(
        _ campaign: Campaign, fleet: FleetSnapshot, existing: [PlannedEvent],
        existingCampaigns: [String: CampaignTerms] = [:]
    ) throws(PlanningFailure) -> PlanOutcome {
        try plan(campaign, fleet: fleet, existing: existing, existingCampaigns: existingCampaigns, turnOrder: nil)
    }

    /// Plans with every group of linked regions taking its turns in the order of `turnOrder`
    /// (region names) when given, else in the order that finishes first.
    static func plan(
        _ campaign: Campaign, fleet: FleetSnapshot, existing: [PlannedEvent],
        existingCampaigns: [String: CampaignTerms], turnOrder: [String]?
    ) throws(PlanningFailure) -> PlanOutcome {
        let targets = try targetRegions(campaign, fleet: fleet)
        let shapes = targets.map { RegionShape($0, campaign: campaign, fleet: fleet) }
        let load = ExistingLoad(
            existing.filter { $0.status.isActive && $0.campaign != campaign.id }, fleet: fleet,
            targets: Set(targets), terms: existingCampaigns)
        let horizon = TimeRange(start: campaign.earliestStart, end: campaign.deadline)
        let neighbours = conflictNeighbours(shapes, fleet: fleet)
        var placer = TurnPlacer(
            shapes: shapes, neighbours: neighbours, campaign: campaign, fleet: fleet, load: load,
            windows: WindowCache(fleet: fleet, horizon: horizon))

        var placed: [Int32: [Wave]] = [:]
        var choices: [TurnOrderChoice] = []
        for group in linkedGroups(neighbours) {
            let (waves, choice) = try chooseTurnOrder(group, placer: &placer, forced: turnOrder)
            placed.merge(waves) { $1 }
            if group.count > 1 { choices.append(choice) }
        }
        let (events, positions) = events(for: shapes, placed: placed, campaign: campaign, fleet: fleet)
        return PlanOutcome(events: events, vmPositions: positions, turnOrders: choices)
    }

    /// A lower bound, in seconds, on any valid plan's length (first event start to last event
    /// end) of `campaign` over `fleet`.
    ///
    /// A region's ideal span is its longest set's waves back to back
    /// (`U·d + (U-1)·gap`, `U` the set's update domains that have VMs, `d` the per-VM
    /// duration), plus `d` when it has single-instance VMs, which must come after. Within a
    /// campaign linked regions' spans cannot overlap, so the regions of any clique of the pair
    /// conflict graph take at least the sum of their spans. The bound is the heaviest such
    /// clique (a single region and a single link being the small cases). Windows, blackouts
    /// and other campaigns can only make a plan longer, so it holds for them too.
    public static func lowerBound(_ campaign: Campaign, fleet: FleetSnapshot) -> Int64 {
        guard let targets = try? targetRegions(campaign, fleet: fleet), !targets.isEmpty else { return 0 }
        let shapes = targets.map { RegionShape($0, campaign: campaign, fleet: fleet) }
        let neighbours = conflictNeighbours(shapes, fleet: fleet)
        return heaviestClique(weights: shapes.map(\.idealSpan), neighbours: neighbours)
    }

    // MARK: - Regions and their shapes

    private static func targetRegions(_ campaign: Campaign, fleet: FleetSnapshot) throws(PlanningFailure) -> [Int32] {
        var targets: [Int32] = []
        for name in campaign.regions.sorted() {
            guard let r = fleet.regionIndex[name] else {
                throw PlanningFailure("region \(name) is no longer in the fleet", region: name)
            }
            // A target region that lost all its VMs since validation simply has nothing to do.
            if fleet.vmCountOfRegion[Int(r)] > 0 { targets.append(r) }
        }
        return targets
    }

    /// One region's work in a campaign: its sets with VMs, the update domains used, its
    /// single-instance VMs.
    struct RegionShape {
        let region: Int32
        let sets: [(set: Int32, updateDomains: [Int])]
        let singles: [Int32]
        let idealSpan: Int64

        init(_ region: Int32, campaign: Campaign, fleet: FleetSnapshot) {
            self.region = region
            var sets: [(set: Int32, updateDomains: [Int])] = []
            var longest: Int64 = 0
            for s in fleet.setsOfRegion[Int(region)] {
                let offsets = fleet.setUpdateDomainOffsets[Int(s)]
                let used = (0..<(offsets.count - 1)).filter { offsets[$0 + 1] > offsets[$0] }
                guard !used.isEmpty else { continue }
                sets.append((s, used))
                let u = Int64(used.count)
                longest = max(longest, u * campaign.perVMDuration + (u - 1) * campaign.udGap)
            }
            self.sets = sets
            self.singles = fleet.singleInstanceVMs[Int(region)]
            self.idealSpan = longest + (singles.isEmpty ? 0 : campaign.perVMDuration)
        }
    }

    /// For each shape, the indices of the shapes it must take turns with.
    static func conflictNeighbours(_ shapes: [RegionShape], fleet: FleetSnapshot) -> [[Int]] {
        var position: [Int32: Int] = [:]
        for (k, shape) in shapes.enumerated() { position[shape.region] = k }
        return shapes.map { shape in fleet.partnerRegions[Int(shape.region)].compactMap { position[$0] }.sorted() }
    }

    /// The heaviest clique of a small, sparse graph, by branch and bound.
    static func heaviestClique(weights: [Int64], neighbours: [[Int]]) -> Int64 {
        let adjacent = neighbours.map(Set.init)
        var best: Int64 = 0
        func expand(_ candidates: [Int], _ weight: Int64) {
            best = max(best, weight)
            var remaining = candidates.reduce(0) { $0 + weights[$1] }
            for (i, v) in candidates.enumerated() {
                if weight + remaining <= best { return }
                expand(candidates[(i + 1)...].filter { adjacent[v].contains($0) }, weight + weights[v])
                remaining -= weights[v]
            }
        }
        expand(Array(weights.indices).sorted { weights[$0] > weights[$1] }, 0)
        return best
    }

    // MARK: - Other campaigns' events

    /// Other campaigns' active events, grouped the ways the rules look at them. Fleet facts
    /// (region, set, UD) come from the current fleet when the VM is still in it.
    struct ExistingLoad {
        /// Per region: when it is under maintenance in another campaign.
        var regionBusy: [BusyTimeline?] = []
        /// Per set: other campaigns' distinct intervals with their update domain and recovery gap.
        var setIntervals: [[(range: TimeRange, updateDomain: Int16, gap: Int64)]] = []
        /// Other campaigns' events of target-region VMs: VM `v`'s are
        /// `vmRanges[vmOffsets[v]..<vmOffsets[v + 1]]` (empty when there are none at all).
        var vmOffsets: [Int32] = []
        var vmRanges: [TimeRange] = []

        init(_ events: [PlannedEvent], fleet: FleetSnapshot, targets: Set<Int32>, terms: [String: CampaignTerms]) {
            regionBusy = Array(repeating: nil, count: fleet.regions.count)
            setIntervals = Array(repeating: [], count: fleet.sets.count)
            guard !events.isEmpty else { return }
            var busy = [[TimeRange]](repeating: [], count: fleet.regions.count)
            var eventVM = [Int32](repeating: -1, count: events.count)
            var vmCount = [Int32](repeating: 0, count: fleet.vms.count + 1)
            var lastCampaign = "", lastGap: Int64 = -1
            for i in events.indices {
                let region: Int32, set: Int32, ud: Int16
                if let v = fleet.vmIndex[events[i].vm] {
                    region = fleet.vmRegion[Int(v)]
                    set = fleet.vmSet[Int(v)]
                    ud = fleet.vmUpdateDomain[Int(v)]
                    if targets.contains(region) {
                        eventVM[i] = v
                        vmCount[Int(v) + 1] += 1
                    }
                } else {
                    // A VM gone from the fleet still held its region and set at that time.
                    region = fleet.regionIndex[events[i].region] ?? -1
                    set = events[i].availabilitySet.flatMap { fleet.setIndex[$0] } ?? -1
                    ud = Int16(clamping: events[i].updateDomain ?? -1)
                }
                if region >= 0 { busy[Int(region)].append(events[i].range) }
                if set >= 0 {
                    if lastGap < 0 || events[i].campaign != lastCampaign {
                        lastCampaign = events[i].campaign
                        lastGap = (terms[lastCampaign] ?? .assumed(kind: events[i].kind)).udGap
                    }
                    setIntervals[Int(set)].append((events[i].range, ud, lastGap))
                }
            }
            for r in busy.indices where !busy[r].isEmpty { regionBusy[r] = BusyTimeline(busy[r]) }
            for s in setIntervals.indices where setIntervals[s].count > 1 {
                // A wave's VMs share one interval: keep each distinct one once.
                setIntervals[s].sort { ($0.updateDomain, $0.gap, $0.range) < ($1.updateDomain, $1.gap, $1.range) }
                var unique: [(range: TimeRange, updateDomain: Int16, gap: Int64)] = []
                for x in setIntervals[s] {
                    if let last = unique.last, last.updateDomain == x.updateDomain, last.gap == x.gap, last.range == x.range { continue }
                    unique.append(x)
                }
                setIntervals[s] = unique
            }
            for v in 0..<fleet.vms.count { vmCount[v + 1] += vmCount[v] }
            var cursor = vmCount
            vmRanges = Array(repeating: TimeRange(start: Timestamp(seconds: 0), end: Timestamp(seconds: 0)), count: Int(vmCount[fleet.vms.count]))
            for i in events.indices where eventVM[i] >= 0 {
                let v = Int(eventVM[i])
                vmRanges[Int(cursor[v])] = events[i].range
                cursor[v] += 1
            }
            vmOffsets = vmCount
        }

        var hasVMBusy: Bool { !vmRanges.isEmpty }

        /// Other campaigns' events of VM `vm`.
        func busy(ofVM vm: Int32) -> ArraySlice<TimeRange> {
            guard hasVMBusy else { return [] }
            return vmRanges[Int(vmOffsets[Int(vm)])..<Int(vmOffsets[Int(vm) + 1])]
        }
    }

    /// Window timelines per scope, computed once over the campaign's horizon.
    struct WindowCache {
        let fleet: FleetSnapshot
        let horizon: TimeRange
        private var cache: [[Int32]: WindowTimeline] = [:]

        init(fleet: FleetSnapshot, horizon: TimeRange) {
            self.fleet = fleet
            self.horizon = horizon
        }

        /// The timeline of the windows that apply to VMs of `set` (or single-instance VMs when
        /// `set < 0`) in `region`; `nil` when no window applies.
        mutating func timeline(set: Int32, region: Int32) -> (timeline: WindowTimeline, names: [String])? {
            let indices = Rules.applicableWindows(set: set, region: region, in: fleet)
            guard !indices.isEmpty else { return nil }
            let names = indices.map { fleet.windows[Int($0)].name }
            if let known = cache[indices] { return (known, names) }
            let made = WindowTimeline(windows: indices.map { fleet.windows[Int($0)] }, over: horizon)
            cache[indices] = made
            return (made, names)
        }
    }

    // MARK: - Placing one region

    struct Wave {
        /// -1 for the region's single-instance wave.
        let set: Int32
        let updateDomain: Int
        let start: Timestamp
    }

    static func place(
        _ shape: RegionShape, from earliest: Timestamp, campaign: Campaign, fleet: FleetSnapshot,
        load: ExistingLoad, windows: inout WindowCache
    ) throws(PlanningFailure) -> [Wave] {
        let d = campaign.perVMDuration
        let regionName = fleet.regions[Int(shape.region)].name
        // Time the whole region must avoid: blackouts (Rules.applicableBlackouts), and its
        // partners' events in other campaigns (Rules.pairBusyClash: any overlap is a clash).
        var regionBusy = Rules.applicableBlackouts(region: shape.region, in: fleet).map { fleet.blackouts[Int($0)].range }
        for p in fleet.partnerRegions[Int(shape.region)] {
            if let busy = load.regionBusy[Int(p)] { regionBusy.append(contentsOf: busy.ranges) }
        }
        let regionTimeline = BusyTimeline(regionBusy)

        var waves: [Wave] = []
        var setsDone = earliest
        for (s, updateDomains) in shape.sets {
            let setName = fleet.sets[Int(s)].name
            let window = windows.timeline(set: s, region: shape.region)
            let others = load.setIntervals[Int(s)]
            var cursor = earliest
            for u in updateDomains {
                let offsets = fleet.setUpdateDomainOffsets[Int(s)]
                let members = fleet.setMembers[Int(s)][Int(offsets[u])..<Int(offsets[u + 1])]
                var extra: [TimeRange] = []
                for other in others where Int(other.updateDomain) != u {
                    extra.append(Rules.updateDomainExclusion(around: other.range, existingGap: other.gap, newGap: campaign.udGap))
                }
                if load.hasVMBusy {
                    for vm in members { extra.append(contentsOf: load.busy(ofVM: vm)) }
                }
                let busy = extra.isEmpty ? [regionTimeline] : [regionTimeline, BusyTimeline(extra)]
                guard let start = earliestFit(from: cursor, duration: d, window: window?.timeline, busy: busy, deadline: campaign.deadline) else {
                    throw failure(
                        what: "set \(setName) in \(regionName)", wave: "update domain \(u)", from: cursor,
                        campaign: campaign, window: window, region: regionName, set: setName)
                }
                waves.append(Wave(set: s, updateDomain: u, start: start))
                cursor = start + d + campaign.udGap
                setsDone = max(setsDone, start + d)
            }
        }
        if !shape.singles.isEmpty {
            let window = windows.timeline(set: -1, region: shape.region)
            var extra: [TimeRange] = []
            if load.hasVMBusy {
                for vm in shape.singles { extra.append(contentsOf: load.busy(ofVM: vm)) }
            }
            let busy = extra.isEmpty ? [regionTimeline] : [regionTimeline, BusyTimeline(extra)]
            guard let start = earliestFit(from: setsDone, duration: d, window: window?.timeline, busy: busy, deadline: campaign.deadline) else {
                throw failure(
                    what: "single-instance VMs of \(regionName)", wave: "their wave", from: setsDone,
                    campaign: campaign, window: window, region: regionName, set: nil)
            }
            waves.append(Wave(set: -1, updateDomain: -1, start: start))
        }
        return waves
    }

    /// The earliest start at or after `from` of a wave lasting `duration` that lies inside one
    /// window occurrence (when windows apply), clear of every busy timeline, and ends by `deadline`.
    static func earliestFit(
        from: Timestamp, duration: Int64, window: WindowTimeline?, busy: [BusyTimeline], deadline: Timestamp
    ) -> Timestamp? {
        var s = from
        while true {
            var t = s
            if let window {
                guard let fit = window.earliestStart(from: s, duration: duration) else { return nil }
                t = fit
            }
            guard t + duration <= deadline else { return nil }
            let range = TimeRange(start: t, end: t + duration)
            var next = t
            for timeline in busy {
                if let clash = timeline.firstOverlap(with: range) { next = max(next, clash.end) }
            }
            if next == t { return t }
            s = next
        }
    }

    /// Says why a wave found no place, with the numbers.
    private static func failure(
        what: String, wave: String, from: Timestamp, campaign: Campaign,
        window: (timeline: WindowTimeline, names: [String])?, region: String, set: String?
    ) -> PlanningFailure {
        let d = DurationText.short(campaign.perVMDuration)
        if let window {
            let names = window.names.map { "'\($0)'" }.joined(separator: ", ")
            if window.timeline.occurrences.isEmpty {
                return PlanningFailure(
                    "\(what): its windows (\(names)) have no occurrence between \(campaign.earliestStart) and \(campaign.deadline)",
                    region: region, availabilitySet: set)
            }
            if window.timeline.longest < campaign.perVMDuration {
                return PlanningFailure(
                    "\(what): a wave needs \(d) but the longest occurrence of \(names) is \(DurationText.short(window.timeline.longest))",
                    region: region, availabilitySet: set)
            }
            let fit = window.timeline.earliestStart(from: from, duration: campaign.perVMDuration)
            if fit.map({ $0 + campaign.perVMDuration > campaign.deadline }) ?? true {
                return PlanningFailure(
                    "\(what): no occurrence of its windows (\(names)) between \(from) and the end of the "
                        + "\(DurationText.short(campaign.horizon)) horizon at \(campaign.deadline) has room for \(wave) (\(d))",
                    region: region, availabilitySet: set)
            }
        }
        let horizon = DurationText.short(campaign.horizon)
        return PlanningFailure(
            "region \(region): no room for \(what), \(wave) (\(d)) between \(from) and the end of the "
                + "\(horizon) horizon at \(campaign.deadline): windows, blackouts and other campaigns' events leave no gap",
            region: region, availabilitySet: set)
    }

    // MARK: - Events

    private static func events(
        for shapes: [RegionShape], placed: [Int32: [Wave]], campaign: Campaign, fleet: FleetSnapshot
    ) -> (events: [PlannedEvent], vmPositions: [Int32]) {
        var total = 0
        for shape in shapes { total += fleet.vmCountOfRegion[Int(shape.region)] }
        var events: [PlannedEvent] = [], positions: [Int32] = []
        events.reserveCapacity(total)
        positions.reserveCapacity(total)
        let d = campaign.perVMDuration
        for shape in shapes {
            let regionName = fleet.regions[Int(shape.region)].name
            for wave in placed[shape.region] ?? [] {
                let range = TimeRange(start: wave.start, end: wave.start + d)
                if wave.set >= 0 {
                    let s = Int(wave.set), setName = fleet.sets[s].name
                    let waveID = StableID.wave(campaign: campaign.id, region: regionName, availabilitySet: setName, updateDomain: wave.updateDomain)
                    let offsets = fleet.setUpdateDomainOffsets[s]
                    for v in fleet.setMembers[s][Int(offsets[wave.updateDomain])..<Int(offsets[wave.updateDomain + 1])] {
                        let vmName = fleet.vms[Int(v)].name
                        events.append(PlannedEvent(
                            campaign: campaign.id, vm: vmName,
                            region: regionName, availabilitySet: setName, updateDomain: wave.updateDomain,
                            faultDomain: Int(fleet.vmFaultDomain[Int(v)]), wave: waveID, kind: campaign.kind,
                            range: range, status: .scheduled, plannedAt: campaign.createdAt))
                        positions.append(v)
                    }
                } else {
                    let waveID = StableID.singleInstanceWave(campaign: campaign.id, region: regionName)
                    for v in shape.singles {
                        let vmName = fleet.vms[Int(v)].name
                        events.append(PlannedEvent(
                            campaign: campaign.id, vm: vmName,
                            region: regionName, availabilitySet: nil, updateDomain: nil, faultDomain: nil,
                            wave: waveID, kind: campaign.kind, range: range, status: .scheduled,
                            plannedAt: campaign.createdAt))
                        positions.append(v)
                    }
                }
            }
        }
        return (events, positions)
    }
}
