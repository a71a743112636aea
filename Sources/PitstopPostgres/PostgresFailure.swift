// PostgreSQL's refusals in an operator's words. No PostgresNIO type, SQLSTATE or SQL text
// leaves the store: every error crossing the seam is a `PitstopError`, worded as SQLite's are.
import PitstopCore
import PitstopStore
import NIOCore
import PostgresNIO
#if canImport(Glibc)
import Glibc
#endif

enum PostgresFailure {
    /// SQLSTATE classes and codes Pitstop tells apart.
    static let integrityClass = "23"
    static let foreignKeyViolation = "23503"
    static let uniqueViolation = "23505"
    static let raisedByTrigger = "P0001"
    static let lockNotAvailable = "55P03"
    static let diskFull = "53100"
    /// Text PostgreSQL cannot hold (U+0 in a string, refused before it gets here).
    static let characterNotInRepertoire = "22021"
    static let operatorInterventionClass = "57"
    static let tooManyConnections = "53300"
    static let notAcceptingConnections = "55000"

    /// Whether `state` says the server cannot take work now rather than that anything asked
    /// was wrong: shutting down or starting up (class 57, operator intervention: a restart, a
    /// failover) or out of connection slots; when `connecting`, also a database closed to new
    /// connections (55000 means other things of a statement).
    static func meansUnavailable(_ state: String, connecting: Bool = false) -> Bool {
        state.hasPrefix(operatorInterventionClass) || state == tooManyConnections || (connecting && state == notAcceptingConnections)
    }

    /// How long a writer waits for another process's write lock, as SQLite's busy timeout.
    static let writeLockTimeoutSeconds = 10

    /// The one error shape for anything a statement threw.
    static func translate(_ error: any Error) -> any Error {
        if error is PitstopError { return error }
        guard let error = error as? PSQLError else {
            return PitstopError(.internal, "the database failed: \(error)")
        }
        guard let server = error.serverInfo, let state = server[.sqlState] else {
            return (error.underlying as? IOError).map { noAnswer.contains($0.errnoCode) } == true ? silent : unreachable
        }
        let message = server[.message] ?? "an unknown error"
        if state == raisedByTrigger { return PitstopError(.conflict, ConstraintRefusal.schemaRule(message).message) }
        if state.hasPrefix(integrityClass) {
            let refusal: ConstraintRefusal = switch state {
            case uniqueViolation where server[.constraintName] == "vms_by_ip": .ipAddressTaken
            case uniqueViolation: .duplicate
            case foreignKeyViolation: .missingReference
            default: .other
            }
            return PitstopError(.conflict, refusal.message)
        }
        if state == lockNotAvailable {
            return PitstopError(.busy, "the database is busy: another Pitstop process held its write lock for longer than \(writeLockTimeoutSeconds) s; try again")
        }
        if state == characterNotInRepertoire { return PitstopError(.invalid, "a value contains \(InventoryRules.nulRefusal)") }
        if state == diskFull { return PitstopError(.internal, "the database server's disk is full: nothing was written; free some space and try again") }
        if meansUnavailable(state) {
            return PitstopError(.unavailable, "the database server cannot serve now: \(message); try again shortly")
        }
        return PitstopError(.internal, "the database failed: \(message)")
    }

    /// The server could not be reached, or the connection dropped: something at its address
    /// answered, if only with a reset.
    static let unreachable = PitstopError(.unavailable, "the PostgreSQL server cannot be reached or closed the connection; check that it runs and that --db names it")

    /// The connection was given up by this host's kernel: what was sent stayed unacknowledged
    /// for the URL's `tcp_user_timeout`, or the idle connection's keepalive probes went
    /// unanswered. Nothing at the server's address answers at all.
    static let silent = PitstopError(.unavailable, "the PostgreSQL server stopped answering: nothing came back within the connection's timeout (tcp_user_timeout); check that its host is up and the network reaches it")

    /// What the kernel reports when it gives a connection up for want of any answer: a plain
    /// timeout, or the last "no route" it noted meanwhile (the server's neighbours, or a router,
    /// found nobody at its address), which Linux reports instead when there was one.
    static let noAnswer: Set<Int32> = [ETIMEDOUT, EHOSTUNREACH, ENETUNREACH]

    /// Whether `error` says the connection is gone, so that it must never be used again.
    static func lostConnection(_ error: any Error) -> Bool {
        guard let error = error as? PitstopError else { return false }
        return error == unreachable || error == silent
    }
}
