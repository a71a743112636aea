// The poll answered on the event loop (PollFastPath.swift), as a channel handler on its own:
// which requests it answers, with what bytes, counted and logged how; which it hands to the
// router; and that it never answers out of turn.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import PitstopCore
import PitstopService
import Testing
@testable import PitstopServer

@Suite struct PollFastPathTests {
    /// A channel with the fast path alone, the peer being the VM at `address`.
    struct Harness {
        let channel: EmbeddedChannel
        let metrics = ServerMetrics()
        let log = LogLines()

        init(_ fixture: Served, address: String = "127.0.0.2", limit: RequestLimit? = nil) throws {
            let polls = ScheduledEventsPolls(service: fixture.service, clock: fixture.clock.read, metrics: metrics,
                                             throttle: limit.map(RequestThrottle.init))
            channel = EmbeddedChannel(handler: PollFastPath(polls: polls, record: RequestRecord(metrics: metrics, logger: log.logger),
                                                            serverName: "pitstop"))
            channel.remoteAddress = try SocketAddress(ipAddress: address, port: 40000)
        }

        /// Sends a whole request.
        func send(_ method: HTTPRequest.Method = .get, _ path: String = eventsPath, _ fields: HTTPFields = [.init("Metadata")!: "true"]) throws {
            try channel.writeInbound(HTTPRequestPart.head(HTTPRequest(method: method, scheme: "http", authority: "169.254.169.254",
                                                                      path: path, headerFields: fields)))
            try channel.writeInbound(HTTPRequestPart.end(nil))
        }

        /// The parts handed on to the router since the last call.
        func handedOn() throws -> [HTTPRequestPart] {
            var parts: [HTTPRequestPart] = []
            while let part = try channel.readInbound(as: HTTPRequestPart.self) { parts.append(part) }
            return parts
        }

