// Every answered request, once: counted and timed in the metrics (by route template, method and
// status), and one structured line at info in the log with method, path, status, duration and
// the VM it was answered for. One middleware does both, from one clock reading and one status:
// each layer of middleware costs every request an async frame of its own. Polls answered on the
// event loop (PollFastPath.swift) are recorded by the same `RequestRecord`.
import HTTPTypes
import Hummingbird
import Logging

/// Records one answered request in the metrics and the log.
struct RequestRecord: Sendable {
    let metrics: ServerMetrics
    let logger: Logger

    /// - Parameters:
    ///   - route: the route template the router matched (`NotFound` for none), never the raw path.
    func record(method: HTTPRequest.Method, path: String, route: String, status: HTTPResponse.Status, since start: ContinuousClock.Instant,
                vm: String?, actor: String? = nil, address: String?) {
        let elapsed = ContinuousClock.now - start
        metrics.request(route: route, method: method, status: status, duration: elapsed)
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "method": .string(method.rawValue), "path": .string(path), "status": "\(status.code)",
            "duration_ms": "\((ms * 1000).rounded() / 1000)",
        ]
        metadata["vm"] = vm.map { .string($0) } ?? "-"
        if let actor { metadata["token"] = .string(actor) }
        if let address { metadata["address"] = .string(address) }
        logger.info("request", metadata: metadata)
    }
}

struct RequestRecordMiddleware<Context: PitstopRequestContext>: RouterMiddleware {
    let record: RequestRecord

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = HTTPResponse.Status.internalServerError
        defer {
            // The router has resolved the route by now: its template, never the path itself.
            record.record(method: request.method, path: request.uri.path, route: context.endpointPath ?? "NotFound", status: status,
                          since: start, vm: context.answeredFor.vm, actor: context.answeredFor.actor, address: context.callerAddress)
        }
        do {
            let response = try await next(request, context)
            status = response.status
            return response
        } catch let error as any HTTPResponseError {
            status = error.status
            throw error
        }
    }
}
