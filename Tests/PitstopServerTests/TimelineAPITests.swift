// The timeline's API: one item a wave with its VM count and one status, the range limits, a
// wave with its events, the live stream of changes (and its token in the query, which no other
// operation takes), and the page served without a token.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PitstopCore
import PitstopServer
import PitstopService
import Testing

@Suite struct TimelineAPITests {
    /// The fixture's campaign lies from 2026-11-10 on: this range holds all of it.
    static let range = "from=2026-11-09T00:00:00Z&to=2026-12-09T00:00:00Z"
    /// What EventSource sends.
    static let stream = [("Accept", "text/event-stream")]

    @Test func theTimelineHasOneItemAWaveWithItsVMsCounted() async throws {
        let fixture = try await Fixture()
        let byWave = Dictionary(grouping: fixture.events, by: \.event.wave)
        try await apiApp(fixture).test(.router) { client in
            let body = try jsonObject(try await client.execute(uri: "/api/v1/timeline?\(Self.range)", method: .get, headers: bearer(.viewer)))
            let waves = try #require(body["waves"] as? [[String: Any]])
            #expect(Set(waves.compactMap { $0["id"] as? String }) == Set(byWave.keys))
            #expect(waves.count == byWave.count)
            for wave in waves {
                let id = try #require(wave["id"] as? String)
                #expect(wave["vms"] as? Int == byWave[id]?.count)
                #expect(wave["status"] as? String == "scheduled")
                #expect(wave["approved"] as? Bool == false)
                #expect(wave["statusCounts"] as? [String: Int] == ["scheduled": byWave[id]?.count ?? 0])
            }
            let web0 = try #require(waves.first { $0["id"] as? String == fixture.webUD0 })
            #expect(web0["availabilitySet"] as? String == "web" && web0["updateDomain"] as? Int == 0 && web0["region"] as? String == "eastus")
            let singles = try #require(waves.first { $0["id"] as? String == fixture.eastSingles })
            #expect(singles["availabilitySet"] is NSNull && singles["updateDomain"] is NSNull)
            // Paired regions share a group, so the page draws them together.
            let regions = try #require(body["regions"] as? [[String: Any]])
            let groups = Dictionary(uniqueKeysWithValues: regions.map { ($0["name"] as! String, $0["group"] as! Int) })
            #expect(groups["eastus"] == groups["westus"])
        }
    }

    @Test func aWaveTakesTheMostAdvancedStatusOfItsEventsAndSaysWhenTheyDiffer() async throws {
        let fixture = try await Fixture()
        let lifecycle = fixture.services.lifecycle
        let start = try #require(fixture.events.first { $0.event.wave == fixture.webUD0 }).event.range.start
        try await lifecycle.approve(.wave(fixture.webUD1), at: Fixture.planned + 3600, actor: "test")
        try await lifecycle.start(.wave(fixture.webUD0), at: start, actor: "test")
        try await lifecycle.complete(.event("\(fixture.webUD0)/web-0"), at: start + 600, actor: "test")
        try await apiApp(fixture).test(.router) { client in
            let detail = try jsonObject(try await client.execute(uri: "/api/v1/waves/\(fixture.webUD0)", method: .get, headers: bearer(.viewer)))
            let wave = try #require(detail["wave"] as? [String: Any])
            #expect(wave["status"] as? String == "started")
            #expect(wave["mixed"] as? Bool == true)
            #expect(wave["statusCounts"] as? [String: Int] == ["started": 1, "completed": 1])
            #expect(wave["actualStart"] as? String == start.iso8601)
            #expect(wave["actualEnd"] is NSNull, "one VM still runs")
            let events = try #require(detail["events"] as? [[String: Any]])
            #expect(events.compactMap { $0["vm"] as? String }.sorted() == ["web-0", "web-2"])

            let timeline = try jsonObject(try await client.execute(uri: "/api/v1/timeline?\(Self.range)", method: .get, headers: bearer(.viewer)))
            let approved = try #require((timeline["waves"] as? [[String: Any]])?.first { $0["id"] as? String == fixture.webUD1 })
            #expect(approved["approved"] as? Bool == true && approved["status"] as? String == "scheduled")
        }
    }