        /// The answers written by the fast path since the last call: head and body of each.
        func answered() throws -> [(HTTPResponse, String)] {
            var answers: [(HTTPResponse, String)] = [], head: HTTPResponse?, body = ""
            while let part = try channel.readOutbound(as: HTTPResponsePart.self) {
                switch part {
                case .head(let h): head = h
                case .body(let b): body += String(buffer: b)
                case .end:
                    answers.append((try #require(head), body))
                    (head, body) = (nil, "")
                }
            }
            return answers
        }

        /// The router's answer to a request handed on, on its way out through the fast path.
        func routerAnswers() throws {
            try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try channel.writeOutbound(HTTPResponsePart.end(nil))
            _ = try answered()
        }
    }

    /// The fixture at the first wave's appearance, and a use case that has served web-0's
    /// document (as the router's first polls do), so that it is known without the store.
    @dynamicMemberLookup
    struct Served {
        let fixture: Fixture
        let service: ScheduledEventsService
        subscript<T>(dynamicMember path: KeyPath<Fixture, T>) -> T { fixture[keyPath: path] }
    }

    func servedFixture() async throws -> Served {
        let fixture = try await Fixture()
        fixture.clock.now = fixture.start(fixture.webUD0) - 15 * 60
        let service = fixture.services.scheduledEvents
        // The first poll stores the incarnation (a commit); the second is kept.
        for _ in 0..<2 { _ = try await service.document(forAddress: "127.0.0.2", at: fixture.clock.now) }
        return Served(fixture: fixture, service: service)
    }

    @Test func aPollWhoseDocumentIsKnownIsAnsweredHereWithTheRoutersBytesCountedAndLogged() async throws {
        let fixture = try await servedFixture()
        let harness = try Harness(fixture)
        try harness.send()
        #expect(try harness.handedOn().isEmpty)
        let answers = try harness.answered()
        try #require(answers.count == 1)
        let (head, body) = answers[0]

        // The router's answer to the same poll.
        let routed = try await routerApp(fixture.fixture).test(.router) { client in
            try await client.execute(uri: eventsPath, method: .get, headers: metadataHeaders(from: "127.0.0.2"))
        }
        #expect(head.status == .ok)
        #expect(body == String(buffer: routed.body))
        for name: HTTPField.Name in [.contentType, .eTag, .cacheControl, .contentLength] {
            #expect(head.headerFields[name] == routed.headers[name], "\(name)")
        }
        #expect(head.headerFields[.server] == "pitstop")
        let date = try #require(head.headerFields[.date])
        #expect(date.wholeMatch(of: /[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT/) != nil, "\(date)")

        let scrape = try Exposition(String(decoding: harness.metrics.exposition(), as: UTF8.self))
        #expect(scrape["pitstop_http_requests_total", ["route": "/metadata/scheduledevents", "method": "GET", "status": "200"]] == 1)
        #expect(scrape["pitstop_scheduled_events_documents_served_total", ["api_version": "2020-07-01"]] == 1)
        let line = try #require(harness.log.all.last)
        for field in ["msg=request", "method=GET", "path=/metadata/scheduledevents", "status=200", "vm=web-0", "address=127.0.0.2"] {
            #expect(line.contains(field), "\(field) in \(line)")
        }
    }

    @Test func anIfNoneMatchWithTheETagIs304WithoutABody() async throws {
        let fixture = try await servedFixture()
        let harness = try Harness(fixture)
        try harness.send()
        let etag = try #require(try harness.answered().first?.0.headerFields[.eTag])
        try harness.send(.get, eventsPath, [.init("Metadata")!: "true", .ifNoneMatch: "W/\(etag)"])
        let answers = try harness.answered()
        #expect(answers.map(\.0.status) == [.notModified])
        #expect(answers.first?.1 == "")
        #expect(answers.first?.0.headerFields[.eTag] == etag)
    }

    @Test(arguments: [
        ("no Metadata header", HTTPRequest.Method.get, eventsPath, [(String, String)]()),
        ("X-Forwarded-For", .get, eventsPath, [("Metadata", "true"), ("X-Forwarded-For", "10.0.0.1")]),
        ("an unknown api-version", .get, "/metadata/scheduledevents?api-version=2099-01-01", [("Metadata", "true")]),
        ("no api-version", .get, "/metadata/scheduledevents", [("Metadata", "true")]),
        ("Connection: close", .get, eventsPath, [("Metadata", "true"), ("Connection", "close")]),
        ("an approval", .post, eventsPath, [("Metadata", "true")]),
        ("a HEAD", .head, eventsPath, [("Metadata", "true")]),
        ("another path", .get, "/metadata/instance?api-version=2021-02-01", [("Metadata", "true")]),
        ("a path with more after it", .get, "/metadata/scheduledevents/x?api-version=2020-07-01", [("Metadata", "true")]),
    ])
    func whatOnlyTheRouterCanAnswerIsHandedOnWhole(_ what: String, method: HTTPRequest.Method, path: String, headers: [(String, String)]) async throws {
        let fixture = try await servedFixture()
        let harness = try Harness(fixture)
        var fields = HTTPFields()
        for (name, value) in headers { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        try harness.send(method, path, fields)
        let parts = try harness.handedOn()
        #expect(parts.count == 2, "\(what)")
        guard case .head(let head)? = parts.first else { Issue.record("\(what): no head handed on"); return }
        #expect(head.path == path && head.method == method, "\(what)")
        #expect(try harness.answered().isEmpty, "\(what)")
    }

    @Test func aDocumentNotKnownOrAnUnknownAddressIsTheRouters() async throws {
        let fixture = try await servedFixture()
        // web-1 (127.0.0.3) was never served; 127.0.0.9 is no VM.
        for address in ["127.0.0.3", "127.0.0.9"] {
            let harness = try Harness(fixture, address: address)
            try harness.send()
            #expect(try harness.handedOn().count == 2, "\(address)")
        }
        // Something committed since: only the store can say.
        _ = try await fixture.services.lifecycle.approve(.wave(fixture.webUD0), at: fixture.clock.now, actor: "test")
        let harness = try Harness(fixture)
        try harness.send()
        #expect(try harness.handedOn().count == 2)
    }

    @Test func whileTheRouterHoldsARequestEveryLaterOneFollowsIt() async throws {
        let fixture = try await servedFixture()
        let harness = try Harness(fixture)
        // Pipelined: an approval the router must answer, then a poll the fast path could.
        try harness.send(.post, eventsPath)
        try harness.send()
        #expect(try harness.handedOn().count == 4)
        #expect(try harness.answered().isEmpty)
        // Once the router has answered both, polls are answered here again.
        try harness.routerAnswers()
        try harness.routerAnswers()
        try harness.send()
        #expect(try harness.handedOn().isEmpty)
        #expect(try harness.answered().map(\.0.status) == [.ok])
    }

    @Test func whileTheSocketIsFullPollsGoToTheRouterWhichStopsReading() async throws {
        let fixture = try await servedFixture()
        let harness = try Harness(fixture)
        harness.channel.isWritable = false
        try harness.send()
        #expect(try harness.handedOn().count == 2)
        #expect(try harness.answered().isEmpty)
        try harness.routerAnswers()
        harness.channel.isWritable = true
        try harness.send()
        #expect(try harness.answered().map(\.0.status) == [.ok])
    }

    @Test func theGETLimitCountsPollsAnsweredHereAndLeavesTheRefusalToTheRouter() async throws {
        let fixture = try await servedFixture()
        let harness = try Harness(fixture, limit: RequestLimit(perSecond: 1.0 / 60, burst: 2))
        try harness.send()
        try harness.send()
        #expect(try harness.answered().count == 2)
        // The third is over the limit: the router answers it, 429 with Retry-After.
        try harness.send()
        #expect(try harness.handedOn().count == 2)
        #expect(try harness.answered().isEmpty)
    }
}
