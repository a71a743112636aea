// The PostgreSQL store: one database several Pitstop processes share, migrated on open.
import Foundation
import Logging
import NIOCore
import NIOPosix
public import PitstopCore
public import PitstopStore
import PostgresNIO
import Synchronization

/// Owns a bounded pool of connections to one PostgreSQL database. Each unit of work runs on a
/// thread of its own with one connection and one transaction, its statements waited for there:
/// the repositories stay synchronous, as on SQLite, and no event loop ever waits.
///
/// Writers take one transaction-scoped advisory lock first, so writes from every process are
/// serialized exactly as SQLite serializes them: a plan reads the fleet and the active plan and
/// writes its events with no other write in between, in whichever process it runs. Readers
/// see one snapshot (REPEATABLE READ) and never wait.
public struct PostgresStore: Store {
    let pool: PostgresPool

    /// The advisory lock every write transaction holds: one writer at a time, across processes.
    static let writeLockKey: Int64 = 0x7069_7473_746f_7001  // "pitstop" 1
    /// The advisory lock held while migrating.
    static let migrationLockKey: Int64 = 0x7069_7473_746f_7002
    /// What every write transaction notifies, so other processes' change marks move.
    static let changeChannel = "pitstop_changes"

    /// Connects to the database at `location` and brings its schema up to date; refused, with
    /// nothing written, when it holds a schema this binary does not know.
    ///
    /// - Parameter listening: a server's store listens for other processes' commits, so that
    ///   ``changeMark()`` follows them; one command does not need to.
    public static func open(_ location: PostgresLocation, listening: Bool = false) throws(PitstopError) -> PostgresStore {
        let pool = try PostgresPool(location: location)
        do {
            try pool.withSession { session in try PostgresMigrator.migrate(session) }
            if listening { try pool.startListening(channel: changeChannel) }
        } catch let error as PitstopError {
            pool.shutdown()
            throw error.located(location)
        } catch let error as MigrationError {
            pool.shutdown()
            throw PitstopError(.conflict, "\(location): \(error)")
        } catch {
            pool.shutdown()
            throw PitstopError(.internal, "\(location): cannot open the database")
        }
        return PostgresStore(pool: pool)
    }

    /// Closes every connection; units of work still running fail.
    public func close() { pool.shutdown() }

    public var location: PostgresLocation { pool.location }

    // MARK: Store

    public func read<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T {
        try await pool.run { session in
            try session.transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
                try work(PostgresRepositories(session: session))
            }
        }
    }

    public func write<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T {
        try await write(bulk: false, work)
    }

    /// A write that adds many VMs: they are streamed through `COPY`.
    public func bulkWrite<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T {
        try await write(bulk: true, work)
    }

    private func write<T: Sendable>(bulk: Bool, _ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T {
        defer { pool.writes.add(1, ordering: .relaxed) }
        let sender = pool.sender
        return try await pool.run { session in try Self.writeTransaction(session, sender: sender, bulk: bulk, work) }
    }

    /// One write: the write lock (waiting at most as long as SQLite's busy timeout), the work,
    /// a notice to other processes (signed by `sender`, so that this pool's listener skips it),
    /// the commit.
    static func writeTransaction<T>(_ session: PostgresSession, sender: String, bulk: Bool = false, _ work: (any Repositories) throws -> T) throws -> T {
        try session.transaction(begin: "BEGIN ISOLATION LEVEL READ COMMITTED") {
            try takeWriteLock(session, shared: false)
            let result = try work(PostgresRepositories(session: session, bulk: bulk))
            try session.execute("SELECT pg_notify(\(changeChannel), \(sender))")
            return result
        }
    }

    /// Beside other bookkeeping writes, never beside a write: the write lock taken shared (a
    /// write takes it alone), and no notice to other processes nor move of this one's mark.
    /// PostgreSQL queues a shared request behind a waiting write's, so writes are not starved.
    public func bookkeepingWrite<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T {
        try await pool.run { session in
            try session.transaction(begin: "BEGIN ISOLATION LEVEL READ COMMITTED") {
                try Self.takeWriteLock(session, shared: true)
                return try work(PostgresRepositories(session: session))
            }
        }
    }

    /// The write lock, waiting at most as long as SQLite's busy timeout.
    private static func takeWriteLock(_ session: PostgresSession, shared: Bool) throws {
        try session.execute("SET LOCAL lock_timeout = \(unescaped: "'\(PostgresFailure.writeLockTimeoutSeconds)s'")")
        try session.execute(shared ? "SELECT pg_advisory_xact_lock_shared(\(writeLockKey))" : "SELECT pg_advisory_xact_lock(\(writeLockKey))")
        try session.execute("SET LOCAL lock_timeout = 0")
    }

    public func isHealthy() async -> Bool {
        do {
            return try await pool.run { session in
                try session.transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
                    try PostgresMigrator.isCurrent(session)
                }
            }
        } catch {
            return false
        }
    }

    /// This process's write count, and the count of commits other processes notified (or, while
    /// not listening, a new value on every call: nothing can be reused).
    public func changeMark() -> ChangeMark {
        ChangeMark([Int64(pool.writes.load(ordering: .relaxed)), pool.notifications()])
    }

    /// A session-level advisory lock on a connection of its own.
    public func tryLock(_ name: String) async throws -> LockAttempt {
        let pool = self.pool
        return try await pool.offEventLoop { try PostgresAdvisoryLock.take(name: name, pool: pool) }
    }

    /// The names of the migrations recorded in the database, in order.
    public func appliedMigrations() async throws -> [String] {
        try await pool.run { session in
            try session.rows("SELECT name FROM pitstop_migrations ORDER BY name").map { try session.decode($0, String.self) }
        }
    }
}

extension PostgresSession {
    /// Runs `body` in a transaction opened by `begin`: committed when it returns, rolled back
    /// when it throws.
    func transaction<T>(begin: String, _ body: () throws -> T) throws -> T {
        try execute(PostgresQuery(unsafeSQL: begin))
        do {
            let result = try body()
            try runCommitActions()
            try execute("COMMIT")
            return result
        } catch {
            dropCommitActions()
            abandonCopy()
            if !isClosed { _ = try? execute("ROLLBACK") }
            throw error
        }
    }
}

extension PitstopError {
    /// The error, naming the database when its connection was lost.
    func located(_ location: PostgresLocation) -> PitstopError {
        guard PostgresFailure.lostConnection(self) else { return self }
        return PitstopError(kind, "\(location): \(message)")
    }
}

/// The repositories of one PostgreSQL transaction.
struct PostgresRepositories: Repositories {
    let session: PostgresSession
    /// A bulk write: VMs added are copied, not inserted one by one.
    var bulk = false

    var fleet: any FleetRepository { PostgresFleetRepository(session: session) }
    var vms: any VMRepository { PostgresVMRepository(session: session, bulk: bulk) }
    var events: any EventRepository { PostgresEventRepository(session: session) }
    var notices: any NoticeRepository { PostgresNoticeRepository(session: session) }
    var audit: any AuditRepository { PostgresAuditRepository(session: session) }
    var history: any HistoryRepository { PostgresHistoryRepository(session: session) }
    var scheduledEvents: any ScheduledEventsRepository { PostgresScheduledEventsRepository(session: session) }
    var gauges: any GaugeRepository { PostgresGaugeRepository(session: session) }
    var tokens: any TokenRepository { PostgresTokenRepository(session: session) }
}
