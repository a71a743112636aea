// A PostgreSQL server that vanishes without a word: its host loses power, or the network between
// splits. Nothing says so (no reset, no refusal), and a connection left to the kernel's defaults
// waits about fifteen minutes for an answer, or for ever when idle; every unit of work on it,
// and the pool thread it holds, waits too. The server here runs in a network namespace of its
// own, and the test takes its link down; the URL's libpq parameters are set short, so that the
// store gives the server up in seconds.
import Foundation
import PitstopCore
import PitstopPostgres
import PitstopStore
import PitstopTestSupport
import Testing

@Suite("A PostgreSQL server that vanishes without a word", .enabled(if: TestEngine.all.contains(.postgres), PostgresServer.unavailableReason))
struct VanishedServerTests {
    /// Given up after about 2 s of silence: probes after 1 s idle, one a second, two unanswered;
    /// data unacknowledged for 2 s; a connection not open within 2 s.
    static let short = "keepalives_idle=1&keepalives_interval=1&keepalives_count=2&tcp_user_timeout=2000&connect_timeout=2"

    /// Far longer than the 2 s the URL allows, even on a loaded machine (the kernel's timers
    /// give the server up; only noticing it waits for a thread), and far shorter than TCP's
    /// fifteen minutes.
    static let patience: Duration = .seconds(90)

    /// One read of `store`'s regions: what it gave, or nil when it had not ended after
    /// ``patience``.
    static func regionsRead(of store: PostgresStore) async throws -> Result<Int, any Error>? {
        try await ending(within: patience) { try await store.read { tx in try tx.fleet.regions().count } }
    }

    /// Brings `server`'s link up again, and expects `store` to read its `regions` again.
    static func mend(_ server: PostgresServer.PartitionedServer, thenRead regions: Int, from store: PostgresStore,
                     sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try server.mend()
        let back = try await eventually(within: patience, every: .milliseconds(200)) {
            (try? await store.read { tx in try tx.fleet.regions().count }) == regions
        }
        #expect(back, "the store did not read again once the server was back", sourceLocation: sourceLocation)
    }

