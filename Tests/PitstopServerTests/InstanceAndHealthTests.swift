// Instance metadata, /healthz and the request log, through the router.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PitstopCore
import PitstopServer
import PitstopService
import PitstopStore
import PitstopTestSupport
import Testing

@Suite struct InstanceAndHealthTests {
    @Test func instanceMetadataDescribesTheCallingVM() async throws {
        let fixture = try await Fixture()
        try await routerApp(fixture).test(.router) { client in
            let response = try await client.execute(uri: "/metadata/instance?api-version=2021-12-13", method: .get, headers: metadataHeaders(from: "127.0.0.3"))
            #expect(response.status == .ok)
            let compute = try #require(try object(response)["compute"] as? [String: String])
            #expect(compute["name"] == "web-1")
            #expect(compute["location"] == "eastus")
            #expect(compute["resourceGroupName"] == "")
            #expect(compute["subscriptionId"] == "contoso")
            #expect(compute["platformUpdateDomain"] == "1")
            #expect(compute["platformFaultDomain"] == "1")
            #expect(compute["vmId"]?.count == 36)

            let single = try object(try await client.execute(uri: "/metadata/instance?api-version=2017-03-01", method: .get, headers: metadataHeaders(from: "127.0.0.7")))
            #expect((single["compute"] as? [String: String])?["platformUpdateDomain"] == "", "no domains for a single-instance VM")
        }
    }

