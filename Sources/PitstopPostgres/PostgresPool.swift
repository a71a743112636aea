// A bounded pool of connections and the threads that use them.
import Logging
import NIOCore
import NIOPosix
import NIOSSL
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
    /// The channel listened on, and when a closed listener was last replaced (or is being).
    private let listenState = Mutex<(channel: String?, lastAttempt: ContinuousClock.Instant?, attempting: Bool)>((nil, nil, false))
    /// How often a closed listener is tried again, at most.
    static let listenRetryInterval: Duration = .seconds(1)
    private let connectionIDs = Atomic<Int>(0)
    /// Whether the last connection opened for work could not be, and whether one is being
    /// tried since. While the server cannot be reached, one unit of work at a time waits out
    /// the connect timeout and the others fail at once (`unavailable`): otherwise each waits
    /// its turn for a thread and then the full timeout, and the requests queued behind a
    /// silent server grow without bound. The first connection opened clears it.
    private let reach = Mutex<(unreachable: Bool, probing: Bool)>((false, false))
    /// What a TCP connection does about TLS, made once from the URL's `sslmode` and `sslrootcert`.
    private let tls: PostgresConnection.Configuration.TLS
    let logger: Logger

    /// Refused when `sslrootcert` names no readable PEM certificates.
    init(location: PostgresLocation) throws(PitstopError) {
        self.location = location
        self.tls = try Self.tls(for: location)
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
    ///
    /// A connection idle in the pool can be dead at the other end with nothing said yet (the
    /// database host rebooted, or its address moved to the promoted replica's host): its next
    /// bytes are answered with a reset. When that happens before the server has answered any of
    /// `body`'s statements, `body` runs once more on a new connection. That is safe because
    /// every unit of work opens with `BEGIN` or a read: a first statement that got no answer
    /// took no effect. Only a connection the pool had kept is given this second chance: a new
    /// connection that fails so means the server itself is gone, and that is reported. So is a
    /// kept connection that got no answer at all (`silent`): nothing answers at the server's
    /// address, and a new connection would only add its connect timeout to the caller's wait.
    func withSession<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        let (session, kept) = try take()
        do {
            return try using(session, body)
        } catch let error as PitstopError where kept && !session.hasAnswered && error == PostgresFailure.unreachable {
            listenerIsSuspect()
            return try using(try newSession(), body)  // `using` closed the dead one
        }
    }

    /// `body` on `session`, which goes back to the pool after (unless it was closed).
    private func using<T>(_ session: PostgresSession, _ body: (PostgresSession) throws -> T) throws -> T {
        session.hasAnswered = false
        do {
            let result = try body(session)
            give(back: session)
            return result
        } catch {
            if PostgresFailure.lostConnection(error) {
                session.close()  // dead: never back to the pool, whatever its channel says yet
                if (error as? PitstopError) == PostgresFailure.silent { serverWentSilent(session) }
            } else {
                give(back: session)
            }
            throw error
        }
    }

    /// An idle connection of the pool (`kept`), else a new one.
    private func take() throws -> (session: PostgresSession, kept: Bool) {
        while let session = idle.withLock({ $0.popLast() }) {
            if !session.isClosed { return (session, true) }
        }
        return (try newSession(), false)
    }

    /// `silent` got no answer at all for its `tcp_user_timeout`: its server's host is down or
    /// cut off, and the connections to it idle beside it went silent at the same moment (their
    /// keepalive probes find that out only after `keepalives_idle` and more). They are closed,
    /// instead of each costing a unit of work another `tcp_user_timeout` while the requests
    /// behind it queue for its thread. With one server in the URL, it counts as unreachable:
    /// the next unit of work tries one new connection and those beside it fail at once. With
    /// several, the others may well answer (a failover): new connections try them first. A
    /// server that is only slow never gets here: its kernel acknowledges what is sent.
    private func serverWentSilent(_ silent: PostgresSession) {
        listenerIsSuspect()
        let count = location.endpoints.count
        if count == 1 {
            reach.withLock { $0.unreachable = true }
        } else {
            let next = (silent.endpoint + 1) % count
            _ = preferredEndpoint.compareExchange(expected: silent.endpoint, desired: next, ordering: .relaxed)
        }
        let beside = idle.withLock { idle in
            let same = idle.filter { $0.endpoint == silent.endpoint }
            idle.removeAll { $0.endpoint == silent.endpoint }
            return same
        }
        for session in beside { session.close() }
    }

    /// A new connection; while the server cannot be reached, one attempt at a time.
    private func newSession() throws -> PostgresSession {
        let attempts = reach.withLock { state in
            guard state.unreachable else { return true }
            defer { state.probing = true }
            return !state.probing
        }
        guard attempts else {
            throw PitstopError(.unavailable, "\(location): the PostgreSQL server could not be reached a moment ago, and a new attempt is under way; try again shortly")
        }
        do {
            let (connection, endpoint) = try connectToAny()
            reach.withLock { $0 = (unreachable: false, probing: false) }
            let session = PostgresSession(connection: connection, logger: logger)
            session.endpoint = endpoint
            return session
        } catch {
            let unreachable = (error as? PitstopError)?.kind == .unavailable
            reach.withLock { state in
                state.probing = false
                if unreachable { state.unreachable = true }
            }
            throw error
        }
    }

    private func give(back session: PostgresSession) {
        guard !session.isClosed else { return }
        if closed.load(ordering: .relaxed) {
            session.close()
            return
        }
        idle.withLock { $0.append(session) }
    }

    /// A new connection of its own, outside the pool, to the first of the URL's servers that
    /// answers and, under `target_session_attrs=read-write`, takes writes; the one that last
    /// did is tried first, so that a server given up (the old primary) costs one connect
    /// timeout, not one for every connection.
    func connect() throws -> PostgresConnection {
        try connectToAny().connection
    }

    /// ``connect()``, and which of `location.endpoints` took the connection.
    private func connectToAny() throws -> (connection: PostgresConnection, endpoint: Int) {
        let endpoints = location.endpoints
        guard endpoints.count > 1 else { return (try connect(to: endpoints[0], named: location.description), 0) }
        let first = preferredEndpoint.load(ordering: .relaxed)
        var failures: [String] = []
        for index in [first] + endpoints.indices.filter({ $0 != first }) {
            do {
                let connection = try connect(to: endpoints[index], named: PostgresLocation.hostAndPort(endpoints[index]))
                preferredEndpoint.store(index, ordering: .relaxed)
                return (connection, index)
            } catch {
                // A wrong password or certificate is the operator's to mend: said at once.
                guard let error = error as? PitstopError, error.kind == .unavailable else { throw error }
                failures.append(error.message)
            }
        }
        throw PitstopError(.unavailable, "\(location): none of its \(endpoints.count) servers can take Pitstop's work now: \(failures.joined(separator: "; "))")
    }

    /// The server of `location.endpoints` that last took a connection.
    private let preferredEndpoint = Atomic<Int>(0)

    /// A new connection to one server, `name` the server in messages.
    private func connect(to endpoint: PostgresLocation.Endpoint, named name: String) throws -> PostgresConnection {
        let deadline = NIODeadline.now() + .seconds(Int64(location.liveness.connectTimeout))
        let loop = loops.next()
        var configuration: PostgresConnection.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            // The socket is opened here, not by PostgresNIO, which sets none of the options
            // that notice a vanished server.
            let channel: any Channel
            do { channel = try Self.openTCP(host: host, port: port, on: loop, location.liveness, until: deadline) } catch {
                throw Self.handshakeOrUnreachable(error, location, name: name, host: host)
            }
            configuration = .init(establishedChannel: channel, tls: tls, username: location.user, password: location.password, database: location.database)
            // The name TLS checks and sends (SNI), as PostgresNIO gives it for a host it connects to.
            if (try? SocketAddress(ipAddress: host, port: port)) == nil { configuration.options.tlsServerName = host }
        case .unixSocket(let path):
            configuration = .init(unixSocketPath: path, username: location.user, password: location.password, database: location.database)
        }
        configuration.options.connectTimeout = max(.milliseconds(1), deadline - .now())
        // What the server shows for this connection: which process holds a lock.
        configuration.options.additionalStartupParameters = [("application_name", Self.applicationName)]
        if case .tcp = endpoint { configuration.options.additionalStartupParameters += location.liveness.serverSettings }
        let id = connectionIDs.add(1, ordering: .relaxed).newValue
        do {
            let connection = try PostgresConnection.connect(
                on: loop, configuration: configuration, id: id, logger: logger
            ).wait()
            // Alive until its channel has closed, whoever closes it (the pool, the server, the
            // loop's shutdown) and whenever the last other reference goes: PostgresNIO asserts
            // that a connection is closed when it is freed, and a listener's cleanup during the
            // close could otherwise free it half-way.
            connection.closeFuture.whenComplete { _ in withExtendedLifetime(connection) {} }
            if location.targetSessionAttributes != .any { try refuseReadOnly(connection, name) }
            return connection
        } catch let error as PitstopError {
            throw error
        } catch let error as PSQLError where error.serverInfo != nil {
            let message = error.serverInfo?[.message] ?? "refused"
            // Shutting down, starting up, out of slots, closed to connections: a passing state
            // of the server (a restart, a failover), not a wrong URL.
            if let state = error.serverInfo?[.sqlState], PostgresFailure.meansUnavailable(state, connecting: true) {
                throw PitstopError(.unavailable, "\(name): the server is not accepting connections now: \(message); try again shortly")
            }
            // A server that authenticates by certificate says so ("connection requires a valid
            // client certificate"); the URL's parameters for one are named for the operator.
            let hint = location.tlsClientCertificate == nil && message.contains("certificate")
                ? "; give this client's certificate and key as sslcert=FILE&sslkey=FILE" : ""
            throw PitstopError(.invalid, "\(name): the server refused the connection: \(message)\(hint)")
        } catch let error as PSQLError where error.code == .sslUnsupported {
            throw PitstopError(.invalid, "\(name): the server does not offer TLS, and sslmode=\(location.tlsMode.rawValue) requires it; turn ssl on in the server's postgresql.conf, or give sslmode=prefer")
        } catch {
            throw Self.handshakeOrUnreachable(error, location, name: name, host: Self.host(of: endpoint))
        }
    }

    /// Closes `connection` and refuses it when its server takes no writes: a standby (until it
    /// is promoted), or a server whose transactions are read-only by default.
    private func refuseReadOnly(_ connection: PostgresConnection, _ name: String) throws {
        let readOnly: Bool
        do {
            let rows = try connection.query(PostgresQuery(unsafeSQL: "SHOW transaction_read_only"), logger: logger).wait().rows
            readOnly = try rows.first?.decode(String.self) != "off"
        } catch {
            PostgresSession(connection: connection, logger: logger).close()
            throw PostgresFailure.translate(error)
        }
        guard readOnly else { return }
        PostgresSession(connection: connection, logger: logger).close()
        throw PitstopError(.unavailable, "\(name): the server takes no writes now (a standby, or its transactions are read-only by default)")
    }

    /// A TCP connection to `host`, open by `deadline`, with the options of `liveness`: the
    /// kernel probes it when idle and drops it when the server has been silent too long, so a
    /// unit of work waiting on a vanished server fails (`unavailable`) instead of waiting on.
    private static func openTCP(host: String, port: Int, on loop: any EventLoop, _ liveness: PostgresLocation.Liveness,
                                until deadline: NIODeadline) throws -> any Channel {
        func tcp(_ name: Int32) -> ChannelOptions.Types.SocketOption {
            ChannelOptions.Types.SocketOption(level: SocketOptionLevel(IPPROTO_TCP), name: name)
        }
        var bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(max(.milliseconds(1), deadline - .now()))
        if let keepalive = liveness.keepalive {
            bootstrap = bootstrap
                .channelOption(.socketOption(.so_keepalive), value: 1)
                .channelOption(tcp(TCP_KEEPIDLE), value: SocketOptionValue(keepalive.idle))
                .channelOption(tcp(TCP_KEEPINTVL), value: SocketOptionValue(keepalive.interval))
                .channelOption(tcp(TCP_KEEPCNT), value: SocketOptionValue(keepalive.count))
        }
        if liveness.tcpUserTimeout > 0 {
            bootstrap = bootstrap.channelOption(tcp(TCP_USER_TIMEOUT), value: SocketOptionValue(liveness.tcpUserTimeout))
        }
        return try bootstrap.connect(host: host, port: port).wait()
    }

    /// What a failed connection that the server did not answer in words means: the server ended
    /// the TLS handshake (it refused what this client showed, or did not show), this client
    /// refused the server's certificate, or the server was not reached at all.
    private static func handshakeOrUnreachable(_ error: any Error, _ location: PostgresLocation, name: String, host: String) -> PitstopError {
        if let alert = receivedAlert(error) {
            if let client = location.tlsClientCertificate {
                return PitstopError(.invalid, "\(name): the server did not accept this client's certificate (sslcert=\(client.certificate)): "
                    + "it ended the TLS handshake with the alert '\(alert)'; the certificate must chain to a CA the server trusts (its ssl_ca_file)")
            }
            let hint = alert.contains("certificate") ? "; if it asks for a client certificate, give sslcert=FILE&sslkey=FILE" : ""
            return PitstopError(.invalid, "\(name): the server ended the TLS handshake with the alert '\(alert)'\(hint)")
        }
        if isTLSFailure(error) {
            let roots = location.tlsRootCertificates.map { "the certificates in \($0)" } ?? "the system's trusted roots"
            let check = location.tlsMode == .verifyFull ? "chain to \(roots) and name the host \(host)" : "chain to \(roots)"
            let hint = location.tlsRootCertificates == nil ? "; give the CA that signed it as sslrootcert=FILE" : ""
            return PitstopError(.invalid, "\(name): the server's TLS certificate was not accepted: it must \(check) (sslmode=\(location.tlsMode.rawValue))\(hint)")
        }
        return PitstopError(.unavailable, "\(name): the PostgreSQL server cannot be reached; check that it runs and that --db names it")
    }

    /// The TLS of a TCP connection, as libpq's `sslmode` means it: `prefer` tries TLS and
    /// checks nothing, `require` insists and checks the chain only when `sslrootcert` is given,
    /// `verify-ca` checks the chain, `verify-full` the chain and the host name.
    static func tls(for location: PostgresLocation) throws(PitstopError) -> PostgresConnection.Configuration.TLS {
        guard location.tlsMode != .disable else { return .disable }
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let file = location.tlsRootCertificates {
            let certificates: [NIOSSLCertificate]
            do { certificates = try NIOSSLCertificate.fromPEMFile(file) } catch {
                throw PitstopError(.invalid, "\(location): sslrootcert=\(file): \(FileManager.default.isReadableFile(atPath: file) ? "holds no PEM certificate" : "cannot be read")")
            }
            guard !certificates.isEmpty else { throw PitstopError(.invalid, "\(location): sslrootcert=\(file): holds no PEM certificate") }
            configuration.trustRoots = .certificates(certificates)
        }
        if let client = location.tlsClientCertificate {
            let (chain, key) = try clientCertificate(client, location)
            configuration.certificateChain = chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(key)
        }
        configuration.certificateVerification = switch location.tlsMode {
        case .disable, .prefer: .none
        case .require: location.tlsRootCertificates == nil ? .none : .noHostnameVerification
        case .verifyCA: .noHostnameVerification
        case .verifyFull: .fullVerification
        }
        let context: NIOSSLContext
        do { context = try NIOSSLContext(configuration: configuration) } catch {
            // Both files were read: what can still fail is a key that is not the certificate's.
            if let client = location.tlsClientCertificate {
                throw PitstopError(.invalid, "\(location): sslkey=\(client.key) is not the private key of the certificate in sslcert=\(client.certificate)")
            }
            throw PitstopError(.internal, "\(location): TLS cannot be set up on this machine")
        }
        return location.tlsMode == .prefer ? .prefer(context) : .require(context)
    }

    /// The client's certificate chain and key, read as libpq reads them: a key file that others
    /// may read is refused (0600 or less when it is the user's own, 0640 or less when root's),
    /// and an encrypted key is not taken (libpq's `sslpassword` is not).
    private static func clientCertificate(_ client: PostgresLocation.TLSClientCertificate, _ location: PostgresLocation) throws(PitstopError)
        -> ([NIOSSLCertificate], NIOSSLPrivateKey) {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(client.certificate) } catch {
            throw PitstopError(.invalid, "\(location): sslcert=\(client.certificate): \(FileManager.default.isReadableFile(atPath: client.certificate) ? "holds no PEM certificate" : "cannot be read")")
        }
        guard !chain.isEmpty else { throw PitstopError(.invalid, "\(location): sslcert=\(client.certificate): holds no PEM certificate") }
        var status = stat()
        guard stat(client.key, &status) == 0, FileManager.default.isReadableFile(atPath: client.key) else {
            throw PitstopError(.invalid, "\(location): sslkey=\(client.key): cannot be read")
        }
        let mode = status.st_mode
        let ownTooOpen = status.st_uid == geteuid() && mode & (S_IRWXG | S_IRWXO) != 0
        let rootsTooOpen = status.st_uid == 0 && mode & (S_IWGRP | S_IXGRP | S_IRWXO) != 0
        if ownTooOpen || rootsTooOpen {
            throw PitstopError(.invalid, "\(location): sslkey=\(client.key): others may read this private key; "
                + "make it 0600 or less when it is your own (chmod 600 \(client.key)), 0640 or less when root's, as libpq asks")
        }
        do {
            return (chain, try NIOSSLPrivateKey(file: client.key, format: .pem))
        } catch {
            throw PitstopError(.invalid, "\(location): sslkey=\(client.key): holds no PEM private key that can be read without a passphrase")
        }
    }

    /// The TLS alert the server ended the handshake with ("unknown ca", "certificate required"),
    /// when it did. BoringSSL names the reason of a received alert `…_ALERT_NAME`, and the text
    /// of its errors is all of them that it makes public.
    private static func receivedAlert(_ error: any Error) -> String? {
        if let error = error as? PSQLError, let underlying = error.underlying { return receivedAlert(underlying) }
        guard error is BoringSSLError || error is NIOSSLError else { return nil }
        let text = String(describing: error)
        guard let marker = text.range(of: "_ALERT_") else { return nil }
        let name = text[marker.upperBound...].prefix { ("A"..."Z").contains($0) || $0 == "_" }
        return name.isEmpty ? nil : name.replacingOccurrences(of: "_", with: " ").lowercased()
    }

    /// Whether opening a connection failed in the TLS handshake: the certificate was refused.
    private static func isTLSFailure(_ error: any Error) -> Bool {
        if error is NIOSSLError || error is NIOSSLExtraError { return true }
        if let error = error as? PSQLError, let underlying = error.underlying { return isTLSFailure(underlying) }
        return false
    }

    private static func host(of endpoint: PostgresLocation.Endpoint) -> String {
        if case .tcp(let host, _) = endpoint { return host }
        return "localhost"
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
    /// trusted, and ``notifications()`` returns a new value on every call until a new
    /// connection listens (``listenAgain()``).
    func startListening(channel: String) throws {
        listenState.withLock { $0.channel = channel }
        try listen(channel)
        listening.store(true, ordering: .relaxed)
    }

    /// A connection of its own that listens on `channel`, in place of the last one.
    private func listen(_ channel: String) throws {
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
        // Commits made while no connection listened were not heard: a count given before
        // this point must not match one given after it.
        notified.add(1, ordering: .relaxed)
        let replaced: PostgresConnection? = listener.withLock { current in
            defer { current = closed.load(ordering: .relaxed) ? nil : connection }
            return current
        }
        let _: EventLoopFuture<Void>? = replaced?.close()
        if closed.load(ordering: .relaxed) { let _: EventLoopFuture<Void> = connection.close() }
    }

    /// A connection of the pool was found dead at the other end (reset, or silent): the
    /// listener's, to the same server and idle as it was, most likely is too, and nothing would
    /// say so before its keepalive probes, if ever (a proxy or a load balancer in between
    /// answers them). It is closed, so that marks stop being reused at once and a new listener
    /// is tried, instead of other servers' commits going unheard meanwhile. A listener that was
    /// in fact alive costs one re-listen, and polls read the database until it is back.
    private func listenerIsSuspect() {
        let current = listener.withLock { $0 }
        let _: EventLoopFuture<Void>? = current?.close()
    }

    /// The commits other processes notified; unique on every call while not listening.
    func notifications() -> Int64 {
        let live = listening.load(ordering: .relaxed) && listener.withLock { $0.map { !$0.isClosed } ?? false }
        if live { return notified.load(ordering: .relaxed) }
        if listening.load(ordering: .relaxed) { listenAgain() }
        // Negative, so never equal to a count a listener gave.
        return -notified.add(1, ordering: .relaxed).newValue
    }

    /// The listening connection closed (the server restarted or failed over, or cut it):
    /// listens again on a pool thread, one attempt at a time and at most one a
    /// ``listenRetryInterval``, until it can. Until then nothing is reused, as without a listener.
    private func listenAgain() {
        let now = ContinuousClock.now
        let channel: String? = listenState.withLock { state in
            guard !state.attempting, state.lastAttempt.map({ now - $0 >= Self.listenRetryInterval }) ?? true else { return nil }
            state.attempting = true
            state.lastAttempt = now
            return state.channel
        }
        guard let channel else { return }
        threads.submit { [self] work in
            defer { listenState.withLock { $0.attempting = false } }
            guard case .active = work, !closed.load(ordering: .relaxed) else { return }
            try? listen(channel)
        }
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