    /// What `count` reads at once of `store`'s regions said: "read" for each that read (the
    /// count is checked to be the empty fleet's), else its error as `describe` puts it.
    static func reads(_ count: Int, of store: PostgresStore, describe: @escaping @Sendable (any Error) -> String) async -> [String] {
        await withTaskGroup(of: String.self) { group in
            for _ in 0..<count {
                group.addTask {
                    do {
                        let regions = try await store.read { tx in try tx.fleet.regions().count }
                        return regions == 0 ? "read" : "read \(regions) regions"
                    } catch {
                        return describe(error)
                    }
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
    }

    @Test("work in flight, an idle listener and new connections give the server up, and the store comes back when it does",
          .hangGuard)
    func givenUpAndBack() async throws {
        let server = try PostgresServer.partitionedServerOrSkip()
        defer { server.stop() }
        let store = try PostgresStore.open(PostgresLocation(url: try server.freshDatabase(parameters: Self.short)), listening: true)
        defer { store.close() }
        _ = try await store.write { tx in try tx.fleet.upsert(region: Region(name: "eastus")) }
        #expect(store.changeMark() == store.changeMark(), "the store does not listen")

        try server.cut()
        // A unit of work on the connection the write left idle in the pool: its statement is
        // sent and never acknowledged.
        let inFlight = try await Self.regionsRead(of: store)
        let failure = try #require(inFlight, "a read on a vanished server still waits after \(Self.patience)")
        #expect(throws: PitstopError.self, "a read on a vanished server answered") { try failure.get() }
        if case .failure(let error as PitstopError) = failure {
            #expect(error.kind == .unavailable && error.message.contains(server.host), "\(error)")
        }
        // The listening connection was idle: only the keepalive probes find the server gone.
        let deaf = try await eventually(within: Self.patience) { store.changeMark() != store.changeMark() }
        #expect(deaf, "the listening connection still counts as listening after \(Self.patience): marks taken while the server is gone are reused")
        // A new connection is not opened.
        let opening = try await Self.regionsRead(of: store)
        let refused = try #require(opening, "opening a connection to a vanished server still waits after \(Self.patience)")
        #expect(throws: PitstopError.self) { try refused.get() }

        try await Self.mend(server, thenRead: 1, from: store)
        let listening = try await eventually(within: Self.patience) { store.changeMark() == store.changeMark() }
        #expect(listening, "the store did not listen again once the server was back")
    }

    /// A kept connection that gets no answer at all is not replaced by a new one, as one
    /// answered with a reset is (`StaleConnectionTests`): nothing answers at the server's
    /// address, and a new connection would add its whole connect timeout to the caller's wait
    /// before the same 503. The error says what happened. Probes are put off here (an hour), so
    /// that the idle connection is still open when the read takes it, however slow the cut.
    /// The kernel reports a plain timeout, or (once the server's address has gone unanswered
    /// on the link, as in `pitstop serve` by hand against a cut server) "no route to host":
    /// both are silence. The second waits 5 s, longer than the link takes to give the address up.
    @Test("a kept connection that gets no answer fails the unit of work once, saying the server stopped answering",
          .hangGuard, arguments: [false, true])
    func silentConnectionIsNotTriedAgain(noRouteToHost: Bool) async throws {
        let server = try PostgresServer.partitionedServerOrSkip()
        defer { server.stop() }
        let parameters = "keepalives_idle=3600&tcp_user_timeout=\(noRouteToHost ? 5000 : 2000)&connect_timeout=2&pool=1"
        let store = try PostgresStore.open(PostgresLocation(url: try server.freshDatabase(parameters: parameters)), listening: true)
        defer { store.close() }
        _ = try await store.write { tx in try tx.fleet.upsert(region: Region(name: "eastus")) }
        #expect(store.changeMark() == store.changeMark(), "the store does not listen")

        try server.cut()
        if noRouteToHost { try server.forgetNeighbour() }
        let read = try await Self.regionsRead(of: store)
        let failure = try #require(read, "a read on a silent server still waits after \(Self.patience)")
        #expect(throws: PitstopError.self, "a read on a silent server answered") { try failure.get() }
        if case .failure(let error as PitstopError) = failure {
            #expect(error.kind == .unavailable, "\(error)")
            #expect(error.message.contains(server.host) && error.message.contains("stopped answering"),
                    "the read's failure is not its own connection's: \(error.message)")
        }
        // The listener's connection, idle and with its probes an hour away, is as dead: marks
        // taken now must not be reused.
        #expect(store.changeMark() != store.changeMark(), "the listener still counts as listening on a server that stopped answering")

        try await Self.mend(server, thenRead: 1, from: store)
        let listening = try await eventually(within: Self.patience) { store.changeMark() == store.changeMark() }
        #expect(listening, "the store did not listen again once the server was back")
    }

    /// The connections idle beside one that went silent are as dead as it is: the reads after
    /// it do not each wait out `tcp_user_timeout` on one of them (before, each did, and said
    /// the server "stopped answering"); they try a new connection, which says it cannot be
    /// reached. Probes are put off (an hour) so that the idle connections are still open.
    @Test("the connections idle beside one that went silent are dropped, not waited on one by one", .hangGuard)
    func silenceDropsTheIdleConnections() async throws {
        let server = try PostgresServer.partitionedServerOrSkip()
        defer { server.stop() }
        let parameters = "keepalives_idle=3600&tcp_user_timeout=2000&connect_timeout=2&pool=3"
        let store = try PostgresStore.open(PostgresLocation(url: try server.freshDatabase(parameters: parameters)))
        defer { store.close() }
        try await fillPool(of: store, with: 3)

        try server.cut()
        var said: [String] = []
        for _ in 0..<3 {
            let read = try await Self.regionsRead(of: store)
            let failure = try #require(read, "a read on a silent server still waits after \(Self.patience)")
            guard case .failure(let error as PitstopError) = failure, error.kind == .unavailable else {
                Issue.record("a read on a silent server did not fail as unavailable: \(failure)")
                return
            }
            said.append(error.message)
        }
        #expect(said[0].contains("stopped answering"), "the first read's failure is not its own connection's: \(said[0])")
        #expect(!said[1...].contains { $0.contains("stopped answering") }, "a read after the first waited on a dead idle connection: \(said)")

        try await Self.mend(server, thenRead: 0, from: store)
    }

    /// With a second server in the URL (a primary and its standby, as the README deploys them),
    /// the silence of one says nothing of the other: the reads after it go to the other server,
    /// and none fails at once as it would while no server at all can be reached.
    @Test("with two servers in the URL, one that went silent does not fail the reads the other can take", .hangGuard)
    func silenceOfOneOfTwoServers() async throws {
        let server = try PostgresServer.partitionedServerOrSkip()
        defer { server.stop() }
        let silentOne = try server.freshDatabase(parameters: "keepalives_idle=3600&tcp_user_timeout=2000&connect_timeout=2&pool=3")
        // The same database on the test server, with Pitstop's tables, reached over TCP (a proxy).
        let name = String(silentOne.split(separator: "/").last!.prefix { $0 != "?" })
        try PostgresServer.psql(database: "postgres", "CREATE DATABASE \(name)")
        try PostgresStore.open(PostgresLocation(url: PostgresServer.url(database: name))).close()
        let proxy = try ForgetfulProxy(to: PostgresServer.socketPath())
        let first = "@\(server.host):\(server.port)/"
        let store = try PostgresStore.open(PostgresLocation(url: silentOne.replacingOccurrences(of: first, with: first.dropLast() + ",127.0.0.1:\(proxy.port)/")))
        defer { store.close() }
        _ = try await store.write { tx in try tx.fleet.upsert(region: Region(name: "eastus")) }  // on the first server

        try server.cut()
        let silent = try await Self.regionsRead(of: store)
        #expect(throws: PitstopError.self) { try #require(silent, "a read on a silent server still waits after \(Self.patience)").get() }
        let outcomes = try await ending(within: Self.patience) { await Self.reads(3, of: store) { "\($0)" } }
        let said = try #require(try outcomes?.get(), "three reads with one server silent still wait after \(Self.patience)")
        // The other server's database is empty.
        #expect(said == ["read", "read", "read"], "\(said)")
    }

    /// Without this, each unit of work queued behind a silent server waits for a thread and
    /// then the whole connect timeout: forty reads on two connections took 40 s at 2 s each,
    /// and a server's queue of requests grows for as long as the database is gone. Asserted by
    /// what each read says, not by a time: on a loaded machine the reads may not even start
    /// together. A connect timeout of 15 s (and so TCP's user timeout, which bounds a connect
    /// too) keeps the attempt under way while they do.
    @Test("while the server cannot be reached, one unit of work at a time tries to connect and the others fail at once", .hangGuard)
    func oneAttemptAtATime() async throws {
        let server = try PostgresServer.partitionedServerOrSkip()
        defer { server.stop() }
        let slow = "keepalives_idle=1&keepalives_interval=1&keepalives_count=2&tcp_user_timeout=15000&connect_timeout=15&pool=2"
        let store = try PostgresStore.open(PostgresLocation(url: try server.freshDatabase(parameters: slow)))
        defer { store.close() }
        try server.cut()
        // The connection the store left idle fails its statement, and from then on the pool
        // knows the server cannot be reached; the next read tries to connect, and cannot.
        for _ in 0..<2 {
            let read = try await Self.regionsRead(of: store)
            #expect(throws: PitstopError.self) { try #require(read, "a read on a vanished server still waits after \(Self.patience)").get() }
        }

        let outcomes = try await ending(within: Self.patience) {
            await Self.reads(40, of: store) { error in
                (error as? PitstopError).map { $0.message.contains("a new attempt is under way") ? "at once" : "\($0.kind)" } ?? "\(error)"
            }.reduce(into: [String: Int]()) { counts, outcome in counts[outcome, default: 0] += 1 }
        }
        let counts = try #require(try outcomes?.get(), "forty reads on a vanished server still wait after \(Self.patience)")
        // One read tries to connect (and fails: unavailable); every other fails at once.
        #expect(counts["at once", default: 0] >= 39 && counts["read"] == nil, "\(counts)")

        try await Self.mend(server, thenRead: 0, from: store)
    }

    /// The other way round: the client vanishes, and the server must let go of what its
    /// connection held. Left to the server's kernel that is two hours (its keepalive default):
    /// no other server could take the executor's lease, or write (a write transaction holds
    /// the write lock), until then. The connection asks the server for the same bounds.
    @Test("a client that vanishes lets go of the executor's lease on the server in seconds, and another takes it", .hangGuard)
    func vanishedHolderLetsGo() async throws {
        let server = try PostgresServer.partitionedServerOrSkip()
        defer { server.stop() }
        let url = try server.freshDatabase(parameters: Self.short)
        let holder = try PostgresStore.open(PostgresLocation(url: url))
        defer { holder.close() }
        // Over the server's Unix socket, which the cut does not reach.
        let other = try PostgresStore.open(PostgresLocation(url: server.overSocket(url)))
        defer { other.close() }
        guard case .acquired(let lease) = try await holder.tryLock("executor") else {
            Issue.record("the first store did not get the lease")
            return
        }
        guard case .heldElsewhere = try await other.tryLock("executor") else {
            Issue.record("the lease was given twice")
            return
        }

        try server.cut()
        let lost = try await eventually(within: Self.patience) { !lease.isHeld }
        #expect(lost, "the holder still believes it holds the lease after \(Self.patience) without the server")
        let taken = try await eventually(within: Self.patience, every: .milliseconds(200)) {
            guard case .acquired(let lease) = try await other.tryLock("executor") else { return false }
            lease.release()
            return true
        }
        #expect(taken, "the server still holds the vanished client's lease after \(Self.patience): no other server can take it")
        try server.mend()
    }
}
