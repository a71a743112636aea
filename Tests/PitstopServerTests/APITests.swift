// The API's floor: tokens and roles, the error shape, pagination, and the OpenAPI document
// that is rendered from the same operations the router mounts.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PitstopCore
import PitstopServer
import PitstopService
import Testing

@Suite struct APIFloorTests {
    @Test func aRequestWithoutATokenIs401AndNamesTheFix() async throws {
        let fixture = try await Fixture()
        let auth = TestAuthenticator()
        let log = LogLines()
        try await apiApp(fixture, authenticator: auth, log: log).test(.router) { client in
            try await client.execute(uri: "/api/v1/regions", method: .get, headers: bearer(nil)) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
                let body = try jsonObject(response)
                #expect(body["error"] as? String == "unauthenticated")
                #expect((body["message"] as? String)?.contains("pitstop token create") == true)
            }
            var headers = bearer(nil)
            headers[.authorization] = "Bearer nonsense"
            try await client.execute(uri: "/api/v1/regions", method: .get, headers: headers) { response in
                #expect(response.status == .unauthorized)
            }
        }
        #expect(auth.used.isEmpty)
        #expect(log.all.contains { $0.contains("refused") && $0.contains("address=127.0.0.1") })
    }

    @Test func aViewerReadsAndTheUseIsRecorded() async throws {
        let fixture = try await Fixture()
        let auth = TestAuthenticator()
        try await apiApp(fixture, authenticator: auth).test(.router) { client in
            try await client.execute(uri: "/api/v1/regions", method: .get, headers: bearer(.viewer)) { response in
                #expect(response.status == .ok)
                let body = try jsonObject(response)
                let regions = try #require(body["regions"] as? [[String: Any]])
                #expect(regions.map { $0["name"] as? String } == ["eastus", "westus"])
                #expect(regions.first?["pairedWith"] as? [String] == ["westus"])
                #expect(body["next"] is NSNull)
            }
        }
        #expect(auth.used == ["wall"])
    }

    @Test func anonymousReadLetsReadsThroughWithoutAToken() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture, anonymousRead: true).test(.router) { client in
            try await client.execute(uri: "/api/v1/regions", method: .get, headers: bearer(nil)) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func pagesFollowTheCursorToTheEnd() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture).test(.router) { client in
            let first = try await client.execute(uri: "/api/v1/regions?limit=1", method: .get, headers: bearer(.viewer))
            let body = try jsonObject(first)
            #expect((body["regions"] as? [[String: Any]])?.map { $0["name"] as? String } == ["eastus"])
            let next = try #require(body["next"] as? String)
            let second = try jsonObject(try await client.execute(uri: "/api/v1/regions?limit=1&cursor=\(next)", method: .get, headers: bearer(.viewer)))
            #expect((second["regions"] as? [[String: Any]])?.map { $0["name"] as? String } == ["westus"])
            #expect(second["next"] is NSNull)
            try await client.execute(uri: "/api/v1/regions?limit=0", method: .get, headers: bearer(.viewer)) { response in
                #expect(response.status == .badRequest)
                let message = try jsonObject(response)["message"] as? String
                #expect(message == "query parameter limit: '0' is not a whole number from 1 to 1000")
            }
            try await client.execute(uri: "/api/v1/regions?cursor=%21%21", method: .get, headers: bearer(.viewer)) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func everyRouteUnderTheAPIIsInTheDocument() async throws {
        let fixture = try await Fixture()
        let router = buildRouter(services: fixture.services, context: TestRequestContext.self, clock: fixture.clock.read,
                                 requestLimit: nil, logger: LogLines().logger, api: APISettings(authenticator: TestAuthenticator()))
        try router.validate()
        @Sendable func shape(_ path: String) -> String {
            path.replacingOccurrences(of: #"\{[^}/]+\}|:[^/]+"#, with: "{}", options: .regularExpression)
        }
        let mounted = Set(router.routes.map { "\($0.method) \(shape($0.path.description))" }.filter { $0.contains(" /api/") })
        try await apiApp(fixture).test(.router) { client in
            let document = try jsonObject(try await client.execute(uri: "/openapi.json", method: .get))
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            let documented = Set(paths.flatMap { path, methods in methods.keys.map { "\($0.uppercased()) \(shape(path))" } })
            #expect(mounted == documented)
            #expect(mounted.count > 20)
        }
    }

    @Test func theDocumentListsExactlyTheMountedOperations() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture).test(.router) { client in
            let response = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(response.status == .ok)
            let document = try jsonObject(response)
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            var operations: [(method: String, path: String)] = []
            for (path, methods) in paths { for method in methods.keys { operations.append((method, path)) } }
            #expect(!operations.isEmpty)
            // Every operation in the document answers: never the router's 404 or 405.
            for (method, path) in operations {
                let uri = path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "x", options: .regularExpression)
                let answer = try await client.execute(uri: uri, method: HTTPRequest.Method(method.uppercased())!, headers: bearer(.operator))
                let message = try jsonObject(answer)["message"] as? String ?? ""
                #expect(answer.status != .methodNotAllowed, "\(method) \(path)")
                #expect(!message.hasPrefix("no such endpoint"), "\(method) \(path)")
            }
            // And a path under /api/v1 that the document does not list is the router's 404.
            try await client.execute(uri: "/api/v1/nothing-here", method: .get, headers: bearer(.operator)) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
