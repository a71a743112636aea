// `GET /metadata/instance` and its compute fields: how clients learn their own VM name before
// they look for it among an event's `Resources`.
import Hummingbird
import PitstopCore
import PitstopService

struct InstanceMetadataController<Context: PitstopRequestContext>: Sendable {
    let service: ScheduledEventsService

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("instance", use: instance)
        routes.get("instance/compute", use: compute)
        routes.get("instance/compute/:field", use: field)
        return routes
    }

    @Sendable func instance(_ request: Request, context: Context) async throws -> Response {
        let metadata = try await lookUp(request, context, leaf: false)
        return json(metadata.json)
    }

    @Sendable func compute(_ request: Request, context: Context) async throws -> Response {
        let metadata = try await lookUp(request, context, leaf: false)
        return json(JSONText.object(metadata.compute.map { ($0.name, JSONText.quote($0.value)) }))
    }

    /// One value: bare with `format=text`, else as a JSON string.
    @Sendable func field(_ request: Request, context: Context) async throws -> Response {
        let metadata = try await lookUp(request, context, leaf: true)
        let name = context.parameters.get("field") ?? ""
        guard let value = metadata.compute.first(where: { $0.name == name })?.value else {
            throw PitstopError(.notFound, "compute has no field '\(name.truncatedForMessage)'; it has \(metadata.compute.map(\.name).joined(separator: ", "))")
        }
        if request.uri.queryParameters["format"] == "text" {
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: value)))
        }
        return json(JSONText.quote(value))
    }

    private func lookUp(_ request: Request, _ context: Context, leaf: Bool) async throws -> InstanceMetadata {
        try InstanceMetadata.checkAPIVersion(request.uri.queryParameters["api-version"].map(String.init))
        switch request.uri.queryParameters["format"] {
        case nil, "json": break
        case "text" where leaf: break
        case "text": throw PitstopError(.invalid, "format=text is for a single value, such as /metadata/instance/compute/name")
        case let other?: throw PitstopError(.invalid, "format '\(String(other).truncatedForMessage)' is not served; use json or text")
        }
        let metadata = try await service.instance(forAddress: try caller(context))
        context.answeredFor.vm = metadata.name
        return metadata
    }
}

/// `GET /healthz`: 200 while the database answers and its schema is this build's, else 503,
/// within ``limit`` either way.
struct HealthController<Context: PitstopRequestContext>: Sendable {
    let services: Services
    /// How long the check waits for the database: under the 5 s a load balancer's check
    /// commonly allows, so that it hears 503 rather than nothing.
    static var limit: Duration { .seconds(3) }

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("healthz") { _, _ in
            switch await services.health(within: Self.limit) {
            case .healthy:
                json(#"{"status": "ok"}"#)
            case .failing:
                errorResponse(.serviceUnavailable, code: "unavailable", message: "the database does not answer, or its schema is not this build's")
            case .silent(let limit):
                errorResponse(.serviceUnavailable, code: "unavailable", message: "the database gave no answer within \(limit.components.seconds) s")
            }
        }
        return routes
    }
}
