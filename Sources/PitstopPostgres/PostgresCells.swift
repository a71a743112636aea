// A row's cells read by hand, in order: the text and integer columns of large reads (a million
// VMs), without PostgresNIO's generic decoding, which instantiates type metadata and checks
// types for every cell and took most of such a read's time. Anything unexpected (another
// type, another format) goes to the generic decoder, so the answers are the same.
import NIOCore
import PostgresNIO

/// Columns read one after another, as text or integers.
protocol PostgresColumnReader {
    /// The next column as text; nil when it is NULL.
    mutating func text() throws -> String?
    /// The next column as an integer; nil when it is NULL.
    mutating func integer() throws -> Int64?
}

extension PostgresColumnReader {
    /// The next column as text that is never NULL.
    mutating func requiredText() throws -> String {
        guard let text = try text() else { throw PostgresSession.unreadable }
        return text
    }
}

/// The binary values both readers take apart: text is its UTF-8 bytes, an integer its
/// big-endian bytes. Nil for any other type or size.
enum PostgresBinary {
    static func text(_ type: PostgresDataType, _ bytes: ByteBuffer) -> String? {
        switch type {
        case .text, .varchar, .name, .bpchar: String(buffer: bytes)
        default: nil
        }
    }

    static func integer(_ type: PostgresDataType, _ bytes: ByteBuffer) -> Int64? {
        switch (type, bytes.readableBytes) {
        case (.int2, 2): bytes.getInteger(at: bytes.readerIndex, as: Int16.self).map(Int64.init)
        case (.int4, 4): bytes.getInteger(at: bytes.readerIndex, as: Int32.self).map(Int64.init)
        case (.int8, 8): bytes.getInteger(at: bytes.readerIndex, as: Int64.self)
        default: nil
        }
    }
}

struct PostgresCells: PostgresColumnReader {
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
        return try PostgresBinary.text(cell.dataType, bytes) ?? decoded(cell, String.self)
    }

    /// The next column as an integer; nil when it is NULL.
    mutating func integer() throws -> Int64? {
        let cell = try next()
        guard let bytes = cell.bytes else { return nil }
        if cell.format == .binary, let value = PostgresBinary.integer(cell.dataType, bytes) { return value }
        return try decoded(cell, Int64.self)
    }

    /// The next column, an array of integers (as `array_agg` of an integer column gives), in
    /// order; NULL elements are nil, a NULL array has none.
    mutating func integers() throws -> [Int64?] {
        var (type, count, bytes) = try PostgresColumnArrays.array(try next())
        var out: [Int64?] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            guard let element = try PostgresColumnArrays.element(&bytes) else { out.append(nil); continue }
            guard let value = PostgresBinary.integer(type, element) else { throw PostgresSession.unreadable }
            out.append(value)
        }
        return out
    }

    private func decoded<T: PostgresDecodable>(_ cell: PostgresCell, _ type: T.Type) throws -> T {
        do { return try cell.decode(T.self) } catch { throw PostgresSession.unreadable }
    }
}

/// Rows sent as columns: a row of one-dimensional arrays in PostgreSQL's binary format, the
/// n-th element of each array making the n-th row, such as `SELECT array_agg(a), array_agg(b)
/// FROM (...)` gives. A large read takes a batch of rows this way instead of a row at a time
/// (each row costs a message and its cells, most of a million-row read's time).
struct PostgresColumnArrays: PostgresColumnReader {
    /// One array: its elements' type, and the bytes of the elements not yet read.
    private struct Column {
        var type: PostgresDataType
        var bytes: ByteBuffer
    }

    private var columns: [Column]
    /// The column the next read takes, in the current row.
    private var column = 0
    /// Rows not yet begun.
    private(set) var remaining: Int

    /// The arrays of `row`, all of one length; no rows when they are NULL (`array_agg` of
    /// no rows).
    init(_ row: PostgresRow) throws {
        var columns: [Column] = []
        var length: Int?
        for cell in row {
            let array = try Self.array(cell)
            guard length == nil || length == array.count || cell.bytes == nil else { throw PostgresSession.unreadable }
            length = cell.bytes == nil ? length ?? 0 : array.count
            columns.append(Column(type: array.type, bytes: array.elements))
        }
        self.columns = columns
        remaining = length ?? 0
        column = columns.count
    }

    /// A one-dimensional array cell taken apart: its elements' type, how many, and their bytes
    /// (each length-prefixed, see ``element(_:)``). A NULL array has no elements.
    static func array(_ cell: PostgresCell) throws -> (type: PostgresDataType, count: Int, elements: ByteBuffer) {
        guard var bytes = cell.bytes else { return (cell.dataType, 0, ByteBuffer()) }
        // Dimensions, has-nulls flag, element type; then each dimension's length and lower bound.
        guard cell.format == .binary, let dimensions = bytes.readInteger(as: Int32.self), bytes.readInteger(as: Int32.self) != nil,
              let type = bytes.readInteger(as: UInt32.self), dimensions <= 1 else { throw PostgresSession.unreadable }
        var count = 0
        if dimensions == 1 {
            guard let n = bytes.readInteger(as: Int32.self), bytes.readInteger(as: Int32.self) != nil, n >= 0 else { throw PostgresSession.unreadable }
            count = Int(n)
        }
        return (PostgresDataType(type), count, bytes)
    }

    /// The last row's element of `column` as text, without reading the rows before it: their
    /// lengths are skipped. Nil when there is no row or the element is NULL.
    func lastText(ofColumn column: Int) throws -> String? {
        guard column < columns.count, remaining > 0 else { return nil }
        var bytes = columns[column].bytes
        for _ in 1..<remaining { _ = try Self.element(&bytes) }
        return try Self.element(&bytes).map { try Self.text(columns[column].type, $0) }
    }

    /// Moves to the next row; false when every row was read.
    mutating func nextRow() -> Bool {
        guard remaining > 0 else { return false }
        remaining -= 1
        column = 0
        return true
    }

    /// The current row's next element: its type and bytes, nil for NULL.
    private mutating func next() throws -> (type: PostgresDataType, bytes: ByteBuffer?) {
        guard column < columns.count else { throw PostgresSession.unreadable }
        defer { column += 1 }
        return (columns[column].type, try Self.element(&columns[column].bytes))
    }

    /// One length-prefixed element taken from the front of an array's bytes; nil for NULL.
    static func element(_ bytes: inout ByteBuffer) throws -> ByteBuffer? {
        guard let length = bytes.readInteger(as: Int32.self) else { throw PostgresSession.unreadable }
        guard length >= 0 else { return nil }
        guard let value = bytes.readSlice(length: Int(length)) else { throw PostgresSession.unreadable }
        return value
    }

    private static func text(_ type: PostgresDataType, _ value: ByteBuffer) throws -> String {
        guard let text = PostgresBinary.text(type, value) else { throw PostgresSession.unreadable }
        return text
    }

    mutating func text() throws -> String? {
        let (type, value) = try next()
        return try value.map { try Self.text(type, $0) }
    }

    mutating func integer() throws -> Int64? {
        let (type, value) = try next()
        guard let value else { return nil }
        guard let integer = PostgresBinary.integer(type, value) else { throw PostgresSession.unreadable }
        return integer
    }
}
