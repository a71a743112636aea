// The simulated executor: waves start on time (or early once approved and allowed), complete
// after their planned duration, through the guarded lifecycle as `simulator`; a refused start
// waits and is never forced; a restart resumes from the database.
import Foundation
import PitstopCore
import PitstopServer
import PitstopService
import PitstopTestSupport
import Testing

@Suite struct SimulatorTests {
    func startedBySimulator(_ fixture: Fixture, _ wave: String) async throws -> Int {
        try await fixture.services.audit.entries(AuditFilter(subject: AuditSubject(.wave, wave), action: "event.started"))
            .filter { $0.actor == Simulator.actor }.count
    }

    @Test func aWaveStartsAtItsPlannedStartAndCompletesAfterItsDuration() async throws {
        let fixture = try await Fixture()
        let simulator = fixture.services.simulator
        let (start, end) = (fixture.start(fixture.webUD0), fixture.end(fixture.webUD0))

        #expect(!(try await simulator.step(at: start - 1)).started.contains(fixture.webUD0))
        #expect(try await fixture.stored(fixture.webUD0).allSatisfy { $0.event.status == .scheduled })

        #expect(try await simulator.step(at: start).started.contains(fixture.webUD0))
        let running = try await fixture.stored(fixture.webUD0)
        #expect(running.allSatisfy { $0.event.status == .started && $0.actualStart == start && !$0.forced })
        #expect(try await startedBySimulator(fixture, fixture.webUD0) == 1)

        #expect(!(try await simulator.step(at: end - 1)).completed.contains(fixture.webUD0))
        // A tick that comes late still records the end at the planned duration.
        #expect(try await simulator.step(at: end + 3).completed.contains(fixture.webUD0))
        #expect(try await fixture.stored(fixture.webUD0).allSatisfy { $0.event.status == .completed && $0.actualEnd == end })
        let completed = try await fixture.services.audit.entries(AuditFilter(subject: AuditSubject(.wave, fixture.webUD0), action: "event.completed"))
        #expect(completed.map(\.actor) == [Simulator.actor])
    }

    @Test func anApprovedWaveStartsEarlyWhenTheGuardAllowsIt() async throws {
        let fixture = try await Fixture()
        let early = fixture.start(fixture.webUD0) - 10 * 60
        _ = try await fixture.services.scheduledEvents.approve([fixture.webUD0], byAddress: "127.0.0.2", at: early)
        #expect(try await fixture.services.simulator.step(at: early).started == [fixture.webUD0])
        #expect(try await fixture.stored(fixture.webUD0).allSatisfy { $0.actualStart == early && !$0.forced })
    }

    @Test func aRefusedStartWaitsAndIsRetriedNeverForced() async throws {
        let fixture = try await Fixture()
        let simulator = fixture.services.simulator
        let start0 = fixture.start(fixture.webUD0)
        _ = try await simulator.step(at: start0)
        // UD 1 approved while UD 0 runs: rule 1 refuses it.
        try await fixture.services.lifecycle.approve(.wave(fixture.webUD1), at: start0 + 60, actor: "owner")
        let refused = try await simulator.step(at: start0 + 60)
        #expect(refused.refused.map(\.wave) == [fixture.webUD1])
        #expect(refused.refused.first?.reason.contains("update-domain-overlap") == true)
        #expect(try await fixture.stored(fixture.webUD1).allSatisfy { $0.event.status == .scheduled })
        // UD 0 ends; UD 1 then waits out the recovery gap and starts, unforced.
        _ = try await simulator.step(at: fixture.end(fixture.webUD0))
        #expect(try await simulator.step(at: fixture.end(fixture.webUD0) + 60).refused.map(\.wave) == [fixture.webUD1])
        let start1 = fixture.start(fixture.webUD1)
        #expect(try await simulator.step(at: start1).started.contains(fixture.webUD1))
        #expect(try await fixture.stored(fixture.webUD1).allSatisfy { $0.event.status == .started && !$0.forced })
    }

    @Test func aRestartMidWaveResumesFromTheDatabaseWithNothingRunTwice() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-sim-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("pitstop.sqlite").path
        let fixture = try await Fixture(services: try Services.open(path: path))
        let (start, end) = (fixture.start(fixture.webUD0), fixture.end(fixture.webUD0))
        _ = try await fixture.services.simulator.step(at: start)

        let restarted = Fixture(reopening: try Services.open(path: path), like: fixture)
        #expect(!(try await restarted.services.simulator.step(at: start + 30)).started.contains(fixture.webUD0))
        #expect(try await restarted.services.simulator.step(at: end).completed.contains(fixture.webUD0))
        let again = try await restarted.services.simulator.step(at: end + 1)
        #expect(!again.started.contains(fixture.webUD0) && !again.completed.contains(fixture.webUD0))
        #expect(try await startedBySimulator(restarted, fixture.webUD0) == 1)
        let completions = try await restarted.services.audit.entries(AuditFilter(subject: AuditSubject(.wave, fixture.webUD0), action: "event.completed"))
        #expect(completions.count == 1)
    }

    @Test func withSimulateTheVMsClientsSeeTheWaveStartAndLeave() async throws {
        let fixture = try await Fixture()
        fixture.clock.now = fixture.start(fixture.webUD0) - 60
        try await withLiveServer(fixture, limit: nil, simulate: true) { port in
            func status() async throws -> String? {
                let events = try #require(try await rawRequest(port: port, from: "127.0.0.2", path: eventsPath).json()["Events"] as? [[String: Any]])
                return events.first { $0["EventId"] as? String == fixture.webUD0 }?["EventStatus"] as? String
            }
            #expect(try await status() == "Scheduled")
            fixture.clock.now = fixture.start(fixture.webUD0)
            var seen = try await status()
            _ = try await eventually {
                if seen != "Started" { seen = try await status() }
                return seen == "Started"
            }
            #expect(seen == "Started")
            fixture.clock.now = fixture.end(fixture.webUD0)
            _ = try await eventually {
                if seen != nil { seen = try await status() }
                return seen == nil
            }
            #expect(seen == nil, "a completed wave leaves the document")
        }
        #expect(try await startedBySimulator(fixture, fixture.webUD0) == 1)
    }
}
