// `pitstop audit` and `pitstop report`: parsed as the root command, and run as the built binary
// against a database file that the sqlite3 shell tampers with, as an attacker would.
import ArgumentParser
import Foundation
import GRDB
import PitstopCore
import PitstopStore
import PitstopTestSupport
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

    func run(_ arguments: [String], env: [String: String] = [:]) throws -> Outcome {
        #expect(FileManager.default.isExecutableFile(atPath: binary), "build first: \(binary) is missing")
        let process = Subprocess()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments + ["--db", db]
        var environment = ProcessInfo.processInfo.environment
        environment["PITSTOP_NOW"] = "2026-12-20T00:00:00Z"
        environment["PITSTOP_ACTOR"] = "cli-test"
        environment["PITSTOP_AUDIT_KEY"] = nil
        environment.merge(env) { $1 }
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
        let process = Subprocess()
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
        INSERT INTO vm_names(key, name) SELECT key, name FROM vms WHERE name IN ('web-1', 'web-0');
        INSERT INTO waves(public_id, campaign, kind, region, availability_set, update_domain, start_at, end_at, planned_at, status,
            actual_start, actual_end)
        VALUES ('w0', 'c1', 'reboot', 'eastus', 'web', 1, strftime('%s', '2026-12-10T00:00:00Z'), strftime('%s', '2026-12-10T00:15:00Z'),
                strftime('%s', '2026-12-01T00:00:00Z'), 'completed', strftime('%s', '2026-12-10T00:00:00Z'), strftime('%s', '2026-12-10T00:15:00Z')),
               ('w1', 'c1', 'reboot', 'eastus', 'web', 2, strftime('%s', '2026-12-10T00:45:00Z'), strftime('%s', '2026-12-10T01:00:00Z'),
                strftime('%s', '2026-12-01T00:00:00Z'), 'completed', strftime('%s', '2026-12-10T00:10:00Z'), strftime('%s', '2026-12-10T00:25:00Z'));
        INSERT INTO wave_vms(wave, vm, fault_domain)
        SELECT w.id, k.key, CASE k.name WHEN 'web-1' THEN 1 ELSE 0 END FROM waves w JOIN vm_names k
        ON (w.public_id, k.name) IN (VALUES ('w0', 'web-1'), ('w1', 'web-0'));
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

// MARK: Anchoring: signed checkpoints

extension Scratch {
    /// `audit keygen` into the scratch directory; returns the key file's path.
    func keygen(_ name: String = "audit.key") throws -> String {
        let key = directory.appendingPathComponent(name).path
        let outcome = try run(["audit", "keygen", key])
        #expect(outcome.status == 0, "keygen: \(outcome.stderr)")
        return key
    }

    /// `audit checkpoint` with `key`; writes what it printed to a kept file and returns its path.
    func checkpoint(key: String, kept name: String = "kept.json") throws -> String {
        let outcome = try run(["audit", "checkpoint", "--audit-key", key])
        #expect(outcome.status == 0, "checkpoint: \(outcome.stderr)")
        let kept = directory.appendingPathComponent(name).path
        try Data(outcome.stdout.utf8).write(to: URL(fileURLWithPath: kept))
        return kept
    }

    /// What someone with write access and no key does to hide an edit: drop the triggers, edit
    /// entry `seq`, and recompute every hash from it to the end, so the chain verifies again.
    func rewrite(entry seq: Int64, details: String) throws {
        try dropTriggers()
        let queue = try DatabaseQueue(path: db)
        try queue.write { db in
            try db.execute(sql: "UPDATE audit_log SET details = ? WHERE seq = ?", arguments: [details, seq])
            var previous = try String.fetchOne(db, sql: "SELECT hash FROM audit_log WHERE seq = ?", arguments: [seq - 1]) ?? AuditLog.genesis
            for row in try Row.fetchAll(db, sql: "SELECT seq, at, actor, action, details FROM audit_log WHERE seq >= ? ORDER BY seq", arguments: [seq]) {
                let n: Int64 = row[0]
                let subjects = try Row.fetchAll(db, sql: "SELECT kind, name FROM audit_subjects WHERE seq = ?", arguments: [n])
                    .compactMap { r in AuditSubject.Kind(rawValue: r[0]).map { AuditSubject($0, r[1]) } }
                let hash = AuditLog.hash(seq: n, at: row[1], actor: row[2], action: row[3], subjects: subjects, details: row[4], previousHash: previous)
                try db.execute(sql: "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", arguments: [previous, hash, n])
                previous = hash
            }
        }
        try queue.close()
    }

    /// Puts the triggers back, as a careful forger would.
    func restoreTriggers() throws {
        try sqlite("""
            CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
            CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
            CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq OR hash = NEW.hash)
            BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
            CREATE TRIGGER audit_subjects_no_update BEFORE UPDATE ON audit_subjects BEGIN SELECT RAISE(ABORT, 'audit_subjects is append-only'); END;
            CREATE TRIGGER audit_subjects_no_delete BEFORE DELETE ON audit_subjects BEGIN SELECT RAISE(ABORT, 'audit_subjects is append-only'); END;
            """)
    }
}

private func rules(_ outcome: Outcome) throws -> [String] {
    try #require(try jsonObject(outcome.stdout)["findings"] as? [[String: Any]]).compactMap { $0["rule"] as? String }
}

@Test func aLogWithoutASignedCheckpointVerifiesButSaysItIsUnsigned() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let table = try scratch.run(["audit", "verify"])
    #expect(table.status == 0, "\(table.stdout)\(table.stderr)")
    #expect(table.stdout.contains("signed: no"), "\(table.stdout)")
    #expect(table.stdout.contains("cannot be detected"))
    let json = try scratch.run(["audit", "verify", "--format", "json"])
    #expect(json.status == 0)
    #expect(try jsonObject(json.stdout)["signed"] as? Bool == false)
}

