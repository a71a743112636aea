// Shared by the API tests: tokens of each role held by an authenticator in memory, the router
// with the API mounted, and requests that carry a token.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PitstopCore
import PitstopServer
import PitstopService
import Synchronization
import Testing

/// Three tokens, one of each role, and the uses recorded.
final class TestAuthenticator: APIAuthenticator {
    static let tokens: [String: APICaller] = [
        "viewer-secret": APICaller(name: "wall", role: .viewer),
        "executor-secret": APICaller(name: "runner", role: .executor),
        "operator-secret": APICaller(name: "alice", role: .operator),
    ]
    private let uses = Mutex<[String]>([])
    var used: [String] { uses.withLock { $0 } }

    func authenticate(_ token: String) async throws -> APICaller? { Self.tokens[token] }
    func recordUse(_ caller: APICaller, at: Timestamp) async throws { uses.withLock { $0.append(caller.name) } }
}

/// The application over the fixture's services with the API mounted.
func apiApp(_ fixture: Fixture, authenticator: TestAuthenticator = TestAuthenticator(), anonymousRead: Bool = false,
            log: LogLines = LogLines()) -> some ApplicationProtocol {
    let router = buildRouter(services: fixture.services, context: TestRequestContext.self, clock: fixture.clock.read,
                             requestLimit: nil, logger: log.logger,
                             api: APISettings(authenticator: authenticator, anonymousRead: anonymousRead),
                             before: [SourceAddressFromTestHeader()])
    return Application(router: router, logger: log.logger)
}

/// Headers with `Authorization: Bearer TOKEN` (the role's test token), plus `extra`.
func bearer(_ role: TokenRole?, _ extra: [(String, String)] = []) -> HTTPFields {
    var fields = HTTPFields()
    fields[SourceAddressFromTestHeader.header] = "127.0.0.1"
    if let role { fields[.authorization] = "Bearer \(role.rawValue)-secret" }
    for (name, value) in extra { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
    return fields
}

/// A response body parsed as JSON, for assertions.
func jsonObject(_ response: TestResponse) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(buffer: response.body))
    return try #require(value as? [String: Any])
}
