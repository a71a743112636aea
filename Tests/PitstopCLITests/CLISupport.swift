// Running the built `pitstop` binary as operators do: a subprocess in a scratch directory,
// with its own database file and a fixed clock.
import Foundation
import PitstopTestSupport
import Testing

/// What one run of the binary did.
struct Run: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }

    /// Parses stdout as JSON.
    func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(stdout.utf8)) }
    func jsonObject() throws -> [String: Any] { try #require(try json() as? [String: Any], "stdout is not a JSON object: \(stdout)") }
}

/// The `pitstop` executable the package built. `swift test` builds it with the tests; the
/// test bundle sits in the same build directory, else it is found from this file's place.
let pitstopBinary: URL = {
    let fm = FileManager.default
    func executable(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return fm.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue && fm.isExecutableFile(atPath: url.path)
    }
    var candidates: [URL] = []
    if let explicit = ProcessInfo.processInfo.environment["PITSTOP_BINARY"], !explicit.isEmpty {
        candidates.append(URL(fileURLWithPath: explicit))
    }
    var directory = Bundle.main.bundleURL
    for _ in 0..<4 {
        candidates.append(directory.appendingPathComponent("pitstop"))
        directory.deleteLastPathComponent()
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    candidates.append(root.appendingPathComponent(".build/debug/pitstop"))
    return candidates.first(where: executable) ?? candidates.last!
}()

/// A scratch directory with a database path inside it; removed when the sandbox goes.
final class Sandbox {
    let directory: URL
    /// The database `run` passes with `--db`.
    let db: String
    /// The clock every run sees, so that window listings do not depend on the day.
    static let now = "2026-11-22T10:00:00Z"

    /// The database is the directory's `pitstop.sqlite`, or on `.postgres` a fresh database on
    /// the test PostgreSQL server (its URL).
    init(engine: TestEngine = .sqlite) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        switch engine {
        case .sqlite: db = directory.appendingPathComponent("pitstop.sqlite").path
        case .postgres: db = try PostgresServer.freshDatabase()
        }
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Writes `text` to a file in the sandbox and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, bytes: Array(text.utf8))
    }

    @discardableResult
    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let path = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The environment of a run: no inherited database settings, HOME inside the sandbox.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ["HOME": path("home"), "PITSTOP_NOW": Self.now, "LANG": "C.UTF-8", "TZ": "UTC"]
        if let p = ProcessInfo.processInfo.environment["PATH"] { env["PATH"] = p }
        env.merge(extra) { $1 }
        return env
    }

    /// Runs `pitstop ARGUMENTS --db <sandbox db>`.
    func run(_ arguments: String..., env: [String: String] = [:]) throws -> Run {
        try runRaw(arguments + ["--db", db], env: env)
    }

    /// Runs the binary with exactly `arguments` (no `--db`).
    func runRaw(_ arguments: [String], env: [String: String] = [:], binary: URL = pitstopBinary, in workingDirectory: URL? = nil) throws -> Run {
        let id = UUID().uuidString
        let outURL = directory.appendingPathComponent("out-\(id)"), errURL = directory.appendingPathComponent("err-\(id)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let process = Subprocess()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = environment(env)
        process.currentDirectoryURL = workingDirectory ?? directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Run(status: process.terminationStatus,
                   stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                   stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// `pitstop export` of the sandbox database; the test fails if it does not succeed.
    func export() throws -> String {
        let run = try run("export")
        #expect(run.status == 0, "export failed: \(run)")
        return run.stdout
    }

    /// Runs a command that must succeed with nothing on stderr.
    @discardableResult
    func ok(_ arguments: String..., env: [String: String] = [:]) throws -> Run {
        let run = try runRaw(arguments + ["--db", db], env: env)
        #expect(run.status == 0, "pitstop \(arguments.joined(separator: " ")): \(run)")
        #expect(run.stderr.isEmpty, "pitstop \(arguments.joined(separator: " ")) wrote to stderr: \(run.stderr)")
        return run
    }

    /// Imports the sample fleet below.
    func seed() throws {
        try ok("import", try write("seed.json", seedFleet))
    }
}

/// A fleet for the CLI tests: eastus -> westus paired, northeurope alone; set `web` (2 FDs,
/// 5 UDs) with three VMs, set `solo` with one VM, set `stacked` whose VMs share FD 0; a
/// standalone VM; a weekend window in New York and a year-end blackout.
let seedFleet = """
    {
      "regions": [{"name": "eastus", "displayName": "East US"}, {"name": "westus"}, {"name": "northeurope"}],
      "regionPairs": [{"region": "eastus", "pairedWith": "westus"}],
      "subscriptions": [{"id": "contoso", "admins": ["ops@contoso.example"], "coAdmins": []}],
      "availabilitySets": [
        {"name": "web", "region": "eastus", "subscription": "contoso", "faultDomains": 2, "updateDomains": 5},
        {"name": "solo", "region": "westus", "subscription": "contoso"},
        {"name": "stacked", "region": "northeurope", "subscription": "contoso", "faultDomains": 2, "updateDomains": 3}
      ],
      "vms": [
        {"name": "web-0", "availabilitySet": "web", "ipAddress": "10.0.0.4"},
        {"name": "web-1", "availabilitySet": "web"},
        {"name": "web-2", "availabilitySet": "web"},
        {"name": "solo-0", "availabilitySet": "solo"},
        {"name": "stacked-0", "availabilitySet": "stacked", "updateDomain": 0, "faultDomain": 0},
        {"name": "stacked-1", "availabilitySet": "stacked", "updateDomain": 1, "faultDomain": 0},
        {"name": "jump", "region": "eastus", "subscription": "contoso"}
      ],
      "maintenanceWindows": [{"name": "us-weekend", "region": "eastus", "start": "2026-11-28T22:00:00",
                              "timeZone": "America/New_York", "duration": "PT8H", "recurEvery": "Week Saturday,Sunday"}],
      "blackouts": [{"name": "year-end", "region": null, "start": "2026-12-20T00:00:00Z", "end": "2027-01-04T00:00:00Z"}]
    }
    """

/// The rows of an import's count table: kind -> [added, updated, unchanged].
func importCounts(_ output: String) -> [String: [Int]] {
    var rows: [String: [Int]] = [:]
    for line in output.split(separator: "\n") {
        let cells = line.split(separator: " ")
        guard cells.count == 4, let a = Int(cells[1]), let u = Int(cells[2]), let n = Int(cells[3]) else { continue }
        rows[String(cells[0])] = [a, u, n]
    }
    return rows
}
