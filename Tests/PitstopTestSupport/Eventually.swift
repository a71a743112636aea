// Waiting for something another process or task does: a bound against a hang, never a speed
// target. CI runs every suite at once on two cores, where a step that takes milliseconds here
// can take seconds; a wait counted in a few tries fails there for no fault of the code.

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
