// A lock one process at a time holds on a PostgreSQL database: a session-level advisory lock,
// on a connection of its own, held until the holder lets go or its connection ends (the server
// releases it when the process dies, even by SIGKILL, as soon as it sees the connection drop).
import Foundation
import NIOCore
import PitstopStore
import PostgresNIO

final class PostgresAdvisoryLock: HeldLock {
    private let session: PostgresSession
    /// Its connection runs on the pool's event loop: the pool lives as long as the lock.
    private let pool: PostgresPool

    /// The advisory lock's key for `name`: 64 bits of a hash of `pitstop:NAME`, computed by the server.
    static func take(name: String, pool: PostgresPool) throws -> LockAttempt {
        let session = PostgresSession(connection: try pool.connect(), logger: pool.logger)
        let lockName = "pitstop:\(name)"
        do {
            if try session.value("SELECT pg_try_advisory_lock(hashtextextended(\(lockName), 0))", as: Bool.self) == true {
                return .acquired(PostgresAdvisoryLock(session: session, pool: pool, lockName: lockName))
            }
            // The holder's connection names its process (`application_name`, set by the pool).
            let holder = try session.value("""
                SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended(\(lockName), 0)
                LIMIT 1
                """, as: String.self)
            session.close()
            return .heldElsewhere(pid: holder.flatMap(PostgresPool.pid(fromApplicationName:)), place: "its \(name) lock is held on \(pool.location)")
        } catch {
            session.close()
            throw error
        }
    }

    private let lockName: String

    private init(session: PostgresSession, pool: PostgresPool, lockName: String) {
        self.session = session
        self.pool = pool
        self.lockName = lockName
    }

    /// The server holds the lock while this connection lives.
    var isHeld: Bool { !session.isClosed }

    /// Unlocks, then closes the connection. Closing alone would release the lock only once the
    /// server sees the connection end: PostgresNIO closes its socket without the protocol's
    /// Terminate, and a child process started meanwhile holds a copy of the socket (NIO's
    /// sockets are not close-on-exec), so the server saw no end while that child lived: the
    /// lock stayed held for a minute after its holder let go (seen on CI). Not on an event
    /// loop, which cannot wait for the answer: there the close goes alone.
    func release() {
        guard !session.isClosed else { return }
        if MultiThreadedEventLoopGroup.currentEventLoop == nil {
            _ = try? session.value("SELECT pg_advisory_unlock(hashtextextended(\(lockName), 0))", as: Bool.self)
        }
        session.close()
    }

    deinit { release() }
}
