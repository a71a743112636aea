// `pitstop event` end to end: the built binary refuses a rule-breaking start (exit 1) and records a forced one.
import Foundation
import PitstopTestSupport
import Testing

/// The built `pitstop` binary: <repo>/.build/debug/pitstop, found from this file's place.
private let binary = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent(".build/debug/pitstop").path

private struct EventCLIRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

private func pitstop(_ arguments: [String], db: String, now: String = "2026-11-01T00:00:00Z") throws -> EventCLIRun {
    let process = Subprocess()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments + ["--db", db]
    var environment = ProcessInfo.processInfo.environment
    environment["PITSTOP_NOW"] = now
    environment["PITSTOP_ACTOR"] = "cli-test"
    process.environment = environment
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return EventCLIRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
}

@Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary), "needs the built binary: swift build"))
func aRefusedStartExitsOneAndAForcedStartIsRecorded() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-event-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let db = directory.appendingPathComponent("pitstop.sqlite").path
    let fleet = directory.appendingPathComponent("fleet.json")
    try Data("""
        {"regions": [{"name": "eastus"}],
         "subscriptions": [{"id": "sub", "admins": ["ops@example.com"]}],
         "availabilitySets": [{"name": "web", "region": "eastus", "subscription": "sub", "updateDomains": 2}],
         "vms": [{"name": "web-0", "availabilitySet": "web"}, {"name": "web-1", "availabilitySet": "web"}]}
        """.utf8).write(to: fleet)

    #expect(try pitstop(["import", fleet.path], db: db).status == 0)
    let plan = try pitstop(["plan", "--kind", "reboot", "--regions", "eastus", "--not-before", "2026-11-10T00:00:00Z", "--format", "json"], db: db)
    #expect(plan.status == 0, "\(plan.stderr)")
    let document = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
    let events = try #require(document["events"] as? [[String: Any]])
    func event(_ vm: String) throws -> (id: String, start: String) {
        let e = try #require(events.first { $0["vm"] as? String == vm })
        return (try #require(e["id"] as? String), try #require(e["start"] as? String))
    }
    let (first, second) = (try event("web-0"), try event("web-1"))

    let started = try pitstop(["event", "start", first.id, "--at", first.start], db: db)
    #expect(started.status == 0, "\(started.stderr)")

    // UD 1 while UD 0 runs: refused, naming the running event.
    let refused = try pitstop(["event", "start", second.id, "--at", first.start], db: db)
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("update-domain-overlap"))
    #expect(refused.stderr.contains(first.id))

    // Forced without a reason: invalid input.
    #expect(try pitstop(["event", "start", second.id, "--at", first.start, "--force"], db: db).status == 2)

    let forced = try pitstop(["event", "start", second.id, "--at", first.start, "--force", "--reason", "hotfix"], db: db)
    #expect(forced.status == 0, "\(forced.stderr)")
    #expect(forced.stdout.contains("forced past"))

    let show = try pitstop(["event", "show", second.id, "--format", "json"], db: db)
    let shown = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
    #expect(shown["status"] as? String == "started")
    #expect(shown["forced"] as? Bool == true)
    #expect(shown["reason"] as? String == "hotfix")

    // Starting it twice is an illegal transition: exit 2.
    #expect(try pitstop(["event", "start", second.id, "--at", first.start], db: db).status == 2)
}
