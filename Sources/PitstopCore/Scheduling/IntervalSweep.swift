// Overlap among many intervals, found one way for every rule that asks (update domains of a
// set, linked regions, a VM's own events) by the checker and the history audit alike.

/// A sweep over intervals in start order that finds which intervals of conflicting groups (two
/// update domains of a set, two linked regions) overlap.
///
/// Each group's intervals are first merged into blocks, maximal unbroken stretches; the blocks
/// are then swept in start order with the list of those still open. A block is one unbroken
/// stretch, so every member overlapping the common stretch of two blocks overlaps some member
/// of the other block: the members a clash names are exactly the intervals that overlap an
/// interval of a conflicting group.
enum IntervalSweep {
    /// One interval to sweep: its group and the caller's index for it.
    struct Item {
        var group: Int
        var range: TimeRange
        var index: Int
    }

    /// A maximal stretch of time one group was busy: the union of its members' intervals.
    /// Members are in start order, ties by index, so `members[0]` is the block's first.
    struct Block {
        var group: Int
        var range: TimeRange
        var members: [(index: Int, range: TimeRange)]
    }

    /// Two blocks of conflicting groups that overlap, over their common stretch. `first` is the
    /// block that started first.
    struct Clash {
        var first: Side
        var second: Side
        var range: TimeRange
    }

    /// One block of a clash.
    struct Side {
        var group: Int
        /// The members busy during the common stretch, in start order.
        var members: [Int]
        /// The member that began the block (which may have ended before the common stretch).
        var lead: Int
    }

    /// Each group's intervals merged into blocks (empty intervals, busy at no instant, dropped),
    /// sorted by range, then group.
    static func blocks(_ items: [Item]) -> [Block] {
        let sorted = items.filter { !$0.range.isEmpty }.sorted { ($0.group, $0.range.start, $0.index) < ($1.group, $1.range.start, $1.index) }
        var blocks: [Block] = []
        for item in sorted {
            if let last = blocks.last, last.group == item.group, item.range.start <= last.range.end {
                blocks[blocks.count - 1].range.end = max(last.range.end, item.range.end)
                blocks[blocks.count - 1].members.append((item.index, item.range))
            } else {
                blocks.append(Block(group: item.group, range: item.range, members: [(item.index, item.range)]))
            }
        }
        blocks.sort { ($0.range, $0.group) < ($1.range, $1.group) }
        return blocks
    }

    /// Every overlap of two blocks whose groups `conflict`, in the order of the instant it
    /// begins (the start of the later block).
    static func clashes(_ items: [Item], conflict: (Int, Int) -> Bool) -> [Clash] {
        let blocks = blocks(items)
        var clashes: [Clash] = []
        var open: [Int] = []
        for (i, b) in blocks.enumerated() {
            open.removeAll { blocks[$0].range.end <= b.range.start }
            for j in open where conflict(blocks[j].group, b.group) {
                let a = blocks[j]
                let common = TimeRange(start: b.range.start, end: min(a.range.end, b.range.end))
                clashes.append(Clash(
                    first: Side(group: a.group, members: a.members.filter { $0.range.overlaps(common) }.map(\.index), lead: a.members[0].index),
                    second: Side(group: b.group, members: b.members.filter { $0.range.overlaps(common) }.map(\.index), lead: b.members[0].index),
                    range: common))
            }
            open.append(i)
        }
        return clashes
    }

    /// The indices of every interval that overlaps an interval of a conflicting group.
    static func involved(_ items: [Item], conflict: (Int, Int) -> Bool) -> Set<Int> {
        var found: Set<Int> = []
        for clash in clashes(items, conflict: conflict) {
            found.formUnion(clash.first.members)
            found.formUnion(clash.second.members)
        }
        return found
    }
}

/// The sweep's running state when only the nearest earlier interval matters (the recovery
/// gap after it, a VM's previous event): fed intervals in start order, it keeps the
/// latest-ending interval seen so far and the latest-ending one of any other group, so that
/// ``latest(otherThan:)`` answers in constant time where a list of open intervals would grow
/// with every VM of a wave.
struct LatestEnds<Group: Equatable> {
    typealias Entry = (end: Int64, group: Group, item: Int32)
    private var top: Entry?
    private var second: Entry?

    /// The latest-ending interval seen so far whose group is not `group`; among equal ends the
    /// first fed.
    func latest(otherThan group: Group) -> Entry? { top?.group != group ? top : second }

    /// Feeds the next interval in start order.
    mutating func add(end: Int64, group: Group, item: Int32) {
        let mine = (end: end, group: group, item: item)
        if let t = top, t.group == group {
            if mine.end > t.end { top = mine }
        } else if top == nil || mine.end > top!.end {
            second = top
            top = mine
        } else if let s = second, s.group == group {
            if mine.end > s.end { second = mine }
        } else if second == nil || mine.end > second!.end {
            second = mine
        }
    }
}

/// The sweep's result kept for lookups: intervals sorted by start, each position knowing which
/// of the intervals up to it ends latest, so that one binary search answers "does any of them
/// reach past this instant" (a window occurrence containing an event, a blackout it overlaps).
struct ReachIndex {
    /// Sorted by start.
    let ranges: [TimeRange]
    /// `reach[i]`: the position of the latest-ending range among `0...i`, the first on ties.
    private let reach: [Int]

    /// - Precondition: `ranges` is sorted by start.
    init(sorted ranges: [TimeRange]) {
        self.ranges = ranges
        var reach: [Int] = []
        reach.reserveCapacity(ranges.count)
        for (i, r) in ranges.enumerated() {
            if let last = reach.last, ranges[last].end >= r.end { reach.append(last) } else { reach.append(i) }
        }
        self.reach = reach
    }

    /// The position of the last range starting at or before `t`, or -1.
    func lastStarting(atOrBefore t: Timestamp) -> Int {
        var lo = 0, hi = ranges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ranges[mid].start <= t { lo = mid + 1 } else { hi = mid }
        }
        return lo - 1
    }

    /// The position of the latest-ending range among positions `0...i`.
    func furthest(upTo i: Int) -> Int { reach[i] }

    /// The position of the latest-ending range among those starting at or before `t`, if any.
    func furthest(startingAtOrBefore t: Timestamp) -> Int? {
        let i = lastStarting(atOrBefore: t)
        return i >= 0 ? reach[i] : nil
    }
}
