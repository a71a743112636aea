// `pitstop serve`: the HTTP adapter over the service floor. `buildRouter` mounts the
// controllers, `buildApplication` adds the socket, and `runServer` runs it until SIGTERM or
// SIGINT, then stops accepting, lets requests in flight finish, and returns.
public import Foundation
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCore
import NIOPosix
public import PitstopCore
public import PitstopService
import ServiceLifecycle

/// What a server is started with; the CLI's options, or a test's.
public protocol AppArguments: Sendable {
    var hostname: String { get }
    /// 0 picks a free port.
    var port: Int { get }
    var databasePath: String { get }
    /// Carry plans out in the background, as the simulated executor.
    var simulate: Bool { get }
    /// How often the simulated executor looks for due transitions.
    var simulationTick: Duration { get }
    /// The per-address limit on metadata GETs; `nil` switches it off (for benchmarks).
    var requestLimit: RequestLimit? { get }
    /// HTTPS from these PEM files; `nil` serves plain HTTP.
    var tls: TLSFiles? { get }
    /// Serve plain HTTP on an address that is not loopback all the same.
    var insecure: Bool { get }
    /// How long a connection may send nothing (a request's head or body that stalls, or a
    /// kept-alive connection between requests) before the server closes it.
    var idleTimeout: Duration { get }
    /// Let `/api/v1` reads and the timeline page through without a token; writes still need one.
    var anonymousRead: Bool { get }
}

extension AppArguments {
    public var tls: TLSFiles? { nil }
    public var insecure: Bool { false }
    public var idleTimeout: Duration { ServeArguments.defaultIdleTimeout }
    public var anonymousRead: Bool { false }
}

/// The arguments of `pitstop serve`.
public struct ServeArguments: AppArguments {
    public var hostname: String
    public var port: Int
    public var databasePath: String
    public var simulate: Bool
    public var requestLimit: RequestLimit?
    public var simulationTick: Duration
    public var tls: TLSFiles?
    public var insecure: Bool
    public var idleTimeout: Duration
    public var anonymousRead: Bool

    /// 30 s: long enough for any real client between two requests, short enough that a stalled
    /// or trickling client holds its connection no longer than that.
    public static let defaultIdleTimeout: Duration = .seconds(30)

    public init(hostname: String = "127.0.0.1", port: Int = 8080, databasePath: String, simulate: Bool = false,
                requestLimit: RequestLimit? = .metadata, simulationTick: Duration = .seconds(1),
                tls: TLSFiles? = nil, insecure: Bool = false, idleTimeout: Duration = ServeArguments.defaultIdleTimeout,
                anonymousRead: Bool = false) {
        self.hostname = hostname
        self.port = port
        self.databasePath = databasePath
        self.simulate = simulate
        self.requestLimit = requestLimit
        self.simulationTick = simulationTick
        self.tls = tls
        self.insecure = insecure
        self.idleTimeout = idleTimeout
        self.anonymousRead = anonymousRead
    }
}

/// Every route on one router: `/healthz`, `/metrics`, and under `/metadata` the
/// scheduled-events and instance endpoints with their header rules and GET limit.
///
/// - Parameters:
///   - metrics: what `/metrics` answers; each router has its own unless given one (see Metrics.swift).
///   - clock: the time the use cases are given: the real clock in the server, a test's own in tests.
///   - api: how `/api/v1` and `/openapi.json` are served, with the timeline page at `/`;
///     without it none of them is.
///   - before: middleware that runs first, ahead of the request log (tests use it to give a
///     request the source address a socket would).
public func buildRouter<Context: PitstopRequestContext>(
    services: Services, context: Context.Type,
    clock: @escaping @Sendable () -> Timestamp, requestLimit: RequestLimit?, logger: Logger,
    metrics: ServerMetrics = ServerMetrics(), api: APISettings? = nil,
    before: [any MiddlewareProtocol<Request, Response, Context>] = []
) -> Router<Context> {
    let polls = ScheduledEventsPolls(services: services, clock: clock, metrics: metrics, requestLimit: requestLimit)
    return buildRouter(services: services, context: context, polls: polls, record: RequestRecord(metrics: metrics, logger: logger),
                       api: api, before: before)
}

/// ``buildRouter(services:context:clock:requestLimit:logger:metrics:api:before:)`` with the
/// polls' clock, limit and metrics given, so that the server's own poll answers share them.
func buildRouter<Context: PitstopRequestContext>(
    services: Services, context: Context.Type, polls: ScheduledEventsPolls, record: RequestRecord, api: APISettings?,
    before: [any MiddlewareProtocol<Request, Response, Context>] = []
) -> Router<Context> {
    let router = Router(context: Context.self)
    for middleware in before { router.add(middleware: middleware) }
    router.add(middleware: RequestRecordMiddleware(record: record))
    router.add(middleware: ErrorMiddleware())
    router.addRoutes(HealthController(services: services).endpoints)
    router.addRoutes(MetricsController(gauges: services.gauges, metrics: polls.metrics).endpoints)

    let metadata = RouteCollection(context: Context.self)
    metadata.add(middleware: MetadataHeaderMiddleware())
    if let throttle = polls.throttle { metadata.add(middleware: ThrottleMiddleware(throttle: throttle)) }
    metadata.addRoutes(ScheduledEventsController(polls: polls).endpoints)
    metadata.addRoutes(InstanceMetadataController(service: services.scheduledEvents).endpoints)
    router.addRoutes(metadata, atPath: "/metadata")
    if let api {
        mountAPI(on: router, services: services, settings: api, clock: polls.clock, logger: record.logger)
        TimelinePage.mount(on: router)
    }
    return router
}

