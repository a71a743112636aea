// A database written by release 0006 opens in this release with nothing lost, as the operator
// sees it through the CLI.
//
// What it proves: `Fixtures/release-0006.sql` is a dump of a database that release 0006 (the last
// release that stored plans as one `events` row per VM, migrations 0001-0006) wrote through its
// real CLI: a fleet of three regions (a pair and a third), sets with several update and fault
// domains and single-instance VMs; a completed freeze with one event cancelled alone; a reboot
// campaign whose notices were sent, with a wave approved, an event approved alone in a wave that
// is otherwise not, a wave started with a reason where one VM failed with a reason (release 0006
// keeps a start's reason on the event, a failure's in the audit log) while the others completed,
// a wave completed, a forced start with a reason, a wave still running, a VM moved after planning (a
// `check` finding) and a VM removed after its events finished; a cancelled campaign with its
// notices withdrawn; a later reboot whose notice is still queued; and a signed audit checkpoint. Each test loads the dump into a fresh file
// (plain SQL through GRDB: Pitstop has not touched it), and the first `pitstop` command run
// opens and migrates it. Every golden command then must print what release 0006 printed on the
// same data with the same clock (`Fixtures/release-0006/manifest.json`): JSON compared as values
// (key order free), text byte for byte, exit status equal. A migration that loses or changes an
// event's status, approval, actual times, forced flag, reason, domains or wave, a notice or an
// audit entry changes some golden (`event show`, `campaign show`, `check`, `report`, `audit`,
// `audit verify`, `notices`, `upcoming`) and fails here.
//
// The goldens only go through the CLI, and the raw SQL below only reads the dump BEFORE Pitstop
// opens it, so these tests hold before and after a change of how plans are stored.
//
// Regenerate (ONLY with the release 0006 binary, never with a newer one: the fixture stands for
// the databases release 0006 wrote, and goldens made by a newer release would prove nothing):
//     python3 Tests/Support/make_release_0006_fixture.py --pitstop .build/debug/pitstop
// If a later release changes one of these outputs on purpose (a new key, a reworded line), edit
// that golden by hand in the same commit and say why; never rerun the script to "fix" a golden.
// No golden depends on this machine: the script refuses an output that names a path of it; the
// one argument that is a path (`audit verify --checkpoint`) is written `{fixtures}` in the
// manifest and replaced here with the fixture directory.
import Foundation
import GRDB
import Testing

/// `Tests/PitstopCLITests/Fixtures`, found from this file's place.
private let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
private let release0006Dump = fixturesDirectory.appendingPathComponent("release-0006.sql")
private let release0006Goldens = fixturesDirectory.appendingPathComponent("release-0006")

/// What the fixture script recorded: the clock and actor of the goldens, the ids they name, and
/// per golden command its arguments, the file holding its stdout, and its exit status.
private struct GoldenManifest: Decodable {
    struct Command: Decodable {
        var name: String
        var arguments: [String]
        var stdout: String
        var status: Int32
    }
    var now: String
    var actor: String
    var campaigns: [String: String]
    var events: [String: String]
    var waves: [String: String]
    var commands: [Command]

    static func load() throws -> GoldenManifest {
        try JSONDecoder().decode(GoldenManifest.self, from: Data(contentsOf: release0006Goldens.appendingPathComponent("manifest.json")))
    }
}

/// The golden commands' names, for the parameterised test (empty if the manifest is missing,
/// which `theFixtureIsRelease0006sAndComplete` reports).
private let goldenCommandNames: [String] = (try? GoldenManifest.load().commands.map(\.name)) ?? []

/// Loads the release 0006 dump into `sandbox.db` with plain SQL: the file is as release 0006
/// left it, and Pitstop has not opened it yet.
private func loadRelease0006(into sandbox: Sandbox) throws {
    let dump = try String(contentsOf: release0006Dump, encoding: .utf8)
    let queue = try DatabaseQueue(path: sandbox.db)
    try queue.inDatabase { db in try db.execute(sql: dump) }
    try queue.close()
}

/// Runs one golden command on the sandbox's database with the goldens' clock and actor.
private func run(_ command: GoldenManifest.Command, _ manifest: GoldenManifest, in sandbox: Sandbox) throws -> Run {
    let arguments = command.arguments.map { $0.replacingOccurrences(of: "{fixtures}", with: release0006Goldens.path) }
    return try sandbox.runRaw(arguments + ["--db", sandbox.db], env: ["PITSTOP_NOW": manifest.now, "PITSTOP_ACTOR": manifest.actor])
}

/// JSON text as a canonical string: sorted keys, so two documents with the same values compare equal.
private func canonicalJSON(_ text: String) throws -> String {
    let value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted, .fragmentsAllowed])
    return String(decoding: data, as: UTF8.self)
}

/// The first line where two texts differ, for a readable failure.
private func firstDifference(_ expected: String, _ actual: String) -> String {
    let e = expected.split(separator: "\n", omittingEmptySubsequences: false), a = actual.split(separator: "\n", omittingEmptySubsequences: false)
    for i in 0..<max(e.count, a.count) {
        let l = i < e.count ? String(e[i]) : "<end>", r = i < a.count ? String(a[i]) : "<end>"
        if l != r { return "line \(i + 1):\n  release 0006: \(l)\n  now:          \(r)" }
    }
    return "no line differs"
}

