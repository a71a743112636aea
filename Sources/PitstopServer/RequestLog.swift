// Every answered request, once: counted and timed in the metrics (by route template, method and
// status), and one structured line at info in the log with method, path, status, duration and
// the VM it was answered for. One middleware does both, from one clock reading and one status:
// each layer of middleware costs every request an async frame of its own.
import Hummingbird
import Logging

struct RequestRecordMiddleware<Context: PitstopRequestContext>: RouterMiddleware {
    let metrics: ServerMetrics
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = HTTPResponse.Status.internalServerError
        defer {
            let elapsed = ContinuousClock.now - start
            // The router has resolved the route by now: its template, never the path itself.
            metrics.request(route: context.endpointPath ?? "NotFound", method: request.method, status: status, duration: elapsed)
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            var metadata: Logger.Metadata = [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path), "status": "\(status.code)",
                "duration_ms": "\((ms * 1000).rounded() / 1000)",
            ]
            metadata["vm"] = context.answeredFor.vm.map { .string($0) } ?? "-"
            if let actor = context.answeredFor.actor { metadata["token"] = .string(actor) }
            if let address = context.callerAddress { metadata["address"] = .string(address) }
            logger.info("request", metadata: metadata)
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
