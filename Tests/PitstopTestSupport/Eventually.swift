// Waiting for something another process or task does: a bound against a hang, never a speed
// target. CI runs every suite at once on two cores, where a step that takes milliseconds here
// can take seconds; a wait counted in a few tries fails there for no fault of the code.
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
public func ending<T: Sendable>(within limit: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> Result<T, any Error>? {
    let box = EndingBox<T>()
    Task {
        let result: Result<T, any Error>
        do { result = .success(try await work()) } catch { result = .failure(error) }
        box.set(result)
    }
    _ = try await eventually(within: limit) { box.get() != nil }
    return box.get()
}

private final class EndingBox<T: Sendable>: Sendable {
    private let value = Mutex<Result<T, any Error>?>(nil)
    func set(_ result: Result<T, any Error>) { value.withLock { $0 = result } }
    func get() -> Result<T, any Error>? { value.withLock { $0 } }
}
