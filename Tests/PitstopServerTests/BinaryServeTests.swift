// `pitstop serve` as a process: it shuts down cleanly on SIGTERM and SIGINT, and a second
// server on a port in use says so and exits 2.
import Foundation
import PitstopService
import PitstopTestSupport
import Testing

/// The built `pitstop`, beside the test bundle or under .build/debug.
let pitstopBinary: URL = {
    var candidates: [URL] = []
    if let explicit = ProcessInfo.processInfo.environment["PITSTOP_BINARY"], !explicit.isEmpty { candidates.append(URL(fileURLWithPath: explicit)) }
    var directory = Bundle.main.bundleURL
    for _ in 0..<4 {
        candidates.append(directory.appendingPathComponent("pitstop"))
        directory.deleteLastPathComponent()
    }
    candidates.append(repositoryRoot.appendingPathComponent(".build/debug/pitstop"))
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) && !$0.hasDirectoryPath } ?? candidates.last!
}()

/// Runs the built `pitstop ARGUMENTS --db DB` as the actor `test`, with the real clock unless
/// `now` stands in for it (`PITSTOP_NOW`).
func pitstopCLI(_ arguments: [String], db: String, now: Date? = nil) async throws -> ProcessRun {
    var environment = ProcessInfo.processInfo.environment
    environment["PITSTOP_NOW"] = now.map { ISO8601DateFormatter().string(from: $0) }
    environment["PITSTOP_DB"] = nil
    environment["PITSTOP_ACTOR"] = "test"
    return try await runProcess(pitstopBinary.path, arguments + ["--db", db], environment: environment)
}

/// A scratch directory (the caller removes it), and a database on `engine` (SQLite: the
/// directory's `pitstop.sqlite`; PostgreSQL: a fresh database on the test server) that holds set
/// web in eastus over `updateDomains` UDs with `vms` at their addresses, and a freeze the CLI
/// planned a minute ago: the first wave starts 15 min after planning, rounded up to the minute,
/// so it is in its VMs' documents at once, by the real clock the server reads.
func freezePlannedAMinuteAgo(_ vms: [(name: String, address: String)], updateDomains: Int,
                             engine: TestEngine = .sqlite) async throws -> (directory: URL, db: String) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-planned-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let db = try freshDatabase(engine, in: directory)
    let records = vms.map { #"{"name": "\#($0.name)", "availabilitySet": "web", "ipAddress": "\#($0.address)"}"# }
    let fleet = directory.appendingPathComponent("fleet.json")
    try Data("""
        {"regions": [{"name": "eastus"}],
         "subscriptions": [{"id": "contoso", "admins": ["ops@contoso.example"]}],
         "availabilitySets": [{"name": "web", "region": "eastus", "subscription": "contoso", "updateDomains": \(updateDomains), "faultDomains": 1}],
         "vms": [\(records.joined(separator: ", "))]}
        """.utf8).write(to: fleet)
    let aMinuteAgo = Date() - 60
    let imported = try await pitstopCLI(["import", fleet.path], db: db, now: aMinuteAgo)
    try #require(imported.status == 0, "\(imported)")
    let planned = try await pitstopCLI(["plan", "--kind", "freeze", "--description", "Host OS update"], db: db, now: aMinuteAgo)
    try #require(planned.status == 0, "\(planned)")
    return (directory, db)
}

/// Where a test keeps its database: the file `pitstop.sqlite` in `directory`, or a fresh, empty
/// database on the test PostgreSQL server (its URL), which the directory then does not hold.
func freshDatabase(_ engine: TestEngine, in directory: URL) throws -> String {
    switch engine {
    case .sqlite: directory.appendingPathComponent("pitstop.sqlite").path
    case .postgres: try PostgresServer.freshDatabase()
    }
}

/// A running `pitstop serve --port 0` on `db` (a URL or a path), by default the database
/// `pitstop.sqlite` of its directory (a fresh one by default), its log in a file; run inside a
/// network namespace when one is named, with `options` after the others (`--insecure`,
/// `--tls-cert`, `--simulate`, ...).
final class ServeProcess: @unchecked Sendable {
    let directory: URL
    let process = Subprocess()
    let log: URL

    init(port: Int = 0, host: String? = nil, in directory: URL? = nil, db: String? = nil, namespace: String? = nil, options: [String] = []) throws {
        self.directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        log = self.directory.appendingPathComponent("serve-\(UUID().uuidString).log")
        try makeFile(atPath: log.path)
        let db = db ?? self.directory.appendingPathComponent("pitstop.sqlite").path
        // `serve` refuses a SQLite file that does not exist: a fresh one is made here, empty.
        if !db.contains("://"), !FileManager.default.fileExists(atPath: db) { _ = try Services.open(path: db, creating: true) }
        let serve = ["serve", "--db", db, "--port", "\(port)"] + (host.map { ["--host", $0] } ?? []) + options
        if let namespace {
            // `ip netns exec` execs the command in place: the process is the server itself, signals reach it.
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["ip", "netns", "exec", namespace, pitstopBinary.path] + serve
        } else {
            process.executableURL = pitstopBinary
            process.arguments = serve
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
    }

    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// The port it listens on, from its `listening` log line.
    func port() async throws -> Int {
        for _ in 0..<400 {
            for line in logText.split(separator: "\n") where line.contains("msg=listening") {
                if let field = line.split(separator: " ").first(where: { $0.hasPrefix("port=") }), let port = Int(field.dropFirst(5)) { return port }
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw SocketError(description: "no listening line: \(logText)")
    }

    /// Waits for it to exit and returns its status.
    func exitStatus() async throws -> Int32 {
        for _ in 0..<400 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { process.terminate(); throw SocketError(description: "still running: \(logText)") }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite struct BinaryServeTests {
    @Test(arguments: [SIGTERM, SIGINT])
    func aSignalStopsTheServerGracefullyWithStatus0(signal: Int32) async throws {
        let server = try ServeProcess()
        let port = try await server.port()
        let health = try await rawRequest(port: port, from: "127.0.0.1", path: "/healthz", headers: [])
        #expect(health.status == 200)
        server.process.signal(signal)
        #expect(try await server.exitStatus() == 0, "\(server.logText)")
        #expect(server.logText.contains("msg=stopped"))
        #expect(server.logText.contains("msg=request") && server.logText.contains("path=/healthz") && server.logText.contains("status=200"))
    }

    @Test func aSecondServerOnAPortInUseSaysSoAndExits2() async throws {
        let first = try ServeProcess()
        let port = try await first.port()
        let second = try ServeProcess(port: port)
        #expect(try await second.exitStatus() == 2)
        #expect(second.logText.contains("cannot listen on 127.0.0.1:\(port): the address is in use"), "\(second.logText)")
        // The first one still serves.
        #expect(try await rawRequest(port: port, from: "127.0.0.1", path: "/healthz", headers: []).status == 200)
        first.process.signal(SIGTERM)
        #expect(try await first.exitStatus() == 0)
    }
}