    @Test func theComputeNameAsBareText() async throws {
        let fixture = try await Fixture()
        try await routerApp(fixture).test(.router) { client in
            let response = try await client.execute(uri: "/metadata/instance/compute/name?api-version=2017-08-01&format=text", method: .get,
                                                    headers: metadataHeaders(from: "127.0.0.2"))
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == "web-0")
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
        }
    }

    @Test(arguments: ["", "2017-02-28", "2021-13-01", "latest", "21-12-13"])
    func instanceRefusesAnApiVersionOutsideTheForm(version: String) async throws {
        let fixture = try await Fixture()
        try await routerApp(fixture).test(.router) { client in
            let response = try await client.execute(uri: "/metadata/instance?api-version=\(version)", method: .get, headers: metadataHeaders(from: "127.0.0.2"))
            #expect(response.status == .badRequest)
        }
    }

    @Test func instanceKeepsTheHeaderRulesAndTheAddress() async throws {
        let fixture = try await Fixture()
        try await routerApp(fixture).test(.router) { client in
            var bare = HTTPFields()
            bare[SourceAddressFromTestHeader.header] = "127.0.0.2"
            let withoutMetadata = try await client.execute(uri: "/metadata/instance?api-version=2021-12-13", method: .get, headers: bare)
            #expect(withoutMetadata.status == .badRequest)
            let forwarded = try await client.execute(uri: "/metadata/instance?api-version=2021-12-13", method: .get,
                                                     headers: metadataHeaders(from: "127.0.0.2", [("X-Forwarded-For", "1.2.3.4")]))
            #expect(forwarded.status == .badRequest)
            let stranger = try await client.execute(uri: "/metadata/instance?api-version=2021-12-13", method: .get, headers: metadataHeaders(from: "127.0.0.50"))
            #expect(stranger.status == .notFound)
        }
    }

    @Test func healthzIs200OnAMigratedDatabase() async throws {
        let fixture = try await Fixture()
        try await routerApp(fixture).test(.router) { client in
            let response = try await client.execute(uri: "/healthz", method: .get)
            #expect(response.status == .ok)
        }
    }

    @Test func healthzIs503WhenTheDatabaseDoesNotAnswer() async throws {
        let fixture = try await Fixture()
        let sick = Fixture(reopening: Services(store: UnreachableStore()), like: fixture)
        try await routerApp(sick).test(.router) { client in
            let response = try await client.execute(uri: "/healthz", method: .get)
            #expect(response.status == .serviceUnavailable)
            // Any other request answers without a Swift or SQLite error in it.
            let document = try await client.execute(uri: eventsPath, method: .get, headers: metadataHeaders(from: "127.0.0.2"))
            #expect(document.status == .internalServerError)
            let message = String(buffer: document.body)
            #expect(!message.contains("Unreachable") && !message.contains("SQLite") && !message.contains("Error"), "\(message)")
        }
    }

    /// A PostgreSQL database that stops answering (its server restarting, a connection cut) is
    /// neither the client's fault nor a bug: the metadata endpoint and the API answer 503 with
    /// `Retry-After`, so in-VM clients, API clients and load balancers try again later; the
    /// answer does not name the database, the log does.
    @Test(.hangGuard) func aDatabaseThatStopsAnsweringIs503WithRetryAfterEverywhere() async throws {
        let url = try PostgresServer.freshDatabase()
        let database = PostgresServer.databaseName(of: url)
        let fixture = try await Fixture(services: try Services.open(path: url))
        let log = LogLines()
        try await apiApp(fixture, log: log).test(.router) { client in
            try PostgresServer.psql(database: "postgres", """
                ALTER DATABASE \(database) ALLOW_CONNECTIONS false;
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(database)';
                """)
            for (path, headers) in [(eventsPath, metadataHeaders(from: "127.0.0.2")), ("/api/v1/campaigns", bearer(.viewer))] {
                let response = try await client.execute(uri: path, method: .get, headers: headers)
                let body = String(buffer: response.body)
                #expect(response.status == .serviceUnavailable, "\(path): \(response.status) \(body)")
                #expect(response.headers[.retryAfter] == "5", "\(path)")
                #expect(try jsonObject(response)["error"] as? String == "unavailable", "\(path): \(body)")
                #expect(!body.contains(database) && !body.contains("postgres"), "\(path): \(body)")
            }
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .serviceUnavailable)
        }
        #expect(log.all.contains { $0.contains(database) }, "the log names the database that does not answer: \(log.all)")
        try PostgresServer.psql(database: "postgres", "ALTER DATABASE \(database) ALLOW_CONNECTIONS true")
    }

    @Test func anUnknownPathIsAJSON404() async throws {
        let fixture = try await Fixture()
        try await routerApp(fixture).test(.router) { client in
            let response = try await client.execute(uri: "/metadata/nothing", method: .get, headers: metadataHeaders(from: "127.0.0.2"))
            #expect(response.status == .notFound)
            #expect(try object(response)["error"] != nil)
        }
    }

    @Test func eachRequestLogsOneLineWithMethodPathStatusDurationAndVM() async throws {
        let fixture = try await Fixture()
        let log = LogLines()
        try await routerApp(fixture, log: log).test(.router) { client in
            _ = try await client.execute(uri: eventsPath, method: .get, headers: metadataHeaders(from: "127.0.0.3"))
            _ = try await client.execute(uri: eventsPath, method: .get, headers: metadataHeaders(from: "127.0.0.99"))
        }
        let requests = log.all.filter { $0.contains("msg=request") }
        #expect(requests.count == 2)
        let first = try #require(requests.first)
        for field in ["level=info", "method=GET", "path=/metadata/scheduledevents", "status=200", "duration_ms=", "vm=web-1"] {
            #expect(first.contains(field), "\(first)")
        }
        #expect(requests.last?.contains("status=404") == true)
        #expect(requests.last?.contains("vm=-") == true)
    }
}

/// A store whose database never answers.
struct UnreachableStore: Store {
    struct Unreachable: Error {}
    func read<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T { throw Unreachable() }
    func write<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T { throw Unreachable() }
    func bulkWrite<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T { throw Unreachable() }
    func isHealthy() async -> Bool { false }
    func changeMark() -> ChangeMark { ChangeMark([]) }
    func tryLock(_ name: String) async throws -> LockAttempt { throw PitstopError(.internal, "the database does not answer") }
}
