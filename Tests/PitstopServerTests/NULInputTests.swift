// U+0 (NUL) from a client: PostgreSQL cannot store or compare it in text, so on that engine it
// reached the database and came back a 500. Every way in refuses it first, the same on both.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PitstopCore
import PitstopServer
import PitstopService
import PitstopTestSupport
import Testing

@Suite struct NULInputTests {
    func fixture(_ engine: TestEngine) async throws -> Fixture {
        try await Fixture(services: Services(store: try TestDatabase(engine).store))
    }

    @Test(arguments: TestEngine.all) func aPathOrQueryParameterHoldingNULIs400(engine: TestEngine) async throws {
        let fixture = try await fixture(engine)
        try await apiApp(fixture).test(.router) { client in
            for (path, place) in [("/api/v1/vms/a%00b", "path parameter name"), ("/api/v1/campaigns/%00", "path parameter campaign"),
                                  ("/api/v1/audit?action=%00", "query parameter action"), ("/api/v1/upcoming?vm=web%000", "query parameter vm")] {
                let response = try await client.execute(uri: path, method: .get, headers: bearer(.viewer))
                let body = String(buffer: response.body)
                #expect(response.status == .badRequest, "\(engine) \(path): \(response.status) \(body)")
                #expect(body.contains("\(place): ") && body.contains("U+0 (NUL)"), "\(engine) \(path): \(body)")
            }
            // A cursor that decodes to a NUL is not one this server gave.
            let cursor = try await client.execute(uri: "/api/v1/vms?cursor=AA", method: .get, headers: bearer(.viewer))
            #expect(cursor.status == .badRequest, "\(engine): \(cursor.status) \(String(buffer: cursor.body))")
            #expect(String(buffer: cursor.body).contains("is not a cursor this server gave"))
        }
    }

    @Test(arguments: TestEngine.all) func aBodyHoldingNULIs400AndWritesNothing(engine: TestEngine) async throws {
        let fixture = try await fixture(engine)
        let campaigns = try await fixture.services.scheduler.campaigns().count
        try await apiApp(fixture).test(.router) { client in
            var headers = bearer(.operator)
            headers[.contentType] = "application/json"
            for (path, body) in [("/api/v1/regions", #"{"name": "westeurope", "displayName": "West\u0000Europe"}"#),
                                 ("/api/v1/campaigns", #"{"kind": "reboot", "regions": ["eastus"], "description": "a\u0000b"}"#)] {
                let response = try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
                let text = String(buffer: response.body)
                #expect(response.status == .badRequest, "\(engine) \(path): \(response.status) \(text)")
                #expect(text.contains("body:1: ") && text.contains("U+0 (NUL)"), "\(engine) \(path): \(text)")
            }
        }
        #expect(try await fixture.services.inventory(actor: "test", clock: { Fixture.planned }).regions().allSatisfy { $0.name != "westeurope" })
        #expect(try await fixture.services.scheduler.campaigns().count == campaigns)
    }

    @Test(arguments: TestEngine.all) func aStartRequestHoldingNULIs400(engine: TestEngine) async throws {
        let fixture = try await fixture(engine)
        try await routerApp(fixture).test(.router) { client in
            let response = try await client.execute(uri: eventsPath, method: .post, headers: metadataHeaders(from: "127.0.0.2"),
                                                    body: ByteBuffer(string: #"{"StartRequests": [{"EventId": "\u0000"}]}"#))
            let text = String(buffer: response.body)
            #expect(response.status == .badRequest, "\(engine): \(response.status) \(text)")
            #expect(text.contains("U+0 (NUL)"), "\(engine): \(text)")
        }
    }
}
