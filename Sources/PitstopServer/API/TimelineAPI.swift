// `/api/v1` for the timeline page: the waves, windows and blackouts between two instants, one
// wave with its VMs' events, and a live stream of server-sent events that says when the
// database changed, so a page fetches the timeline again without a reload. And the page itself
// (`GET /`, `/app.js`, `/app.css`), embedded in the binary: no CDN, nothing fetched at run time.
import Foundation
import Hummingbird
import NIOCore
import PitstopCore
import PitstopService
import ServiceLifecycle

enum TimelineAPI {
    static let operations: [APIOperation] = [
        APIOperation(.get, "/api/v1/timeline", id: "getTimeline",
                     summary: "The waves between two instants, one a wave (never one a VM), with the regions grouped by pair links, the window occurrences and the blackouts.",
                     tag: "timeline", role: .viewer,
                     parameters: [
                        .query("from", "The start, ISO 8601 with an offset; default a day before now.", schema: .instant),
                        .query("to", "The end; default 7 days after now. At most 31 days after from.", schema: .instant),
                     ],
                     responses: [.ok("The timeline.", .json(.ref("Timeline")))]) { call in
            let from = try call.instant("from") ?? call.now - 86_400
            let to = try call.instant("to") ?? call.now + 7 * 86_400
            return json(Responses.timeline(try await call.services.timeline.timeline(TimeRange(start: from, end: to))) + "\n")
        },
        APIOperation(.get, "/api/v1/waves/{wave}", id: "getWave",
                     summary: "One wave as the timeline shows it, with the event of each of its VMs.",
                     tag: "timeline", role: .viewer, parameters: [.path("wave", "The wave id.")],
                     responses: [.ok("The wave and its events.", .json(.ref("WaveDetail")))]) { call in
            let (wave, events) = try await call.services.timeline.wave(call.path("wave"))
            return json(Responses.waveDetail(wave, events: events) + "\n")
        },
        APIOperation(.get, "/api/v1/live", id: "live",
                     summary: "Server-sent events, for a request with Accept: text/event-stream (else 406): `event: change` with `{\"mark\": N}` at once and whenever the database changes (checked every 250 ms), a `: keepalive` comment every 15 s; the stream ends after `seconds` and EventSource reconnects (`retry: 1000`).",
                     tag: "timeline", role: .viewer,
                     parameters: [
                        .query("seconds", "How long the stream lasts: 1 to 60, default 60.", schema: .integer(minimum: 1, maximum: 60)),
                        // A browser's EventSource cannot send an Authorization header.
                        .accessToken,
                     ],
                     responses: [.ok("The stream.", APIContent(mediaType: "text/event-stream",
                                                                schema: .string(description: "event: change\\ndata: {\"mark\": N}\\n\\n, and : keepalive comments")))]) { call in
            // A stream that lasts up to a minute goes only to a client that asks for one, as
            // EventSource does; any other gets one JSON error at once.
            guard call.request.headers[.accept]?.lowercased().contains("text/event-stream") == true else {
                return errorResponse(.notAcceptable, code: "not-acceptable",
                                     message: "this is a stream of server-sent events: send Accept: text/event-stream (EventSource does)")
            }
            let seconds = try call.integer("seconds", in: 1...60, absent: 60)
            return LiveStream.response(timeline: call.services.timeline, seconds: seconds)
        },
    ]
}

/// The stream of `GET /api/v1/live`.
enum LiveStream {
    static let poll: Duration = .milliseconds(250)
    static let keepalive: Duration = .seconds(15)

    static func response(timeline: TimelineService, seconds: Int) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(seconds)
            var mark = timeline.changeMark()
            // The mark at once: a client that reconnects compares it with the last it saw, and
            // fetches again only when something changed in between.
            try await writer.write(ByteBuffer(string: "retry: 1000\n" + change(mark)))
            var lastWrite = clock.now
            // A server shutting down ends the stream instead of waiting out its seconds.
            while clock.now < deadline, !Task.isShuttingDownGracefully, !Task.isCancelled {
                try await Task.sleep(for: poll)
                let now = timeline.changeMark()
                if now != mark {
                    mark = now
                    try await writer.write(ByteBuffer(string: change(mark)))
                    lastWrite = clock.now
                } else if clock.now - lastWrite >= keepalive {
                    try await writer.write(ByteBuffer(string: ": keepalive\n\n"))
                    lastWrite = clock.now
                }
            }
            try await writer.finish(nil)
        })
    }

    static func change(_ mark: Int64) -> String {
        "event: change\ndata: {\"mark\": \(mark)}\n\n"
    }
}

/// The timeline page and its script and style, served outside `/api` without a token: the page
/// asks for one (kept in the browser's localStorage) unless the server reads anonymously.
enum TimelinePage {
    static let files: [(path: String, type: String, bytes: [UInt8])] = [
        ("/", "text/html; charset=utf-8", PackageResources.index_html),
        ("/app.js", "text/javascript; charset=utf-8", PackageResources.app_js),
        ("/app.css", "text/css; charset=utf-8", PackageResources.app_css),
    ]

    static func mount<Context: PitstopRequestContext>(on router: Router<Context>) {
        for file in files {
            let body = ByteBuffer(bytes: file.bytes)
            router.get(RouterPath(file.path)) { _, _ in
                var headers = HTTPFields()
                headers[.contentType] = file.type
                headers[.cacheControl] = "no-cache"
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
            }
        }
    }
}
