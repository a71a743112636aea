// The contract over a real socket: the server as `pitstop serve` builds it, several VMs each
// calling from its own loopback address.
import Foundation
import PitstopCore
import PitstopServer
import Testing

@Suite struct LiveSocketTests {
    @Test func eachVMGetsItsOwnDocumentByItsSourceAddress() async throws {
        let fixture = try await Fixture()
        fixture.clock.now = max(fixture.start(fixture.webUD1), fixture.start(fixture.apiUD0), fixture.start(fixture.eastSingles))
        try await withLiveServer(fixture) { port in
            let web0 = try await rawRequest(port: port, from: "127.0.0.2", path: eventsPath)
            let web1 = try await rawRequest(port: port, from: "127.0.0.3", path: eventsPath)
            let api0 = try await rawRequest(port: port, from: "127.0.0.6", path: eventsPath)
            let solo = try await rawRequest(port: port, from: "127.0.0.7", path: eventsPath)
            let stranger = try await rawRequest(port: port, from: "127.0.0.99", path: eventsPath)
            for response in [web0, web1, api0, solo] {
                #expect(response.status == 200)
                #expect(response.headers["etag"] != nil)
            }
            func ids(_ r: RawResponse) throws -> Set<String> {
                Set(try #require(try r.json()["Events"] as? [[String: Any]]).compactMap { $0["EventId"] as? String })
            }
            #expect(try ids(web0) == [fixture.webUD0, fixture.webUD1])
            #expect(try ids(web1) == [fixture.webUD0, fixture.webUD1], "same set, same waves")
            #expect(try ids(api0).contains(fixture.apiUD0) && !(try ids(api0).contains(fixture.webUD0)))
            #expect(try ids(solo) == [fixture.eastSingles])
            #expect(stranger.status == 404)
            #expect(try stranger.json()["error"] as? String == "not-found")
        }
    }

    @Test func headerRulesIncarnationETagAndApprovalOverTheSocket() async throws {
        let fixture = try await Fixture()
        fixture.clock.now = fixture.start(fixture.webUD0) - 15 * 60
        try await withLiveServer(fixture) { port in
            #expect(try await rawRequest(port: port, from: "127.0.0.2", path: eventsPath, headers: []).status == 400)
            #expect(try await rawRequest(port: port, from: "127.0.0.2", path: eventsPath,
                                         headers: [("Metadata", "true"), ("X-Forwarded-For", "10.0.0.1")]).status == 400)
            #expect(try await rawRequest(port: port, from: "127.0.0.2", path: "/metadata/scheduledevents?api-version=2099-01-01").status == 400)

            let first = try await rawRequest(port: port, from: "127.0.0.2", path: eventsPath)
            let etag = try #require(first.headers["etag"])
            let incarnation = try #require(try first.json()["DocumentIncarnation"] as? Int)
            let cached = try await rawRequest(port: port, from: "127.0.0.2", path: eventsPath, headers: [("Metadata", "true"), ("If-None-Match", etag)])
            #expect(cached.status == 304)
            #expect(cached.body.isEmpty)

            let approval = try await rawRequest(port: port, from: "127.0.0.4", method: "POST", path: eventsPath,
                                                headers: [("Metadata", "true")], body: #"{"StartRequests": [{"EventId": "\#(fixture.webUD0)"}]}"#)
            #expect(approval.status == 200)
            #expect(try await fixture.stored(fixture.webUD0).allSatisfy { $0.approvedAt != nil })
            let foreign = try await rawRequest(port: port, from: "127.0.0.6", method: "POST", path: eventsPath,
                                               headers: [("Metadata", "true")], body: #"{"StartRequests": [{"EventId": "\#(fixture.webUD0)"}]}"#)
            #expect(foreign.status == 400)

            try await fixture.services.lifecycle.start(.wave(fixture.webUD0), at: fixture.start(fixture.webUD0), actor: "tester")
            let started = try await rawRequest(port: port, from: "127.0.0.2", path: eventsPath, headers: [("Metadata", "true"), ("If-None-Match", etag)])
            #expect(started.status == 200)
            #expect(try started.json()["DocumentIncarnation"] as? Int == incarnation + 1)
        }
    }

    @Test func theGETLimitHoldsPerSourceAddressOverTheSocket() async throws {
        let fixture = try await Fixture()
        try await withLiveServer(fixture) { port in
            // Twenty at once: one after another, on a loaded machine (the suite runs eight CLI
            // processes beside it), they can come slower than the bucket refills.
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await rawRequest(port: port, from: "127.0.0.5", path: eventsPath).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.contains(429), "\(statuses)")
            #expect(try await rawRequest(port: port, from: "127.0.0.3", path: eventsPath).status == 200)
        }
    }

    // A kept-alive poller's polls are answered on the event loop once its document is known
    // (PollFastPath.swift); these hold the server to the same answers, in the same order.