    @Test func theAnswersHaveTheMembersTheirSchemasList() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture).test(.router) { client in
            let document = try jsonObject(try await client.execute(uri: "/openapi.json", method: .get))
            let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
            func members(_ name: String) throws -> Set<String> {
                Set(try #require(schemas[name]?["properties"] as? [String: Any], "\(name)").keys)
            }
            let timeline = try jsonObject(try await client.execute(uri: "/api/v1/timeline?\(Self.range)", method: .get, headers: bearer(.viewer)))
            #expect(Set(timeline.keys) == (try members("Timeline")))
            let wave = try #require((timeline["waves"] as? [[String: Any]])?.first)
            #expect(Set(wave.keys) == (try members("TimelineWave")))
            let detail = try jsonObject(try await client.execute(uri: "/api/v1/waves/\(fixture.webUD0)", method: .get, headers: bearer(.viewer)))
            #expect(Set(detail.keys) == (try members("WaveDetail")))
            let event = try #require((detail["events"] as? [[String: Any]])?.first)
            #expect(Set(event.keys) == (try members("EventDetail")))
        }
    }

    @Test func aRangeIsAtMost31DaysAndFromComesFirst() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture).test(.router) { client in
            for (query, says) in [
                ("from=2026-11-01T00:00:00Z&to=2026-12-03T00:00:00Z", "longer than the maximum of 31 days"),
                ("from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", "must come after"),
                ("from=yesterday", "query parameter from"),
            ] {
                let response = try await client.execute(uri: "/api/v1/timeline?\(query)", method: .get, headers: bearer(.viewer))
                #expect(response.status == .badRequest, "\(query)")
                #expect((try jsonObject(response)["message"] as? String)?.contains(says) == true, "\(query)")
            }
            // No range: a day back and a week ahead of now.
            let body = try jsonObject(try await client.execute(uri: "/api/v1/timeline", method: .get, headers: bearer(.viewer)))
            #expect(body["from"] as? String == (Fixture.planned - 86_400).iso8601)
            #expect(body["to"] as? String == (Fixture.planned + 7 * 86_400).iso8601)
            #expect((body["waves"] as? [Any])?.isEmpty == true)
            try await client.execute(uri: "/api/v1/waves/no-such-wave", method: .get, headers: bearer(.viewer)) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func theLiveStreamSaysWhenTheDatabaseChanges() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture).test(.router) { client in
            // A write 0.7 s into a 45-second stream: time to spare for a machine loaded by the
            // whole suite (under it, a five-second stream ended before the write once, and on a
            // slow day a 15-second one).
            let writer = Task {
                try await Task.sleep(for: .milliseconds(700))
                try await fixture.services.lifecycle.approve(.wave(fixture.webUD0), at: Fixture.planned, actor: "test")
            }
            let response = try await client.execute(uri: "/api/v1/live?seconds=45", method: .get, headers: bearer(.viewer, Self.stream))
            try await writer.value
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/event-stream") == true)
            let text = String(buffer: response.body)
            #expect(text.hasPrefix("retry: 1000\n"))
            let marks = text.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }
            #expect(marks.count == 2, "the mark at once, then one change: \(text)")
            #expect(Set(marks).count == 2)
            #expect(text.components(separatedBy: "event: change\n").count - 1 == 2)

            try await client.execute(uri: "/api/v1/live?seconds=61", method: .get, headers: bearer(.viewer, Self.stream)) { response in
                #expect(response.status == .badRequest)
            }
            // A client that does not ask for a stream gets a JSON error at once, not a minute of events.
            try await client.execute(uri: "/api/v1/live", method: .get, headers: bearer(.viewer)) { response in
                #expect(response.status == .notAcceptable)
                let message = try jsonObject(response)["message"] as? String
                #expect(message?.contains("Accept: text/event-stream") == true)
            }
        }
    }

    @Test func onlyTheLiveStreamTakesItsTokenInTheQuery() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture).test(.router) { client in
            try await client.execute(uri: "/api/v1/live?seconds=1&access_token=viewer-secret", method: .get, headers: bearer(nil, Self.stream)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/v1/live?seconds=1&access_token=nonsense", method: .get, headers: bearer(nil, Self.stream)) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/api/v1/timeline?access_token=viewer-secret", method: .get, headers: bearer(nil)) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func thePageIsServedWithoutATokenAndLoadsNothingFromElsewhere() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture).test(.router) { client in
            var sources: [String] = []
            for (path, type) in [("/", "text/html"), ("/app.js", "text/javascript"), ("/app.css", "text/css")] {
                let response = try await client.execute(uri: path, method: .get, headers: bearer(nil))
                #expect(response.status == .ok, "\(path)")
                #expect(response.headers[.contentType]?.hasPrefix(type) == true, "\(path)")
                sources.append(String(buffer: response.body))
            }
            #expect(sources[0].contains("<script src=\"/app.js\"></script>"))
            #expect(sources[1].contains("new EventSource("))
            // Every URL the page names is its own: no CDN, no font service.
            for text in sources {
                #expect(text.range(of: #"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/"#, options: .regularExpression) == nil)
            }
        }
        // Without the API, no page either.
        let router = buildRouter(services: fixture.services, context: TestRequestContext.self, clock: fixture.clock.read,
                                 requestLimit: nil, logger: LogLines().logger)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in #expect(response.status == .notFound) }
        }
    }
}
