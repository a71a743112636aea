// A streaming CSV reader (RFC 4180: quoted fields, doubled quotes, CRLF or LF), fed in
// chunks so that a million-row file never sits in memory whole.

/// One record of a CSV file: its fields and the line it starts on, or why it was refused.
public struct CSVRecord: Sendable {
    public var line: Int
    public var fields: [String]
    /// Set when the record could not be read (too long, invalid UTF-8, unclosed quote).
    public var problem: String?
}

/// Splits bytes into records. Feed chunks in order, then call `finish`.
public struct CSVReader {
    /// The longest record accepted; longer ones are refused without being kept in memory.
    public let maxRecordBytes: Int
    private var line = 1
    private var recordLine = 1
    private var field: [UInt8] = []
    private var fields: [String] = []
    private var inQuotes = false
    private var quoteJustClosed = false
    private var recordBytes = 0
    private var tooLong = false
    private var problem: String?
    private var sawAnything = false
    /// The file's first bytes, held until they show whether they are a byte-order mark.
    private var lead: [UInt8]? = []

    public init(maxRecordBytes: Int = 1 << 20) {
        self.maxRecordBytes = maxRecordBytes
        field.reserveCapacity(64)
    }

    public mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, emit: (CSVRecord) throws -> Void) rethrows {
        guard lead != nil else { return try consume(chunk, emit: emit) }
        // The first three bytes decide whether a byte-order mark (which some editors and
        // spreadsheets write) starts the file; it is skipped, as the JSON reader skips it.
        var rest = chunk[...]
        while lead!.count < 3, let b = rest.first {
            lead!.append(b)
            rest = rest.dropFirst()
        }
        guard lead!.count == 3 else { return }
        try releaseLead(emit: emit)
        try consume(UnsafeBufferPointer(rebasing: rest), emit: emit)
    }

    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Feeds the bytes held while looking for a byte-order mark, unless they are one.
    private mutating func releaseLead(emit: (CSVRecord) throws -> Void) rethrows {
        guard let held = lead else { return }
        lead = nil
        if held != Self.byteOrderMark { try held.withUnsafeBufferPointer { try consume($0, emit: emit) } }
    }

    private mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>, emit: (CSVRecord) throws -> Void) rethrows {
        for b in chunk {
            if tooLong {
                // Skip to the end of the physical line; quotes no longer count.
                if b == 0x0A { line += 1; try endRecord(emit) }
                continue
            }
            recordBytes += 1
            sawAnything = true
            if recordBytes > maxRecordBytes {
                tooLong = true
                problem = "the record is longer than \(maxRecordBytes) bytes"
                field.removeAll(keepingCapacity: false)
                fields.removeAll()
                if b == 0x0A { line += 1; try endRecord(emit) }
                continue
            }
            if inQuotes {
                if b == UInt8(ascii: "\"") {
                    inQuotes = false
                    quoteJustClosed = true
                } else {
                    if b == 0x0A { line += 1 }
                    field.append(b)
                }
                continue
            }
            switch b {
            case UInt8(ascii: "\""):
                if quoteJustClosed {
                    field.append(b)  // a doubled quote inside a quoted field
                    inQuotes = true
                    quoteJustClosed = false
                } else if field.isEmpty {
                    inQuotes = true
                } else {
                    problem = problem ?? "a quote inside an unquoted field (quote the whole field and double the quote)"
                    field.append(b)
                }
            case UInt8(ascii: ","):
                quoteJustClosed = false
                endField()
            case 0x0A:
                quoteJustClosed = false
                line += 1
                try endRecord(emit)
            case 0x0D:
                continue  // CRLF line ends; a lone CR inside a field is dropped too
            default:
                if quoteJustClosed {
                    problem = problem ?? "text after the closing quote of a field"
                    quoteJustClosed = false
                }
                field.append(b)
            }
        }
    }

    /// Emits the last record if the input did not end with a newline.
    public mutating func finish(emit: (CSVRecord) throws -> Void) rethrows {
        try releaseLead(emit: emit)
        if inQuotes { problem = "a quoted field is not closed before the end of the file (truncated?)" }
        if sawAnything { try endRecord(emit) }
    }

    private mutating func endField() {
        // ASCII needs no validation, and String(validating:) instantiated its generic metadata
        // at run time on every call: 3% of importing a million VMs, six fields each.
        let ascii = field.allSatisfy { $0 < 0x80 }
        if let text = ascii ? String(decoding: field, as: UTF8.self) : String(validating: field, as: UTF8.self) {
            fields.append(text)
        } else {
            problem = problem ?? "field \(fields.count + 1) is not valid UTF-8"
            fields.append("")
        }
        field.removeAll(keepingCapacity: true)
    }

    private mutating func endRecord(_ emit: (CSVRecord) throws -> Void) rethrows {
        if !tooLong { endField() }
        let record = CSVRecord(line: recordLine, fields: fields, problem: problem)
        let blank = !tooLong && problem == nil && fields.count == 1 && fields[0].isEmpty
        fields.removeAll(keepingCapacity: true)
        field.removeAll(keepingCapacity: true)
        problem = nil
        tooLong = false
        inQuotes = false
        quoteJustClosed = false
        recordBytes = 0
        sawAnything = false
        recordLine = line
        if !blank { try emit(record) }
    }
}