/// Checks one command's run against its golden: exit status, and stdout as JSON values or exact text.
private func expectGolden(_ command: GoldenManifest.Command, _ run: Run) throws {
    let golden = try String(contentsOf: release0006Goldens.appendingPathComponent(command.stdout), encoding: .utf8)
    #expect(run.status == command.status, "\(command.name): exit \(run.status), release 0006 exited \(command.status)\n\(run)")
    if command.stdout.hasSuffix(".json") {
        let expected = try canonicalJSON(golden)
        let actual = try #require(try? canonicalJSON(run.stdout), "\(command.name): stdout is not JSON\n\(run)")
        #expect(actual == expected, "\(command.name): differs from release 0006's output at \(firstDifference(expected, actual))")
    } else {
        #expect(run.stdout == golden, "\(command.name): differs from release 0006's output at \(firstDifference(golden, run.stdout))")
    }
}

// Serialized: each case starts several processes, and 45 at once starved the timing tests of
// other suites on a two-core machine.
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: pitstopBinary.path), "needs the built binary: swift build"))
struct ReleaseMigrationTests {
    @Test func theFixtureIsRelease0006sAndComplete() throws {
        // Given the dump, read raw before any Pitstop opens it
        let sandbox = try Sandbox()
        try loadRelease0006(into: sandbox)
        let queue = try DatabaseQueue(path: sandbox.db)
        defer { try? queue.close() }
        let (migrations, statuses, forced, reasons, approved, noticeStates) = try queue.read { db in
            (try String.fetchAll(db, sql: "SELECT name FROM pitstop_migrations ORDER BY name"),
             try String.fetchAll(db, sql: "SELECT DISTINCT status FROM events ORDER BY status"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE forced = 1 AND reason IS NOT NULL") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE status = 'failed' AND reason IS NOT NULL") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE approved_at IS NOT NULL") ?? 0,
             try String.fetchAll(db, sql: "SELECT DISTINCT CASE WHEN sent_at IS NULL THEN 'unsent' ELSE 'sent' END FROM notices ORDER BY 1"))
        }

        // then it is release 0006's schema, never a newer one (regenerating it with a later
        // release would make these tests compare that release with itself)
        #expect(migrations == ["0001_inventory.sql", "0002_scheduler.sql", "0003_audit_indexes.sql",
                               "0004_scheduled_events.sql", "0005_audit_keys.sql", "0006_api_tokens.sql"])
        // and it holds every state the goldens are meant to guard
        #expect(statuses == ["cancelled", "completed", "failed", "scheduled", "started"])
        #expect(forced >= 1)
        #expect(reasons >= 1)
        #expect(approved >= 2)
        #expect(noticeStates == ["sent", "unsent"])
        let manifest = try GoldenManifest.load()
        #expect(manifest.commands.count == goldenCommandNames.count)
        #expect(manifest.commands.count >= 20)
    }

    /// Each golden command is the first to open a fresh copy of the fixture, so each one sees
    /// the database just migrated, and none depends on another having run first.
    @Test(arguments: goldenCommandNames)
    func aGoldenCommandFirstToOpenTheOldDatabaseAnswersAsRelease0006Did(_ name: String) throws {
        let manifest = try GoldenManifest.load()
        let command = try #require(manifest.commands.first { $0.name == name })
        let sandbox = try Sandbox()
        try loadRelease0006(into: sandbox)

        let result = try run(command, manifest, in: sandbox)

        try expectGolden(command, result)
    }

    @Test func everyGoldenCommandInTurnOnOneMigratedDatabaseAnswersAsRelease0006Did() throws {
        // Given the old database, opened and migrated by the first command
        let manifest = try GoldenManifest.load()
        let sandbox = try Sandbox()
        try loadRelease0006(into: sandbox)

        // when every golden command runs on it in turn (the first migrates, the others reopen it)
        for command in manifest.commands {
            // then each prints what release 0006 printed
            try expectGolden(command, try run(command, manifest, in: sandbox))
        }
    }

    @Test func aWaveRunningWhenTheReleaseWasReplacedCanBeCompletedAfterTheMigration() throws {
        // Given the old database with a wave that started before the upgrade and still runs
        let manifest = try GoldenManifest.load()
        let sandbox = try Sandbox()
        try loadRelease0006(into: sandbox)
        let wave = try #require(manifest.waves["running"]), event = try #require(manifest.events["running"])
        let env = ["PITSTOP_NOW": manifest.now, "PITSTOP_ACTOR": manifest.actor]
        let before = try sandbox.runRaw(["event", "show", event, "--format", "json", "--db", sandbox.db], env: env)
        #expect(before.status == 0, "\(before)")
        let shown = try before.jsonObject()
        #expect(shown["status"] as? String == "started")
        let actualStart = try #require(shown["actualStart"] as? String)

        // when the executor reports it complete through the new release
        let end = "2027-01-02T03:04:05Z"
        let completed = try sandbox.runRaw(["event", "complete", "--wave", wave, "--at", end, "--db", sandbox.db],
                                           env: ["PITSTOP_NOW": end, "PITSTOP_ACTOR": manifest.actor])
        #expect(completed.status == 0, "\(completed)")

        // then the event keeps its old start and gets the new end, and the chain still verifies
        let after = try sandbox.runRaw(["event", "show", event, "--format", "json", "--db", sandbox.db], env: env).jsonObject()
        #expect(after["status"] as? String == "completed")
        #expect(after["actualStart"] as? String == actualStart)
        #expect(after["actualEnd"] as? String == end)
        let verify = try sandbox.runRaw(["audit", "verify", "--format", "json", "--db", sandbox.db], env: env).jsonObject()
        let chain = try #require(verify["chain"] as? [String: Any], "\(verify)")
        #expect(chain["ok"] as? Bool == true, "\(verify)")
    }
}
