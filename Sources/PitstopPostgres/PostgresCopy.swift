// Rows streamed into a table with `COPY ... FROM STDIN`: the way PostgreSQL loads many rows,
// one statement for all of them instead of one per row. The rows are produced on the unit of
// work's thread and sent by a task, a few chunks ahead at most, so that building them and the
// server storing them overlap without holding the whole load in memory.
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// One `COPY table(columns) FROM STDIN` in progress on a session's connection.
final class PostgresCopyIn: @unchecked Sendable {
    let table: String
    let columns: [String]

    /// Rows gather here until a chunk is full.
    private var pending: ByteBuffer
    private let chunks: AsyncStream<ByteBuffer>.Continuation
    /// Chunks sent to the task and not yet written, and how the copy ended; guarded by `state`.
    private let state = NSCondition()
    private var inFlight = 0
    private var outcome: Result<Void, any Error>?
    /// Set by ``abandon()``: the task fails the copy instead of ending it.
    private var abandoned = false

    /// A chunk is sent when it holds this many bytes.
    static let chunkBytes = 256 * 1024
    /// At most this many chunks wait for the connection: the producer waits beyond.
    static let chunksAhead = 4

    /// Starts the copy. `table` and `columns` are the code's own names, never input.
    init(table: String, columns: [String], connection: PostgresConnection, logger: Logger) {
        self.table = table
        self.columns = columns
        pending = ByteBufferAllocator().buffer(capacity: Self.chunkBytes + 4096)
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        chunks = continuation
        Task { [self] in
            let result: Result<Void, any Error>
            do {
                try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                    for await chunk in stream {
                        try await writer.write(chunk)
                        self.written()
                    }
                    // Thrown here, the copy ends with CopyFail: the server stores nothing more.
                    if self.isAbandoned() { throw CancellationError() }
                }
                result = .success(())
            } catch {
                result = .failure(error)
            }
            ended(result)
        }
    }

    /// A chunk reached the connection: the producer may send another.
    private func written() {
        state.lock()
        inFlight -= 1
        state.signal()
        state.unlock()
    }

    private func isAbandoned() -> Bool {
        state.lock()
        defer { state.unlock() }
        return abandoned
    }

    /// The copy ended, stored or failed.
    private func ended(_ result: Result<Void, any Error>) {
        state.lock()
        outcome = result
        state.broadcast()
        state.unlock()
    }

    /// Adds one row; nil is SQL NULL. Throws what the server said if the copy has failed.
    func append(_ fields: [String?]) throws {
        // One access to `pending` for the row: each access to a class's property is checked
        // for exclusivity at run time, and per field that was a tenth of an import's CPU.
        Self.write(row: fields, into: &pending)
        if pending.readableBytes >= Self.chunkBytes { try send() }
    }

    /// A row in COPY's text format: fields tab-separated, nil as `\N`, a newline after.
    static func write(row fields: [String?], into buffer: inout ByteBuffer) {
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
            if let field { writeEscaped(field, into: &buffer) } else { buffer.writeStaticString("\\N") }
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    /// Sends the last rows and waits until the server has stored them all.
    func finish() throws {
        if pending.readableBytes > 0 { try send() }
        chunks.finish()
        state.lock()
        while outcome == nil { state.wait() }
        let outcome = self.outcome!
        state.unlock()
        try outcome.get()
    }

    /// Gives up: the rows not yet sent are dropped and the server is told the copy failed (the
    /// transaction is rolled back after). Returns once the connection is out of copy mode.
    func abandon() {
        state.lock()
        abandoned = true
        state.unlock()
        chunks.finish()
        state.lock()
        while outcome == nil { state.wait() }
        state.unlock()
    }

    private func send() throws {
        state.lock()
        while inFlight >= Self.chunksAhead && outcome == nil { state.wait() }
        if case .failure(let error)? = outcome {
            state.unlock()
            throw error
        }
        inFlight += 1
        state.unlock()
        chunks.yield(pending)
        pending = ByteBufferAllocator().buffer(capacity: Self.chunkBytes + 4096)
    }

    /// COPY's text format: a backslash, tab, newline or carriage return is escaped.
    /// The bytes are read as one buffer: scanning the string's UTF-8 view a byte at a time
    /// took a twentieth of an import's CPU.
    static func writeEscaped(_ text: String, into buffer: inout ByteBuffer) {
        var text = text
        text.withUTF8 { bytes in
            guard bytes.contains(where: { $0 == UInt8(ascii: "\\") || $0 == 9 || $0 == 10 || $0 == 13 }) else {
                buffer.writeBytes(UnsafeRawBufferPointer(bytes))
                return
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case 9: buffer.writeStaticString("\\t")
                case 10: buffer.writeStaticString("\\n")
                case 13: buffer.writeStaticString("\\r")
                default: buffer.writeInteger(byte)
                }
            }
        }
    }
}

/// A table's indexes, dropped before a load into it and made again from the loaded rows before
/// the commit: PostgreSQL's advice for populating a table ("Populating a Database": building an
/// index over loaded rows is quicker than updating it a row at a time). Only for a table that
/// is empty when the load starts, since building the index reads every row; and for the length
/// of the transaction the table is locked (dropping an index takes `ACCESS EXCLUSIVE`), so that
/// another transaction's reads wait for the commit rather than run without an index, and no
/// other writer adds a row a unique index would refuse. A refusal when an index is made again
/// (two rows the load let in where the index would not) fails the transaction, as the index
/// would have failed the row.
///
/// The statements come from the catalog (`pg_get_indexdef`, `pg_get_constraintdef`), so each
/// index comes back as the migrations made it, under its name, a constraint's index as that
/// constraint. An index another table's foreign key relies on is kept: dropping it would fail.
struct PostgresIndexRebuild {
    /// The statements that make the dropped indexes again, in the order they were dropped.
    private let remakes: [String]

    /// Drops the indexes of `table` (the code's own name, never input), in the session's
    /// transaction.
    init(droppingIndexesOf table: String, in session: PostgresSession) throws {
        let statements = try session.rows("""
            SELECT CASE WHEN c.oid IS NULL THEN format('DROP INDEX %s', i.indexrelid::regclass)
                        ELSE format('ALTER TABLE %s DROP CONSTRAINT %I', i.indrelid::regclass, c.conname) END,
                   CASE WHEN c.oid IS NULL THEN pg_get_indexdef(i.indexrelid)
                        ELSE format('ALTER TABLE %s ADD CONSTRAINT %I %s', i.indrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) END
            FROM pg_index i
            LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')
            WHERE i.indrelid = \(table)::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid)
            ORDER BY i.indexrelid
            """).map { try session.decode($0, (String, String).self) }
        for (drop, _) in statements { try session.execute(PostgresQuery(unsafeSQL: drop)) }
        remakes = statements.map(\.1)
    }

    /// Makes the dropped indexes again over the table's rows.
    func remake(in session: PostgresSession) throws {
        for statement in remakes { try session.execute(PostgresQuery(unsafeSQL: statement)) }
    }
}
