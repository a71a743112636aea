// What `GET /metrics` reports from the database, read at scrape time in one read transaction,
// so the counts agree with each other: events by status and kind, running waves, queued
// notices and the database's size.
public import PitstopCore
public import PitstopStore

public struct GaugeService: Sendable {
    public let store: any Store

    public init(store: any Store) {
        self.store = store
    }

    /// The database's counts now: every status and kind, a zero for those without events, so
    /// that a gauge falls to 0 rather than keeping its last value.
    public func snapshot() async throws -> DatabaseGauges {
        try await store.read { tx in
            let counted = try tx.gauges.eventCounts()
            let events = EventStatus.allCases.flatMap { status in
                MaintenanceKind.allCases.map { kind in
                    EventTally(status: status, kind: kind, count: counted.first { $0.status == status && $0.kind == kind }?.count ?? 0)
                }
            }
            return DatabaseGauges(events: events, wavesRunning: try tx.gauges.wavesRunning(),
                                  noticesQueued: try tx.gauges.noticesQueued(), databaseSizeBytes: try tx.gauges.databaseSizeBytes())
        }
    }
}

/// The counts of one ``GaugeService/snapshot()``.
public struct DatabaseGauges: Sendable, Hashable {
    /// One tally per status and kind, zeros included.
    public var events: [EventTally]
    public var wavesRunning: Int
    public var noticesQueued: Int
    public var databaseSizeBytes: Int64

    public init(events: [EventTally], wavesRunning: Int, noticesQueued: Int, databaseSizeBytes: Int64) {
        self.events = events
        self.wavesRunning = wavesRunning
        self.noticesQueued = noticesQueued
        self.databaseSizeBytes = databaseSizeBytes
    }
}
