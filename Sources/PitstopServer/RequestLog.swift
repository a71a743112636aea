// One structured line per request, at info: method, path, status, duration and the VM the
// request was answered for.
import Hummingbird
import Logging

struct RequestLogMiddleware<Context: PitstopRequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = HTTPResponse.Status.internalServerError
        defer {
            let elapsed = ContinuousClock.now - start
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            var metadata: Logger.Metadata = [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(status.code)",
                "duration_ms": "\((ms * 1000).rounded() / 1000)",
            ]
            metadata["vm"] = context.answeredFor.vm.map { .string($0) } ?? "-"
            if let address = context.callerAddress { metadata["address"] = .string(address) }
            logger.info("request", metadata: metadata)
        }
        let response = try await next(request, context)
        status = response.status
        return response
    }
}
