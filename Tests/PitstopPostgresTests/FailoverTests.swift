// A failover as the README's deployment has it: a primary and its streaming replica, both in
// one `--db` URL (`HOST1,HOST2`, as libpq takes it). The store keeps to the server that takes
// writes and passes the standby over; when the primary is lost, it says that no server takes
// writes yet; once the standby is promoted, the same store (the same server process, the same
// URL) writes to it, its fleet intact, and listens for other servers' commits there.
import Foundation
import PitstopCore
import PitstopPostgres
import PitstopStore
import PitstopTestSupport
import Testing

@Suite("A failover to the promoted replica", .enabled(if: TestEngine.all.contains(.postgres), PostgresServer.unavailableReason))
struct FailoverTests {
    @Test("the store passes the standby over, says when no server takes writes, and writes to the standby once it is promoted", .hangGuard)
    func promotedReplicaTakesOver() async throws {
        let pair = try PostgresServer.replicatedPair()
        let database = try pair.freshDatabase()
        // The standby first: it must be passed over, not written to.
        let url = "postgres://\(PostgresServer.user)@127.0.0.1:\(pair.replicaPort),127.0.0.1:\(pair.primaryPort)/\(database)?sslmode=disable&connect_timeout=2"
        let store = try PostgresStore.open(PostgresLocation(url: url), listening: true)
        defer { store.close() }
        _ = try await store.write { tx in try tx.fleet.upsert(region: Region(name: "eastus")) }
        #expect(store.changeMark() == store.changeMark(), "the store does not listen")

        // Replication is asynchronous: what the primary had not sent is lost with it.
        try pair.waitUntilReplicaCaughtUp()
        try pair.stopPrimary()
        let refused = try await eventually(within: .seconds(60), every: .milliseconds(100)) {
            do {
                _ = try await store.write { tx in try tx.fleet.upsert(region: Region(name: "westus")) }
                Issue.record("a write succeeded with the primary stopped and the replica not promoted")
                return true
            } catch let error as PitstopError {
                guard error.kind == .unavailable else {
                    Issue.record("not unavailable: \(error)")
                    return true
                }
                return error.message.contains("none of its 2 servers") && error.message.contains("127.0.0.1:\(pair.replicaPort): the server takes no writes now")
            }
        }
        #expect(refused, "no write was refused saying that no server takes writes")

        try pair.promoteReplica()
        let written = try await eventually(within: .seconds(60), every: .milliseconds(100)) {
            (try? await store.write { tx in try tx.fleet.upsert(region: Region(name: "westus")) }) != nil
        }
        #expect(written, "the store did not write to the promoted replica")
        let regions = try await store.read { tx in try tx.fleet.regions().map(\.name) }
        #expect(regions.sorted() == ["eastus", "westus"], "the fleet written before the failover is not all there")
        let listening = try await eventually(within: .seconds(60)) { store.changeMark() == store.changeMark() }
        #expect(listening, "the store does not listen on the promoted replica")
    }
}
