// `pitstop audit` and `pitstop report`: parsed as the root command, and run as the built binary
// against a database file that the sqlite3 shell tampers with, as an attacker would.
import ArgumentParser
import Foundation
import Testing
@testable import pitstop

// MARK: Parsing

@Test func auditWithoutASubcommandIsAQuery() throws {
    let command = try Pitstop.parseAsRoot(["audit", "--vm", "web-0", "--since", "2026-12-01T00:00:00Z", "--action", "vm.moved", "--format", "csv"])
    let query = try #require(command as? AuditCommand.Query)
    #expect(query.vm == "web-0")
    #expect(query.action == "vm.moved")
    #expect(query.format.value == .csv)
}

@Test func auditVerifyAndReportParse() throws {
    #expect(try Pitstop.parseAsRoot(["audit", "verify", "--format", "json"]) is AuditCommand.Verify)
    let report = try #require(try Pitstop.parseAsRoot(["report", "--region", "eastus", "--format", "csv"]) as? ReportCommand)
    #expect(report.region == "eastus")
    #expect(report.format.value == .csv)
}

@Test func auditRefusesTwoSubjects() {
    #expect(throws: (any Error).self) { try Pitstop.parseAsRoot(["audit", "--vm", "web-0", "--set", "web"]) }
}

// MARK: The built binary

private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
private let binary = repository.appendingPathComponent(".build/debug/pitstop").path

private struct Outcome {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// A scratch database file with a small fleet recorded through the CLI: 8 audit entries.
private struct Scratch {
    let directory: URL
    var db: String { directory.appendingPathComponent("pitstop.sqlite").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for command in [
            ["region", "add", "eastus"], ["region", "add", "westus"], ["region", "pair", "eastus", "westus"],
            ["subscription", "add", "contoso", "--admin", "ops@contoso.example"],
            ["set", "add", "web", "--region", "eastus", "--subscription", "contoso", "--update-domains", "3"],
            ["vm", "add", "web-0", "--set", "web"], ["vm", "add", "web-1", "--set", "web"], ["vm", "move", "web-0", "--ud", "2"],
        ] {
            let outcome = try run(command)
            #expect(outcome.status == 0, "\(command): \(outcome.stderr)")
        }
    }

    func run(_ arguments: [String]) throws -> Outcome {
        #expect(FileManager.default.isExecutableFile(atPath: binary), "build first: \(binary) is missing")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments + ["--db", db]
        var environment = ProcessInfo.processInfo.environment
        environment["PITSTOP_NOW"] = "2026-12-20T00:00:00Z"
        environment["PITSTOP_ACTOR"] = "cli-test"
        process.environment = environment
        // Files, not pipes: a full pipe would block the child while the test waits for it.
        let out = directory.appendingPathComponent("stdout"), err = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8), stderr: try String(contentsOf: err, encoding: .utf8))
    }

    /// Runs SQL through the sqlite3 shell on the database file.
    func sqlite(_ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [db, sql]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "sqlite3 failed on: \(sql)")
    }

    /// What someone with write access to the file does first.
    func dropTriggers() throws {
        try sqlite("""
            DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_log_no_replace;
            DROP TRIGGER audit_subjects_no_update; DROP TRIGGER audit_subjects_no_delete;
            """)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

private func jsonObject(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

@Test func theBinaryListsAVMsHistoryNewestLast() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let outcome = try scratch.run(["audit", "--vm", "web-0", "--format", "json"])
    #expect(outcome.status == 0)
    let entries = try #require(try jsonObject(outcome.stdout)["entries"] as? [[String: Any]])
    #expect(entries.map { $0["action"] as? String } == ["vm.added", "vm.moved"])
    #expect(entries.allSatisfy { $0["actor"] as? String == "cli-test" && $0["at"] as? String == "2026-12-20T00:00:00Z" })
    let csv = try scratch.run(["audit", "--set", "web", "--format", "csv"])
    #expect(csv.stdout.split(separator: "\n").count == 1 + 4)  // header, set.added, two vm.added, vm.moved
}

@Test func theBinaryVerifiesAnUntouchedDatabase() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let outcome = try scratch.run(["audit", "verify"])
    #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
    #expect(outcome.stdout.contains("chain: ok, 8 entries"))
}

@Test func theBinaryNamesARowEditedWithTheSqliteShell() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try scratch.dropTriggers()
    try scratch.sqlite("UPDATE audit_log SET details = '{\"vm\": \"web-0\", \"from\": {}, \"to\": {}}' WHERE action = 'vm.moved'")
    let outcome = try scratch.run(["audit", "verify"])
    #expect(outcome.status == 1)
    #expect(outcome.stdout.contains("BROKEN at entry 8"), "\(outcome.stdout)")
    #expect(outcome.stdout.contains("edited"))
}

@Test func theBinaryNamesTheEntryAfterARowDeletedWithTheSqliteShell() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try scratch.dropTriggers()
    try scratch.sqlite("DELETE FROM audit_subjects WHERE seq = 3; DELETE FROM audit_log WHERE seq = 3;")
    let outcome = try scratch.run(["audit", "verify", "--format", "json"])
    #expect(outcome.status == 1)
    let chain = try #require(try jsonObject(outcome.stdout)["chain"] as? [String: Any])
    #expect(chain["ok"] as? Bool == false)
    #expect(chain["entries"] as? Int == 7)
    let broken = try #require(chain["firstBroken"] as? [String: Any])
    #expect(broken["seq"] as? Int == 4)
    #expect((broken["reason"] as? String)?.contains("entry 3 is missing") == true)
}

