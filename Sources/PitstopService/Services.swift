// The front door of the service floor: adapters (the CLI, the server) open a database here and
// get the use cases, without knowing which engine or which repositories are behind them.
public import PitstopCore
public import PitstopStore
import PitstopPostgres
import Synchronization

/// Every use case, on one database.
public struct Services: Sendable {
    public let store: any Store
    /// What ``tokens`` has read, shared by every `tokens` of this value: a server keeps one
    /// `Services`, so a request authenticates without reading the database while nothing changed.
    private let tokenCache = TokenCache()

    public init(store: any Store) {
        self.store = store
    }

    /// The database `location` names, migrated on open: a `postgres://` URL is a PostgreSQL
    /// database (its server and database must exist); anything else is the path of a SQLite
    /// file, optionally written `sqlite:PATH`, created when missing only if `creating` (a
    /// command that writes), else refused as not found. `concurrent` is a server's: SQLite
    /// reads while it writes, and PostgreSQL listens for other processes' commits; one command
    /// needs one connection.
    public static func open(path location: String, creating: Bool = true, concurrent: Bool = true) throws(PitstopError) -> Services {
        if PostgresLocation.isURL(location) {
            return Services(store: try PostgresStore.open(PostgresLocation(url: location), listening: concurrent))
        }
        return Services(store: try AppDatabase.open(path: try sqlitePath(location), creating: creating, concurrent: concurrent))
    }

    /// The SQLite file a location that is not a `postgres://` URL names: a path, or
    /// `sqlite:PATH`. Refused rather than taken for a path: a URL of any other scheme (another
    /// engine, or a misspelt `postgres`), which would become a SQLite file in directories named
    /// after it, and an empty `sqlite:`, which SQLite would open as a temporary database,
    /// gone at exit. The refusal names the option that gave the location (`--db`, or
    /// `migrate`'s `--from`) and shows only the scheme: the rest may hold a password.
    static func sqlitePath(_ location: String, option: String = "--db") throws(PitstopError) -> String {
        let give = "give a SQLite file (PATH or sqlite:PATH) or a postgres://USER@HOST/DATABASE URL"
        if location.hasPrefix("sqlite:") {
            let path = String(location.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw PitstopError(.invalid, "\(option) sqlite: names no file; \(give)") }
            return path
        }
        if let scheme = urlScheme(location) {
            throw PitstopError(.invalid, "\(option) \(scheme)://…: not a database Pitstop opens; \(give)")
        }
        return location
    }

    /// The scheme of `text` when it starts as a URL does (RFC 3986: a letter, then letters,
    /// digits, `+`, `-` or `.`, then `://`).
    private static func urlScheme(_ text: String) -> Substring? {
        guard let end = text.firstRange(of: "://") else { return nil }
        let scheme = text[..<end.lowerBound]
        guard let first = scheme.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic else { return nil }
        let allowed = scheme.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0)) }
        return allowed ? scheme : nil
    }

    /// A private in-memory database, for tests and rehearsals.
    public static func inMemory() throws -> Services {
        Services(store: try AppDatabase.inMemory())
    }

    public var scheduler: SchedulerService { SchedulerService(store: store) }
    public var lifecycle: LifecycleService { LifecycleService(store: store) }
    public var audit: AuditService { AuditService(store: store) }
    public var notifier: Notifier { Notifier(store: store) }
    public var scheduledEvents: ScheduledEventsService { ScheduledEventsService(store: store) }
    public var simulator: Simulator { Simulator(store: store) }
    public var gauges: GaugeService { GaugeService(store: store) }
    public var tokens: TokenService { TokenService(store: store, cache: tokenCache) }
    public var timeline: TimelineService { TimelineService(store: store) }

    /// The fleet's use cases, their changes recorded as made by `actor` at `clock()`.
    public func inventory(actor: String, clock: @escaping @Sendable () throws -> Timestamp) -> InventoryService {
        InventoryService(store: store, actor: actor, clock: clock)
    }

    /// Whether the database answers and its schema is this build's.
    public func isHealthy() async -> Bool { await store.isHealthy() }

    /// What a health check finds.
    public enum Health: Sendable, Equatable {
        case healthy
        /// The database failed, or its schema is not this build's.
        case failing
        /// The database gave no answer within the time allowed (a server that vanished
        /// without a word, or one too loaded to answer).
        case silent(Duration)
    }

    /// ``isHealthy()``, answered within `limit`: a check that waits past a load balancer's own
    /// timeout tells it nothing. The check goes on after the limit, unawaited, and ends when
    /// the store gives its connection up.
    public func health(within limit: Duration) async -> Health {
        let store = self.store
        return await withCheckedContinuation { (continuation: CheckedContinuation<Health, Never>) in
            let answer = OneAnswer(continuation)
            let timer = Task {
                try? await Task.sleep(for: limit)
                answer.give(.silent(limit))
            }
            Task {
                let health: Health = await store.isHealthy() ? .healthy : .failing
                timer.cancel()
                answer.give(health)
            }
        }
    }
}

/// A continuation resumed by whichever of several tasks answers first; the others' answers
/// are dropped.
private final class OneAnswer<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, Never>?>
    init(_ continuation: CheckedContinuation<T, Never>) { self.continuation = Mutex(continuation) }
    func give(_ value: T) { continuation.withLock { $0.take() }?.resume(returning: value) }
}