    @Test func aKeptAlivePollerGetsTheSameAnswerEveryTimeAndPipelinedAnswersKeepTheirOrder() async throws {
        let fixture = try await Fixture()
        fixture.clock.now = fixture.start(fixture.webUD0) - 15 * 60
        try await withLiveServer(fixture, limit: nil) { port in
            let connection = try await KeptAliveConnection(port: port, from: "127.0.0.2")
            let poll = requestText(path: eventsPath, headers: [("Metadata", "true")])
            var answers: [RawResponse] = []
            for _ in 0..<4 {
                try await connection.send([poll])
                answers.append(try await connection.next())
            }
            // The first stores the incarnation; every later one is the same document, byte for byte.
            #expect(answers.allSatisfy { $0.status == 200 })
            for answer in answers.dropFirst(2) {
                #expect(answer.body == answers[1].body)
                for name in ["content-type", "content-length", "etag", "cache-control", "server"] {
                    #expect(answer.headers[name] == answers[1].headers[name], "\(name)")
                }
            }
            // Pipelined behind requests only the router answers (/healthz reads the database),
            // each answer comes back in the order asked.
            let health = requestText(path: "/healthz", headers: [])
            try await connection.send([health, poll, health, poll])
            var kinds: [String] = []
            for _ in 0..<4 {
                let answer = try await connection.next()
                #expect(answer.status == 200)
                kinds.append(answer.body.contains("DocumentIncarnation") ? "poll" : "health")
            }
            #expect(kinds == ["health", "poll", "health", "poll"])
        }
    }

    /// A close is early when it comes sooner than the idle timeout after the server's last
    /// activity on the connection, judged from a time no later than that activity: the instant
    /// before the connection was opened (the server's clock starts at its accept), or before the
    /// last answered request was sent (the server read it no earlier). Judging from the moment
    /// the connect returned, as this test once did, was wrong: under the whole suite on two cores
    /// the connect's return, and the first request after it, came seconds after the server
    /// accepted, and its timer rightly closed a connection on which it had read nothing for 5 s
    /// ("closed 3.5 s after", with "0 of the 1 requests" logged, in a CI run of 2026-12-05).
    @Test func aConnectionThatKeepsPollingIsNotClosedAsIdle() async throws {
        let fixture = try await Fixture()
        fixture.clock.now = fixture.start(fixture.webUD0) - 15 * 60
        // Polls every half second for more than twice the idle timeout: each request is
        // activity. The whole suite on two cores has stalled this test past five seconds (and
        // past ten for one answer): a close after such a stall is the server doing its job, and
        // the test goes on over a new connection.
        let timeout: Duration = .seconds(5)
        let log = LogLines()
        try await withLiveServer(fixture, limit: nil, log: log, idleTimeout: timeout) { port in
            let poll = requestText(path: eventsPath, headers: [("Metadata", "true")])
            /// No later than the server's last activity on the connection.
            var activity = ContinuousClock.now
            var connection = try await KeptAliveConnection(port: port, from: "127.0.0.2")
            /// When the connect returned: how long the connection lived is counted from here.
            var opened = ContinuousClock.now
            var longest: Duration = .zero, reopened = 0, sent = 0
            for _ in 0..<24 {
                let now = ContinuousClock.now
                do {
                    sent += 1
                    try await connection.send([poll])
                    #expect(try await connection.next().status == 200)
                    longest = max(longest, ContinuousClock.now - opened)
                    activity = now
                } catch {
                    let quiet = ContinuousClock.now - activity
                    if quiet < timeout {
                        let answered = log.all.filter { $0.contains("msg=request") }.count
                        let detail = "closed \(quiet) after the server's last activity, within the \(timeout) idle timeout, "
                            + "when the server had logged \(answered) of the \(sent) requests sent: \(error)"
                        Issue.record(Comment(rawValue: detail))
                        return
                    }
                    reopened += 1
                    activity = ContinuousClock.now
                    connection = try await KeptAliveConnection(port: port, from: "127.0.0.2")
                    opened = ContinuousClock.now
                }
                try await Task.sleep(for: .milliseconds(500))
            }
            // Unless stalls closed it, one connection outlived the timeout by polling.
            #expect(longest > timeout || reopened > 0, "\(longest)")
        }
    }

    @Test func aGracefulStopClosesAKeptAlivePollersConnectionAfterItsAnswer() async throws {
        let fixture = try await Fixture()
        fixture.clock.now = fixture.start(fixture.webUD0) - 15 * 60
        let poll = requestText(path: eventsPath, headers: [("Metadata", "true")])
        // The connection outlives the server: the stop must not wait for the client to hang up.
        let connection = try await withLiveServer(fixture, limit: nil) { port in
            // A minute to see the close: on a CI machine running every suite at once, the
            // connection's close after the stop took longer than the default ten seconds.
            let connection = try await KeptAliveConnection(port: port, from: "127.0.0.2")
            for _ in 0..<3 {
                try await connection.send([poll])
                #expect(try await connection.next().status == 200)
            }
            return connection
        }
        // Closed by the server, not a receive that timed out.
        do {
            _ = try await connection.next()
            Issue.record("an answer after the stop")
        } catch let error as SocketError {
            #expect(error.description == "the server closed the connection")
        }
    }
}
