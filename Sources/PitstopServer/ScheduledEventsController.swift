// `GET` and `POST /metadata/scheduledevents`: the document of the calling VM, and its
// approvals. The use cases are ScheduledEventsService's; this only reads the request and
// writes the answer.
import Foundation
import Hummingbird
import PitstopCore
import PitstopService

struct ScheduledEventsController<Context: PitstopRequestContext>: Sendable {
    let polls: ScheduledEventsPolls
    var service: ScheduledEventsService { polls.service }
    var clock: @Sendable () -> Timestamp { polls.clock }

    /// The largest approval body read: a few hundred EventIds.
    static var maxBody: Int { 64 * 1024 }

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("scheduledevents", use: document)
        routes.post("scheduledevents", use: approve)
        return routes
    }

    @Sendable func document(_ request: Request, context: Context) async throws -> Response {
        let version = try ScheduledEventsAPIVersion.parse(request.uri.queryParameters["api-version"].map(String.init))
        let document = try await service.document(forAddress: try caller(context), at: clock())
        context.answeredFor.vm = document.vm
        let answer = polls.answer(document, version, ifNoneMatch: request.headers[.ifNoneMatch])
        return Response(status: answer.status, headers: answer.headers, body: ResponseBody(byteBuffer: answer.body))
    }

    @Sendable func approve(_ request: Request, context: Context) async throws -> Response {
        _ = try ScheduledEventsAPIVersion.parse(request.uri.queryParameters["api-version"].map(String.init))
        var request = request
        let body = try await request.collectBody(upTo: Self.maxBody)
        let ids = try ApprovalRequest.eventIds(fromBody: Array(body.readableBytesView))
        let outcome = try await service.approve(ids, byAddress: try caller(context), at: clock())
        context.answeredFor.vm = outcome.vm
        return json(outcome.json)
    }
}

/// The calling address, which every metadata answer depends on.
func caller(_ context: some PitstopRequestContext) throws -> String {
    guard let address = context.callerAddress else {
        throw PitstopError(.notFound, "the caller's address is unknown, so no VM can be matched to it")
    }
    return address
}

/// A JSON answer, 200 unless told.
func json(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
    PitstopServer.text(text, status: status, contentType: "application/json; charset=utf-8", headers: headers)
}

/// An answer of any text type.
func text(_ text: String, status: HTTPResponse.Status = .ok, contentType: String, headers: HTTPFields = [:]) -> Response {
    var headers = headers
    headers[.contentType] = contentType
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
}
