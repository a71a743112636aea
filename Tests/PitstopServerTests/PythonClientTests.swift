// Clients as they are written in the wild (Tests/Support/metadata_client.py, Python's standard
// library), each bound to its VM's address, against the real server.
import Foundation
import PitstopCore
import PitstopServer
import Testing

@Suite struct PythonClientTests {
    /// A fixture at the moment web's first wave has just appeared.
    func announced() async throws -> Fixture {
        let fixture = try await Fixture()
        fixture.clock.now = fixture.start(fixture.webUD0) - 14 * 60
        return fixture
    }

    @Test func aLowerCaseMetadataHeaderIsServed() async throws {
        let fixture = try await announced()
        let run = try await withLiveServer(fixture) { port in try await pythonClient("lowercase-header", port: port, source: "127.0.0.2") }
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains(fixture.webUD0))
    }

    @Test(arguments: ["post-no-content-type", "post-form", "post-json"])
    func anApprovalIsAcceptedWhateverItsContentType(mode: String) async throws {
        let fixture = try await announced()
        let run = try await withLiveServer(fixture) { port in try await pythonClient(mode, port: port, source: "127.0.0.3") }
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("approved \(fixture.webUD0)"))
        let stored = try await fixture.stored(fixture.webUD0)
        #expect(stored.allSatisfy { $0.approvedAt == fixture.clock.now })
        let entry = try #require(try await fixture.services.audit.entries(AuditFilter(subject: AuditSubject(.wave, fixture.webUD0), action: "event.approved")).last)
        #expect(entry.actor == "vm:web-1")
    }

    @Test func notBeforeParsesAsRFC1123InGMT() async throws {
        let fixture = try await announced()
        let run = try await withLiveServer(fixture) { port in try await pythonClient("notbefore", port: port, source: "127.0.0.2") }
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout == "\(fixture.webUD0) \(fixture.start(fixture.webUD0).iso8601)\n")
    }

    @Test func a20200701ClientFindsDescriptionEventSourceAndAnIntegerDuration() async throws {
        let fixture = try await announced()
        let run = try await withLiveServer(fixture) { port in try await pythonClient("require-2020", port: port, source: "127.0.0.2") }
        #expect(run.status == 0, "\(run)")
        let seconds = fixture.end(fixture.webUD0) - fixture.start(fixture.webUD0)
        #expect(run.stdout == "\(fixture.webUD0) 'Host OS update' Platform \(seconds)\n")
    }

    @Test func aClientMayGETAt20170301AndPOSTAt20190801() async throws {
        let fixture = try await announced()
        let run = try await withLiveServer(fixture) { port in try await pythonClient("mixed-versions", port: port, source: "127.0.0.4") }
        #expect(run.status == 0, "\(run)")
        #expect(try await fixture.stored(fixture.webUD0).allSatisfy { $0.approvedAt != nil })
    }

    @Test func ifNoneMatchWithTheLastETagIs304() async throws {
        let fixture = try await announced()
        let run = try await withLiveServer(fixture) { port in try await pythonClient("etag", port: port, source: "127.0.0.2") }
        #expect(run.status == 0, "\(run)")
    }

    @Test func aPollerWaitsForTheIncarnationToChangeThenApproves() async throws {
        let fixture = try await Fixture()
        // Nothing announced yet: the poller's first document is empty.
        fixture.clock.now = fixture.start(fixture.webUD0) - 20 * 60
        let log = LogLines()
        let run = try await withLiveServer(fixture, log: log) { port in
            async let poller = pythonClient("poller", port: port, source: "127.0.0.5", ["--timeout", "60"])
            // The change comes only after the poller has its first document, however slowly it starts.
            for _ in 0..<600 where !log.all.contains(where: { $0.contains("msg=request") && $0.contains("vm=web-3") }) {
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .milliseconds(1500))
            #expect(try await fixture.stored(fixture.webUD0).allSatisfy { $0.approvedAt == nil })
            fixture.clock.now = fixture.start(fixture.webUD0) - 15 * 60
            return try await poller
        }
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("approved \(fixture.webUD0)"), "\(run)")
        let entry = try #require(try await fixture.services.audit.entries(AuditFilter(subject: AuditSubject(.wave, fixture.webUD0), action: "event.approved")).last)
        #expect(entry.actor == "vm:web-3")
    }
}
