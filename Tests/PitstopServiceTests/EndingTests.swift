// The tests' own watch on work that may hang (PitstopTestSupport's `ending`): what the tests of a
// vanished server rely on, checked once here.
import Foundation
import PitstopTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct EndingTests {
    /// A full suite holds Swift's cooperative pool for minutes at a time (tests that wait on a
    /// child process or a lock block its threads). Work that ended well within the limit must
    /// still be reported as ended, not as a hang, when the pool was held past the limit: before
    /// the watch ran on threads of its own, it woke first, found the limit passed and reported
    /// nil (five runs out of five; a vanished-server test failed so in CI).
    @Test func workThatEndedInTimeIsReportedSoWhenTheCooperativePoolWasHeldPastTheLimit() async throws {
        // Ends after 0.3 s, on a Dispatch thread: nothing of it needs the cooperative pool.
        let work: @Sendable () async -> Int = {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { done.resume() }
            }
            return 7
        }
        // More blocked tasks than the pool has threads, for twice the limit.
        let holders = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<(2 * ProcessInfo.processInfo.activeProcessorCount) {
                    group.addTask { usleep(2_000_000) }
                }
            }
        }
        let outcome = try await ending(within: .seconds(1), work)
        await holders.value
        let ended = try #require(outcome, "work that ended after 0.3 s was reported as still running after 1 s")
        #expect(try ended.get() == 7)
    }
}
