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
                return .acquired(PostgresAdvisoryLock(session: session, pool: pool))
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

    private init(session: PostgresSession, pool: PostgresPool) {
        self.session = session
        self.pool = pool
    }

    /// The server holds the lock while this connection lives.
    var isHeld: Bool { !session.isClosed }

    /// Closing the connection releases every lock it holds.
    func release() { session.close() }

    deinit { release() }
}
