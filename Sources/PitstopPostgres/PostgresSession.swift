// One connection, used by one thread at a time: a unit of work's statements, each sent and
// waited for on the thread that runs the unit of work, never on an event loop. This keeps the
// repository protocols synchronous on PostgreSQL as they are on SQLite.
import Logging
import NIOCore
import NIOPosix
public import PostgresNIO
import PitstopCore
import Synchronization

/// A connection's statements, run one after another, each waited for.
public final class PostgresSession: @unchecked Sendable {
    let connection: PostgresConnection
    let logger: Logger
    /// A `COPY ... FROM STDIN` in progress: rows go to it until another statement runs.
    private var copying: PostgresCopyIn?
    /// What the transaction in progress runs last, before its COMMIT.
    private var beforeCommit: [() throws -> Void] = []
    /// Whether the server has answered a statement since the pool handed this session out: until
    /// it has, a connection found dead took nothing of the unit of work (PostgresPool).
    var hasAnswered = false
    /// Which of the URL's servers the pool opened this connection to (PostgresPool).
    var endpoint = 0

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    var isClosed: Bool { connection.isClosed }

    /// Closes the connection and waits until it is closed (never on an event loop, which
    /// cannot wait: there the close goes on without waiting).
    func close() {
        guard !connection.isClosed else { return }
        let connection = self.connection
        let closing: EventLoopFuture<Void> = connection.close()
        // The connection must outlive its close: PostgresNIO asserts it is closed when it goes.
        if MultiThreadedEventLoopGroup.currentEventLoop == nil {
            withExtendedLifetime(connection) { _ = try? closing.wait() }
        } else {
            closing.whenComplete { _ in withExtendedLifetime(connection) {} }  // kept until closed
        }
    }

    deinit { close() }

    /// Every row the query returns.
    ///
    /// Collected here, a row at a time as they arrive, not by PostgresNIO's `query(...).rows`:
    /// that keeps the rows in its stream's state and appends each message's to a copy of the
    /// array, so a read took time in the square of its rows (a million events: 49% of
    /// `upcoming`'s time was spent copying that array).
    public func rows(_ query: PostgresQuery) throws -> [PostgresRow] {
        let rows = try send(query).rows()
        hasAnswered = true
        return rows
    }

    /// Sends a query without waiting for its answer, which ``PendingRows/rows()`` collects:
    /// the server works on it while this thread does something else. Statements sent after it
    /// on this connection run after it, in order.
    func send(_ query: PostgresQuery) throws -> PendingRows {
        try endCopy()
        let collected = PendingRows.Collected()
        return PendingRows(collected: collected, answer: connection.query(query, logger: logger) { row in collected.rows.append(row) })
    }

    /// A query sent and not yet collected.
    struct PendingRows {
        /// The rows, appended on the connection's event loop as they arrive, and read once the
        /// query has ended: never touched by two threads at once.
        fileprivate final class Collected: @unchecked Sendable {
            var rows: [PostgresRow] = []
        }
        fileprivate let collected: Collected
        fileprivate let answer: EventLoopFuture<PostgresQueryMetadata>

        /// Every row the query returns, once the server has answered.
        func rows() throws -> [PostgresRow] {
            do {
                _ = try answer.wait()
            } catch {
                throw PostgresFailure.translate(error)
            }
            return collected.rows
        }
    }

    /// Runs a statement; returns how many rows it inserted, updated or deleted.
    @discardableResult
    public func execute(_ query: PostgresQuery) throws -> Int {
        try endCopy()
        do {
            let count = try connection.query(query, logger: logger).wait().metadata.rows ?? 0
            hasAnswered = true
            return count
        } catch {
            throw PostgresFailure.translate(error)
        }
    }