@Test func keygenWritesAnOwnerOnlyKeyRecordsItsPublicHalfAndNeverOverwrites() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let key = try scratch.keygen()
    let mode = try #require(try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int)
    #expect(mode == 0o600)
    #expect(try String(contentsOfFile: key, encoding: .utf8).hasPrefix("-----BEGIN PRIVATE KEY-----"))
    let entries = try scratch.run(["audit", "--action", "audit.key.recorded", "--format", "json"])
    #expect(try #require(try jsonObject(entries.stdout)["entries"] as? [[String: Any]]).count == 1)

    // A second keygen to the same file is refused, and writes nothing
    let before = try scratch.run(["audit", "--format", "csv"]).stdout
    let again = try scratch.run(["audit", "keygen", key])
    #expect(again.status == 2)
    #expect(again.stderr.contains(key) && again.stderr.contains("exists"), "\(again.stderr)")
    #expect(try scratch.run(["audit", "--format", "csv"]).stdout == before)
}

@Test func aCheckpointIsSignedStoredPrintedAndVerified() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let key = try scratch.keygen()
    // $PITSTOP_AUDIT_KEY stands for --audit-key
    let printed = try scratch.run(["audit", "checkpoint"], env: ["PITSTOP_AUDIT_KEY": key])
    #expect(printed.status == 0, "\(printed.stderr)")
    let head = try jsonObject(printed.stdout)
    #expect(head["seq"] as? Int == 9)  // the 8 entries of the fleet and the key's
    #expect((head["hash"] as? String)?.count == 64)
    #expect(head["at"] as? String == "2026-12-20T00:00:00Z")
    #expect(head["signature"] is String)
    // Ordinary writes need no key
    #expect(try scratch.run(["vm", "add", "web-2", "--set", "web"]).status == 0)
    let kept = scratch.directory.appendingPathComponent("kept.json").path
    try Data(printed.stdout.utf8).write(to: URL(fileURLWithPath: kept))

    let verified = try scratch.run(["audit", "verify", "--checkpoint", kept, "--format", "json"])
    #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
    let json = try jsonObject(verified.stdout)
    #expect(json["signed"] as? Bool == true)
    let checkpoints = try #require(json["checkpoints"] as? [String: Any])
    #expect(checkpoints["stored"] as? Int == 1)
    #expect(checkpoints["kept"] as? Int == 1)
    #expect(checkpoints["unsignedEntries"] as? Int == 2)  // the checkpoint's own entry and web-2's
    let table = try scratch.run(["audit", "verify"])
    #expect(table.stdout.contains("signed: 1 checkpoint"), "\(table.stdout)")
    #expect(try scratch.run(["audit", "verify", "--checkpoint", kept]).stdout.contains("kept: 1 of 1 kept checkpoint extended"))
}

