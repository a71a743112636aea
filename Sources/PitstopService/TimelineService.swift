// The timeline of maintenance for the web page and `GET /api/v1/timeline`: the waves between
// two instants (aggregated by the store, one row a wave, so a 100,000-VM campaign is never
// read VM by VM), the regions grouped by their pair links, the window occurrences and the
// blackouts in range; and the change mark that tells a live page to fetch it again.
public import PitstopCore
public import PitstopStore

/// A wave as the timeline draws it: its events counted, never listed.
public struct TimelineWave: Sendable, Hashable {
    /// What the store aggregated: ids, place, planned and actual times, counts by status.
    public var summary: WaveSummary

    init(_ summary: WaveSummary) { self.summary = summary }

    /// Whether its owner approved it: some event is approved and no scheduled one is not, so
    /// every VM still waiting may start early.
    public var approved: Bool { summary.approvedEvents > 0 && summary.unapprovedScheduled == 0 }

    /// The wave's one status. Its events go together, so they normally share one; when they
    /// differ (one VM failed, one was cancelled alone) the wave takes, in this order:
    /// `started` if any event runs; else `scheduled` if any still waits; else `failed` if any
    /// failed; else `completed` if any completed; else `cancelled`. ``mixed`` then says so.
    public var status: EventStatus {
        for status in [EventStatus.started, .scheduled, .failed, .completed, .cancelled] where (summary.statusCounts[status] ?? 0) > 0 {
            return status
        }
        return .scheduled
    }

    /// Whether its events have more than one status.
    public var mixed: Bool { summary.statusCounts.count > 1 }
}

/// A region on the timeline, with its pair partners and the group of linked regions it is
/// drawn with.
public struct TimelineRegion: Sendable, Hashable {
    public var region: Region
    /// Regions linked to this one, in either direction, by name.
    public var pairedWith: [String]
    /// The index of its group: regions linked directly or through others share one. Groups are
    /// numbered in the order of their first region's name.
    public var group: Int
}

/// An occurrence of a window, placed on its region's row.
public struct TimelineWindow: Sendable, Equatable {
    public var occurrence: WindowOccurrence
    /// The region it applies in: the window's own, or its set's; nil for a set no longer there.
    public var region: String?
}

/// What the timeline shows between two instants.
public struct Timeline: Sendable {
    public var range: TimeRange
    public var waves: [TimelineWave]
    /// Every region, group by group, each group's regions by name.
    public var regions: [TimelineRegion]
    public var windows: [TimelineWindow]
    /// The blackouts that overlap the range; a blackout without a region covers the fleet.
    public var blackouts: [Blackout]
}

public struct TimelineService: Sendable {
    public let store: any Store

    public init(store: any Store) {
        self.store = store
    }

    /// The longest range one timeline covers: 31 days. The page asks for a day or a week.
    public static let maximumRangeSeconds: Int64 = 31 * 86_400

    /// The timeline of `range`, which must be non-empty and at most ``maximumRangeSeconds``.
    ///
    /// - Throws: ``PitstopError`` `.invalid` for an empty or too long range.
    public func timeline(_ range: TimeRange) async throws -> Timeline {
        guard range.end > range.start else {
            throw PitstopError(.invalid, "the range is empty: 'to' (\(range.end)) must come after 'from' (\(range.start))")
        }
        guard range.duration <= Self.maximumRangeSeconds else {
            throw PitstopError(.invalid, "the range \(range) is longer than the maximum of 31 days")
        }
        let (waves, regions, pairs, sets, blackouts) = try await store.read { tx in
            (try tx.events.waves(from: range.start, until: range.end), try tx.fleet.regions(), try tx.fleet.regionPairs(),
             try tx.fleet.availabilitySets(), try tx.fleet.blackouts())
        }
        let occurrences = try await InventoryService(store: store, actor: "timeline", clock: { range.start })
            .windowOccurrences(.all, in: range)
        let setRegions = Dictionary(sets.map { ($0.name, $0.region) }, uniquingKeysWith: { a, _ in a })
        let windows = occurrences.map { o in
            let region: String? = switch o.scope {
            case .region(let r): r
            case .availabilitySet(let s): setRegions[s]
            }
            return TimelineWindow(occurrence: o, region: region)
        }
        return Timeline(range: range, waves: waves.map(TimelineWave.init),
                        regions: Self.grouped(regions, pairs: pairs), windows: windows,
                        blackouts: blackouts.filter { $0.range.overlaps(range) }.sorted { ($0.start, $0.name) < ($1.start, $1.name) })
    }

    /// One wave with its events (one a VM), in start order then id.
    ///
    /// - Throws: ``PitstopError`` `.notFound` for an unknown wave.
    public func wave(_ id: String) async throws -> (wave: TimelineWave, events: [EventRecord]) {
        try await store.read { tx in
            guard let summary = try tx.events.wave(id: id) else {
                throw PitstopError(.notFound, "unknown wave '\(id.escapingControlCharacters)'")
            }
            return (TimelineWave(summary), try tx.events.events(.wave(id)))
        }
    }

    /// The database's change mark as a number, read without a transaction: a live page polls
    /// it and fetches the timeline again when it changes (a wave started or completed, a plan
    /// written). Equal numbers mean nothing was committed in between (see ``ChangeMark/number``).
    public func changeMark() -> Int64 { store.changeMark().number }

    /// Regions in groups of linked ones (connected through pair links in either direction),
    /// groups ordered by their first region's name, regions by name within a group.
    static func grouped(_ regions: [Region], pairs: [RegionPair]) -> [TimelineRegion] {
        let partners = Rules.pairConflicts(pairs)
        let byName = Dictionary(regions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var seen: Set<String> = []
        var groups: [[String]] = []
        for name in byName.keys.sorted() where !seen.contains(name) {
            var group: [String] = [], queue = [name]
            seen.insert(name)
            while let next = queue.popLast() {
                group.append(next)
                for other in partners[next, default: []] where !seen.contains(other) && byName[other] != nil {
                    seen.insert(other)
                    queue.append(other)
                }
            }
            groups.append(group.sorted())
        }
        groups.sort { $0[0] < $1[0] }
        return groups.enumerated().flatMap { index, group in
            group.compactMap { name in
                byName[name].map { TimelineRegion(region: $0, pairedWith: partners[name] ?? [], group: index) }
            }
        }
    }
}
