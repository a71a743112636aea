// The API with the real token service: a token's role decides, a refusal stamps nothing and
// audits nothing, an authorised request stamps the token's last use, a revoked token is 401.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PitstopCore
import PitstopServer
import PitstopService
import Testing

@Suite struct TokenAPITests {
    func app(_ fixture: Fixture) -> some ApplicationProtocol {
        let log = LogLines()
        let router = buildRouter(services: fixture.services, context: TestRequestContext.self, clock: fixture.clock.read,
                                 requestLimit: nil, logger: log.logger,
                                 api: APISettings(authenticator: TokenAuthenticator(tokens: fixture.services.tokens)),
                                 before: [SourceAddressFromTestHeader()])
        return Application(router: router, logger: log.logger)
    }

    func headers(_ secret: String) -> HTTPFields {
        var fields = HTTPFields()
        fields[SourceAddressFromTestHeader.header] = "127.0.0.1"
        fields[.authorization] = "Bearer \(secret)"
        return fields
    }

    @Test func aRefusalLeavesTheDatabaseExactlyAsItWas() async throws {
        let fixture = try await Fixture()
        let (_, secret) = try await fixture.services.tokens.create(name: "runner", role: .executor, actor: "test", at: Fixture.planned)
        let audit = try await fixture.services.audit.entries(AuditFilter()).count
        try await app(fixture).test(.router) { client in
            try await client.execute(uri: "/api/v1/campaigns", method: .post, headers: headers(secret),
                                     body: ByteBuffer(string: #"{"kind": "freeze"}"#)) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/api/v1/regions", method: .get, headers: headers(secret + "x")) { response in
                #expect(response.status == .unauthorized)
            }
        }
        #expect(try await fixture.services.tokens.list().first?.lastUsedAt == nil)
        #expect(try await fixture.services.audit.entries(AuditFilter()).count == audit)
    }

    @Test func anAuthorisedRequestStampsTheTokenAndARevokedOneIs401() async throws {
        let fixture = try await Fixture()
        let (_, secret) = try await fixture.services.tokens.create(name: "wall", role: .viewer, actor: "test", at: Fixture.planned)
        fixture.clock.advance(to: at("2026-11-05T00:00:00Z"))
        try await app(fixture).test(.router) { client in
            try await client.execute(uri: "/api/v1/regions", method: .get, headers: headers(secret)) { response in
                #expect(response.status == .ok)
            }
            #expect(try await fixture.services.tokens.list().first?.lastUsedAt == at("2026-11-05T00:00:00Z"))
            try await fixture.services.tokens.revoke(name: "wall", actor: "test", at: at("2026-11-05T00:01:00Z"))
            try await client.execute(uri: "/api/v1/regions", method: .get, headers: headers(secret)) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }
}
