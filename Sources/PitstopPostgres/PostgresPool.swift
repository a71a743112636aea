// A bounded pool of connections and the threads that use them.
import Logging
import NIOCore
import NIOPosix
import PitstopCore
import PostgresNIO
import Synchronization
import Foundation

/// At most `location.poolSize` connections, each used by one thread at a time. A unit of work
/// waits for a free thread (so for a free connection) without blocking its caller; the thread
/// then takes an idle connection, or opens one.
final class PostgresPool: Sendable {
    let location: PostgresLocation
    private let threads: NIOThreadPool
    /// The connections' own event loop: never one that serves HTTP or runs Swift concurrency's
    /// jobs (`serve` runs those on the shared loops), so a thread of those may wait on a
    /// connection (opening the store) without waiting on itself.
    private let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let idle = Mutex<[PostgresSession]>([])
    private let closed = Atomic<Bool>(false)
    /// Writes committed through this pool.
    let writes = Atomic<Int>(0)
    /// Commits other processes notified, counted by the listening connection.
    private let notified = Atomic<Int64>(0)
    /// What this pool's commits notify with, so that its listener skips them: `writes`
    /// counted them already.
    let sender = "\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)"
    private let listening = Atomic<Bool>(false)
    private let listener = Mutex<PostgresConnection?>(nil)
    private let connectionIDs = Atomic<Int>(0)
    let logger: Logger

    /// How long opening a connection may take before the server counts as unreachable.
    static let connectTimeout: TimeAmount = .seconds(5)

    init(location: PostgresLocation) {
        self.location = location
        self.threads = NIOThreadPool(numberOfThreads: location.poolSize)
        self.threads.start()
        var logger = Logger(label: "pitstop.postgres")
        logger.logLevel = .critical
        self.logger = logger
    }

    /// Runs `body` on a pool thread with a connection of its own.
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        guard !closed.load(ordering: .relaxed) else { throw PitstopError(.internal, "\(location): the store was closed") }
        do {
            return try await threads.runIfActive { try self.withSession(body) }
        } catch let error as PitstopError {
            throw error.located(location)
        }
    }

    /// Runs `body` on a pool thread, without a connection of the pool: work that waits on one
    /// of its own.
    func offEventLoop<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await threads.runIfActive(body)
    }

    /// Runs `body` with a connection on the calling thread, which may block: never an event loop.
    func withSession<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        let session = try take()
        do {
            let result = try body(session)
            give(back: session)
            return result
        } catch {
            give(back: session)
            throw error
        }
    }

    private func take() throws -> PostgresSession {
        while let session = idle.withLock({ $0.popLast() }) {
            if !session.isClosed { return session }
        }
        return PostgresSession(connection: try connect(), logger: logger)
    }

    private func give(back session: PostgresSession) {
        guard !session.isClosed else { return }
        if closed.load(ordering: .relaxed) {
            session.close()
            return
        }
        idle.withLock { $0.append(session) }
    }

    /// A new connection of its own, outside the pool.
    func connect() throws -> PostgresConnection {
        var configuration: PostgresConnection.Configuration = switch location.endpoint {
        case .tcp(let host, let port):
            .init(host: host, port: port, username: location.user, password: location.password, database: location.database, tls: .disable)
        case .unixSocket(let path):
            .init(unixSocketPath: path, username: location.user, password: location.password, database: location.database)
        }
        configuration.options.connectTimeout = Self.connectTimeout
        // What the server shows for this connection: which process holds a lock.
        configuration.options.additionalStartupParameters = [("application_name", Self.applicationName)]
        let id = connectionIDs.add(1, ordering: .relaxed).newValue
        do {
            let connection = try PostgresConnection.connect(
                on: loops.next(), configuration: configuration, id: id, logger: logger
            ).wait()
            // Alive until its channel has closed, whoever closes it (the pool, the server, the
            // loop's shutdown) and whenever the last other reference goes: PostgresNIO asserts
            // that a connection is closed when it is freed, and a listener's cleanup during the
            // close could otherwise free it half-way.
            connection.closeFuture.whenComplete { _ in withExtendedLifetime(connection) {} }
            return connection
        } catch let error as PSQLError where error.serverInfo != nil {
            let message = error.serverInfo?[.message] ?? "refused"
            throw PitstopError(.invalid, "\(location): the server refused the connection: \(message)")
        } catch {
            throw PitstopError(.internal, "\(location): the PostgreSQL server cannot be reached; check that it runs and that --db names it")
        }
    }

    /// `pitstop pid N@HOST`: the name each connection gives the server.
    static let applicationName: String = "pitstop pid \(getpid())@\(ProcessInfo.processInfo.hostName)"

    /// The pid in an application name this pool gave.
    static func pid(fromApplicationName name: String) -> Int32? {
        guard name.hasPrefix("pitstop pid ") else { return nil }
        return Int32(name.dropFirst("pitstop pid ".count).prefix { $0.isNumber })
    }

    /// Listens on `channel` with a connection of its own: every notification moves the count
    /// ``notifications()`` returns. If that connection is lost, the count can no longer be
    /// trusted, and ``notifications()`` returns a new value on every call.
    func startListening(channel: String) throws {
        let connection = try connect()
        let sender = self.sender
        connection.addListener(channel: channel) { [weak self] _, notification in
            if notification.payload != sender { self?.notified.add(1, ordering: .relaxed) }
        }
        do {
            _ = try connection.query(PostgresQuery(unsafeSQL: "LISTEN \(channel)"), logger: logger).wait()
        } catch {
            PostgresSession(connection: connection, logger: logger).close()
            throw PostgresFailure.translate(error)
        }
        listener.withLock { $0 = connection }
        listening.store(true, ordering: .relaxed)
    }

    /// The commits other processes notified; unique on every call while not listening.
    func notifications() -> Int64 {
        let live = listening.load(ordering: .relaxed) && listener.withLock { $0.map { !$0.isClosed } ?? false }
        if live { return notified.load(ordering: .relaxed) }
        // Negative, so never equal to a count a listener gave.
        return -notified.add(1, ordering: .relaxed).newValue
    }

    deinit { shutdown() }

    /// Closes every idle connection and the listener; connections in use close when given back.
    func shutdown() {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        for session in idle.withLock({ sessions in defer { sessions = [] }; return sessions }) {
            let _: EventLoopFuture<Void> = session.connection.close()
        }
        listener.withLock { connection in
            let _: EventLoopFuture<Void>? = connection?.close()
            connection = nil
        }
        listening.store(false, ordering: .relaxed)
        threads.shutdownGracefully { _ in }
        // Once the connections in use are given back and closed: not waited for here, which
        // may be on a pool thread.
        loops.shutdownGracefully { _ in }
    }
}
