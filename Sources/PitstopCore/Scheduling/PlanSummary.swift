// A plan at a glance: per region its span, waves and VMs; for the campaign its length.

/// What a plan amounts to: per region its span, waves and VMs; for the campaign its length.
public struct PlanSummary: Sendable, Hashable {
    /// One region's part of a plan.
    public struct RegionLine: Sendable, Hashable {
        public var region: String
        /// First event start to last event end.
        public var span: TimeRange
        /// Distinct waves (one per update domain of each set, plus one for single-instance VMs).
        public var waves: Int
        /// Events, one per VM.
        public var vms: Int
    }

    /// One line per region, by name.
    public var regions: [RegionLine]
    /// First event start to last event end; `nil` for no events.
    public var span: TimeRange?
    /// Waves over all regions.
    public var waves: Int
    /// Events over all regions, one per VM.
    public var vms: Int

    /// The plan's length in seconds, first start to last end.
    public var length: Int64 { span?.duration ?? 0 }

    /// Summarizes `events` (typically one campaign's plan).
    public init(events: [PlannedEvent]) {
        struct Tally {
            var span: TimeRange
            var waves: Set<String> = []
            var vms = 0
        }
        var tallies: [String: Tally] = [:]
        // A plan lists each region's and each wave's events together: count runs, and touch the
        // dictionary only when the region or the wave changes.
        var i = 0
        while i < events.count {
            let region = events[i].region
            var tally = tallies[region] ?? Tally(span: events[i].range)
            var lastWave = ""
            while i < events.count, events[i].region == region {
                tally.vms += 1
                if events[i].range.start < tally.span.start { tally.span.start = events[i].range.start }
                if events[i].range.end > tally.span.end { tally.span.end = events[i].range.end }
                if events[i].wave != lastWave {
                    lastWave = events[i].wave
                    tally.waves.insert(lastWave)
                }
                i += 1
            }
            tallies[region] = tally
        }
        regions = tallies.keys.sorted().map { name in
            let t = tallies[name]!
            return RegionLine(region: name, span: t.span, waves: t.waves.count, vms: t.vms)
        }
        if let first = regions.map(\.span.start).min(), let last = regions.map(\.span.end).max() {
            span = TimeRange(start: first, end: last)
        } else {
            span = nil
        }
        waves = regions.reduce(0) { $0 + $1.waves }
        vms = events.count
    }
}
