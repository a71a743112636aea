// The turn order of each group of linked regions (docs/rules.md#plan-length): which region of a
// pair link goes first, chosen by when each order really finishes once windows, blackouts and
// other campaigns' events are taken into account, by placing the group's waves in that order.

/// How the planner chose the turn order of one group of linked regions (a pair, or a chain of
/// pairs such as `northcentralus`-`southcentralus`-`brazilsouth`): the order it kept and the
/// others it weighed, each with when the group would have finished.
public struct TurnOrderChoice: Sendable, Hashable {
    /// One way the group's regions can take their turns.
    public struct Option: Sendable, Hashable {
        /// The regions by turn: those of the first turn start as soon as the campaign may, those
        /// of each later turn after their linked regions of earlier turns have finished. Regions
        /// of one turn are not linked to each other; names are sorted within a turn.
        public var turns: [[String]]
        /// When the group's last event ends in this order; `nil` when some wave finds no place
        /// before the campaign's deadline.
        public var end: Timestamp?

        public init(turns: [[String]], end: Timestamp?) {
            self.turns = turns
            self.end = end
        }
    }

    /// The group's regions, by name.
    public var regions: [String]
    /// The order kept: the one that finishes first.
    public var chosen: Option
    /// The other orders weighed, soonest end first, those that do not fit last.
    public var others: [Option]
    /// Whether every order was weighed (groups of at most ``Planner/exhaustiveGroupLimit``
    /// regions) rather than those a bounded search visited (larger groups).
    public var exhaustive: Bool

    public init(regions: [String], chosen: Option, others: [Option], exhaustive: Bool) {
        self.regions = regions
        self.chosen = chosen
        self.others = others
        self.exhaustive = exhaustive
    }
}

/// A plan with how the turn order of each group of linked regions was chosen.
public struct PlanOutcome: Sendable, Hashable {
    /// The planned events, as ``Planner/plan(_:fleet:existing:existingCampaigns:)`` returns them.
    public var events: [PlannedEvent]
    /// For each event, its VM's position in the fleet snapshot's `vms`: what a caller that
    /// keeps something per fleet VM looks it up by, instead of hashing a million names.
    public var vmPositions: [Int32]
    /// One choice per group of at least two linked target regions, by the group's first region name.
    public var turnOrders: [TurnOrderChoice]
}

extension Planner {
    /// Groups of linked regions up to this size have every turn order weighed: at most 6! =
    /// 720 orders, fewer distinct ones when not every region is linked to every other (a
    /// pair has 2, a chain of three 4). The published pair table's groups have at most 3.
    public static let exhaustiveGroupLimit = 6
    /// A larger group has at most this many turn orders placed (see ``chooseTurnOrder``).
    public static let heuristicOrderBudget = 48

    /// The groups of linked regions: connected components of the pair conflict graph among
    /// the campaign's target regions (indices into `neighbours`), each sorted, in order of
    /// their first member. Regions of different groups never wait for each other.
    static func linkedGroups(_ neighbours: [[Int]]) -> [[Int]] {
        var groups: [[Int]] = []
        var seen = [Bool](repeating: false, count: neighbours.count)
        for root in neighbours.indices where !seen[root] {
            var group = [root]
            seen[root] = true
            var next = 0
            while next < group.count {
                for w in neighbours[group[next]] where !seen[w] {
                    seen[w] = true
                    group.append(w)
                }
                next += 1
            }
            groups.append(group.sorted())
        }
        return groups
    }

    /// Places the regions of groups in given turn orders, each region starting once its
    /// linked regions placed before it have finished. A region's placement depends only on
    /// when its turn begins, so it is remembered by that instant: orders that give a region
    /// the same start share its placement.
    struct TurnPlacer {
        let shapes: [RegionShape]
        let neighbours: [[Int]]
        let campaign: Campaign
        let fleet: FleetSnapshot
        let load: ExistingLoad
        var windows: WindowCache
        private var placements: [PlacementKey: Result<[Wave], PlanningFailure>] = [:]

