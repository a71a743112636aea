// The request rules every metadata endpoint shares (docs/rules.md#address-and-requests): the
// `Metadata: true` header, no `X-Forwarded-For`, and at most a few GETs a second per address.
import HTTPTypes
import Hummingbird
import PitstopCore
import Synchronization

/// Refuses a metadata request without `Metadata: true` (name and value in any case) or with
/// `X-Forwarded-For`: a proxy must never relay metadata. Other headers are ignored.
struct MetadataHeaderMiddleware<Context: PitstopRequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let refusal = MetadataHeaders.refusal(request.headers) { throw refusal }
        return try await next(request, context)
    }
}

/// The header rules of every metadata request, for the router's middleware and for the polls
/// answered on the event loop alike.
enum MetadataHeaders {
    static let metadata = HTTPField.Name("Metadata")!
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    /// Why a metadata request with these headers is refused; `nil` when it is not.
    static func refusal(_ headers: HTTPFields) -> PitstopError? {
        if headers[forwardedFor] != nil {
            return PitstopError(.invalid, "a request with X-Forwarded-For is refused: metadata is never relayed through a proxy")
        }
        guard headers[values: metadata].contains(where: isTrue) else {
            return PitstopError(.invalid, "the header Metadata: true is required")
        }
        return nil
    }

    /// Whether a header value is `true` in any case, with spaces or tabs around it. Compared
    /// byte by byte: every metadata request asks, and Foundation's trimming cost more than the rest.
    static func isTrue(_ value: String) -> Bool {
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        let bytes = value.utf8.drop(while: blank).reversed().drop(while: blank)
        return bytes.count == 4 && zip(bytes.reversed(), "true".utf8).allSatisfy { $0 | 0x20 == $1 }
    }
}

/// How many GETs a second one address may make, after a burst.
public struct RequestLimit: Sendable, Hashable {
    /// Requests a second, sustained.
    public var perSecond: Double
    /// Requests allowed at once before the rate applies.
    public var burst: Double

    public init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// The contract's limit: more than 5 GETs a second from one VM may get 429, after a
    /// burst of 10 (a client that retries a few times at start-up is not refused).
    public static let metadata = RequestLimit(perSecond: 5, burst: 10)
}

/// A token bucket per address. Idle addresses are forgotten, so memory follows the number of
/// addresses polling now, not every address ever seen.
final class RequestThrottle: Sendable {
    let limit: RequestLimit
    private struct Bucket { var tokens: Double; var at: ContinuousClock.Instant }
    private let buckets = Mutex<[String: Bucket]>([:])

    init(_ limit: RequestLimit) { self.limit = limit }

    /// Takes a token for `address`; when there is none, how long until there is.
    func admit(_ address: String, at now: ContinuousClock.Instant = .now) -> Duration? {
        let limit = self.limit
        return buckets.withLock { buckets in
            if buckets.count > 10_000 { Self.forgetIdle(&buckets, at: now, limit: limit) }
            var bucket = buckets[address] ?? Bucket(tokens: limit.burst, at: now)
            bucket.tokens = min(limit.burst, bucket.tokens + Self.seconds(now - bucket.at) * limit.perSecond)
            bucket.at = now
            defer { buckets[address] = bucket }
            guard bucket.tokens >= 1 else { return .seconds((1 - bucket.tokens) / limit.perSecond) }
            bucket.tokens -= 1
            return nil
        }
    }

    private static func forgetIdle(_ buckets: inout [String: Bucket], at now: ContinuousClock.Instant, limit: RequestLimit) {
        // A bucket idle long enough to have refilled is the same as no bucket.
        let refill = limit.burst / limit.perSecond
        buckets = buckets.filter { seconds(now - $0.value.at) < refill }
    }

    private static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// Answers 429 with `Retry-After` to a GET beyond the limit; POSTs (approvals) pass always.
struct ThrottleMiddleware<Context: PitstopRequestContext>: RouterMiddleware {
    let throttle: RequestThrottle

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get || request.method == .head,
              let wait = throttle.admit(context.callerAddress ?? "-") else {
            return try await next(request, context)
        }
        let seconds = max(1, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up)))
        return errorResponse(.tooManyRequests, code: "too-many-requests",
                             message: "more than \(Int(throttle.limit.perSecond)) requests a second from \(context.callerAddress ?? "this address"); retry after \(seconds) s",
                             headers: [.retryAfter: "\(seconds)"])
    }
}
