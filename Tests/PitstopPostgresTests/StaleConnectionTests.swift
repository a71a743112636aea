// A pooled connection found dead when it is next used. The database host rebooted, or its
// virtual address moved to the promoted replica's host: every connection idle in the pool is
// gone at the other end, and nothing says so until its next bytes are answered with a reset.
// A unit of work that meets one on its first statement has done nothing yet, so the pool runs
// it again on a new connection instead of failing it (once per pooled connection: a request
// answered 503 each). The proxy between store and server forgets its connections the way such
// a host does.
import Foundation
import PitstopCore
import PitstopPostgres
import PitstopStore
import PitstopTestSupport
import Testing

@Suite("A pooled connection found dead on its first statement", .enabled(if: TestEngine.all.contains(.postgres), PostgresServer.unavailableReason))
struct StaleConnectionTests {
    /// A new database, a proxy to the test server, and a store of `pool` connections reaching
    /// it through the proxy over TCP, with one region written.
    static func started(pool: Int, listening: Bool = false) async throws -> (database: String, proxy: ForgetfulProxy, store: PostgresStore) {
        let database = PostgresServer.databaseName(of: try PostgresServer.freshDatabase())
        let proxy = try ForgetfulProxy(to: PostgresServer.socketPath())
        let store = try PostgresStore.open(PostgresLocation(
            url: "postgres://\(PostgresServer.user)@127.0.0.1:\(proxy.port)/\(database)?sslmode=disable&pool=\(pool)"), listening: listening)
        _ = try await store.write { tx in try tx.fleet.upsert(region: Region(name: "eastus")) }
        return (database, proxy, store)
    }

    @Test("a read, a write and a health check each go through on a new connection, the write once", .hangGuard)
    func eachUnitOfWorkGoesThrough() async throws {
        let (database, proxy, store) = try await Self.started(pool: 1)
        defer { store.close() }
        #expect(try proxy.forget() == 1, "the pool's one connection was not open through the proxy")
        #expect(try await store.read { tx in try tx.fleet.regions().map(\.name) } == ["eastus"])

        try proxy.forget()
        _ = try await store.write { tx in try tx.fleet.upsert(region: Region(name: "westus")) }
        try proxy.forget()
        let healthy = await store.isHealthy()
        #expect(healthy, "a health check on a dead pooled connection failed")
        // Written once, not twice or lost: the write that met the dead connection had not begun.
        let regions = try PostgresServer.psql(database: database, "SELECT string_agg(name, ',' ORDER BY name) FROM regions")
        #expect(regions == "eastus,westus\n")
    }

    @Test("every connection the pool held is replaced as it is next used, and no unit of work fails", .hangGuard)
    func everyPooledConnection() async throws {
        let (_, proxy, store) = try await Self.started(pool: 4)
        defer { store.close() }
        try await fillPool(of: store, with: 4)
        let forgotten = try proxy.forget()
        #expect(forgotten == 4, "the pool held \(forgotten) connections, not 4")
        for _ in 0..<forgotten {
            #expect(try await store.read { tx in try tx.fleet.regions().count } == 1)
        }
    }

    /// The listener's connection died with the pool's, and says nothing: it sends nothing, and
    /// the proxy's kernel answers its keepalive probes. Before, it went on believing it
    /// listened, and another process's commits went unheard for as long as the test waited.
    @Test("the listener is replaced when a pooled connection is found dead, and another process's commit is heard", .hangGuard)
    func theListenerIsReplacedToo() async throws {
        let (database, proxy, store) = try await Self.started(pool: 1, listening: true)
        defer { store.close() }
        #expect(store.changeMark() == store.changeMark(), "the store does not listen")
        #expect(try proxy.forget() == 2, "the pool's connection and the listener's were not both open through the proxy")
        #expect(try await store.read { tx in try tx.fleet.regions().count } == 1)

        let listening = try await eventually(within: .seconds(30)) { store.changeMark() == store.changeMark() }
        #expect(listening, "the store did not listen again")
        let heard = store.changeMark()
        let other = try PostgresStore.open(PostgresLocation(url: PostgresServer.url(database: database)))
        defer { other.close() }
        _ = try await other.write { tx in try tx.fleet.upsert(region: Region(name: "westus")) }
        let moved = try await eventually(within: .seconds(30)) { store.changeMark() != heard }
        #expect(moved, "another process's commit was not heard: the listener still listens on a dead connection")
    }

    @Test("a server that is gone is still reported: the new connection is tried once, and its failure said", .hangGuard)
    func aServerGoneIsReported() async throws {
        let (_, proxy, store) = try await Self.started(pool: 1)
        defer { store.close() }
        try proxy.forget()
        try proxy.stopListening()
        await #expect {
            try await store.read { tx in try tx.fleet.regions().count }
        } throws: { error in
            // The new connection's refusal ("cannot be reached"), not the dead one's reset
            // ("cannot be reached or closed the connection").
            guard let error = error as? PitstopError else { return false }
            return error.kind == .unavailable && error.message.contains("127.0.0.1:\(proxy.port)")
                && error.message.contains("cannot be reached;") && !error.message.contains("closed the connection")
        }
    }
}
