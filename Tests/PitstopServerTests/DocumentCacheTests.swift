// The scheduled-events document is reused while nothing is committed and no wave comes into
// view, and never once something is committed: by this server, or by another process on the
// same file.
import Foundation
import PitstopCore
@testable import PitstopService
import PitstopStore
import Synchronization
import Testing

/// A store that counts the reads that reach it.
private final class CountingStore: Store {
    let base: any Store
    let reads = Mutex(0)

    init(base: any Store) { self.base = base }

    func read<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T {
        reads.withLock { $0 += 1 }
        return try await base.read(work)
    }
    func write<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T { try await base.write(work) }
    func bulkWrite<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T { try await base.bulkWrite(work) }
    func isHealthy() async -> Bool { await base.isHealthy() }
    func changeMark() -> ChangeMark { base.changeMark() }
    func tryLock(_ name: String) async throws -> LockAttempt { try await base.tryLock(name) }
    var count: Int { reads.withLock { $0 } }
}

@Suite struct DocumentCacheTests {
    @Test func pollsWhileNothingChangesReadNothingUntilTheReadAheadIsUsedUp() async throws {
        let store = CountingStore(base: try AppDatabase.inMemory())
        let fixture = try await Fixture(services: Services(store: store))
        let service = fixture.services.scheduledEvents
        // web-0's wave in view, web-1's half an hour later: nothing comes into view for minutes.
        let shown = fixture.start(fixture.webUD0) - 15 * 60
        #expect(fixture.start(fixture.webUD1) - 15 * 60 > shown + ScheduledEventsService.readAhead)

        // The first poll stores the VM's first incarnation: a commit, so the next poll reads again.
        _ = try await service.document(forAddress: "127.0.0.2", at: shown)
        let first = try await service.document(forAddress: "127.0.0.2", at: shown)
        let readsAfterFirst = store.count
        for second in [shown, shown + 1, shown + 30, shown + ScheduledEventsService.readAhead] {
            let again = try await service.document(forAddress: "127.0.0.2", at: second)
            #expect(again == first)
            #expect(service.servedDocument(forAddress: "127.0.0.2", at: second) == first)
        }
        #expect(store.count == readsAfterFirst)

        // Past what the first poll read, only the store can say.
        #expect(service.servedDocument(forAddress: "127.0.0.2", at: shown + ScheduledEventsService.readAhead + 1) == nil)
        _ = try await service.document(forAddress: "127.0.0.2", at: shown + ScheduledEventsService.readAhead + 1)
        #expect(store.count == readsAfterFirst + 1)
        // A clock set back is not answered from what was computed later.
        #expect(service.servedDocument(forAddress: "127.0.0.2", at: shown) == nil)
        // Nor is an address never served.
        #expect(service.servedDocument(forAddress: "127.0.0.3", at: shown) == nil)
    }

    @Test func aWaveComingIntoViewIsSeenInItsFirstSecondWithoutACommit() async throws {
        let fixture = try await Fixture()
        let service = fixture.services.scheduledEvents
        let next = fixture.start(fixture.webUD1) - 15 * 60
        let before = next - 10
        // In view of the first poll's read-ahead, but not yet in view.
        #expect(try await service.document(forAddress: "127.0.0.2", at: before).events.map(\.eventId) == [fixture.webUD0])
        #expect(try await service.document(forAddress: "127.0.0.2", at: next - 1).events.map(\.eventId) == [fixture.webUD0])
        #expect(service.servedDocument(forAddress: "127.0.0.2", at: next) == nil)
        let shown = try await service.document(forAddress: "127.0.0.2", at: next)
        #expect(shown.events.map(\.eventId) == [fixture.webUD0, fixture.webUD1])
    }

    @Test func aCommitInTheSameSecondIsSeenAtOnce() async throws {
        let fixture = try await Fixture()
        let service = fixture.services.scheduledEvents
        let shown = fixture.start(fixture.webUD0) - 15 * 60
        #expect(try await service.document(forAddress: "127.0.0.2", at: shown).events.map(\.eventId) == [fixture.webUD0])

        _ = try await fixture.services.lifecycle.cancel(.wave(fixture.webUD0), at: shown, actor: "test")

        let after = try await service.document(forAddress: "127.0.0.2", at: shown)
        #expect(after.events.isEmpty)
    }

    @Test func anotherProcessCommittingToTheSameFileIsSeenInTheSameSecond() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-cache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("fleet.sqlite").path
        // Two stores on one file, as the server and a CLI process have.
        let fixture = try await Fixture(services: try Services.open(path: path))
        let server = fixture.services.scheduledEvents
        let cli = try Services.open(path: path)
        let shown = fixture.start(fixture.webUD0) - 15 * 60
        #expect(try await server.document(forAddress: "127.0.0.2", at: shown).events.count == 1)

        _ = try await cli.lifecycle.cancel(.wave(fixture.webUD0), at: shown, actor: "cli")
        // Another process's commit reaches the mark within AppDatabase.markReuse.
        try await Task.sleep(for: AppDatabase.markReuse * 2)

        #expect(try await server.document(forAddress: "127.0.0.2", at: shown).events.isEmpty)
    }

    @Test func theVMsOfASetShareOneCopyOfTheirEvents() async throws {
        let fixture = try await Fixture()
        let service = fixture.services.scheduledEvents
        let shown = fixture.start(fixture.webUD0) - 15 * 60
        // web-0 and web-2, both of set web: the same waves, each VM its own document.
        let web0 = try await service.document(forAddress: "127.0.0.2", at: shown)
        let web2 = try await service.document(forAddress: "127.0.0.4", at: shown)
        #expect((web0.vm, web2.vm) == ("web-0", "web-2"))
        #expect(!web0.events.isEmpty && web0.events == web2.events)
        #expect(web0.content === web2.content)
        // Written whole for each VM, with its own incarnation.
        for version in ScheduledEventsAPIVersion.allCases {
            #expect(web0.json(version).hasPrefix("{\"DocumentIncarnation\": \(web0.incarnation), \"Events\": ["))
        }
        // A VM whose events differ (api, another set) has content of its own.
        let api0 = try await service.document(forAddress: "127.0.0.6", at: fixture.start(fixture.apiUD0) - 15 * 60)
        #expect(api0.content !== web0.content)
    }
}
