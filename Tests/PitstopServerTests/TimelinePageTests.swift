// The timeline page in a real headless browser: Debian's Chromium, driven over the DevTools
// protocol by browser/timeline_check.py (Python's standard library only), against the built
// `pitstop serve` on the demo fleet. The page draws one bar per wave the API reports, a wave
// started from outside turns its bar `started` within two seconds without a reload, and the
// screenshots land in .build/test-output/. Without Chromium the test is skipped, except in CI
// (CI set, as .ci/run sets it), where a missing browser fails it.
import Foundation
import PitstopTestSupport
import Testing

/// Debian's Chromium, or the one PITSTOP_CHROMIUM names.
let chromiumPath: String? = {
    var candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
    if let explicit = ProcessInfo.processInfo.environment["PITSTOP_CHROMIUM"], !explicit.isEmpty { candidates.insert(explicit, at: 0) }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}()

/// Whether this run is CI's, where every test must run.
let runningInCI: Bool = {
    let value = ProcessInfo.processInfo.environment["CI"] ?? ""
    return !value.isEmpty && value != "0" && value != "false"
}()

/// Where the screenshots go.
let testOutput = repositoryRoot.appendingPathComponent(".build/test-output")

@Suite(.serialized) struct TimelinePageTests {
    @Test(.enabled(if: chromiumPath != nil || runningInCI, "Chromium is not installed (apt-get install chromium); CI installs it"),
          .hangGuard)
    func thePageDrawsEveryWaveAndFollowsAStartLive() async throws {
        let chromium = try #require(chromiumPath, "CI must have Chromium: .ci/run installs Debian's chromium")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-timeline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("pitstop.sqlite").path

        // The demo fleet and its reboot campaign, planned as if 7 days ago less 2 hours: the
        // reboot notice has run, and its waves fall from 2 hours from now on, in the week shown.
        let demo = try await pitstopCLI(["demo"], db: db, now: Date() - 7 * 86_400 + 7200)
        try #require(demo.status == 0, "\(demo)")
        // A freeze too (northeurope has no windows: it starts once its 15-minute notice has run).
        let freeze = try await pitstopCLI(["plan", "--kind", "freeze", "--regions", "northeurope", "--ud-gap", "5m",
                                           "--description", "Host OS hot patch"], db: db)
        try #require(freeze.status == 0, "\(freeze)")

        // An operator's token, which the page keeps in localStorage: reads, and Approve from the page.
        let token = try await pitstopCLI(["token", "create", "timeline-page", "--role", "operator"], db: db)
        try #require(token.status == 0, "\(token)")
        let secret = try #require(token.stdout.split(separator: "\n").last.map(String.init))

        let port = try await ServeCommandProcess.freePort()
        let server = try ServeCommandProcess(db: db, arguments: [], in: directory, port: port)
        defer { server.stop() }
        try await server.ready()

        try FileManager.default.createDirectory(at: testOutput, withIntermediateDirectories: true)
        let run = try await runProcess("/usr/bin/env", [
            "python3", repositoryRoot.appendingPathComponent("Tests/PitstopServerTests/browser/timeline_check.py").path,
            "--url", "http://127.0.0.1:\(port)", "--out", testOutput.path, "--pitstop", pitstopBinary.path, "--db", db,
            "--chromium", chromium, "--variety", "--token", secret,
        ])
        let results = try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        for failure in (results?["failures"] as? [String]) ?? [] { Issue.record("\(failure)") }
        #expect(run.status == 0, "\(run)\n--- server log\n\(server.logText)")
        let screenshots = (results?["screenshots"] as? [String]) ?? []
        #expect(screenshots.count == 5, "\(run)")
        print("timeline screenshots: \(screenshots.joined(separator: " "))")
        #expect(results?["startedWith"] as? String == "api")
        let audit = try await pitstopCLI(["audit", "--action", "event.approved", "--format", "json"], db: db)
        #expect(audit.stdout.contains("\"actor\": \"timeline-page\""), "the page's approval is audited as the token's name: \(audit)")
        print("timeline results: bars \(results?["bars"] ?? "-"), waves \(results?["waves"] ?? "-"), live \(results?["liveSeconds"] ?? "-") s, started with \(results?["startedWith"] ?? "-")")
    }
}

/// `pitstop serve --db DB ARGUMENTS` on a free port of loopback, its log in a file of `directory`.
final class ServeCommandProcess: @unchecked Sendable {
    let process = Subprocess()
    let log: URL
    let port: Int

    init(db: String, arguments: [String], in directory: URL, port: Int) throws {
        self.port = port
        log = directory.appendingPathComponent("serve.log")
        try makeFile(atPath: log.path)
        process.executableURL = pitstopBinary
        process.arguments = ["serve", "--db", db, "--port", "\(port)"] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
    }

    /// A port nobody listens on now, as the kernel picks one.
    static func freePort() async throws -> Int {
        let probe = try await runProcess("/usr/bin/env", ["python3", "-c",
            "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        return try #require(Int(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(probe)")
    }

    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Waits until /healthz answers.
    func ready() async throws {
        for _ in 0..<200 where process.isRunning {
            if (try? await rawRequest(port: port, from: "127.0.0.1", path: "/healthz", headers: []))?.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw SocketError(description: "the server did not answer /healthz: \(logText)")
    }

    /// SIGTERM, then waits: open live streams end at once on a graceful shutdown.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}