/// The server on `arguments`' address and database.
///
/// - Parameters:
///   - services: the use cases; by default the database at `arguments.databasePath`.
///   - onRunning: called with the port once the server listens.
/// - Throws: ``PitstopError`` `.invalid` when plain HTTP would be served on an address that is not
///   loopback without `insecure`, or a TLS file cannot be used; any error opening the database.
public func buildApplication(
    _ arguments: some AppArguments, services: Services? = nil,
    clock: @escaping @Sendable () -> Timestamp = { Timestamp(Date()) },
    logger: Logger = serverLogger(), onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    // What the options ask for is checked first, then the TLS files, then the database: every
    // refusal comes before the server listens.
    try checkExposure(host: arguments.hostname, tls: arguments.tls != nil, insecure: arguments.insecure)
    let tlsConfiguration = try arguments.tls.map(serverTLSConfiguration)
    // A server serves a fleet that was recorded: a missing database is a mistyped path.
    let services = try services ?? Services.open(path: arguments.databasePath, creating: false)
    let polls = ScheduledEventsPolls(services: services, clock: clock, metrics: ServerMetrics(), requestLimit: arguments.requestLimit)
    let record = RequestRecord(metrics: polls.metrics, logger: logger)
    let serverName = "pitstop"
    // Polls whose document is known are answered on the event loop (PollFastPath.swift).
    let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: TimeAmount(arguments.idleTimeout)), polls: polls,
                                        record: record, serverName: serverName)
    let server = try tlsConfiguration.map { try HTTPServerBuilder.tls(http1, tlsConfiguration: $0) } ?? http1
    let api = APISettings(authenticator: TokenAuthenticator(tokens: services.tokens), anonymousRead: arguments.anonymousRead)
    let router = buildRouter(services: services, context: ServerRequestContext.self, polls: polls, record: record, api: api)
    let hostname = arguments.hostname
    let tls = arguments.tls != nil
    var app = Application(
        router: router,
        server: server,
        configuration: .init(address: .hostname(hostname, port: arguments.port), serverName: serverName),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? arguments.port
            logger.info("listening", metadata: ["host": "\(hostname)", "port": "\(port)", "tls": "\(tls ? "on" : "off")",
                                                "throttle": "\(arguments.requestLimit.map { "\($0.perSecond)/s" } ?? "off")"])
            await onRunning(port)
        },
        logger: logger
    )
    if arguments.simulate {
        app.addServices(SimulatorService(simulator: services.simulator, clock: clock, tick: arguments.simulationTick, logger: logger))
    }
    return app
}

/// Runs Swift concurrency's jobs on the server's own event-loop threads instead of a second
/// pool beside them. Each request otherwise hops between the two pools several times (a wake-up
/// and a context switch each), which cost more CPU than answering it. Once per process, before
/// serving, and only in a process that does nothing but serve: `pitstop serve` calls it; tests,
/// which build many servers in one process, do not.
public func runConcurrencyOnEventLoops() {
    _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
}

/// Runs `pitstop serve` until SIGTERM or SIGINT, then shuts down gracefully and returns.
///
/// - Throws: ``PitstopError`` `.conflict` when the address is in use (another server on the
///   port), `.invalid` when it cannot be listened on at all.
public func runServer(_ arguments: some AppArguments, logger: Logger = serverLogger()) async throws {
    // The log's last lines are written before the CLI says anything more.
    defer { LineBatcher.standardError.flush() }
    let app = try buildApplication(arguments, logger: logger)
    let place = "\(arguments.hostname):\(arguments.port)"
    do {
        try await app.runService()
    } catch let error as IOError where error.errnoCode == EADDRINUSE {
        throw PitstopError(.conflict, "cannot listen on \(place): the address is in use (is another pitstop serve running on port \(arguments.port)?)")
    } catch let error as IOError {
        throw PitstopError(.invalid, "cannot listen on \(place): \(String(cString: strerror(error.errnoCode)))")
    } catch is SocketAddressError {
        throw PitstopError(.invalid, "cannot listen on \(place): '\(arguments.hostname)' is not an address or a known host name")
    } catch is SocketAddressError.UnknownHost {
        throw PitstopError(.invalid, "cannot listen on \(place): '\(arguments.hostname)' is not an address or a known host name")
    }
    logger.info("stopped")
}
