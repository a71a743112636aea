// One executor per database, however many servers run `--simulate` on it: the lease.
import Foundation
import PitstopCore
import PitstopService
import PitstopStore
import PitstopTestSupport
import Testing

@Suite("The executor's lease: one process at a time carries plans out")
struct ExecutorLeaseTests {
    /// The lease `simulator` takes once it is free, as a standing-by executor retries; the
    /// last refusal after a minute.
    static func leaseOnceFree(_ simulator: Simulator) async throws -> (lease: Simulator.Lease?, holder: String?) {
        var taken = try await simulator.lease()
        _ = try await eventually {
            if taken.lease == nil { taken = try await simulator.lease() }
            return taken.lease != nil
        }
        return taken
    }

    @Test("a second process is refused the lease while the first holds it, and takes it once it is let go", arguments: TestEngine.all)
    func oneHolderAtATime(engine: TestEngine) async throws {
        let database = try TestDatabase(engine)
        let first = Simulator(store: database.store)
        let second = Simulator(store: try database.reopen())

        var held = try await first.lease().lease
        #expect(held?.isHeld == true)
        let refused = try await second.lease()
        #expect(refused.lease == nil)
        #expect(refused.holder != nil)

        // Its holder lets go (a process exiting drops its lock the same way, as the kill tests
        // show): the lock is free once the server has seen the connection go, as a standing-by
        // executor retries. Let go explicitly: when the last reference to a value goes is not
        // something a test (or a server) can count on.
        held?.release()
        #expect(held?.isHeld == false)
        held = nil
        let taken = try await Self.leaseOnceFree(second)
        #expect(taken.lease?.isHeld == true, "still held by \(taken.holder ?? "nobody")")
        let again = try await first.lease()
        #expect(again.lease == nil)
    }

    @Test("a lease let go is free at once, though a child process started while it was held still runs", arguments: TestEngine.all)
    func releasedWhileAChildLives(engine: TestEngine) async throws {
        let database = try TestDatabase(engine)
        let first = Simulator(store: database.store)
        let second = Simulator(store: try database.reopen())
        let held = try #require(try await first.lease().lease)
        // A process started now gets copies of this process's descriptors that are not
        // close-on-exec, the lock's connection among them (NIO's sockets are not), and keeps
        // them while it lives: as any daemon a server or an operator's script starts does.
        let started = try ChildProcess.run("/bin/sh", ["-c", "sleep 300 >/dev/null 2>&1 & echo $!"], inheritingDescriptors: true)
        let child = try #require(Int32(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(child, SIGKILL) }
        held.release()
        let taken = try await Self.leaseOnceFree(second)
        #expect(taken.lease?.isHeld == true, "still held by \(taken.holder ?? "nobody")")
    }

    @Test("the notice sender's lock is a different lock", arguments: TestEngine.all)
    func notifyAndExecuteAreIndependent(engine: TestEngine) async throws {
        let database = try TestDatabase(engine)
        let lease = try await Simulator(store: database.store).lease().lease
        #expect(lease != nil)
        let sender = try await NoticeSenderLock(on: Services(store: try database.reopen()))
        await #expect(throws: PitstopError.self) { try await NoticeSenderLock(on: Services(store: try database.reopen())) }
        withExtendedLifetime(sender) {}
    }
}
