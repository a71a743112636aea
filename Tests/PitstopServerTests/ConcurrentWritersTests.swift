// The CLI and the server write the same database at once: the built `pitstop serve` answers a
// scheduled-events poller while eight `pitstop` processes write and three more read it
// (`pitstop inventory` in a loop), and afterwards every write a process acknowledged (exit 0)
// is there, no process or client saw `database is locked` or a 5xx, every read succeeded, and
// the audit chain verifies. The same eight writers without a server too: then one of
// them is often the last connection to close, and holds the file for a moment while it
// checkpoints and removes the WAL. All of it on SQLite and on PostgreSQL, where the writers are
// serialized by the database's advisory lock instead of SQLite's file lock.
import Foundation
import PitstopTestSupport
import Testing

@Suite struct ConcurrentWritersTests {
    static let writers = 8
    /// Fewer on PostgreSQL, where each write is a dozen round trips to the server under the one
    /// write lock: on a loaded two-core machine eight writers make about two writes a second.
    static func writesPerWriter(_ engine: TestEngine) -> Int { engine == .postgres ? 12 : 25 }
    static let readers = 3
    /// The VMs the poller plays, each polling from its own loopback address.
    static let polled = (0..<8).map { (name: "web-\($0)", address: "127.0.0.\(10 + $0)") }

    // One case at a time: four of them at once, each with eleven processes in a loop, starve
    // one another on a two-core machine. The writers' and readers' own deadlines bound the
    // work (40 s and 45 s); the time limit only catches a hang. Alone a case takes about ten
    // seconds, but in the full suite on a slow day one took more than two minutes (the whole
    // test 324 s against 37 s alone).
    @Test(.serialized, .hangGuard, arguments: TestEngine.all, [true, false])
    func eightCLIWritersShareTheDatabase(engine: TestEngine, withServerAndPoller serving: Bool) async throws {
        // Set web over 4 UDs with the poller's VMs, the first wave in its VMs' documents.
        let (directory, db) = try await freezePlannedAMinuteAgo(Self.polled, updateDomains: 4, engine: engine)
        defer { try? FileManager.default.removeItem(at: directory) }

        let server = serving ? try ServeProcess(in: directory, db: db) : nil
        defer { if let server, server.process.isRunning { server.process.terminate(); server.process.waitUntilExit() } }
        let stop = directory.appendingPathComponent("stop").path
        var polling: Task<ProcessRun, any Error>?
        if let server {
            let port = try await server.port()
            #expect(try await rawRequest(port: port, from: "127.0.0.1", path: "/healthz", headers: []).status == 200)
            // Each VM's first answer numbers its document (DocumentIncarnation 1), a write that
            // waits its turn behind the writers; on PostgreSQL, on a loaded machine, that turn
            // took seconds. Asked once before the writers start, the poller then counts answers
            // that only read, as every poll does until a document changes.
            for vm in Self.polled {
                let first = try await rawRequest(port: port, from: vm.address, path: eventsPath)
                #expect(first.status == 200 && first.body.contains(#""DocumentIncarnation": 1"#), "\(vm.name): \(first.status) \(first.body)")
            }
            polling = Task { try await runProcess("/usr/bin/env", ["python3", repositoryRoot.appendingPathComponent("Tests/Support/scheduled_events_poller.py").path, "\(port)", stop] + Self.polled.map(\.address)) }
        }

        // Three processes reading the inventory in a loop until the writers are done (or 45 s).
        let writersDone = directory.appendingPathComponent("writers-done").path
        let readerDeadline = ContinuousClock.now + .seconds(45)
        let reading = Task {
            try await withThrowingTaskGroup(of: [ProcessRun].self) { group in
                for _ in 0..<Self.readers {
                    group.addTask {
                        var runs: [ProcessRun] = []
                        while !FileManager.default.fileExists(atPath: writersDone) && ContinuousClock.now < readerDeadline {
                            runs.append(try await pitstopCLI(["inventory"], db: db))
                        }
                        return runs
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
        }

        // Eight processes, each adding its own VMs one `pitstop vm add` at a time, all at once;
        // none starts a write after 40 s.
        let deadline = ContinuousClock.now + .seconds(40)
        let runs = try await withThrowingTaskGroup(of: [(vm: String, run: ProcessRun)].self) { group in
            for writer in 0..<Self.writers {
                group.addTask {
                    var runs: [(vm: String, run: ProcessRun)] = []
                    for write in 0..<Self.writesPerWriter(engine) where ContinuousClock.now < deadline {
                        let vm = "w\(writer)-\(write)"
                        runs.append((vm, try await pitstopCLI(["vm", "add", vm, "--region", "eastus", "--subscription", "contoso",
                                                               "--ip", "10.1.\(writer).\(write + 1)"], db: db)))
                    }
                    return runs
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        try makeFile(atPath: stop)
        try makeFile(atPath: writersDone)
        let poll = try await polling?.value
        let reads = try await reading.value

        // Every read succeeded while the writers wrote.
        #expect(reads.count >= Self.readers * 3, "only \(reads.count) reads were made in the time")
        let failedReads = reads.filter { $0.status != 0 || !$0.stderr.isEmpty }
        #expect(failedReads.isEmpty, "\(failedReads.count) of \(reads.count) reads failed, e.g. \(failedReads.first.map { "\($0)" } ?? "")")

        // Every process exited 0 without a word about a lock.
        #expect(runs.count >= Self.writers * 5, "only \(runs.count) writes were started in the time")
        let failed = runs.filter { $0.run.status != 0 || !$0.run.stderr.isEmpty }
        #expect(failed.isEmpty, "\(failed.count) of \(runs.count) writes failed, e.g. \(failed.first.map { "\($0.vm): \($0.run)" } ?? "")")
        #expect(!runs.contains { $0.run.stderr.contains("locked") || $0.run.stderr.contains("busy") })

        // Every acknowledged write has its row.
        let exported = try await pitstopCLI(["export"], db: db)
        try #require(exported.status == 0, "\(exported)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(exported.stdout.utf8)) as? [String: Any])
        let stored = Set(try #require(document["vms"] as? [[String: Any]]).compactMap { $0["name"] as? String })
        let acknowledged = runs.filter { $0.run.status == 0 }.map(\.vm)
        let lost = acknowledged.filter { !stored.contains($0) }
        #expect(lost.isEmpty, "acknowledged but missing: \(lost)")
        #expect(stored.count == Self.polled.count + acknowledged.count)

        // The poller got an answer to every GET, never a 5xx, and saw the first wave.
        if let poll {
            #expect(poll.status == 0, "\(poll)")
            let counts = try #require(try JSONSerialization.jsonObject(with: Data(poll.stdout.utf8)) as? [String: Int], "\(poll)")
            #expect(counts.keys.allSatisfy { ["200", "withEvents"].contains($0) }, "poller saw \(counts)")
            #expect((counts["200"] ?? 0) >= 20 && (counts["withEvents"] ?? 0) > 0, "poller saw \(counts)")
        }

        let verified = try await pitstopCLI(["audit", "verify"], db: db)
        #expect(verified.status == 0, "\(verified)")

        if let server {
            server.process.signal(SIGTERM)
            #expect(try await server.exitStatus() == 0, "\(server.logText)")
            #expect(!server.logText.contains("locked") && !server.logText.contains("status=5"), "\(server.logText)")
        }
    }
}
