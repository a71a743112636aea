// Shared by the server tests: a fleet whose VMs call from loopback addresses, a reboot
// campaign over it, a clock the test moves, and the router with a test context.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PitstopCore
import PitstopServer
import PitstopService
import Synchronization
import Testing

/// eastus: set web (2 UDs: web-0 and web-2 in UD 0, web-1 and web-3 in UD 1) and the
/// single-instance VMs solo-a and solo-b; westus (paired): set api. Every VM but `quiet` has a
/// loopback address of its own.
let fleetJSON = """
    {
      "regions": [{"name": "eastus"}, {"name": "westus"}],
      "regionPairs": [{"region": "eastus", "pairedWith": "westus"}],
      "subscriptions": [{"id": "contoso", "admins": ["ops@contoso.example"]}],
      "availabilitySets": [
        {"name": "web", "region": "eastus", "subscription": "contoso", "updateDomains": 2, "faultDomains": 2},
        {"name": "api", "region": "westus", "subscription": "contoso", "updateDomains": 2}
      ],
      "vms": [
        {"name": "web-0", "availabilitySet": "web", "ipAddress": "127.0.0.2"},
        {"name": "web-1", "availabilitySet": "web", "ipAddress": "127.0.0.3"},
        {"name": "web-2", "availabilitySet": "web", "ipAddress": "127.0.0.4"},
        {"name": "web-3", "availabilitySet": "web", "ipAddress": "127.0.0.5"},
        {"name": "api-0", "availabilitySet": "api", "ipAddress": "127.0.0.6"},
        {"name": "solo-a", "region": "eastus", "subscription": "contoso", "ipAddress": "127.0.0.7"},
        {"name": "solo-b", "region": "eastus", "subscription": "contoso", "ipAddress": "127.0.0.8"},
        {"name": "quiet", "region": "eastus", "subscription": "contoso"}
      ]
    }
    """

func at(_ text: String) -> Timestamp { Timestamp(iso8601: text)! }

/// A clock the test sets; the server reads it for every request.
final class TestClock: Sendable {
    private let value: Mutex<Timestamp>
    init(_ t: Timestamp) { value = Mutex(t) }
    var now: Timestamp {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
    func advance(to t: Timestamp) { now = t }
    var read: @Sendable () -> Timestamp { { self.now } }
}

/// The fleet and a reboot campaign planned at 2026-11-01 for 2026-11-10 on, with the use cases.
struct Fixture {
    static let planned = at("2026-11-01T00:00:00Z")
    let services: Services
    let clock: TestClock
    let campaign: String
    /// Wave ids: web UD 0, web UD 1, api UD 0, the eastus single-instance wave.
    let webUD0: String, webUD1: String, apiUD0: String, eastSingles: String
    let events: [EventRecord]

    init(services: Services? = nil, kind: MaintenanceKind = .reboot) async throws {
        let services = try services ?? Services.inMemory()
        self.services = services
        _ = try await services.inventory(actor: "test", clock: { Fixture.planned })
            .importDocument(.bytes(Array(fleetJSON.utf8), name: "fleet.json"))
        let plan = try await services.scheduler.plan(
            CampaignRequest(kind: kind, regions: ["eastus", "westus"], notBefore: at("2026-11-10T00:00:00Z"), description: "Host OS update"),
            now: Fixture.planned, dryRun: false, actor: "planner")
        campaign = plan.campaign.id
        let events = try await services.scheduler.campaign(campaign).events
        let wave = { (vm: String) in events.first { $0.event.vm == vm }!.event.wave }
        (webUD0, webUD1, apiUD0, eastSingles) = (wave("web-0"), wave("web-1"), wave("api-0"), wave("solo-a"))
        self.events = events
        clock = TestClock(Fixture.planned)
    }

    /// Reopens a fixture on services whose fleet and plan are already there.
    init(reopening services: Services, like other: Fixture) {
        self.services = services
        (clock, campaign, events) = (TestClock(other.clock.now), other.campaign, other.events)
        (webUD0, webUD1, apiUD0, eastSingles) = (other.webUD0, other.webUD1, other.apiUD0, other.eastSingles)
    }

    /// The planned start of a wave.
    func start(_ wave: String) -> Timestamp { events.first { $0.event.wave == wave }!.event.range.start }
    func end(_ wave: String) -> Timestamp { events.first { $0.event.wave == wave }!.event.range.end }
    func vms(_ wave: String) -> [String] { events.filter { $0.event.wave == wave }.map(\.event.vm).sorted() }

    /// The wave's events as stored now.
    func stored(_ wave: String) async throws -> [EventRecord] { try await services.lifecycle.wave(wave) }
}

/// A request context for router tests: the "socket" address comes from a test-only header,
/// which a middleware of the test copies in. The server's own context reads the connection.
struct TestRequestContext: PitstopRequestContext {
    var coreContext: CoreRequestContextStorage
    var remoteAddress: SocketAddress?
    let answeredFor = AnsweredFor()

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

struct SourceAddressFromTestHeader: RouterMiddleware {
    static let header = HTTPField.Name("X-Test-Source-Address")!
    func handle(_ request: Request, context: TestRequestContext, next: (Request, TestRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        if let text = request.headers[Self.header] { context.remoteAddress = try SocketAddress(ipAddress: text, port: 40000) }
        return try await next(request, context)
    }
}

/// Log lines captured in memory.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    var logger: Logger {
        var logger = Logger(label: "test") { label in LogfmtLogHandler(label: label, write: { line in self.lines.withLock { $0.append(line) } }) }
        logger.logLevel = .info
        return logger
    }
}

/// The application over the fixture's services, for `app.test(.router)`.
func routerApp(_ fixture: Fixture, limit: RequestLimit? = nil, log: LogLines = LogLines()) -> some ApplicationProtocol {
    let router = buildRouter(services: fixture.services, context: TestRequestContext.self, clock: fixture.clock.read,
                             requestLimit: limit, logger: log.logger, before: [SourceAddressFromTestHeader()])
    return Application(router: router, logger: log.logger)
}

/// Headers of a well-behaved client calling from `address`.
func metadataHeaders(from address: String, _ extra: [(String, String)] = []) -> HTTPFields {
    var fields = HTTPFields()
    fields[SourceAddressFromTestHeader.header] = address
    fields[HTTPField.Name("Metadata")!] = "true"
    for (name, value) in extra { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
    return fields
}

let eventsPath = "/metadata/scheduledevents?api-version=2020-07-01"

/// A response body parsed as a JSON object.
func object(_ response: TestResponse) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any],
                 "not a JSON object: \(String(buffer: response.body))")
}

func events(_ response: TestResponse) throws -> [[String: Any]] {
    try #require(try object(response)["Events"] as? [[String: Any]])
}

func incarnation(_ response: TestResponse) throws -> Int {
    try #require(try object(response)["DocumentIncarnation"] as? Int)
}

/// `{"StartRequests": [{"EventId": ...}, ...]}`.
func approvalBody(_ ids: String...) -> ByteBuffer {
    ByteBuffer(string: #"{"StartRequests": ["# + ids.map { #"{"EventId": "\#($0)"}"# }.joined(separator: ", ") + "]}")
}