@Test func theBinaryNamesAChainReorderedWithTheSqliteShell() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try scratch.dropTriggers()
    try scratch.sqlite("""
        UPDATE audit_log SET seq = 100 WHERE seq = 6; UPDATE audit_log SET seq = 6 WHERE seq = 7; UPDATE audit_log SET seq = 7 WHERE seq = 100;
        UPDATE audit_subjects SET seq = 100 WHERE seq = 6; UPDATE audit_subjects SET seq = 6 WHERE seq = 7; UPDATE audit_subjects SET seq = 7 WHERE seq = 100;
        """)
    let outcome = try scratch.run(["audit", "verify", "--format", "json"])
    #expect(outcome.status == 1)
    let broken = try #require((try jsonObject(outcome.stdout)["chain"] as? [String: Any])?["firstBroken"] as? [String: Any])
    #expect(broken["seq"] as? Int == 6)
}

/// A reboot campaign whose history broke rules: web UD 0 and UD 1 down together, no notice sent.
private func writeBrokenHistory(_ scratch: Scratch) throws {
    try scratch.sqlite("""
        INSERT INTO campaigns(id, kind, created_at, not_before, regions, per_vm_seconds, ud_gap_seconds, horizon_seconds, start_utc, end_utc)
        VALUES ('c1', 'reboot', '2026-12-01T00:00:00Z', '2026-12-08T00:00:00Z', '["eastus"]', 900, 1800, 7776000, '2026-12-10T00:00:00Z', '2026-12-10T02:00:00Z');
        INSERT INTO events(id, campaign, vm, region, availability_set, update_domain, fault_domain, wave, kind, start_utc, end_utc, status,
            planned_at, actual_start, actual_end)
        VALUES ('w0/web-1', 'c1', 'web-1', 'eastus', 'web', 1, 1, 'w0', 'reboot', '2026-12-10T00:00:00Z', '2026-12-10T00:15:00Z', 'completed',
                '2026-12-01T00:00:00Z', '2026-12-10T00:00:00Z', '2026-12-10T00:15:00Z'),
               ('w1/web-0', 'c1', 'web-0', 'eastus', 'web', 2, 0, 'w1', 'reboot', '2026-12-10T00:45:00Z', '2026-12-10T01:00:00Z', 'completed',
                '2026-12-01T00:00:00Z', '2026-12-10T00:10:00Z', '2026-12-10T00:25:00Z');
        INSERT INTO notices(campaign, subscription, recipients, subject, body, queued_at, first_start)
        VALUES ('c1', 'contoso', '["ops@contoso.example"]', 's', 'b', '2026-12-01T00:00:00Z', '2026-12-10T00:00:00Z');
        """)
}

@Test func theBinaryReportsFindingsOfAPastCampaign() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try writeBrokenHistory(scratch)
    let outcome = try scratch.run(["audit", "verify", "--format", "json"])
    #expect(outcome.status == 1)
    let findings = try #require(try jsonObject(outcome.stdout)["findings"] as? [[String: Any]])
    #expect(Set(findings.compactMap { $0["rule"] as? String }) == ["update-domain-overlap", "notice-late"])
    let overlap = try #require(findings.first { $0["rule"] as? String == "update-domain-overlap" })
    #expect(overlap["at"] as? String == "2026-12-10T00:10:00Z")
    #expect(overlap["events"] as? [String] == ["w0/web-1", "w1/web-0"])
}

@Test func theBinaryPrintsAReportWithSectionsAndTotals() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try writeBrokenHistory(scratch)
    let table = try scratch.run(["report", "--since", "2026-12-01T00:00:00Z", "--until", "2026-12-31T00:00:00Z"])
    #expect(table.status == 0, "\(table.stderr)")
    for heading in ["By region", "By availability set", "By subscription", "Findings (2)"] {
        #expect(table.stdout.contains(heading), "\(table.stdout)")
    }
    let eastus = try #require(table.stdout.split(separator: "\n").first { $0.hasPrefix("eastus ") })
    // region, events, freeze, reboot, completed, failed, cancelled, started, scheduled, planned, actual, longest freeze, findings
    #expect(eastus.split(separator: " ").map(String.init) == ["eastus", "2", "0", "2", "2", "0", "0", "0", "0", "30m", "30m", "-", "2"])
    #expect(table.stdout.split(separator: "\n").contains { $0.hasPrefix("total ") })

    let csv = try scratch.run(["report", "--format", "csv"])
    let lines = csv.stdout.split(separator: "\n")
    #expect(lines.first?.hasPrefix("scope,name,region,events,") == true)
    #expect(lines.contains { $0.hasPrefix("set,web,eastus,2,") })
    #expect(lines.last?.hasPrefix("total,total,,2,") == true)

    let json = try jsonObject(try scratch.run(["report", "--format", "json"]).stdout)
    #expect((json["total"] as? [String: Any])?["actualDowntimeSeconds"] as? Int == 1800)
}