@Test func aRewriteWithRecomputedHashesIsAFindingOfTheStoredAndTheKeptCheckpoint() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let kept = try scratch.checkpoint(key: try scratch.keygen())
    #expect(try scratch.run(["vm", "add", "web-2", "--set", "web"]).status == 0)

    // Entry 2 edited, every hash from it recomputed: the chain alone is fooled
    try scratch.rewrite(entry: 2, details: #"{"region": "westus", "note": "forged"}"#)
    try scratch.restoreTriggers()

    let stored = try scratch.run(["audit", "verify", "--format", "json"])
    #expect(stored.status == 1, "\(stored.stdout)")
    #expect((try jsonObject(stored.stdout)["chain"] as? [String: Any])?["ok"] as? Bool == true)
    #expect(try rules(stored) == ["checkpoint-not-extended"])
    let withKept = try scratch.run(["audit", "verify", "--checkpoint", kept])
    #expect(withKept.status == 1)
    #expect(withKept.stdout.contains("kept checkpoint \(kept)"), "\(withKept.stdout)")
    #expect(withKept.stdout.contains("rewritten"))
    #expect(withKept.stdout.contains("kept: 0 of 1 kept checkpoint extended"))
}

@Test func aCutBeforeAKeptCheckpointIsAFinding() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let kept = try scratch.checkpoint(key: try scratch.keygen())

    // Entries from 6 on removed, the checkpoint's among them, and the triggers put back
    try scratch.dropTriggers()
    try scratch.sqlite("DELETE FROM audit_subjects WHERE seq >= 6; DELETE FROM audit_log WHERE seq >= 6;")
    try scratch.restoreTriggers()

    // The log alone cannot show it (it says so); the kept checkpoint does
    let alone = try scratch.run(["audit", "verify"])
    #expect(alone.status == 0)
    #expect(alone.stdout.contains("signed: no"))
    let withKept = try scratch.run(["audit", "verify", "--checkpoint", kept, "--format", "json"])
    #expect(withKept.status == 1, "\(withKept.stdout)")
    #expect(try rules(withKept) == ["checkpoint-not-extended"])
    #expect(withKept.stdout.contains("the log has no entry 9"), "\(withKept.stdout)")
}

@Test func aTamperedCheckpointOrMissingTriggersAreFindings() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let kept = try scratch.checkpoint(key: try scratch.keygen())
    var head = try jsonObject(try String(contentsOfFile: kept, encoding: .utf8))
    head["seq"] = 8
    let forged = scratch.directory.appendingPathComponent("forged.json").path
    try JSONSerialization.data(withJSONObject: head).write(to: URL(fileURLWithPath: forged))

    let bad = try scratch.run(["audit", "verify", "--checkpoint", forged, "--format", "json"])
    #expect(bad.status == 1)
    #expect(try rules(bad) == ["checkpoint-signature"])

    try scratch.dropTriggers()
    let open = try scratch.run(["audit", "verify", "--format", "json"])
    #expect(open.status == 1)
    #expect(try rules(open) == ["log-not-append-only"])
    #expect(open.stdout.contains("audit_log_no_update"))
}

@Test func aCheckpointFileThatIsNotOneIsRefusedNamingItsField() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let file = scratch.directory.appendingPathComponent("bad.json").path
    try Data(#"{"seq": 3, "hash": "abc"}"#.utf8).write(to: URL(fileURLWithPath: file))
    let outcome = try scratch.run(["audit", "verify", "--checkpoint", file])
    #expect(outcome.status == 2)
    #expect(outcome.stderr.contains("\(file): field hash"), "\(outcome.stderr)")
}

@Test func aCheckpointWithAKeyTheDatabaseDoesNotRecordIsRefused() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let other = try Scratch()
    defer { other.remove() }
    let foreign = try other.keygen()
    let outcome = try scratch.run(["audit", "checkpoint", "--audit-key", foreign])
    #expect(outcome.status == 2)
    #expect(outcome.stderr.contains("not recorded in this database"), "\(outcome.stderr)")
}
