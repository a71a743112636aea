// `GET /metrics`: Prometheus's text exposition format (version 0.0.4), through swift-metrics
// with swift-prometheus as its backend.
//
// No global bootstrap. `MetricsSystem.bootstrap` may be called once per process, and tests
// build many applications in one process, each of which must count only its own requests.
// So each router owns a `ServerMetrics`: its own `PrometheusCollectorRegistry`, wrapped in a
// `PrometheusMetricsFactory` that every swift-metrics `Counter`, `Gauge` and `Timer` here is
// created with explicitly (`factory:`); the middleware and the handlers are handed it. Pitstop
// never calls `MetricsSystem.bootstrap`, so a library's metrics through the global system go
// nowhere, and `/metrics` shows exactly the series below.
//
// The series (no HELP lines: swift-metrics has no help text; the names say what they count):
//
//   pitstop_events{status, kind}                       gauge, read from the database at scrape time;
//                                                      every status x kind, 0 included
//   pitstop_waves_running                              gauge, waves with an event started
//   pitstop_notices_queued                             gauge, notices unsent, campaign not cancelled
//   pitstop_database_size_bytes                        gauge, page_count * page_size
//   pitstop_http_requests_total{route, method, status} counter, per answered request; `route` is
//                                                      the route template (`/metadata/instance/compute/{field}`),
//                                                      `NotFound` for a path no route matches:
//                                                      never the raw path or its query string
//   pitstop_http_request_duration_seconds{route}       histogram, handling time until the answer
//   pitstop_scheduled_events_documents_served_total{api_version}
//                                                      counter, scheduled-events documents answered
//                                                      with a body (200; a 304 is not counted)
//
// A request is counted when its answer is ready, so a scrape shows the requests before it,
// not itself. `/metrics` is not under `/metadata`: no Metadata header, no GET limit.
import Hummingbird
import Metrics
import PitstopCore
import PitstopService
import Synchronization
import Prometheus

/// The metrics of one server (one router): its registry, and the factory its metrics are made with.
public final class ServerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Request handling is milliseconds; a slow disk makes it seconds.
        factory.durationHistogramBuckets[Self.requestDuration] = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        self.factory = factory
    }

    static let events = "pitstop_events"
    static let wavesRunning = "pitstop_waves_running"
    static let noticesQueued = "pitstop_notices_queued"
    static let databaseSize = "pitstop_database_size_bytes"
    static let requests = "pitstop_http_requests_total"
    static let requestDuration = "pitstop_http_request_duration_seconds"
    static let documentsServed = "pitstop_scheduled_events_documents_served_total"

    /// The handles of each label set, made once: making one per request (a registry lookup with
    /// its label strings) cost more than the request's own work under load.
    private struct RequestKey: Hashable {
        let route: String
        let method: String
        let status: Int
    }
    private let requestCounters = Mutex<[RequestKey: Metrics.Counter]>([:])
    private let durationTimers = Mutex<[String: Metrics.Timer]>([:])
    private let documentCounters = Mutex<[ScheduledEventsAPIVersion: Metrics.Counter]>([:])

    /// Counts one answered request and records how long it took.
    func request(route: String, method: HTTPRequest.Method, status: HTTPResponse.Status, duration: Duration) {
        let key = RequestKey(route: route, method: method.rawValue, status: status.code)
        let counter = requestCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Metrics.Counter(label: Self.requests, dimensions: [("route", route), ("method", key.method), ("status", "\(key.status)")],
                                          factory: factory)
            counters[key] = counter
            return counter
        }
        counter.increment()
        let timer = durationTimers.withLock { timers in
            if let timer = timers[route] { return timer }
            let timer = Metrics.Timer(label: Self.requestDuration, dimensions: [("route", route)], factory: factory)
            timers[route] = timer
            return timer
        }
        timer.record(duration: duration)
    }

    /// Counts one scheduled-events document served in `version`.
    func documentServed(_ version: ScheduledEventsAPIVersion) {
        documentCounters.withLock { counters in
            if let counter = counters[version] { return counter }
            let counter = Metrics.Counter(label: Self.documentsServed, dimensions: [("api_version", version.rawValue)], factory: factory)
            counters[version] = counter
            return counter
        }.increment()
    }

    /// Sets the database gauges to `gauges`.
    func record(_ gauges: DatabaseGauges) {
        for tally in gauges.events {
            Metrics.Gauge(label: Self.events, dimensions: [("status", tally.status.rawValue), ("kind", tally.kind.rawValue)],
                          factory: factory).record(tally.count)
        }
        Metrics.Gauge(label: Self.wavesRunning, factory: factory).record(gauges.wavesRunning)
        Metrics.Gauge(label: Self.noticesQueued, factory: factory).record(gauges.noticesQueued)
        Metrics.Gauge(label: Self.databaseSize, factory: factory).record(gauges.databaseSizeBytes)
    }

    /// Every series, in the text exposition format.
    func exposition() -> [UInt8] { registry.emitToBuffer() }
}

/// `GET /metrics`: reads the database's gauges through the service floor, then answers every series.
struct MetricsController<Context: PitstopRequestContext>: Sendable {
    let gauges: GaugeService
    let metrics: ServerMetrics

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("metrics") { _, _ in
            metrics.record(try await gauges.snapshot())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        return routes
    }
}
