// `pitstop report`: past (and coming) maintenance per region, set and subscription, the way an
// operator shows it in a review: how many events of each kind and outcome, planned against
// actual downtime, the longest freeze, and the rules broken.
import Foundation
public import PitstopCore
import PitstopStore

/// What a report covers.
public struct ReportQuery: Sendable, Hashable {
    /// Events planned to start at or after this instant.
    public var since: Timestamp?
    /// Events planned to start before this instant.
    public var until: Timestamp?
    /// Only this region's events.
    public var region: String?

    public init(since: Timestamp? = nil, until: Timestamp? = nil, region: String? = nil) {
        self.since = since
        self.until = until
        self.region = region
    }
}

/// The figures of one row: a region, a set, a subscription, or everything.
public struct ReportLine: Sendable, Hashable {
    /// The region, set or subscription named; `total` for the totals.
    public var name: String
    /// For a set, its region.
    public var region: String?
    /// The line of a region's single-instance VMs among the sets (named `(single-instance)`),
    /// so that the set section adds up to the total.
    public var singleInstance = false
    /// Events in the line, of any kind and outcome.
    public var events = 0
    /// Events by kind.
    public var freezes = 0, reboots = 0
    /// Events by outcome (their status now).
    public var scheduled = 0, started = 0, completed = 0, failed = 0, cancelled = 0
    /// Planned VM downtime in seconds, summed over events not cancelled.
    public var plannedDowntime: Int64 = 0
    /// Actual VM downtime in seconds, summed over events that started (running ones up to now).
    public var actualDowntime: Int64 = 0
    /// The longest actual freeze, in seconds, and its event.
    public var longestFreeze: Int64?
    public var longestFreezeEvent: String?
    /// Findings of ``HistoryAudit`` that involve this row's events.
    public var findings = 0

    public init(name: String, region: String? = nil, singleInstance: Bool = false) {
        self.name = name
        self.region = region
        self.singleInstance = singleInstance
    }

    /// The name of the single-instance line of a region among the sets.
    public static let singleInstanceName = "(single-instance)"

    mutating func add(_ h: EventRecord, now: Timestamp) {
        events += 1
        switch h.event.kind {
        case .freeze: freezes += 1
        case .reboot: reboots += 1
        }
        switch h.event.status {
        case .scheduled: scheduled += 1
        case .started: started += 1
        case .completed: completed += 1
        case .failed: failed += 1
        case .cancelled: cancelled += 1
        }
        if h.event.status != .cancelled { plannedDowntime += h.event.range.duration }
        if let actual = h.actualRange(now: now) {
            actualDowntime += actual.duration
            if h.event.kind == .freeze, actual.duration > (longestFreeze ?? -1) {
                longestFreeze = actual.duration
                longestFreezeEvent = h.event.id
            }
        }
    }
}

/// A report: one line per region, set and subscription, with totals.
public struct MaintenanceReport: Sendable {
    public var query: ReportQuery
    public var regions: [ReportLine]
    public var sets: [ReportLine]
    public var subscriptions: [ReportLine]
    public var total: ReportLine
    /// The findings among the report's events, in instant order.
    public var findings: [Finding]

    /// Groups `events` into lines and counts `findings` against each line whose events they
    /// involve (once per finding and line).
    public init(query: ReportQuery, events: [EventRecord], findings: [Finding], now: Timestamp) {
        var regions: [String: ReportLine] = [:], sets: [String: ReportLine] = [:], subscriptions: [String: ReportLine] = [:]
        var total = ReportLine(name: "total")
        var position: [String: Int] = [:]
        for (i, h) in events.enumerated() {
            position[h.event.id] = i
            total.add(h, now: now)
            regions[h.event.region, default: ReportLine(name: h.event.region)].add(h, now: now)
            sets[Self.setKey(h.event), default: Self.setLine(h.event)].add(h, now: now)
            let owner = h.subscription ?? Self.unknownSubscription
            subscriptions[owner, default: ReportLine(name: owner)].add(h, now: now)
        }
        // Only findings about this report's events; each counts once per line it touches.
        let relevant = findings.filter { $0.events.contains { position[$0] != nil } }
        for finding in relevant {
            var r = Set<String>(), s = Set<String>(), o = Set<String>()
            for id in finding.events {
                guard let i = position[id] else { continue }
                r.insert(events[i].event.region)
                s.insert(Self.setKey(events[i].event))
                o.insert(events[i].subscription ?? Self.unknownSubscription)
            }
            for k in r { regions[k]?.findings += 1 }
            for k in s { sets[k]?.findings += 1 }
            for k in o { subscriptions[k]?.findings += 1 }
            total.findings += 1
        }
        self.query = query
        self.regions = regions.values.sorted { $0.name < $1.name }
        // Per region, its sets by name and then its single-instance VMs.
        self.sets = sets.values.sorted { ($0.region ?? "", $0.singleInstance ? 1 : 0, $0.name) < ($1.region ?? "", $1.singleInstance ? 1 : 0, $1.name) }
        self.subscriptions = subscriptions.values.sorted { $0.name < $1.name }
        self.total = total
        self.findings = relevant
    }

    /// The line name of events whose VM and set are both gone from the fleet.
    public static let unknownSubscription = "(unknown)"

    /// Sets by name; single-instance VMs by region, under a key no set name can take (names
    /// have no control characters).
    private static func setKey(_ e: PlannedEvent) -> String { e.availabilitySet ?? "\u{1}\(e.region)" }

    private static func setLine(_ e: PlannedEvent) -> ReportLine {
        e.availabilitySet.map { ReportLine(name: $0, region: e.region) }
            ?? ReportLine(name: ReportLine.singleInstanceName, region: e.region, singleInstance: true)
    }
}

extension AuditService {
    /// The report of the events planned to start in the query's period (and region), with
    /// their actual times whenever they happened. Findings are judged over the whole history,
    /// so that a clash with an event outside the period still counts, and then kept if they
    /// involve one of the report's events.
    ///
    /// - Parameter now: the end of events still running.
    public func report(_ query: ReportQuery, now: Timestamp) async throws -> MaintenanceReport {
        if let since = query.since, let until = query.until, until <= since {
            throw PitstopError(.invalid, "--until \(until.iso8601) is not after --since \(since.iso8601)")
        }
        return try await store.read { tx in
            if let region = query.region, try tx.fleet.region(named: region) == nil,
               try !tx.events.hasEvents(region: region) {
                throw PitstopError(.notFound, "unknown region '\(region.escapingControlCharacters)'")
            }
            let events = try tx.history.events(plannedFrom: query.since, until: query.until, region: query.region)
            let findings = HistoryAudit.findings(
                events: try tx.history.startedEvents(), pairs: try tx.fleet.regionPairs(),
                notices: try tx.history.noticesSent(), now: now)
            return MaintenanceReport(query: query, events: events, findings: findings, now: now)
        }
    }
}
