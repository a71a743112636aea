// A row's cells read by hand, in order: the text and integer columns of large reads (a million
// VMs), without PostgresNIO's generic decoding, which instantiates type metadata and checks
// types for every cell and took most of such a read's time. Anything unexpected (another
// type, another format) goes to the generic decoder, so the answers are the same.
import NIOCore
import PostgresNIO

struct PostgresCells {
    private var cells: PostgresRow.Iterator

    init(_ row: PostgresRow) { cells = row.makeIterator() }

    private mutating func next() throws -> PostgresCell {
        guard let cell = cells.next() else { throw PostgresSession.unreadable }
        return cell
    }

    /// The next column as text; nil when it is NULL.
    mutating func text() throws -> String? {
        let cell = try next()
        guard let bytes = cell.bytes else { return nil }
        switch cell.dataType {
        case .text, .varchar, .name, .bpchar: return String(buffer: bytes)
        default: return try decoded(cell, String.self)
        }
    }

    /// The next column as text that is never NULL.
    mutating func requiredText() throws -> String {
        guard let text = try text() else { throw PostgresSession.unreadable }
        return text
    }

    /// The next column as an integer; nil when it is NULL.
    mutating func integer() throws -> Int64? {
        let cell = try next()
        guard var bytes = cell.bytes else { return nil }
        guard cell.format == .binary else { return try decoded(cell, Int64.self) }
        let value: Int64? = switch (cell.dataType, bytes.readableBytes) {
        case (.int2, 2): bytes.readInteger(as: Int16.self).map(Int64.init)
        case (.int4, 4): bytes.readInteger(as: Int32.self).map(Int64.init)
        case (.int8, 8): bytes.readInteger(as: Int64.self)
        default: nil
        }
        if let value { return value }
        return try decoded(cell, Int64.self)
    }

    private func decoded<T: PostgresDecodable>(_ cell: PostgresCell, _ type: T.Type) throws -> T {
        do { return try cell.decode(T.self) } catch { throw PostgresSession.unreadable }
    }
}
