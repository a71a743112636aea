// Work that runs beside a unit of work: the store's connection belongs to the thread the unit
// runs on, so pure work that need not wait for it (parsing a CSV, planning) goes to a thread
// of its own, and the unit picks its result up when it needs it.
import Foundation

/// Runs `work` on a new thread at once; ``value()`` waits for it and returns what it returned
/// or rethrows what it threw. A thread, not a task: the caller blocks on it from inside a
/// store's unit of work, which runs on a thread of the store's, never on the cooperative pool.
final class SideThread<T: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    /// Written once by the thread before it signals; read after `done.wait()`.
    private var result: Result<T, any Error>?

    /// The planner's turn-order search recurses; give it the main thread's room.
    static var stackSize: Int { 8 << 20 }

    init(_ work: @escaping @Sendable () throws -> T) {
        let thread = Thread { [self] in
            result = Result { try work() }
            done.signal()
        }
        thread.stackSize = Self.stackSize
        thread.start()
    }

    /// Waits for the work to end; may be called again, and answers the same.
    func value() throws -> T {
        done.wait()
        done.signal()
        return try result!.get()
    }
}

/// Runs `side` on a ``SideThread`` while `here` runs on the caller's thread, and waits for
/// both whatever happens: the side's failure first, then the caller's.
func concurrently<T: Sendable, U>(_ side: @escaping @Sendable () throws -> T, while here: () throws -> U) throws -> (T, U) {
    let thread = SideThread(side)
    let mine = Result { try here() }
    return (try thread.value(), try mine.get())
}