    /// Adds a row to the table through `COPY table(columns) FROM STDIN`, which this starts
    /// unless a copy into the same columns is in progress. The copy ends, its rows stored, before
    /// the next statement on this connection runs: nothing needs closing, and a statement
    /// always sees the rows copied before it. `table` and `columns` are the code's own names.
    func copyRow(into table: String, columns: [String], _ fields: [String?]) throws {
        if let copying, copying.table != table || copying.columns != columns { try endCopy() }
        if copying == nil { copying = PostgresCopyIn(table: table, columns: columns, connection: connection, logger: logger) }
        do { try copying!.append(fields) } catch {
            copying = nil
            throw PostgresFailure.translate(error)
        }
    }

    /// Ends the copy in progress, if any, once the server has stored its rows.
    func endCopy() throws {
        guard let copy = copying else { return }
        copying = nil
        do { try copy.finish() } catch { throw PostgresFailure.translate(error) }
    }

    /// Runs `last` at the end of the transaction in progress, just before its COMMIT (in the
    /// order given); dropped if it rolls back.
    func atCommit(_ last: @escaping () throws -> Void) {
        beforeCommit.append(last)
    }

    /// Runs what was left for the commit, once.
    func runCommitActions() throws {
        while !beforeCommit.isEmpty { try beforeCommit.removeFirst()() }
    }

    func dropCommitActions() { beforeCommit.removeAll() }

    /// Drops the copy in progress, if any, for a rollback.
    func abandonCopy() {
        copying?.abandon()
        copying = nil
    }

    /// The first row, if any.
    public func row(_ query: PostgresQuery) throws -> PostgresRow? {
        try rows(query).first
    }

    /// The first column of the first row, decoded; nil when there is no row or it is NULL.
    public func value<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type = T.self) throws -> T? where T._DecodableType == T {
        guard let row = try row(query) else { return nil }
        return try decode(row, T?.self)
    }

    /// Calls `body` for each row in order without holding them all: the query is read through
    /// a cursor, `batch` rows at a time. Only inside a transaction.
    public func forEachRow(_ query: PostgresQuery, batch: Int = 10_000, _ body: (PostgresRow) throws -> Void) throws {
        let cursor = "pitstop_cursor_\(Self.cursorNumber.add(1, ordering: .relaxed).newValue)"
        try execute(PostgresQuery(unsafeSQL: "DECLARE \(cursor) NO SCROLL CURSOR FOR " + query.sql, binds: query.binds))
        while true {
            let rows = try self.rows(PostgresQuery(unsafeSQL: "FETCH FORWARD \(batch) FROM \(cursor)"))
            for row in rows { try body(row) }
            if rows.count < batch { break }
        }
        try execute(PostgresQuery(unsafeSQL: "CLOSE \(cursor)"))
    }

    /// Runs several statements given as one text (a migration file): PostgreSQL's extended
    /// protocol takes one statement at a time, PL/pgSQL's EXECUTE takes many.
    func executeScript(_ sql: String) throws {
        let tag = "$pitstop_script$"
        precondition(!sql.contains(tag), "a script may not contain \(tag)")
        try execute(PostgresQuery(unsafeSQL: "DO $pitstop_block$ BEGIN EXECUTE \(tag)\(sql)\(tag); END $pitstop_block$"))
    }

    /// Decodes a row's columns, in order, as a tuple (or one value), a failure becoming an
    /// operator's error: the row was written behind Pitstop's back.
    public func decode<each Column: PostgresDecodable>(_ row: PostgresRow, _ type: (repeat each Column).Type) throws -> (repeat each Column) {
        do { return try row.decode(type) } catch { throw Self.unreadable }
    }

    /// Decodes a row's one column.
    public func decode<Column: PostgresDecodable>(_ row: PostgresRow, _ type: Column.Type) throws -> Column {
        do { return try row.decode(type) } catch { throw Self.unreadable }
    }

    static let unreadable = PitstopError(.internal, "a stored row cannot be read: a column holds a value of the wrong type; the database was changed outside Pitstop")

    private static let cursorNumber = Atomic<Int>(0)
}
