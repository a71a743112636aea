// Mounts the API's operations on the router: each request is authenticated by its bearer token
// and authorised by the operation's role before its handler runs, so a refused request reads no
// body and writes nothing (no audit entry, no last-used stamp); the refusal goes to the log with
// the caller's address.
import Hummingbird
import Logging
public import PitstopCore
public import PitstopService

/// Who a bearer token belongs to. The server asks; TokenService answers.
public protocol APIAuthenticator: Sendable {
    /// The caller whose token this is, or nil for an unknown or revoked one. Reads only.
    func authenticate(_ token: String) async throws -> APICaller?
    /// Notes that an authorised request used the caller's token (the last-used stamp).
    func recordUse(_ caller: APICaller, at: Timestamp) async throws
}

/// How the API is served.
public struct APISettings: Sendable {
    public var authenticator: any APIAuthenticator
    /// Reads without a token (a wall display); writes still need one.
    public var anonymousRead: Bool

    public init(authenticator: any APIAuthenticator, anonymousRead: Bool = false) {
        self.authenticator = authenticator
        self.anonymousRead = anonymousRead
    }
}

/// Every operation of `/api/v1`, in the order the document lists them.
func apiOperations() -> [APIOperation] {
    InventoryAPI.operations + SchedulingAPI.operations + AuditAPI.operations + TimelineAPI.operations
}

/// The API's routes and `/openapi.json` on `router`.
func mountAPI<Context: PitstopRequestContext>(
    on router: Router<Context>, services: Services, settings: APISettings,
    clock: @escaping @Sendable () -> Timestamp, logger: Logger
) {
    let operations = apiOperations()
    let document = OpenAPIDocument.json(operations, version: "1")
    router.get("/openapi.json") { _, _ in json(document) }
    for operation in operations {
        router.on(RouterPath(operation.path), method: operation.method) { request, context in
            let caller = try await authorise(request, context: context, operation: operation, settings: settings, logger: logger)
            context.answeredFor.actor = caller.name
            let now = clock()
            let call = APICall(request: request, parameters: context.parameters, caller: caller, now: now, services: services)
            try call.refuseNUL()
            let response = try await operation.handler(call)
            if caller != .anonymous { try await settings.authenticator.recordUse(caller, at: now) }
            return response
        }
    }
}

/// The caller of `request` if its token may call `operation`; otherwise the 401 or 403 to answer.
private func authorise<Context: PitstopRequestContext>(
    _ request: Request, context: Context, operation: APIOperation, settings: APISettings, logger: Logger
) async throws -> APICaller {
    func refuse(_ status: HTTPResponse.Status, _ message: String, who: String? = nil) -> APIRefusal {
        logger.warning("refused", metadata: [
            "method": .string(request.method.rawValue), "path": .string(request.uri.path), "status": "\(status.code)",
            "address": .string(context.callerAddress ?? "-"), "token": .string(who ?? "-"), "reason": .string(message),
        ])
        return APIRefusal(status: status, message: message)
    }
    // An operation that lists `access_token` (the live stream: EventSource cannot send headers)
    // also takes the token from the query, when no Authorization header is sent; no other does.
    let queryToken = APIParameter.takesAccessToken(operation)
        ? request.uri.queryParameters[Substring(APIParameter.accessToken.name)].map(String.init) : nil
    guard let header = request.headers[.authorization] ?? queryToken.flatMap({ $0.isEmpty ? nil : "Bearer \($0)" }) else {
        if settings.anonymousRead && operation.role == .viewer { return .anonymous }
        throw refuse(.unauthorized, "this request needs a token: send Authorization: Bearer TOKEN (pitstop token create NAME --role ROLE makes one)")
    }
    let parts = header.split(separator: " ", maxSplits: 1)
    guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
        throw refuse(.unauthorized, "the Authorization header must be 'Bearer TOKEN'")
    }
    guard let caller = try await settings.authenticator.authenticate(String(parts[1])) else {
        throw refuse(.unauthorized, "the token is unknown or revoked")
    }
    guard caller.role.allows(operation.role) else {
        throw refuse(.forbidden, "token \(caller.name) is a \(caller.role.rawValue) token; \(operation.method) \(operation.path) needs \(operation.role.rawValue)",
                     who: caller.name)
    }
    return caller
}

/// A request refused before its handler: 401 or 403.
struct APIRefusal: Error {
    let status: HTTPResponse.Status
    let message: String
}

/// The tokens `pitstop token create` made, as the API's authenticator.
public struct TokenAuthenticator: APIAuthenticator {
    let tokens: TokenService

    public init(tokens: TokenService) {
        self.tokens = tokens
    }

    public func authenticate(_ token: String) async throws -> APICaller? {
        try await tokens.authenticate(token).map { APICaller(name: $0.name, role: $0.role) }
    }

    public func recordUse(_ caller: APICaller, at: Timestamp) async throws {
        try await tokens.recordUse(caller.name, at: at)
    }
}
