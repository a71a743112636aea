// A notice is sent once: the commit after an accepted message is one small write that reads no
// notice back (so a run is linear and the window between acceptance and commit is short), a
// notice already marked sent is never marked again, and `audit verify` reports one sent twice.
// Both tests run on SQLite and on PostgreSQL.
import Foundation
import PitstopCore
import PitstopService
import PitstopStore
import PitstopTestSupport
import Testing

/// A store that counts the notices its repositories read, per kind of unit of work.
final class NoticeReadCountingStore: Store, @unchecked Sendable {
    let base: any Store
    private let lock = NSLock()
    private var readsInWrites = 0

    init(_ base: any Store) { self.base = base }

    var noticesReadInWrites: Int { lock.withLock { readsInWrites } }
    func count(_ n: Int) { lock.withLock { readsInWrites += n } }

    func read<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T {
        try await base.read(work)
    }
    func write<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T {
        try await base.write { tx in try work(CountingRepositories(base: tx, store: self)) }
    }
    func bulkWrite<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T {
        try await base.bulkWrite(work)
    }
    func isHealthy() async -> Bool { await base.isHealthy() }
    func changeMark() -> ChangeMark { base.changeMark() }
    func tryLock(_ name: String) async throws -> LockAttempt { try await base.tryLock(name) }

    struct CountingRepositories: Repositories {
        let base: any Repositories
        let store: NoticeReadCountingStore
        var fleet: any FleetRepository { base.fleet }
        var vms: any VMRepository { base.vms }
        var events: any EventRepository { base.events }
        var notices: any NoticeRepository { CountingNotices(base: base.notices, store: store) }
        var audit: any AuditRepository { base.audit }
        var history: any HistoryRepository { base.history }
        var scheduledEvents: any ScheduledEventsRepository { base.scheduledEvents }
        var gauges: any GaugeRepository { base.gauges }
        var tokens: any TokenRepository { base.tokens }
    }

    struct CountingNotices: NoticeRepository {
        let base: any NoticeRepository
        let store: NoticeReadCountingStore
        func insert(notice: NoticeRecord) throws { try base.insert(notice: notice) }
        func notices(campaign: String?) throws -> [NoticeRecord] {
            let all = try base.notices(campaign: campaign)
            store.count(all.count)
            return all
        }
        func notice(id: Int64) throws -> NoticeRecord? {
            store.count(1)
            return try base.notice(id: id)
        }
        func noticeKeys() throws -> Set<NoticeKey> { try base.noticeKeys() }
        func cancelledCampaigns() throws -> Set<String> { try base.cancelledCampaigns() }
        func markSent(id: Int64, at: Timestamp) throws -> Bool { try base.markSent(id: id, at: at) }
        func recordFailure(id: Int64, error: String) throws -> Bool { try base.recordFailure(id: id, error: error) }
    }
}

private func outbox() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-outbox-\(UUID().uuidString)")
}

@Test(arguments: TestEngine.all) func theCommitAfterAnAcceptedNoticeReadsNoNoticeBack(engine: TestEngine) async throws {
    // Given twelve queued notices of one campaign
    let (database, _) = try await NoticeFleet.planned(engine, subscriptions: 12)
    let counting = NoticeReadCountingStore(database.store)
    let directory = outbox()
    defer { try? FileManager.default.removeItem(at: directory) }

    // When the notifier sends them
    let deliveries = try await Notifier(store: counting).sendDue(now: NoticeFleet.now, via: try OutboxDirectory(directory: directory), actor: "test")

    // Then each commit only marked its notice and audited it: no notice was read back
    #expect(deliveries.count == 12 && deliveries.allSatisfy(\.succeeded))
    #expect(counting.noticesReadInWrites == 0)
    // And what the run reports is what was stored
    let stored = try await NoticeFleet.notices(database)
    #expect(deliveries.map(\.notice).sorted { $0.id < $1.id } == stored)
}
@Test(arguments: TestEngine.all) func aNoticeAlreadySentIsNotMarkedAgainAndAuditVerifyReportsItSentTwice(engine: TestEngine) async throws {
    // Given a notice that was sent
    let (database, _) = try await NoticeFleet.planned(engine, subscriptions: 1)
    let directory = outbox()
    defer { try? FileManager.default.removeItem(at: directory) }
    let first = try await Notifier(store: database.store).sendDue(now: NoticeFleet.now, via: try OutboxDirectory(directory: directory), actor: "test")
    let notice = try #require(first.first?.notice)
    #expect(try await AuditService(store: database.store).verify(now: NoticeFleet.now).ok)

    // When a second sender, which read it as queued before the first committed, delivers it too
    var queued = notice
    queued.sentAt = nil
    queued.attempts = 0
    let later = NoticeFleet.now + 60
    let second = try await Notifier(store: database.store).commitAccepted(queued, at: later, detail: "written again", transport: "outbox", actor: "test")

    // Then the stored notice keeps its first sending, and the log records the second one
    #expect(second.notice.sentAt == NoticeFleet.now)
    #expect(second.notice.attempts == 1)
    #expect(try await NoticeFleet.notices(database).first?.sentAt == NoticeFleet.now)
    #expect(try NoticeFleet.auditActions(database, "notice.sent").count == 2)

    // And audit verify names the notice sent twice, and is not clean
    let verification = try await AuditService(store: database.store).verify(now: later)
    #expect(!verification.ok)
    let finding = try #require(verification.findings.first { $0.rule == .noticeSentTwice })
    #expect(finding.message.contains("notice \(notice.id)"))
    #expect(finding.message.contains("2 times"))
}
