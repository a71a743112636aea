// The notifier against a real SMTP server on loopback: what is sent, what is committed, what is
// retried. Every test with a database runs on SQLite and on PostgreSQL.
import Foundation
import PitstopCore
import PitstopService
import PitstopStore
import PitstopTestSupport
import Testing

/// A fleet whose reboot campaign queues one notice per subscription.
enum NoticeFleet {
    static let now = Timestamp(iso8601: "2026-11-22T10:00:00Z")!

    /// `count` subscriptions `s00`, `s01`, … each with admin-NN and deputy-NN as recipients
    /// and one standalone VM in eastus; s00 also has a two-UD set, so its notice lists waves.
    static func inventory(subscriptions count: Int) -> String {
        let ids = (0..<count).map { String(format: "s%02d", $0) }
        let subscriptions = ids.enumerated().map { i, id in
            #"{"id": "\#(id)", "admins": ["admin-\#(String(format: "%02d", i))@example.com"], "coAdmins": ["deputy-\#(String(format: "%02d", i))@example.com"], "noticeTimeZone": "Europe/Berlin"}"#
        }
        let vms = ids.map { #"{"name": "vm-\#($0)", "region": "eastus", "subscription": "\#($0)"}"# }
            + [#"{"name": "web-0", "availabilitySet": "web"}"#, #"{"name": "web-1", "availabilitySet": "web"}"#]
        return """
            {"regions": [{"name": "eastus"}],
             "subscriptions": [\(subscriptions.joined(separator: ",\n"))],
             "availabilitySets": [{"name": "web", "region": "eastus", "subscription": "s00", "updateDomains": 2}],
             "vms": [\(vms.joined(separator: ",\n"))]}
            """
    }

    /// A database on `engine` with the fleet and one planned reboot campaign; returns it and
    /// the campaign id.
    static func planned(_ engine: TestEngine, subscriptions count: Int, description: String = "Host OS update") async throws -> (TestDatabase, String) {
        let database = try TestDatabase(engine)
        _ = try await InventoryService(store: database.store, actor: "test", clock: { now })
            .importDocument(.bytes(Array(inventory(subscriptions: count).utf8), name: "fleet.json"))
        let result = try await SchedulerService(store: database.store)
            .plan(CampaignRequest(kind: .reboot, description: description), now: now, dryRun: false, actor: "test")
        #expect(result.notices.count == count)
        return (database, result.campaign.id)
    }

    /// The details of the audit entries of `action`, in order, read behind the store's back.
    static func auditActions(_ database: TestDatabase, _ action: String) throws -> [String] {
        try database.strings("SELECT details FROM audit_log WHERE action = ? ORDER BY seq", [.text(action)]).compactMap { $0 }
    }

    static func notices(_ database: TestDatabase) async throws -> [NoticeRecord] {
        try await database.store.read { tx in try tx.notices.notices() }
    }
}

@Suite("Notifier over SMTP", .enabled(if: SMTPSink.available, SMTPSink.unavailableReason))
struct NotifierTests {
    @Test(arguments: TestEngine.all) func sendsEachDueNoticeToItsAdminsAndCoAdminsAndCommitsIt(engine: TestEngine) async throws {
        // Given three queued notices and a relay
        let (database, campaign) = try await NoticeFleet.planned(engine, subscriptions: 3)
        let sink = try SMTPSink()

        // When the notifier runs
        let deliveries = try await Notifier(store: database.store)
            .sendDue(now: NoticeFleet.now, via: SMTPRelay(host: "127.0.0.1", port: sink.port, timeout: 10), actor: "test")

        // Then the relay got one message per notice, to exactly its recipients
        #expect(deliveries.map(\.succeeded) == [true, true, true])
        let received = try sink.messages()
        #expect(received.count == 3)
        let notices = try await NoticeFleet.notices(database)
        for notice in notices {
            let mail = try #require(received.first { $0.messageID == "<notice-\(notice.id).\(campaign)@pitstop>" })
            #expect(mail.mailfrom == "pitstop@localhost")
            #expect(Set(mail.rcpttos) == Set(notice.recipients))
            #expect(mail.rcpttos.count == 2)
            #expect(mail.header("Subject") == notice.subject)
            #expect(mail.header("To") == notice.recipients.joined(separator: ", "))
            #expect(mail.header("Date") == "Sun, 22 Nov 2026 10:00:00 +0000")
            #expect(mail.data.contains("Europe/Berlin"))
            // And its sent state is stored, with one attempt
            #expect(notice.sentAt == NoticeFleet.now)
            #expect(notice.attempts == 1)
            #expect(notice.lastError == nil)
        }
        // And each one is in the audit log
        let sent = try NoticeFleet.auditActions(database, "notice.sent")
        #expect(sent.count == 3)
        #expect(sent.allSatisfy { $0.contains("\"transport\": \"smtp 127.0.0.1:\(sink.port)\"") })
    }

    @Test(arguments: TestEngine.all) func theNoticeOfTheSubscriptionWithTheSoonestMaintenanceGoesFirst(engine: TestEngine) async throws {
        let (database, _) = try await NoticeFleet.planned(engine, subscriptions: 4)
        let due = try await Notifier(store: database.store).due(now: NoticeFleet.now)
        #expect(due.count == 4)
        #expect(due.map(\.firstStart) == due.map(\.firstStart).sorted())
    }

    @Test(arguments: TestEngine.all) func aSecondRunSendsNothingNew(engine: TestEngine) async throws {
        let (database, _) = try await NoticeFleet.planned(engine, subscriptions: 3)
        let sink = try SMTPSink()
        let notifier = Notifier(store: database.store)
        _ = try await notifier.sendDue(now: NoticeFleet.now, via: SMTPRelay(host: "127.0.0.1", port: sink.port, timeout: 10), actor: "test")

        let again = try await notifier.sendDue(now: NoticeFleet.now + 3600, via: SMTPRelay(host: "127.0.0.1", port: sink.port, timeout: 10), actor: "test")

        #expect(again.isEmpty)
        #expect(try sink.messages().count == 3)
        #expect(try await NoticeFleet.notices(database).allSatisfy { $0.attempts == 1 && $0.sentAt == NoticeFleet.now })
    }

    @Test(arguments: TestEngine.all) func aRefusedRecipientLeavesThatNoticeQueuedWithItsErrorAndTheOthersGo(engine: TestEngine) async throws {
        // Given a relay that refuses s01's admin
        let (database, _) = try await NoticeFleet.planned(engine, subscriptions: 3)
        let refusing = try SMTPSink(refuse: ["admin-01@example.com"])
        let notifier = Notifier(store: database.store)

        // When the notifier runs
        let first = try await notifier.sendDue(now: NoticeFleet.now, via: SMTPRelay(host: "127.0.0.1", port: refusing.port, timeout: 10), actor: "test")

        // Then s01's notice failed with the relay's 550 and went to nobody; the others went
        #expect(first.filter(\.succeeded).map(\.notice.subscription).sorted() == ["s00", "s02"])
        let failure = try #require(first.first { !$0.succeeded })
        guard case .failed(let error) = failure.outcome else { Issue.record("s01 should have failed"); return }
        #expect(error.contains("550"))
        #expect(error.contains("admin-01@example.com"))
        #expect(try refusing.messages().count == 2)
        let s01 = try #require(try await NoticeFleet.notices(database).first { $0.subscription == "s01" })
        #expect(s01.sentAt == nil)
        #expect(s01.attempts == 1)
        #expect(s01.lastError?.contains("550") == true)
        #expect(try NoticeFleet.auditActions(database, "notice.failed").count == 1)

        // When it runs again against the same relay: only s01 is tried, and fails again
        let second = try await notifier.sendDue(now: NoticeFleet.now + 60, via: SMTPRelay(host: "127.0.0.1", port: refusing.port, timeout: 10), actor: "test")
        #expect(second.map(\.notice.subscription) == ["s01"])
        #expect(second.first?.notice.attempts == 2)
        #expect(try refusing.messages().count == 2)

        // When a relay accepts it, it goes once, with the same Message-ID as every attempt
        let accepting = try SMTPSink()
        let third = try await notifier.sendDue(now: NoticeFleet.now + 120, via: SMTPRelay(host: "127.0.0.1", port: accepting.port, timeout: 10), actor: "test")
        #expect(third.map(\.succeeded) == [true])
        let mail = try #require(try accepting.messages().first)
        #expect(mail.messageID == failure.messageID)
        let sent = try #require(try await NoticeFleet.notices(database).first { $0.subscription == "s01" })
        #expect(sent.sentAt == NoticeFleet.now + 120)
        #expect(sent.attempts == 3)
        #expect(sent.lastError == nil)
    }

    @Test(arguments: TestEngine.all) func anUnreachableRelayFailsEveryNoticeAndKeepsThemQueued(engine: TestEngine) async throws {
        let (database, _) = try await NoticeFleet.planned(engine, subscriptions: 3)

        let deliveries = try await Notifier(store: database.store)
            .sendDue(now: NoticeFleet.now, via: SMTPRelay(host: "127.0.0.1", port: closedPort(), timeout: 5), actor: "test")

        #expect(deliveries.count == 3)
        #expect(deliveries.allSatisfy { !$0.succeeded })
        let notices = try await NoticeFleet.notices(database)
        #expect(notices.allSatisfy { $0.sentAt == nil && $0.attempts == 1 && $0.lastError?.contains("connect") == true })
        #expect(try NoticeFleet.auditActions(database, "notice.failed").count == 3)
    }

    @Test(arguments: TestEngine.all) func aRelayThatDoesNotKnowEHLOIsGreetedWithHELO(engine: TestEngine) async throws {
        let (database, _) = try await NoticeFleet.planned(engine, subscriptions: 1)
        let sink = try SMTPSink(noEHLO: true)

        let deliveries = try await Notifier(store: database.store)
            .sendDue(now: NoticeFleet.now, via: SMTPRelay(host: "127.0.0.1", port: sink.port, timeout: 10), actor: "test")

        #expect(deliveries.map(\.succeeded) == [true])
        #expect(try sink.messages().count == 1)
    }

    @Test func linesThatStartWithADotArriveIntact() async throws {
        // Given a message whose lines start with dots, one of them a lone dot
        let sink = try SMTPSink()
        let message = "Subject: dots\r\n\r\n.\r\n.hidden\r\n..two\r\nend\r\n"
        let client = SMTPClient(host: "127.0.0.1", port: sink.port, timeout: 10)

        // When it goes over SMTP
        try client.connect()
        try client.send(from: "pitstop@localhost", to: ["a@example.com"], message: Array(message.utf8))
        client.quit()

        // Then the relay received it as written: stuffed on the wire, unstuffed on arrival
        #expect(try sink.messages().map(\.data) == [message])
        #expect(client.extensions.contains("8BITMIME"))
    }

    @Test(arguments: TestEngine.all) func aNoticeIsNotDueBeforeItIsQueuedNorOnceItsCampaignIsCancelled(engine: TestEngine) async throws {
        let (database, campaign) = try await NoticeFleet.planned(engine, subscriptions: 2)
        let notifier = Notifier(store: database.store)
        #expect(try await notifier.due(now: NoticeFleet.now - 1).isEmpty)
        #expect(try await notifier.due(now: NoticeFleet.now).count == 2)

        try await SchedulerService(store: database.store).cancel(campaign, now: NoticeFleet.now, actor: "test")

        #expect(try await notifier.due(now: NoticeFleet.now).isEmpty)
        #expect(try await notifier.notices(now: NoticeFleet.now).map(\.state) == [.withdrawn, .withdrawn])
    }
}

@Suite("Notice messages and the outbox")
struct NoticeMessageTests {
    static let notice = NoticeRecord(
        id: 7, campaign: "0f1e2d3c-aaaa-bbbb-cccc-000000000001", subscription: "contoso",
        recipients: ["ops@contoso.example", "oncall@contoso.example"], subject: "Planned reboot maintenance of 2 VMs from 2026-11-29T22:00:00Z",
        body: "Planned maintenance (reboot) for subscription contoso.\nWave w1: eastus\n  VMs: web-0, web-1\n",
        queuedAt: NoticeFleet.now, firstStart: NoticeFleet.now + 7 * 86_400, sentAt: nil, attempts: 0, lastError: nil)

    @Test func aMessageIsRFC5322WithCRLFLinesAndAStableMessageID() async throws {
        let message = try NoticeMessage.compose(Self.notice, from: "pitstop@fleet.example", date: NoticeFleet.now)
        let text = String(decoding: message.bytes, as: UTF8.self)

        #expect(message.messageID == "<notice-7.0f1e2d3c-aaaa-bbbb-cccc-000000000001@pitstop>")
        // Every line ends in CRLF: no bare LF, no bare CR
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\r"))
        #expect(text.hasSuffix("\r\n"))
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 998 })
        let (head, body) = try #require(text.range(of: "\r\n\r\n").map { (String(text[..<$0.lowerBound]), String(text[$0.upperBound...])) })
        for expected in ["From: pitstop@fleet.example", "To: ops@contoso.example, oncall@contoso.example",
                         "Date: Sun, 22 Nov 2026 10:00:00 +0000", "Message-ID: \(message.messageID)",
                         "Subject: \(Self.notice.subject)", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                         "Content-Transfer-Encoding: 7bit"] {
            #expect(head.components(separatedBy: "\r\n").contains(expected), "missing header \(expected)")
        }
        #expect(body == Self.notice.body.replacingOccurrences(of: "\n", with: "\r\n"))
        // The same notice composed again (a retry) has the same Message-ID
        #expect(try NoticeMessage.compose(Self.notice, from: "x@y.example", date: NoticeFleet.now + 99).messageID == message.messageID)
    }

