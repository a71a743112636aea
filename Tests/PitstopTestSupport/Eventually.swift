// Waiting for something another process or task does: a bound against a hang, never a speed
// target. CI runs every suite at once on two cores, where a step that takes milliseconds here
// can take seconds; a wait counted in a few tries fails there for no fault of the code.
import Dispatch
import Synchronization

/// Checks `condition` every `interval` until it holds or `limit` has passed; true if it held.
/// The last check comes after the limit, so a condition met at the wire is seen.
public func eventually(
    within limit: Duration = .seconds(60),
    every interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}

/// What `work` gave, thrown or returned, or nil when it had not ended after `limit`: then it
/// goes on, unawaited. For work that may hang, where waiting for it would hang the test.
///
/// The work and the watch both run on a thread of their own (`OwnThreads`), not on Swift's
/// cooperative pool: in a full suite, tests that wait on a child process or a lock hold that
/// pool's two threads for minutes at a time. There, work that had ended in 30 s could not
/// record its end before the watch, woken at the same moment, found the limit passed and
/// reported a hang (CI, 2026-12-06).
public func ending<T: Sendable>(within limit: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> Result<T, any Error>? {
    let box = EndingBox<T>()
    Task(executorPreference: OwnThreads.shared) {
        let result: Result<T, any Error>
        do { result = .success(try await work()) } catch { result = .failure(error) }
        box.set(result)
    }
    return try await withTaskExecutorPreference(OwnThreads.shared) {
        _ = try await eventually(within: limit) { box.get() != nil }
        return box.get()
    }
}

/// Runs tasks that prefer it on a thread of their own, outside Swift's cooperative pool, so
/// that no other test's blocking delays them. A serial queue, because Dispatch gives such a
/// queue a thread whatever else is busy (a concurrent one shares the pools limited to the
/// cores); so its jobs must not block, and the tests' do not: their work waits on the store's
/// threads or on timers, and each job only records or looks.
public final class OwnThreads: TaskExecutor {
    public static let shared = OwnThreads()
    private let queue = DispatchQueue(label: "pitstop.tests.own-threads")

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

private final class EndingBox<T: Sendable>: Sendable {
    private let value = Mutex<Result<T, any Error>?>(nil)
    func set(_ result: Result<T, any Error>) { value.withLock { $0 = result } }
    func get() -> Result<T, any Error>? { value.withLock { $0 } }
}
