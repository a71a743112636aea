// A streamed import that is refused before the end of its input stops reading it: the task
// that hands chunks over ends once the import is done with them, instead of waiting forever
// for room in a buffer nobody takes from (a server would keep one such task per refused upload).
// It runs on SQLite and on PostgreSQL.
import Foundation
import PitstopCore
import PitstopService
import PitstopStore
import PitstopTestSupport
import Synchronization
import Testing

/// Whether an endless body's reader is still there, and how many chunks it gave.
private final class Endless: Sendable {
    private let pulledCount = Atomic<Int>(0)
    private let gone = Atomic<Bool>(false)
    var pulled: Int { pulledCount.load(ordering: .relaxed) }
    var released: Bool { gone.load(ordering: .relaxed) }
    func pull() { pulledCount.add(1, ordering: .relaxed) }
    func release() { gone.store(true, ordering: .relaxed) }
}

/// `{"regions": [{"name": "aaaa…` without end: refused once the name passes the value limit.
private struct EndlessBody: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let state: Endless
    final class AsyncIterator: AsyncIteratorProtocol {
        let state: Endless
        var opened = false
        init(state: Endless) { self.state = state }
        func next() async throws -> [UInt8]? {
            try Task.checkCancellation()
            state.pull()
            defer { opened = true }
            return opened ? Array(repeating: UInt8(ascii: "a"), count: 16_384) : Array(#"{"regions": [{"name": ""#.utf8)
        }
        deinit { state.release() }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(state: state) }
}

@Test(arguments: TestEngine.all) func aStreamRefusedBeforeItsEndIsNoLongerRead(engine: TestEngine) async throws {
    let inventory = InventoryService(store: try TestDatabase(engine).store, actor: "test", clock: { Timestamp(seconds: 0) })
    let state = Endless()
    await #expect(throws: PitstopError.self) {
        try await inventory.importDocument(.stream(EndlessBody(state: state), name: "upload.json", sizeHint: nil))
    }
    // The reader lets go of the body soon after the import gave up on it.
    _ = try await eventually(every: .milliseconds(10)) { state.released }
    #expect(state.released)
    let pulled = state.pulled
    try await Task.sleep(nanoseconds: 50_000_000)
    #expect(state.pulled == pulled)
}
