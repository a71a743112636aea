// The one place the service floor's error kinds become HTTP statuses, as `exitStatus(of:)` is
// for the CLI; and the middleware that turns every error into a JSON answer a client can read,
// never a Swift, Foundation or SQLite message.
import Foundation
import Hummingbird
import Logging
import PitstopCore

/// The HTTP status of each kind of ``PitstopError``.
func httpStatus(of kind: PitstopError.Kind) -> HTTPResponse.Status {
    switch kind {
    case .invalid: .badRequest
    case .notFound: .notFound
    case .conflict, .refused: .conflict
    case .busy, .unavailable: .serviceUnavailable
    case .internal: .internalServerError
    }
}

/// The one error body of every answer, metadata and API alike:
/// `{"error": "not-found", "message": "...", "place": null, "problems": [], "conflicts": []}`.
/// `place` is where bad input was (`body:14: vms[2].updateDomain`, a query parameter), the
/// first of `problems` when there are several; `conflicts` the events a refused start clashes with.
func errorResponse(_ status: HTTPResponse.Status, code: String, message: String, problems: [InputError] = [],
                   conflicts: [String] = [], headers: HTTPFields = [:]) -> Response {
    var headers = headers
    headers[.contentType] = "application/json; charset=utf-8"
    let body = JSONText.object([
        ("error", JSONText.quote(code)), ("message", JSONText.quote(message)),
        ("place", JSONText.quote(problems.first?.place)),
        ("problems", JSONText.array(problems.map { p in
            JSONText.object([("file", JSONText.quote(p.file)), ("line", JSONText.number(p.line)), ("field", JSONText.quote(p.field)),
                             ("message", JSONText.quote(p.message))])
        })),
        ("conflicts", JSONText.array(conflicts.map(JSONText.quote))),
    ]) + "\n"
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
}

/// Turns whatever a handler throws into an answer: a ``PitstopError`` by its kind, the
/// router's own refusals (no such route, wrong method, body too large) by their status, and
/// anything else into a 500 whose details go to the log only.
struct ErrorMiddleware<Context: PitstopRequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as PitstopError {
            switch error.kind {
            case .internal:
                context.logger.error("internal error", metadata: ["error": "\(error.message)"])
                return errorResponse(.internalServerError, code: "internal", message: "internal error; the server's log has the details")
            case .busy:
                return errorResponse(.serviceUnavailable, code: "busy", message: "the database is busy; try again", headers: [.retryAfter: "1"])
            case .unavailable:
                // The message names the database: the operator's to read, not the client's.
                context.logger.error("database unavailable", metadata: ["error": "\(error.message)"])
                return errorResponse(.serviceUnavailable, code: "unavailable", message: "the database cannot be reached; try again shortly",
                                     headers: [.retryAfter: "5"])
            default:
                return errorResponse(httpStatus(of: error.kind), code: code(error.kind), message: error.description,
                                     problems: error.problems, conflicts: error.conflicts)
            }
        } catch let refusal as APIRefusal {
            let code = refusal.status == .unauthorized ? "unauthenticated" : "forbidden"
            return errorResponse(refusal.status, code: code, message: refusal.message,
                                 headers: refusal.status == .unauthorized ? [.wwwAuthenticate: "Bearer"] : [:])
        } catch let error as any HTTPResponseError {
            let message = switch error.status {
            case .notFound: "no such endpoint: \(request.method) \(request.uri.path)"
            case .methodNotAllowed: "\(request.method) is not served on \(request.uri.path)"
            case .contentTooLarge: request.uri.path.hasPrefix("/api/")
                ? "the body is larger than 1 MiB, the most a request reads whole; an inventory import (POST /api/v1/inventory/import) streams and has no such limit"
                : "the body is too large"
            default: error.status.reasonPhrase
            }
            return errorResponse(error.status, code: error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "-"), message: message)
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))"])
            return errorResponse(.internalServerError, code: "internal", message: "internal error; the server's log has the details")
        }
    }

    private func code(_ kind: PitstopError.Kind) -> String {
        switch kind {
        case .invalid: "bad-request"
        case .notFound: "not-found"
        case .conflict: "conflict"
        case .refused: "refused"
        case .busy: "busy"
        case .unavailable: "unavailable"
        case .internal: "internal"
        }
    }
}
