// `GET /metrics` through the router: the Prometheus text format, the database gauges as the
// database has them, and the request counters by route template, method and status. Counts
// are exact, so a counter that is not incremented (or incremented twice) fails a test.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PitstopCore
import PitstopServer
import PitstopService
import PitstopStore
import Testing

@Suite struct MetricsTests {
    @Test func metricsCountRequestsDocumentsAndTheDatabaseExactly() async throws {
        let fixture = try await Fixture()
        let start = fixture.start(fixture.webUD0)
        fixture.clock.now = start
        _ = try await fixture.services.lifecycle.start(.wave(fixture.webUD0), at: start, actor: "tester")
        try await routerApp(fixture).test(.router) { client in
            var etag = ""
            for _ in 0..<3 {
                let response = try await client.execute(uri: eventsPath, method: .get, headers: metadataHeaders(from: "127.0.0.2"))
                #expect(response.status == .ok)
                etag = try #require(response.headers[.eTag])
            }
            #expect(try await client.execute(uri: "/metadata/scheduledevents?api-version=2019-08-01", method: .get,
                                             headers: metadataHeaders(from: "127.0.0.3")).status == .ok)
            // Not a document served: a 304, and a 400 without the Metadata header.
            #expect(try await client.execute(uri: eventsPath, method: .get,
                                             headers: metadataHeaders(from: "127.0.0.2", [("If-None-Match", etag)])).status == .notModified)
            var bare = HTTPFields()
            bare[SourceAddressFromTestHeader.header] = "127.0.0.2"
            #expect(try await client.execute(uri: eventsPath, method: .get, headers: bare).status == .badRequest)
            // A route with a parameter, and a path no route has: neither appears as it was asked.
            #expect(try await client.execute(uri: "/metadata/instance/compute/name?api-version=2017-08-01&format=text", method: .get,
                                             headers: metadataHeaders(from: "127.0.0.2")).status == .ok)
            #expect(try await client.execute(uri: "/metadata/vm-secret-42?api-version=2020-07-01", method: .get,
                                             headers: metadataHeaders(from: "127.0.0.2")).status == .notFound)

            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = String(buffer: response.body)
            let scrape = try Exposition(text)

            // Requests, by route template, method and status.
            let route = "/metadata/scheduledevents"
            #expect(scrape["pitstop_http_requests_total", ["route": route, "method": "GET", "status": "200"]] == 4)
            #expect(scrape["pitstop_http_requests_total", ["route": route, "method": "GET", "status": "304"]] == 1)
            #expect(scrape["pitstop_http_requests_total", ["route": route, "method": "GET", "status": "400"]] == 1)
            #expect(scrape["pitstop_http_requests_total", ["route": "/metadata/instance/compute/{field}", "method": "GET", "status": "200"]] == 1)
            #expect(scrape["pitstop_http_requests_total", ["route": "NotFound", "method": "GET", "status": "404"]] == 1)
            #expect(scrape.series("pitstop_http_requests_total").map(\.value).reduce(0, +) == 8, "each request once, the scrape not yet")
            #expect(!text.contains("vm-secret-42") && !text.contains("api-version=") && !text.contains("/name"), "never a raw path or query")
            // The latency histogram, by route.
            #expect(scrape["pitstop_http_request_duration_seconds_count", ["route": route]] == 6)
            #expect(scrape["pitstop_http_request_duration_seconds_bucket", ["route": route, "le": "+Inf"]] == 6)
            #expect(scrape.series("pitstop_http_request_duration_seconds_count").count == 3, "three routes were asked")
            // Documents served, by api-version: 200s only.
            #expect(scrape["pitstop_scheduled_events_documents_served_total", ["api_version": "2020-07-01"]] == 3)
            #expect(scrape["pitstop_scheduled_events_documents_served_total", ["api_version": "2019-08-01"]] == 1)
            #expect(scrape.series("pitstop_scheduled_events_documents_served_total").count == 2)

            // The database's gauges, as the database has them.
            let all = try await fixture.services.store.read { tx in try tx.history.events(plannedFrom: nil, until: nil, region: nil) }
            for status in EventStatus.allCases {
                for kind in MaintenanceKind.allCases {
                    let expected = all.filter { $0.event.status == status && $0.event.kind == kind }.count
                    #expect(scrape["pitstop_events", ["status": status.rawValue, "kind": kind.rawValue]] == Double(expected), "\(status) \(kind)")
                }
            }
            #expect(scrape["pitstop_events", ["status": "started", "kind": "reboot"]] == Double(fixture.vms(fixture.webUD0).count))
            #expect(scrape["pitstop_events", ["status": "scheduled", "kind": "reboot"]]! > 0)
            #expect(scrape["pitstop_waves_running", [:]] == 1)
            let notices = try await fixture.services.store.read { tx in try tx.notices.notices() }
            #expect(!notices.isEmpty)
            #expect(scrape["pitstop_notices_queued", [:]] == Double(notices.filter { $0.sentAt == nil }.count))
            let size = try await fixture.services.store.read { tx in try tx.gauges.databaseSizeBytes() }
            #expect(size > 0)
            #expect(scrape["pitstop_database_size_bytes", [:]] == Double(size))

            // The next scrape counts the one before it.
            let again = try Exposition(String(buffer: try await client.execute(uri: "/metrics", method: .get).body))
            #expect(again["pitstop_http_requests_total", ["route": "/metrics", "method": "GET", "status": "200"]] == 1)
            #expect(again["pitstop_http_requests_total", ["route": route, "method": "GET", "status": "200"]] == 4)
        }
    }

    @Test func theGaugesFollowTheDatabaseAtEachScrape() async throws {
        let fixture = try await Fixture()
        try await routerApp(fixture).test(.router) { client in
            let before = try Exposition(String(buffer: try await client.execute(uri: "/metrics", method: .get).body))
            #expect(before["pitstop_notices_queued", [:]]! > 0)
            #expect(before["pitstop_waves_running", [:]] == 0)
            #expect(before["pitstop_events", ["status": "cancelled", "kind": "reboot"]] == 0, "a status without events is 0, not absent")
            let scheduled = try #require(before["pitstop_events", ["status": "scheduled", "kind": "reboot"]])

            _ = try await fixture.services.scheduler.cancel(fixture.campaign, now: fixture.clock.now, actor: "tester")
            let after = try Exposition(String(buffer: try await client.execute(uri: "/metrics", method: .get).body))
            #expect(after["pitstop_notices_queued", [:]] == 0, "a cancelled campaign's notices are no longer queued")
            #expect(after["pitstop_events", ["status": "scheduled", "kind": "reboot"]] == 0)
            #expect(after["pitstop_events", ["status": "cancelled", "kind": "reboot"]] == scheduled)
        }
    }

    @Test func metricsNeedNoMetadataHeaderAndAreNotThrottled() async throws {
        let fixture = try await Fixture()
        // One request a minute: the second poll is refused however slowly a loaded machine runs.
        try await routerApp(fixture, limit: RequestLimit(perSecond: 1.0 / 60, burst: 1)).test(.router) { client in
            for _ in 0..<5 {
                #expect(try await client.execute(uri: "/metrics", method: .get, headers: metadataHeaders(from: "127.0.0.2")).status == .ok)
            }
            // The same address is limited on the metadata endpoints.
            #expect(try await client.execute(uri: eventsPath, method: .get, headers: metadataHeaders(from: "127.0.0.2")).status == .ok)
            #expect(try await client.execute(uri: eventsPath, method: .get, headers: metadataHeaders(from: "127.0.0.2")).status == .tooManyRequests)
            let scrape = try Exposition(String(buffer: try await client.execute(uri: "/metrics", method: .get).body))
            #expect(scrape["pitstop_http_requests_total", ["route": "/metadata/scheduledevents", "method": "GET", "status": "429"]] == 1)
            #expect(scrape["pitstop_http_requests_total", ["route": "/metrics", "method": "GET", "status": "200"]] == 5)
        }
    }

    @Test func eachApplicationCountsOnlyItsOwnRequests() async throws {
        let fixture = try await Fixture()
        try await routerApp(fixture).test(.router) { client in
            for _ in 0..<2 { _ = try await client.execute(uri: eventsPath, method: .get, headers: metadataHeaders(from: "127.0.0.2")) }
        }
        // A second application in the same process starts from nothing: no global registry.
        try await routerApp(fixture).test(.router) { client in
            let scrape = try Exposition(String(buffer: try await client.execute(uri: "/metrics", method: .get).body))
            #expect(scrape.series("pitstop_http_requests_total").isEmpty)
            #expect(scrape.series("pitstop_scheduled_events_documents_served_total").isEmpty)
            #expect(scrape["pitstop_waves_running", [:]] == 0)
        }
    }
}

/// A Prometheus text exposition, parsed: each sample's name, labels and value.
struct Exposition {
    struct Sample { var name: String; var labels: [String: String]; var value: Double }
    var samples: [Sample] = []

    init(_ text: String) throws {
        let label = /([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let space = try #require(line.lastIndex(of: " "), "a sample without a value: \(line)")
            let series = line[..<space]
            let value = try #require(Double(line[line.index(after: space)...]), "not a number: \(line)")
            let name = String(series.prefix { $0 != "{" })
            var labels: [String: String] = [:]
            for match in series.dropFirst(name.count).matches(of: label) { labels[String(match.1)] = String(match.2) }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
    }

    func series(_ name: String) -> [Sample] { samples.filter { $0.name == name } }

    /// The value of the one sample with exactly these labels; `nil` when there is none.
    subscript(name: String, labels: [String: String]) -> Double? {
        let found = samples.filter { $0.name == name && $0.labels == labels }
        return found.count == 1 ? found[0].value : nil
    }
}
