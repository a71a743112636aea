// The REST API as data: each operation is one value with its method, path, the role it needs,
// its parameters, body and answers, and the handler that serves it. The router mounts exactly
// these values and `/openapi.json` is rendered from exactly these values, so the document and
// the routes cannot drift apart.
import Foundation
import Hummingbird
import PitstopCore
public import PitstopService

/// One operation of `/api/v1`.
public struct APIOperation: Sendable {
    let method: HTTPRequest.Method
    /// The OpenAPI path template, `/api/v1/vms/{name}`; Hummingbird reads the same syntax.
    let path: String
    /// The OpenAPI operationId: unique, camelCase.
    let id: String
    let summary: String
    /// The group in the document (`inventory`, `campaigns`, ...).
    let tag: String
    /// The least role that may call it.
    let role: TokenRole
    let parameters: [APIParameter]
    let body: APIBody?
    /// The answers it gives when it succeeds; every operation also answers errors in one shape.
    let responses: [APIAnswer]
    let handler: @Sendable (APICall) async throws -> Response

    init(_ method: HTTPRequest.Method, _ path: String, id: String, summary: String, tag: String, role: TokenRole,
         parameters: [APIParameter] = [], body: APIBody? = nil, responses: [APIAnswer],
         handler: @escaping @Sendable (APICall) async throws -> Response) {
        self.method = method
        self.path = path
        self.id = id
        self.summary = summary
        self.tag = tag
        self.role = role
        self.parameters = parameters
        self.body = body
        self.responses = responses
        self.handler = handler
    }

    /// The parameter names of a path template, in order: `{name}` as the router reads it.
    static func parameterNames(in path: String) -> [String] {
        path.split(separator: "/").compactMap { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? String(part.dropFirst().dropLast()) : nil
        }
    }
}

/// A path or query parameter.
struct APIParameter: Sendable {
    enum Location: String, Sendable { case path, query }
    let name: String
    let location: Location
    let schema: Schema
    let required: Bool
    let description: String

    static func path(_ name: String, _ description: String, schema: Schema = .name) -> APIParameter {
        APIParameter(name: name, location: .path, schema: schema, required: true, description: description)
    }

    static func query(_ name: String, _ description: String, schema: Schema = .text, required: Bool = false) -> APIParameter {
        APIParameter(name: name, location: .query, schema: schema, required: required, description: description)
    }

    /// The token as a query parameter, for a client that cannot send an Authorization header.
    /// Only an operation that lists it reads it (see `authorise`), so that tokens stay out of
    /// the URLs of ordinary calls.
    static let accessToken = APIParameter.query(
        "access_token", "The token, for a client that cannot send an Authorization header (EventSource); only this operation reads it.")

    /// Whether `operation` takes its token as ``accessToken``.
    static func takesAccessToken(_ operation: APIOperation) -> Bool {
        operation.parameters.contains { $0.name == accessToken.name && $0.location == .query }
    }

    /// `limit` and `cursor`, which every list takes.
    static let page: [APIParameter] = [
        .query("limit", "How many items at most (default \(PageCursor.defaultLimit), at most \(PageCursor.maxLimit)).",
               schema: .integer(minimum: 1, maximum: PageCursor.maxLimit)),
        .query("cursor", "The `next` of the previous page; absent for the first page.", schema: .string(pattern: PageCursor.pattern)),
    ]
}

/// One media type of a body or an answer, and its schema.
struct APIContent: Sendable {
    let mediaType: String
    let schema: Schema

    static func json(_ schema: Schema) -> APIContent { APIContent(mediaType: "application/json", schema: schema) }
    static let calendar = APIContent(mediaType: "text/calendar", schema: .string(description: "iCalendar (RFC 5545)"))
    static let csv = APIContent(mediaType: "text/csv", schema: .string(description: "CSV with a header line"))
}

/// What an operation reads from the request body.
struct APIBody: Sendable {
    let content: [APIContent]
    let required: Bool
    /// Read as it arrives, without the 1 MB limit of other bodies (an import).
    let streamed: Bool

    static func json(_ schema: Schema, required: Bool = true) -> APIBody {
        APIBody(content: [.json(schema)], required: required, streamed: false)
    }
}

/// A successful answer of an operation.
struct APIAnswer: Sendable {
    let status: Int
    let description: String
    let content: [APIContent]

    static func ok(_ description: String, _ content: APIContent...) -> APIAnswer {
        APIAnswer(status: 200, description: description, content: content)
    }

    static func created(_ description: String, _ schema: Schema) -> APIAnswer {
        APIAnswer(status: 201, description: description, content: [.json(schema)])
    }

    static func noContent(_ description: String) -> APIAnswer {
        APIAnswer(status: 204, description: description, content: [])
    }
}

/// Who made an authorised request: the token's name is the actor of every change made with it.
public struct APICaller: Sendable, Hashable {
    public let name: String
    public let role: TokenRole

    public init(name: String, role: TokenRole) {
        self.name = name
        self.role = role
    }

    /// The actor of anonymous reads (`serve --anonymous-read`), which never write.
    static let anonymous = APICaller(name: "anonymous", role: .viewer)
}

