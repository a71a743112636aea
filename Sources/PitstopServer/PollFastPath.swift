// The scheduled-events poll, answered where its connection is read.
//
// A VM polls its document about once a second, and most polls find it as it was: nothing
// committed, no wave come into view. ScheduledEventsService then has the answer in memory
// (`servedDocument`), and going through the router for it (a task per request, its async
// frames, the hops between the channel and the handler) cost several times the answer itself:
// measured with a handler that returns a constant, Hummingbird answered about half of what
// nginx serves from a file on the same machine. So `PollFastPath`, a channel handler placed
// after Hummingbird's HTTP/1 codec and connection-state handler, answers such a poll on the
// event loop, with the same rules, the same bytes and headers, the same metrics and the same
// log line as the router would. Every other request (another path, a refusal, a document that
// needs the store, an approval) goes on to the router unchanged; and while the router has a
// request of the connection in hand, so does every later one, so answers leave in the order
// they were asked. So does every request while the connection's socket is full: the router's
// channel then stops reading, so a client that never reads cannot pile up answers in memory.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import PitstopCore
import PitstopService

/// What both ways of answering a poll share: the use case, the clock it is given, the GET limit,
/// and the metrics a served document is counted in.
struct ScheduledEventsPolls: Sendable {
    let service: ScheduledEventsService
    let clock: @Sendable () -> Timestamp
    let metrics: ServerMetrics
    /// The per-address limit on metadata GETs; `nil` when switched off.
    let throttle: RequestThrottle?

    static let path = "/metadata/scheduledevents"

    /// A poll's answer once its document is known.
    struct Answer {
        var status: HTTPResponse.Status
        /// Content type, ETag and cache control; the length, date and server name are the writer's.
        var headers: HTTPFields
        var body: ByteBuffer
    }

    /// The answer to a poll of `document` in `version`: 304 without a body when `ifNoneMatch`
    /// names its ETag (some clients send the last one back), the document otherwise.
    func answer(_ document: ScheduledEventsDocument, _ version: ScheduledEventsAPIVersion, ifNoneMatch: String?) -> Answer {
        let etag = document.etag(version)
        if let ifNoneMatch, Self.matches(ifNoneMatch, etag) {
            return Answer(status: .notModified, headers: [.eTag: etag], body: ByteBuffer())
        }
        metrics.documentServed(version)
        return Answer(status: .ok, headers: [.contentType: "application/json; charset=utf-8", .eTag: etag, .cacheControl: "no-store"],
                      body: ByteBuffer(string: document.json(version)))
    }

    /// The answer to the request `head` from `address` when it is a poll the router would answer
    /// 200 or 304 and its document is known without the store; `nil` when only the router can
    /// answer it (a refusal, a document to read, any other request).
    func answerFromMemory(_ head: HTTPRequest, address: String?) -> (answer: Answer, vm: String)? {
        // `Connection: close` and the like are the router's to honour.
        guard head.method == .get, let address, head.headerFields[.connection] == nil, let target = head.path else { return nil }
        let uri = URI(target)
        guard uri.path == Self.path, MetadataHeaders.refusal(head.headerFields) == nil,
              let version = try? ScheduledEventsAPIVersion.parse(uri.queryParameters["api-version"].map(String.init)),
              let document = service.servedDocument(forAddress: address, at: clock()) else { return nil }
        // Last, so that a request handed on is never counted twice; a refused one takes no token.
        if let throttle, throttle.admit(address) != nil { return nil }
        return (answer(document, version, ifNoneMatch: head.headerFields[.ifNoneMatch]), document.vm)
    }

    /// Whether an `If-None-Match` value (`"a", W/"b"` or `*`) names `etag`.
    static func matches(_ header: String, _ etag: String) -> Bool {
        header.split(separator: ",").contains { tag in
            var tag = tag.trimmingCharacters(in: .whitespaces)
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            return tag == "*" || tag == etag
        }
    }
}

extension ScheduledEventsPolls {
    /// The polls of `services`' use case, limited per address by `requestLimit` (none when `nil`).
    init(services: Services, clock: @escaping @Sendable () -> Timestamp, metrics: ServerMetrics, requestLimit: RequestLimit?) {
        self.init(service: services.scheduledEvents, clock: clock, metrics: metrics, throttle: requestLimit.map(RequestThrottle.init))
    }
}