    @Test func aBodyWithNonASCIIOrLongLinesIsQuotedPrintable() async throws {
        var notice = Self.notice
        notice.body = "Wartung für die Datenbank: café ☕\n" + String(repeating: "web-0, ", count: 200) + "\n"
        notice.subject = "Geplante Wartung für contoso"

        let message = try NoticeMessage.compose(notice, from: "pitstop@localhost", date: NoticeFleet.now)
        let text = String(decoding: message.bytes, as: UTF8.self)

        #expect(message.bytes.allSatisfy { $0 < 128 })
        #expect(text.contains("Content-Transfer-Encoding: quoted-printable\r\n"))
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        #expect(text.contains("Subject: =?utf-8?B?"))
        let body = String(text[try #require(text.range(of: "\r\n\r\n")).upperBound...])
        #expect(String(decoding: QuotedPrintable.decode(body), as: UTF8.self) == notice.body.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    @Test(arguments: [
        (["ops@contoso.example"], "bad sender\r\nRCPT TO:<x@y>", "sender"),
        (["ops@contoso.example\r\nRCPT TO:<evil@x>"], "pitstop@localhost", "recipient"),
        ([], "pitstop@localhost", "nobody"),
    ])
    func anAddressThatCouldInjectACommandIsRefusedNotSent(recipients: [String], from: String, problem: String) {
        var notice = Self.notice
        notice.recipients = recipients
        #expect(throws: NoticeProblem.self) { try NoticeMessage.compose(notice, from: from, date: NoticeFleet.now) }
        do { _ = try NoticeMessage.compose(notice, from: from, date: NoticeFleet.now) } catch { #expect(error.message.contains(problem)) }
    }

    @Test(arguments: TestEngine.all) func theOutboxGetsOneCompleteEmlFilePerNoticeAndNothingTwice(engine: TestEngine) async throws {
        // Given two queued notices and an empty outbox
        let (database, campaign) = try await NoticeFleet.planned(engine, subscriptions: 2)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-outbox-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let notifier = Notifier(store: database.store)

        // When the notifier writes them
        let deliveries = try await notifier.sendDue(now: NoticeFleet.now, via: try OutboxDirectory(directory: directory), actor: "test")

        // Then there is one .eml per notice, named after it, and no temporary file
        #expect(deliveries.map(\.succeeded) == [true, true])
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        let notices = try await NoticeFleet.notices(database)
        #expect(files == notices.map { "notice-\($0.id)-\(campaign).eml" }.sorted())
        for notice in notices {
            let bytes = try Data(contentsOf: directory.appendingPathComponent("notice-\(notice.id)-\(campaign).eml"))
            let text = String(decoding: bytes, as: UTF8.self)
            // And each parses: CRLF headers, a blank line, the body
            #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
            let mail = ReceivedMail(mailfrom: "", rcpttos: [], data: text)
            #expect(mail.messageID == "<notice-\(notice.id).\(campaign)@pitstop>")
            #expect(mail.header("To") == notice.recipients.joined(separator: ", "))
            #expect(mail.header("Subject") == notice.subject)
            #expect(text.contains("\r\n\r\n" + notice.body.prefix(20)))
            #expect(notice.sentAt == NoticeFleet.now)
        }
        #expect(try NoticeFleet.auditActions(database, "notice.sent").allSatisfy { $0.contains("outbox") })

        // When it runs again, nothing is written
        #expect(try await notifier.sendDue(now: NoticeFleet.now + 60, via: try OutboxDirectory(directory: directory), actor: "test").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).count == 2)
    }
}