        private struct PlacementKey: Hashable {
            var shape: Int
            var earliest: Int64
        }

        /// One group placed in one order.
        struct GroupPlacement {
            var waves: [Int32: [Wave]]
            /// Per region of the group (shape index): when its last event ends.
            var regionEnds: [Int: Timestamp]
            /// When the group's last event ends.
            var end: Timestamp
        }

        init(shapes: [RegionShape], neighbours: [[Int]], campaign: Campaign, fleet: FleetSnapshot, load: ExistingLoad, windows: WindowCache) {
            (self.shapes, self.neighbours, self.campaign, self.fleet, self.load, self.windows) = (shapes, neighbours, campaign, fleet, load, windows)
        }

        /// Places the regions of one group in `order`, each after its earlier-placed partners.
        mutating func place(_ order: [Int]) -> Result<GroupPlacement, PlanningFailure> {
            var spans: [Int: TimeRange] = [:]
            var result = GroupPlacement(waves: [:], regionEnds: [:], end: campaign.earliestStart)
            for k in order {
                // Rule 3 within the campaign (Rules.pairSpansClash): wait for the partners placed before.
                let before = neighbours[k].filter { spans[$0] != nil }
                let (earliest, waited) = Rules.spanStart(from: campaign.earliestStart, partnerSpans: before.map { spans[$0]! })
                let key = PlacementKey(shape: k, earliest: earliest.seconds)
                let placed: Result<[Wave], PlanningFailure>
                if let known = placements[key] {
                    placed = known
                } else {
                    do throws(PlanningFailure) {
                        placed = .success(try Planner.place(shapes[k], from: earliest, campaign: campaign, fleet: fleet, load: load, windows: &windows))
                    } catch {
                        placed = .failure(error)
                    }
                    placements[key] = placed
                }
                switch placed {
                case .failure(var error):
                    // Say why the region started late: its turn came after its partners'.
                    if !waited.isEmpty {
                        let names = waited.map { fleet.regions[Int(shapes[before[$0]].region)].name }
                        error.message += " (\(fleet.regions[Int(shapes[k].region)].name) waits for its paired regions "
                            + "\(names.joined(separator: ", ")) until \(earliest))"
                    }
                    return .failure(error)
                case .success(let waves):
                    let span = TimeRange(
                        start: waves.map(\.start).min() ?? earliest, end: waves.map { $0.start + campaign.perVMDuration }.max() ?? earliest)
                    spans[k] = span
                    result.waves[shapes[k].region] = waves
                    result.regionEnds[k] = span.end
                    result.end = max(result.end, span.end)
                }
            }
            return .success(result)
        }
    }

    /// One turn order weighed for a group: its rank among the candidates (by estimate, the
    /// tie-breaker) and how it placed.
    private struct WeighedOrder {
        var order: [Int]
        var rank: Int
        var outcome: Result<TurnPlacer.GroupPlacement, PlanningFailure>

        /// Orders compare by when the group finishes, then by rank: among orders that end
        /// together the one the ideal spans favour, as before the search, so that plans
        /// windows do not change stay as they were.
        func isBetter(than other: WeighedOrder) -> Bool {
            guard case .success(let mine) = outcome else { return false }
            guard case .success(let theirs) = other.outcome else { return true }
            return (mine.end, rank) < (theirs.end, other.rank)
        }
    }

