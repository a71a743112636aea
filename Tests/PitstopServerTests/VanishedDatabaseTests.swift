// `pitstop serve` on a PostgreSQL server that vanishes without a word (its host loses power, the
// network splits): a load balancer's check must hear 503 within its own timeout, not nothing,
// or it cannot take the server out. The database runs in a network namespace of its own and the
// test takes its link down. The URL turns the keepalive probes off and leaves the timeouts to
// the kernel (about fifteen minutes), so only /healthz's own limit can answer in time.
import Foundation
import PitstopTestSupport
import Testing

@Suite(.enabled(if: TestEngine.all.contains(.postgres), PostgresServer.unavailableReason))
struct VanishedDatabaseTests {
    @Test(.hangGuard)
    func healthzAnswers503WithinItsLimitWhileTheDatabaseIsSilentAnd200OnceItIsBack() async throws {
        let database = try PostgresServer.partitionedServerOrSkip()
        defer { database.stop() }
        let server = try ServeProcess(db: try database.freshDatabase(parameters: "keepalives=0&tcp_user_timeout=0"))
        let port = try await server.port()
        #expect(try await rawRequest(port: port, from: "127.0.0.1", path: "/healthz", headers: []).status == 200, "\(server.logText)")

        try database.cut()
        // Twice: the second finds the pool's connection still waiting on the first.
        for _ in 0..<2 {
            let health = try await rawRequest(port: port, from: "127.0.0.1", path: "/healthz", headers: [])
            #expect(health.status == 503, "\(health)")
            #expect(health.body.contains(#""error": "unavailable""#) && health.body.contains("the database gave no answer within 3 s"), "\(health.body)")
        }

        try database.mend()
        let back = try await eventually(within: .seconds(180), every: .milliseconds(500)) {
            (try? await rawRequest(port: port, from: "127.0.0.1", path: "/healthz", headers: []).status) == 200
        }
        #expect(back, "/healthz did not answer 200 once the database was back: \(server.logText)")
    }
}
