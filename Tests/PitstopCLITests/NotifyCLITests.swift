// `pitstop notify` and `pitstop notices` as operators run them: the built binary, a real SMTP
// server on loopback, and a kill in the middle of a run; the kill and the one-sender rule on
// SQLite and on PostgreSQL.
import Foundation
import PitstopTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A scratch directory with a database holding a fleet and a planned reboot campaign.
final class NotifyWorkspace {
    static let now = "2026-11-22T10:00:00Z"
    /// The `pitstop` that `swift test` builds with the tests (or `$PITSTOP_BINARY`), as every CLI test runs it.
    static let binary = pitstopBinary

    let directory: URL
    let db: String

    /// Imports `subscriptions` subscriptions (one standalone VM each) and plans a reboot campaign,
    /// in the directory's `pitstop.sqlite`, or in a fresh database on the test PostgreSQL server.
    init(subscriptions count: Int, refusedAdmin: Int? = nil, engine: TestEngine = .sqlite) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-notify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        switch engine {
        case .sqlite: db = directory.appendingPathComponent("pitstop.sqlite").path
        case .postgres: db = try PostgresServer.freshDatabase()
        }
        let subscriptions = (0..<count).map { i in
            String(format: #"{"id": "s%02d", "admins": ["admin-%02d@example.com"], "coAdmins": ["deputy-%02d@example.com"], "noticeTimeZone": "Asia/Tokyo"}"#, i, i, i)
        }
        let vms = (0..<count).map { String(format: #"{"name": "vm-%02d", "region": "eastus", "subscription": "s%02d"}"#, $0, $0) }
        let fleet = directory.appendingPathComponent("fleet.json")
        try Data("""
            {"regions": [{"name": "eastus"}], "subscriptions": [\(subscriptions.joined(separator: ", "))], "vms": [\(vms.joined(separator: ", "))]}
            """.utf8).write(to: fleet)
        try ok("import", fleet.path)
        try ok("plan", "--kind", "reboot", "--description", "Host OS update")
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    struct Outcome: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
        func json() throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any], "not a JSON object: \(stdout)")
        }
    }

    /// Starts `pitstop ARGUMENTS --db DB` (or another path to it) and returns the running
    /// process; output goes to files.
    func start(_ arguments: [String], db path: String? = nil) throws -> (Subprocess, URL, URL) {
        let id = UUID().uuidString
        let out = directory.appendingPathComponent("out-\(id)"), err = directory.appendingPathComponent("err-\(id)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Subprocess()
        process.executableURL = Self.binary
        process.arguments = arguments + ["--db", path ?? db]
        var environment = ["HOME": directory.path, "PITSTOP_NOW": Self.now, "PITSTOP_ACTOR": "notify-test", "LANG": "C.UTF-8", "TZ": "UTC"]
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        process.environment = environment
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        return (process, out, err)
    }

    @discardableResult
    func run(_ arguments: String...) throws -> Outcome {
        let (process, out, err) = try start(arguments)
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
                       stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
    }

    @discardableResult
    func ok(_ arguments: String...) throws -> Outcome {
        let (process, out, err) = try start(arguments)
        process.waitUntilExit()
        let outcome = Outcome(status: process.terminationStatus, stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
                              stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
        guard outcome.status == 0 else { throw SinkError(message: "pitstop \(arguments.joined(separator: " ")) failed: \(outcome)") }
        return outcome
    }

    /// `pitstop notices --format json`, as dictionaries.
    func notices() throws -> [[String: Any]] {
        try #require(try ok("notices", "--format", "json").json()["notices"] as? [[String: Any]])
    }
}

@Suite("pitstop notify", .enabled(if: SMTPSink.available, SMTPSink.unavailableReason))
struct NotifyCLITests {
    @Test func notifySendsEveryDueNoticeAndASecondRunSendsNothing() throws {
        let workspace = try NotifyWorkspace(subscriptions: 3)
        let sink = try SMTPSink()

        let first = try workspace.run("notify", "--smtp", "127.0.0.1:\(sink.port)", "--from", "maintenance@fleet.example")

        #expect(first.status == 0, "\(first)")
        for s in ["s00", "s01", "s02"] { #expect(first.stdout.contains(s)) }
        #expect(first.stdout.contains("admin-01@example.com, deputy-01@example.com"))
        #expect(first.stdout.contains("3 sent, 0 failed"))
        let received = try sink.messages()
        #expect(received.count == 3)
        #expect(received.allSatisfy { $0.mailfrom == "maintenance@fleet.example" && $0.header("From") == "maintenance@fleet.example" })
        #expect(received.allSatisfy { $0.data.contains("Asia/Tokyo") })
        #expect(try workspace.notices().allSatisfy { $0["state"] as? String == "sent" && $0["attempts"] as? Int == 1 })

        let second = try workspace.run("notify", "--smtp", "127.0.0.1:\(sink.port)")

        #expect(second.status == 0, "\(second)")
        #expect(second.stdout.contains("no notices due"))
        #expect(try sink.messages().count == 3)
    }

    @Test func aRefusedNoticeExitsOneAndStaysQueuedWithItsError() throws {
        let workspace = try NotifyWorkspace(subscriptions: 3)
        let sink = try SMTPSink(refuse: ["deputy-02@example.com"])

        let run = try workspace.run("notify", "--smtp", "127.0.0.1:\(sink.port)", "--format", "json")

        #expect(run.status == 1, "\(run)")
        let json = try run.json()
        #expect(json["sent"] as? Int == 2)
        #expect(json["failed"] as? Int == 1)
        let failed = try #require((json["notices"] as? [[String: Any]])?.first { $0["result"] as? String == "failed" })
        #expect(failed["subscription"] as? String == "s02")
        #expect((failed["error"] as? String)?.contains("550") == true)
        #expect(try sink.messages().count == 2)
        let listed = try #require(try workspace.notices().first { $0["subscription"] as? String == "s02" })
        #expect(listed["state"] as? String == "queued")
        #expect(listed["attempts"] as? Int == 1)
        #expect((listed["lastError"] as? String)?.contains("deputy-02@example.com") == true)
        #expect(listed["sentAt"] is NSNull)
    }

    @Test(arguments: [
        ["notify"],
        ["notify", "--smtp", "127.0.0.1:2525", "--outbox", "out"],
        ["notify", "--smtp", "127.0.0.1"],
        ["notify", "--smtp", "127.0.0.1:70000"],
        ["notify", "--outbox", "out", "--from", "not an address"],
    ])
    func badUsageExitsTwo(arguments: [String]) throws {
        let workspace = try NotifyWorkspace(subscriptions: 1)
        let (process, _, err) = try workspace.start(arguments)
        process.waitUntilExit()
        let stderr = String(decoding: try Data(contentsOf: err), as: UTF8.self)
        #expect(process.terminationStatus == 2, "\(stderr)")
        #expect(stderr.hasPrefix("pitstop: "))
        #expect(try workspace.notices().allSatisfy { $0["state"] as? String == "queued" && $0["attempts"] as? Int == 0 })
    }

    @Test func theOutboxGetsOneEmlFilePerNotice() throws {
        let workspace = try NotifyWorkspace(subscriptions: 2)
        let outbox = workspace.directory.appendingPathComponent("outbox")

        let run = try workspace.run("notify", "--outbox", outbox.path)

        #expect(run.status == 0, "\(run)")
        let files = try FileManager.default.contentsOfDirectory(atPath: outbox.path)
        #expect(files.count == 2)
        #expect(files.allSatisfy { $0.hasPrefix("notice-") && $0.hasSuffix(".eml") })
        #expect(try workspace.notices().allSatisfy { $0["state"] as? String == "sent" })
    }

    /// The promise of `notify`: kill it half way, run it again, and every notice has reached
    /// the relay once, except at most the one in flight at the kill, which may arrive twice. On
    /// either engine: on PostgreSQL a notice is claimed and marked sent in the database server's
    /// transactions, and the notify lock is a session lock that ends with the killed process's
    /// connection, so the rerun is not refused.
    @Test(.hangGuard, arguments: TestEngine.all)
    func killedHalfWayAndRunAgainEachNoticeArrivesOnceExceptAtMostTheOneInFlight(engine: TestEngine) throws {
        // Given 40 due notices and a slow relay (0.1 s per message)
        let count = 40
        let workspace = try NotifyWorkspace(subscriptions: count, engine: engine)
        let sink = try SMTPSink(delay: 0.1)

        // When notify is killed with SIGKILL once the relay has received some of them
        let (process, _, _) = try workspace.start(["notify", "--smtp", "127.0.0.1:\(sink.port)"])
        let deadline = Date().addingTimeInterval(60)
        while try sink.messages().count < 8 && process.isRunning && Date() < deadline { usleep(20_000) }
        process.signal(SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "notify finished before the kill: the test proves nothing")
        let sentBeforeKill = try workspace.notices().filter { $0["state"] as? String == "sent" }.count
        #expect(sentBeforeKill >= 7 && sentBeforeKill < count)

        // And run again to the end
        let again = try workspace.run("notify", "--smtp", "127.0.0.1:\(sink.port)")
        #expect(again.status == 0, "\(again)")

        // Then every notice is sent, and the relay got each Message-ID once, but for at most one twice
        let notices = try workspace.notices()
        #expect(notices.count == count)
        #expect(notices.allSatisfy { $0["state"] as? String == "sent" })
        let received = try sink.messages()
        var perMessageID: [String: Int] = [:]
        for mail in received { perMessageID[try #require(mail.messageID), default: 0] += 1 }
        #expect(Set(perMessageID.keys) == Set(notices.compactMap { $0["messageId"] as? String }))
        #expect(received.count == count || received.count == count + 1, "received \(received.count) messages for \(count) notices")
        #expect(perMessageID.values.filter { $0 > 1 }.count <= 1)
        #expect(perMessageID.values.allSatisfy { $0 <= 2 })
    }
}

@Suite("pitstop notify: one sender per database, whatever the path", .enabled(if: SMTPSink.available, SMTPSink.unavailableReason))
struct NotifyThroughTwoPathsTests {
    /// The same database named another way: on SQLite a symlink to the file in another
    /// directory; on PostgreSQL the same database under the other scheme, with another pool size
    /// (another process on another machine would spell it its own way too).
    static func anotherPath(to workspace: NotifyWorkspace, engine: TestEngine) throws -> String {
        switch engine {
        case .sqlite:
            let elsewhere = workspace.directory.appendingPathComponent("elsewhere")
            try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
            let link = elsewhere.appendingPathComponent("same.sqlite").path
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: workspace.db)
            return link
        case .postgres:
            let other = workspace.db.replacingOccurrences(of: "postgres://", with: "postgresql://") + "&pool=2"
            #expect(other != workspace.db)
            return other
        }
    }

    /// Two runs on one database, the second through another path to it: the second is refused
    /// while the first sends, naming it, and every notice reaches the relay and the log once.
    @Test(.hangGuard, arguments: TestEngine.all)
    func aNotifyThroughAnotherPathIsRefusedWhileOneSendsAndEachNoticeGoesOnce(engine: TestEngine) throws {
        // Given 6 due notices, a slow relay, and another path to the database
        let count = 6
        let workspace = try NotifyWorkspace(subscriptions: count, engine: engine)
        let sink = try SMTPSink(delay: 0.4)
        let link = try Self.anotherPath(to: workspace, engine: engine)

        // When one notify is part way through and a second starts through the other path
        let (first, _, _) = try workspace.start(["notify", "--smtp", "127.0.0.1:\(sink.port)"])
        let deadline = Date().addingTimeInterval(30)
        while try sink.messages().isEmpty && first.isRunning && Date() < deadline { usleep(20_000) }
        #expect(first.isRunning, "the first notify finished before the second started: the test proves nothing")
        let (other, out, err) = try workspace.start(["notify", "--smtp", "127.0.0.1:\(sink.port)"], db: link)
        other.waitUntilExit()
        let second = NotifyWorkspace.Outcome(status: other.terminationStatus, stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
                                             stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
        first.waitUntilExit()

        // Then the second was refused, naming the other run, and changed nothing
        #expect(second.status == 2, "\(second)")
        #expect(second.stderr.contains("another `pitstop notify` (pid \(first.processIdentifier))"), "\(second)")
        #expect(first.terminationStatus == 0)
        // And each notice reached the relay once and was logged sent once
        let received = try sink.messages()
        #expect(received.count == count, "the relay got \(received.count) messages for \(count) notices")
        #expect(Set(received.compactMap(\.messageID)).count == count)
        let sent = try workspace.ok("audit", "--action", "notice.sent", "--format", "json").json()["entries"] as? [[String: Any]]
        #expect(sent?.count == count)
        #expect(try workspace.ok("audit", "verify").status == 0)
    }

    /// Two `notify` runs started at the same instant, as two machines' cron jobs would: one sends
    /// and the other is refused (or, starting after the first has finished, finds nothing due);
    /// every notice reaches the relay once and is logged sent once.
    @Test(.hangGuard, arguments: TestEngine.all)
    func twoNotifiesStartedAtOnceSendEachNoticeExactlyOnce(engine: TestEngine) throws {
        // Given 8 due notices and a relay that takes 0.2 s per message
        let count = 8
        let workspace = try NotifyWorkspace(subscriptions: count, engine: engine)
        let sink = try SMTPSink(delay: 0.2)
        let other = try Self.anotherPath(to: workspace, engine: engine)

        // When two notify processes start together, each on its own path to the database
        let runs = try [workspace.db, other].map { try workspace.start(["notify", "--smtp", "127.0.0.1:\(sink.port)", "--format", "json"], db: $0) }
        let outcomes = try runs.map { process, out, err in
            process.waitUntilExit()
            return NotifyWorkspace.Outcome(status: process.terminationStatus, stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
                                           stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
        }

        // Then one sent all of them; the other was refused, naming the sender, or sent none
        let sentBy = outcomes.map { outcome in outcome.status == 0 ? (try? outcome.json()["sent"] as? Int) ?? nil : nil }
        let senders = outcomes.indices.filter { sentBy[$0] == count }
        #expect(senders.count == 1, "\(outcomes)")
        for (i, outcome) in outcomes.enumerated() where !senders.contains(i) {
            // (On SQLite a lock taken an instant before may not name its holder yet.)
            let sender = runs[senders.first ?? 0].0.processIdentifier
            let refused = outcome.status == 2 && outcome.stderr.contains("another `pitstop notify`")
                && (!outcome.stderr.contains("(pid ") || outcome.stderr.contains("(pid \(sender))"))
            #expect(refused || sentBy[i] == 0, "\(outcome)")
        }
        // And the relay got each notice once, and the log says each was sent once
        let received = try sink.messages()
        #expect(received.count == count, "the relay got \(received.count) messages for \(count) notices")
        #expect(Set(received.compactMap(\.messageID)).count == count)
        let notices = try workspace.notices()
        #expect(notices.count == count && notices.allSatisfy { $0["state"] as? String == "sent" && $0["attempts"] as? Int == 1 })
        #expect(Set(notices.compactMap { $0["messageId"] as? String }) == Set(received.compactMap(\.messageID)))
        let sent = try workspace.ok("audit", "--action", "notice.sent", "--format", "json").json()["entries"] as? [[String: Any]]
        #expect(sent?.count == count)
        #expect(try workspace.ok("audit", "verify").status == 0)
    }
}

@Suite("pitstop notify on PostgreSQL: one sender, even when its lock's connection is lost",
       .enabled(if: SMTPSink.available, SMTPSink.unavailableReason),
       .enabled(if: TestEngine.all.contains(.postgres), PostgresServer.unavailableReason))
struct NotifyLockLostTests {
    /// On PostgreSQL the notify lock is a session lock on a connection of its own, idle while
    /// the run sends. When that connection ends and the process lives on (a failover, an
    /// `idle_session_timeout`, a DBA's `pg_terminate_backend`, a dropped TCP connection), the
    /// server frees the lock, and a second `notify` may take it. The first must then stop
    /// before sending another notice, as the executor stops when it loses its lease; else the
    /// two send the same queued notices. The promise holds as for a kill: each notice reaches
    /// the relay once, but for at most the one in flight.
    @Test(.hangGuard)
    func aNotifyThatLosesItsLockStopsBeforeASecondSendsTheSameNotices() throws {
        // Given 20 due notices and a relay that takes 0.2 s per message
        let count = 20
        let workspace = try NotifyWorkspace(subscriptions: count, engine: .postgres)
        let sink = try SMTPSink(delay: 0.2)

        // When a notify is part way through and the connection that holds its lock is ended
        let (first, firstOut, firstErr) = try workspace.start(["notify", "--smtp", "127.0.0.1:\(sink.port)"])
        let deadline = Date().addingTimeInterval(30)
        while try sink.messages().count < 3 && first.isRunning && Date() < deadline { usleep(20_000) }
        try #require(first.isRunning, "the first notify finished before its lock was lost: the test proves nothing")
        let ended = try PostgresServer.psql(database: PostgresServer.databaseName(of: workspace.db), """
            SELECT count(pg_terminate_backend(a.pid)) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'pitstop pid \(first.processIdentifier)@%'
              AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended('pitstop:notify', 0)
            """)
        #expect(ended.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "no connection of pid \(first.processIdentifier) held the notify lock")
        // And a second notify starts
        let (second, secondOut, secondErr) = try workspace.start(["notify", "--smtp", "127.0.0.1:\(sink.port)"])
        second.waitUntilExit()
        first.waitUntilExit()
        let said = try [(firstOut, firstErr), (secondOut, secondErr)].map { out, err in
            String(decoding: try Data(contentsOf: out), as: UTF8.self) + String(decoding: try Data(contentsOf: err), as: UTF8.self)
        }

        // Then every notice is sent, and the relay got each once, but for at most one twice
        let notices = try workspace.notices()
        #expect(notices.count == count && notices.allSatisfy { $0["state"] as? String == "sent" }, "\(said)")
        var perMessageID: [String: Int] = [:]
        for mail in try sink.messages() { perMessageID[try #require(mail.messageID), default: 0] += 1 }
        let twice = perMessageID.filter { $0.value > 1 }
        #expect(Set(perMessageID.keys) == Set(notices.compactMap { $0["messageId"] as? String }))
        #expect(twice.count <= 1, "\(twice.count) notices reached the relay more than once: \(twice.keys.sorted().prefix(5)) \(said)")
        #expect(perMessageID.values.allSatisfy { $0 <= 2 })
    }
}

@Suite("pitstop notify: one sender at a time")
struct NotifyLockTests {
    @Test func aSecondNotifyOnTheSameDatabaseIsRefusedWhileOneIsSending() throws {
        // Given another notify holding the database's notify lock
        let workspace = try NotifyWorkspace(subscriptions: 1)
        let fd = open(workspace.db + ".notify-lock", O_RDWR | O_CREAT, 0o644)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)

        // When notify starts
        let run = try workspace.run("notify", "--outbox", workspace.directory.appendingPathComponent("outbox").path)

        // Then it refuses, and nothing is sent or counted
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains("another `pitstop notify`"))
        #expect(try workspace.notices().allSatisfy { $0["state"] as? String == "queued" && $0["attempts"] as? Int == 0 })
    }
}