    /// Chooses the turn order of one group of linked regions by placing it in candidate orders
    /// and keeping the one that finishes first (ties: the better estimate with ideal spans, then
    /// the first found in region-name order, so the choice is stable).
    ///
    /// - A group of at most ``exhaustiveGroupLimit`` regions is placed in every distinct order
    ///   (distinct in which side of each link goes first).
    /// - A larger one starts from the orders of a few greedy colourings of its conflict graph
    ///   and improves on the best by moving a region before a linked region it waited for,
    ///   trying first the links whose later region ends last, for as long as that helps and at
    ///   most ``heuristicOrderBudget`` orders are placed in all. Each placement places the
    ///   group's regions once at most, so the work is bounded by that many plans of the group.
    ///
    /// `forced`, for tests, places the group in the order of those region names instead.
    /// - Throws: when no order fits, the failure of the order with the best estimate.
    static func chooseTurnOrder(
        _ group: [Int], placer: inout TurnPlacer, forced: [String]? = nil
    ) throws(PlanningFailure) -> (waves: [Int32: [Wave]], choice: TurnOrderChoice) {
        let shapes = placer.shapes, neighbours = placer.neighbours
        let name = shapes.map { placer.fleet.regions[Int($0.region)].name }
        let span = shapes.map(\.idealSpan)
        var weighed: [WeighedOrder] = []
        var seen: Set<[Int]> = []
        func weigh(_ order: [Int]) {
            guard seen.insert(turnLevels(order, group: group, neighbours: neighbours)).inserted else { return }
            weighed.append(WeighedOrder(order: order, rank: weighed.count, outcome: placer.place(order)))
        }
        let exhaustive = forced == nil && group.count <= exhaustiveGroupLimit
        if let forced {
            weigh(group.sorted { (forced.firstIndex(of: name[$0]) ?? .max, $0) < (forced.firstIndex(of: name[$1]) ?? .max, $1) })
        } else if exhaustive {
            for order in ordersByEstimate(group, neighbours: neighbours, span: span) { weigh(order) }
        } else {
            for order in colouringOrders(group, neighbours: neighbours, span: span, name: name) { weigh(order) }
            var best = weighed.indices.min { weighed[$0].isBetter(than: weighed[$1]) }!
            var improved = true
            while improved, weighed.count < heuristicOrderBudget {
                improved = false
                guard case .success(let placement) = weighed[best].outcome else { break }
                let order = weighed[best].order
                var position = [Int: Int]()
                for (i, v) in order.enumerated() { position[v] = i }
                var links: [(first: Int, later: Int)] = []
                for v in group { for w in neighbours[v] where position[w]! < position[v]! { links.append((w, v)) } }
                links.sort { (placement.regionEnds[$1.later]!.seconds, $0.first, $0.later) < (placement.regionEnds[$0.later]!.seconds, $1.first, $1.later) }
                for link in links where weighed.count < heuristicOrderBudget {
                    var moved = order
                    moved.remove(at: position[link.later]!)
                    moved.insert(link.later, at: position[link.first]!)
                    let count = weighed.count
                    weigh(moved)
                    if weighed.count > count, weighed[count].isBetter(than: weighed[best]) {
                        best = count
                        improved = true
                        break
                    }
                }
            }
        }
        let ranked = weighed.sorted { $0.isBetter(than: $1) || (!$1.isBetter(than: $0) && $0.rank < $1.rank) }
        guard case .success(let placement) = ranked[0].outcome else {
            guard case .failure(let error) = weighed[0].outcome else { preconditionFailure("the best order placed") }
            throw error
        }
        func option(_ w: WeighedOrder) -> TurnOrderChoice.Option {
            let levels = turnLevels(w.order, group: group, neighbours: neighbours)
            let turns = (0...(levels.max() ?? 0)).map { t in group.indices.filter { levels[$0] == t }.map { name[group[$0]] }.sorted() }
            if case .success(let p) = w.outcome { return .init(turns: turns, end: p.end) }
            return .init(turns: turns, end: nil)
        }
        let choice = TurnOrderChoice(
            regions: group.map { name[$0] }.sorted(), chosen: option(ranked[0]), others: ranked.dropFirst().map(option), exhaustive: exhaustive)
        return (placement.waves, choice)
    }

    /// Per member of `group`, the turn it takes in `order`: 0 when no linked region goes
    /// before it, else one more than the latest turn of those that do. Two orders have the
    /// same turns exactly when the same side of every link goes first.
    private static func turnLevels(_ order: [Int], group: [Int], neighbours: [[Int]]) -> [Int] {
        var level: [Int: Int] = [:]
        for v in order { level[v] = (neighbours[v].compactMap { level[$0] }.max() ?? -1) + 1 }
        return group.map { level[$0]! }
    }