/// Answers the polls ``ScheduledEventsPolls/answerFromMemory(_:address:)`` can, on the event
/// loop; hands every other request to the router. One per connection.
final class PollFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let polls: ScheduledEventsPolls
    private let record: RequestRecord
    private let serverName: String?
    /// Requests handed to the router whose answer has not been written yet. While there is
    /// one, later requests go the same way: answers leave in the order asked.
    private var withRouter = 0
    /// The parts of the current request go to the router.
    private var handingOn = false
    /// The answer to the current request, written once its end is read.
    private var pending: Pending?
    private var unflushed = false
    /// The caller's address as text, read once per connection.
    private var caller: String??
    /// The `Date` header, made once a second as Hummingbird's is.
    private var date: (second: Int64, text: String) = (0, "")

    private struct Pending {
        var answer: ScheduledEventsPolls.Answer
        var vm: String
        var start: ContinuousClock.Instant
    }

    init(polls: ScheduledEventsPolls, record: RequestRecord, serverName: String?) {
        self.polls = polls
        self.record = record
        self.serverName = serverName
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            let start = ContinuousClock.now
            // A client that sends faster than it reads fills the socket: then requests go to the
            // router, which stops reading until the answers drain, and never piles them up here.
            if withRouter == 0, context.channel.isWritable, let (answer, vm) = polls.answerFromMemory(head, address: address(context)) {
                pending = Pending(answer: answer, vm: vm, start: start)
                handingOn = false
            } else {
                withRouter += 1
                handingOn = true
                context.fireChannelRead(data)
            }
        case .body:
            if handingOn { context.fireChannelRead(data) }
        case .end:
            if handingOn {
                context.fireChannelRead(data)
            } else if let pending {
                self.pending = nil
                write(pending, context: context)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // The answers to every request of one read leave together.
        if unflushed {
            unflushed = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The router's answers pass here on their way out.
        if case .end = unwrapOutboundIn(data) { withRouter = max(0, withRouter - 1) }
        context.write(data, promise: promise)
    }

    private func write(_ pending: Pending, context: ChannelHandlerContext) {
        var headers = pending.answer.headers
        headers[.contentLength] = String(pending.answer.body.readableBytes)
        headers[.date] = dateHeader()
        if let serverName { headers[.server] = serverName }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: pending.answer.status, headerFields: headers))), promise: nil)
        if pending.answer.body.readableBytes > 0 { context.write(wrapOutboundOut(.body(pending.answer.body)), promise: nil) }
        context.write(wrapOutboundOut(.end(nil)), promise: nil)
        unflushed = true
        record.record(method: .get, path: ScheduledEventsPolls.path, route: ScheduledEventsPolls.path, status: pending.answer.status,
                      since: pending.start, vm: pending.vm, address: caller ?? nil)
    }

    private func address(_ context: ChannelHandlerContext) -> String? {
        if let caller { return caller }
        let address = context.channel.remoteAddress?.ipAddress
        caller = .some(address)
        return address
    }

    private func dateHeader() -> String {
        let second = Int64(Date().timeIntervalSince1970.rounded(.down))
        if second != date.second { date = (second, Timestamp(seconds: second).rfc1123) }
        return date.text
    }
}

/// Hummingbird's HTTP/1 child channel with ``PollFastPath`` after its connection-state handler,
/// which so sees every request and answer as before (its idle timeout and graceful close hold
/// for polls answered on the loop too).
struct PollingHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value
    let base: HTTP1Channel
    let polls: ScheduledEventsPolls
    let record: RequestRecord
    let serverName: String?

    var responder: HTTPChannelHandler.Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let state = try pipeline.handler(type: HTTPConnectionStateHandler.self)
            try pipeline.addHandler(PollFastPath(polls: polls, record: record, serverName: serverName), position: .after(state))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 as Hummingbird's `http1(configuration:)`, with polls answered on the event loop.
    static func http1(configuration: HTTP1Channel.Configuration, polls: ScheduledEventsPolls, record: RequestRecord,
                      serverName: String?) -> HTTPServerBuilder {
        .init { responder in
            PollingHTTP1Channel(base: HTTP1Channel(responder: responder, configuration: configuration), polls: polls, record: record,
                                serverName: serverName)
        }
    }
}
