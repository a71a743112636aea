// What the tests of a pool's connections share.
import Foundation
import PitstopPostgres
import PitstopStore
import PitstopTestSupport

/// Leaves `count` connections idle in `store`'s pool: as many reads at once, none ending before
/// all hold a connection, however late a busy machine starts each.
func fillPool(of store: PostgresStore, with count: Int) async throws {
    let inside = Gathering(count: count)
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<count {
            group.addTask { _ = try await store.read { tx in inside.arriveAndWait(); return try tx.fleet.regions().count } }
        }
        try await group.waitForAll()
    }
}

/// Threads that wait for one another: each returns once `count` have arrived (or after the
/// answer guard, so that a test fails rather than hangs).
final class Gathering: @unchecked Sendable {
    private let condition = NSCondition()
    private var arrived = 0
    private let count: Int

    init(count: Int) { self.count = count }

    func arriveAndWait() {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        condition.broadcast()
        let deadline = Date().addingTimeInterval(Double(answerGuardSeconds))
        while arrived < count && condition.wait(until: deadline) {}
    }
}