/// What a handler is given: the request with its path parameters, who called, when, and the use cases.
struct APICall: Sendable {
    let request: Request
    let parameters: Parameters
    let caller: APICaller
    let now: Timestamp
    let services: Services

    /// A path parameter; the router only calls a handler whose template matched, so it is there.
    func path(_ name: String) -> String {
        parameters.get(name).map { $0.removingPercentEncoding ?? $0 } ?? ""
    }

    /// Refuses the request when a path or query parameter holds U+0 (NUL): no stored name or
    /// text does, and PostgreSQL cannot even compare one. Checked once, before any handler.
    func refuseNUL() throws(PitstopError) {
        for (name, _) in parameters {
            do throws(InputProblem) { try InventoryRules.checkStorable(path(String(name))) } catch {
                throw PitstopError(.invalid, "path parameter \(name): \(error.message)")
            }
        }
        for (name, value) in request.uri.queryParameters {
            do throws(InputProblem) { try InventoryRules.checkStorable(value) } catch {
                throw PitstopError(.invalid, "query parameter \(name): \(error.message)")
            }
        }
    }

    /// A query parameter as given, or nil when absent or empty (`?vm=` filters nothing).
    func query(_ name: String) -> String? {
        request.uri.queryParameters[Substring(name)].flatMap { $0.isEmpty ? nil : String($0) }
    }

    /// Whether the request's `Accept` header ranks `mediaType` above `application/json`: by q,
    /// then by order; `q=0` refuses a type. Neither named (or no header) is JSON.
    func prefers(_ mediaType: String) -> Bool {
        var best: (q: Double, preferred: Bool)?
        for range in request.headers[values: .accept].joined(separator: ",").split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let type = parts.first, type == mediaType || type == "application/json" else { continue }
            let q = parts.dropFirst().lazy.compactMap { $0.hasPrefix("q=") ? Double($0.dropFirst(2)) : nil }.first ?? 1
            if q > 0, q > best?.q ?? 0 { best = (q, type == mediaType) }
        }
        return best?.preferred ?? false
    }

    /// A whole-number query parameter within `range`, or `absent` when it is not given.
    func integer(_ name: String, in range: ClosedRange<Int>, absent: Int) throws(PitstopError) -> Int {
        guard let text = query(name) else { return absent }
        guard let n = Int(text), range.contains(n) else {
            throw PitstopError(.invalid, "query parameter \(name): '\(text.truncatedForMessage)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    /// The one of `names` given, with its value; nil when none is. Refused when several are.
    func atMostOne(of names: [String]) throws(PitstopError) -> (name: String, value: String)? {
        let given = names.compactMap { name in query(name).map { (name: name, value: $0) } }
        guard given.count <= 1 else {
            throw PitstopError(.invalid, "give at most one of the query parameters \(names.joined(separator: ", "))")
        }
        return given.first
    }

    /// A boolean query parameter: `true` or `false`, absent is `false`.
    func flag(_ name: String) throws(PitstopError) -> Bool {
        switch query(name) {
        case nil, "false": return false
        case "true": return true
        case let other?: throw PitstopError(.invalid, "query parameter \(name): '\(other.truncatedForMessage)' is not true or false")
        }
    }

    /// An instant query parameter (ISO 8601 with an offset).
    func instant(_ name: String) throws(PitstopError) -> Timestamp? {
        guard let text = query(name) else { return nil }
        guard let t = Timestamp(iso8601: text) else {
            throw PitstopError(.invalid, "query parameter \(name): '\(text.truncatedForMessage)' is not an ISO 8601 instant with an offset, like 2026-12-01T10:00:00Z")
        }
        return t
    }

    /// The body as JSON, read up to ``APILimits/maxBody`` (413 beyond); an empty body is `{}`
    /// unless one is `required`.
    func jsonBody(required: Bool = true) async throws -> JSONNode {
        var request = request
        let bytes = Array(try await request.collectBody(upTo: APILimits.maxBody).readableBytesView)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            guard !required else { throw PitstopError(.invalid, "body: a JSON object is required") }
            return JSONNode(value: .object([]), line: 1)
        }
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw PitstopError.invalidInput([InputError(file: "body", line: error.line, field: nil, message: error.message)])
        }
    }

    /// The JSON body read as one object by `decode`. Every problem is refused at once, each
    /// with its place (`body:3: kind`), and unknown keys are problems too.
    func record<T>(required: Bool = true, _ decode: (inout RecordReader) -> T) async throws -> T {
        let node = try await jsonBody(required: required)
        var reader = RecordReader(node: node, place: SourcePlace(line: node.line, path: ""))
        let value = decode(&reader)
        reader.finish()
        guard reader.problems.isEmpty else {
            throw PitstopError.invalidInput(reader.problems.map { InputError(file: "body", place: reader.place, problem: $0) })
        }
        return value
    }
}

/// The server's limits on API requests (the README lists them).
enum APILimits {
    /// The largest body read whole: 1 MiB. An import streams instead.
    static let maxBody = 1 << 20
}