    /// The length of the plan when regions are placed in `order`, each starting as soon as its
    /// earlier-placed partners have ended, with ideal spans: the heaviest chain of linked regions.
    private static func estimatedLength(_ order: [Int], neighbours: [[Int]], span: [Int64]) -> Int64 {
        var end = [Int64?](repeating: nil, count: span.count)
        var total: Int64 = 0
        for v in order {
            let start = neighbours[v].compactMap { end[$0] }.max() ?? 0
            end[v] = start + span[v]
            total = max(total, start + span[v])
        }
        return total
    }

    /// One order per distinct orientation of the group's links (which side of each link goes
    /// first is all that matters), by estimated length, ties in the order first found.
    private static func ordersByEstimate(_ group: [Int], neighbours: [[Int]], span: [Int64]) -> [[Int]] {
        var found: [(length: Int64, order: [Int])] = []
        var seen: Set<[Int]> = []
        var current = group
        // Lexicographic next permutation: every order once, in a fixed sequence.
        while true {
            if seen.insert(turnLevels(current, group: group, neighbours: neighbours)).inserted {
                found.append((estimatedLength(current, neighbours: neighbours, span: span), current))
            }
            var i = current.count - 2
            while i >= 0, current[i] >= current[i + 1] { i -= 1 }
            if i < 0 { break }
            var j = current.count - 1
            while current[j] <= current[i] { j -= 1 }
            current.swapAt(i, j)
            current[(i + 1)...].reverse()
        }
        return found.enumerated().sorted { ($0.element.length, $0.offset) < ($1.element.length, $1.offset) }.map(\.element.order)
    }

    /// The orders of a few greedy colourings of a large group's conflict graph (each colour a
    /// turn), by estimated length.
    private static func colouringOrders(_ component: [Int], neighbours: [[Int]], span: [Int64], name: [String]) -> [[Int]] {
        let byWeight = component.sorted { (span[$0], name[$1]) > (span[$1], name[$0]) }
        let byDegree = component.sorted {
            (neighbours[$0].count, span[$0], name[$1]) > (neighbours[$1].count, span[$1], name[$0])
        }
        func greedyColouring(_ order: [Int]) -> [Int: Int] {
            var colour: [Int: Int] = [:]
            for v in order {
                let used = Set(neighbours[v].compactMap { colour[$0] })
                var c = 0
                while used.contains(c) { c += 1 }
                colour[v] = c
            }
            return colour
        }
        func dsatur() -> [Int: Int] {
            var colour: [Int: Int] = [:]
            for _ in component {
                var best = -1, bestKey = (-1, -1, Int64(-1))
                for v in component where colour[v] == nil {
                    let saturation = Set(neighbours[v].compactMap { colour[$0] }).count
                    let key = (saturation, neighbours[v].count, span[v])
                    if key > bestKey { (best, bestKey) = (v, key) }
                }
                let used = Set(neighbours[best].compactMap { colour[$0] })
                var c = 0
                while used.contains(c) { c += 1 }
                colour[best] = c
            }
            return colour
        }
        func ordered(by colour: [Int: Int]) -> [Int] {
            component.sorted { (colour[$0]!, span[$1], name[$0]) < (colour[$1]!, span[$0], name[$1]) }
        }
        let candidates = [
            ordered(by: greedyColouring(byWeight)), ordered(by: dsatur()),
            ordered(by: greedyColouring(byDegree)), ordered(by: greedyColouring(component)), byWeight,
        ]
        return candidates.enumerated().sorted {
            (estimatedLength($0.element, neighbours: neighbours, span: span), $0.offset)
                < (estimatedLength($1.element, neighbours: neighbours, span: span), $1.offset)
        }.map(\.element)
    }
}
