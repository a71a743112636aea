// A small JSON reader and writer. Pitstop reads operators' documents with its own parser so
// that every error names its line, and writes with its own emitter so that exports are
// byte-stable (fixed key order, one record a line).
import Foundation

/// A parsed JSON value, with the line it started on.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number as written, so integers of any size and decimals are kept exactly.
    case number(String)
    case string(String)
    case array([JSONNode])
    case object([(key: String, node: JSONNode)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.node == $1.node }
        default: return false
        }
    }

    /// The JSON kind, as an error message names it.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A JSON value and the 1-based line of the document it starts on.
public struct JSONNode: Sendable, Equatable {
    public var value: JSONValue
    public var line: Int

    public init(value: JSONValue, line: Int) {
        self.value = value
        self.line = line
    }
}

/// A syntax error: where, and what was expected.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

/// Parses a whole JSON text. Rejects invalid UTF-8, trailing garbage, and nesting deeper than
/// 64 levels (an inventory needs three).
public struct JSONParser {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var depth = 0
    private static let maxDepth = 64

    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONNode {
        var parser = JSONParser(bytes: bytes)
        return try parser.document()
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func document() throws(JSONSyntaxError) -> JSONNode {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }  // a byte-order mark some editors add
        skipWhitespace()
        guard index < bytes.count else { throw fail("the document is empty") }
        let node = try value()
        skipWhitespace()
        guard index == bytes.count else { throw fail("unexpected \(describeCurrent()) after the end of the document") }
        return node
    }

    private func fail(_ message: String) -> JSONSyntaxError { JSONSyntaxError(line: line, message: message) }

    private func describeCurrent() -> String {
        guard index < bytes.count else { return "end of file" }
        let b = bytes[index]
        return b >= 0x20 && b < 0x7F ? "'\(Character(UnicodeScalar(b)))'" : String(format: "byte 0x%02X", b)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0D: index += 1
            case 0x0A: index += 1; line += 1
            default: return
            }
        }
    }

    private mutating func value() throws(JSONSyntaxError) -> JSONNode {
        skipWhitespace()
        guard index < bytes.count else { throw fail("the document ends early (truncated?): a value is missing") }
        let startLine = line
        switch bytes[index] {
        case UInt8(ascii: "{"): return JSONNode(value: try object(), line: startLine)
        case UInt8(ascii: "["): return JSONNode(value: try array(), line: startLine)
        case UInt8(ascii: "\""): return JSONNode(value: .string(try string()), line: startLine)
        case UInt8(ascii: "t"): try literal("true"); return JSONNode(value: .bool(true), line: startLine)
        case UInt8(ascii: "f"): try literal("false"); return JSONNode(value: .bool(false), line: startLine)
        case UInt8(ascii: "n"): try literal("null"); return JSONNode(value: .null, line: startLine)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return JSONNode(value: .number(try number()), line: startLine)
        default: throw fail("unexpected \(describeCurrent()) where a value should be")
        }
    }

    private mutating func literal(_ word: String) throws(JSONSyntaxError) {
        let w = Array(word.utf8)
        guard bytes.count - index >= w.count, Array(bytes[index..<index + w.count]) == w else {
            throw fail("unexpected \(describeCurrent()) where a value should be")
        }
        index += w.count
    }

    private mutating func number() throws(JSONSyntaxError) -> String {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        func digits() -> Int {
            let s = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
            return index - s
        }
        guard digits() > 0 else { throw fail("a number needs digits") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw fail("a number needs digits after the decimal point") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw fail("a number needs digits in its exponent") }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func string() throws(JSONSyntaxError) -> String {
        index += 1  // opening quote
        var out: [UInt8] = []
        var runStart = index
        while true {
            guard index < bytes.count else { throw fail("the document ends inside a string (truncated?)") }
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                out.append(contentsOf: bytes[runStart..<index])
                index += 1
                break
            }
            if b < 0x20 {
                throw fail(b == 0x0A ? "a string is not closed before the end of the line" : String(format: "control byte 0x%02X inside a string must be escaped", b))
            }
            if b == UInt8(ascii: "\\") {
                out.append(contentsOf: bytes[runStart..<index])
                index += 1
                try escape(into: &out)
                runStart = index
                continue
            }
            if b < 0x80 { index += 1; continue }
            try skipUTF8Sequence()
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Steps over one multi-byte UTF-8 sequence, refusing overlong forms, surrogates and
    /// anything past U+10FFFF.
    private mutating func skipUTF8Sequence() throws(JSONSyntaxError) {
        let b0 = bytes[index]
        let invalid = fail(String(format: "invalid UTF-8 (byte 0x%02X at offset %d)", b0, index))
        let length: Int, lowSecond: UInt8, highSecond: UInt8
        switch b0 {
        case 0xC2...0xDF: (length, lowSecond, highSecond) = (2, 0x80, 0xBF)
        case 0xE0: (length, lowSecond, highSecond) = (3, 0xA0, 0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (length, lowSecond, highSecond) = (3, 0x80, 0xBF)
        case 0xED: (length, lowSecond, highSecond) = (3, 0x80, 0x9F)
        case 0xF0: (length, lowSecond, highSecond) = (4, 0x90, 0xBF)
        case 0xF1...0xF3: (length, lowSecond, highSecond) = (4, 0x80, 0xBF)
        case 0xF4: (length, lowSecond, highSecond) = (4, 0x80, 0x8F)
        default: throw invalid
        }
        guard index + length <= bytes.count else { throw invalid }
        guard (lowSecond...highSecond).contains(bytes[index + 1]) else { throw invalid }
        for k in 2..<length where !(0x80...0xBF).contains(bytes[index + k]) { throw invalid }
        index += length
    }

    private mutating func escape(into out: inout [UInt8]) throws(JSONSyntaxError) {
        guard index < bytes.count else { throw fail("the document ends inside a string (truncated?)") }
        let c = bytes[index]
        index += 1
        switch c {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if scalar == 0 { throw fail("a \\u0000 escape in a string: \(InventoryRules.nulRefusal)") }
            if (0xD800...0xDBFF).contains(scalar) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fail("a \\u escape holds half of a surrogate pair")
                }
                index += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw fail("a \\u escape holds half of a surrogate pair") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw fail("a \\u escape holds half of a surrogate pair")
            }
            out.append(contentsOf: Array(String(Character(UnicodeScalar(scalar)!)).utf8))
        default:
            throw fail("unknown escape '\\\(Character(UnicodeScalar(c)))' in a string")
        }
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("the document ends inside a \\u escape") }
        var v: UInt32 = 0
        for b in bytes[index..<index + 4] {
            guard let d = Character(UnicodeScalar(b)).hexDigitValue else { throw fail("a \\u escape needs four hex digits") }
            v = v * 16 + UInt32(d)
        }
        index += 4
        return v
    }

    private mutating func array() throws(JSONSyntaxError) -> JSONValue {
        index += 1
        depth += 1
        guard depth <= Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth) levels") }
        defer { depth -= 1 }
        var items: [JSONNode] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
        while true {
            items.append(try value())
            skipWhitespace()
            guard index < bytes.count else { throw fail("the document ends inside an array (truncated?)") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw fail("expected ',' or ']' in an array, found \(describeCurrent())")
        }
    }

    private mutating func object() throws(JSONSyntaxError) -> JSONValue {
        index += 1
        depth += 1
        guard depth <= Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth) levels") }
        defer { depth -= 1 }
        var members: [(key: String, node: JSONNode)] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw fail("the document ends inside an object (truncated?)") }
            guard bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a quoted key in an object, found \(describeCurrent())") }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw fail(index < bytes.count ? "expected ':' after key \"\(key.truncatedForMessage)\"" : "the document ends inside an object (truncated?)")
            }
            index += 1
            members.append((key, try value()))
            skipWhitespace()
            guard index < bytes.count else { throw fail("the document ends inside an object (truncated?)") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            throw fail("expected ',' or '}' in an object, found \(describeCurrent())")
        }
    }
}

/// Writes JSON text with keys in the order given, for stable, diffable output.
public enum JSONText {
    /// `"text"` with JSON escapes: `\"`, `\\`, `\n`, `\r`, `\t`, and `\u00XX` for the other
    /// control characters; everything else as it is. Most text needs none, and is copied whole:
    /// appending it a scalar at a time was two fifths of printing a million events as JSON.
    public static func quote(_ s: String) -> String {
        guard s.utf8.contains(where: needsEscape) else { return "\"" + s + "\"" }
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(s.utf8.count + 8)
        let hex = Array("0123456789abcdef".utf8)
        // UTF-8's multi-byte sequences are all bytes from 0x80 up: only ASCII is ever escaped.
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case ..<0x20: out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether a byte of UTF-8 text must be escaped in a JSON string.
    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20
    }

    public static func quote(_ s: String?) -> String { s.map(quote) ?? "null" }
    public static func number(_ n: Int?) -> String { n.map(String.init) ?? "null" }
    public static func number(_ n: Int64?) -> String { n.map(String.init) ?? "null" }

    /// `{"a": 1, "b": "x"}` from members already rendered as JSON.
    public static func object(_ members: [(String, String)]) -> String {
        // Built to its exact size: callers keep a million of these (a listing's items), and a
        // string grown by appending keeps up to twice the room it needs.
        let keys = members.map { quote($0.0) }
        var size = 2 + max(0, members.count - 1) * 2
        for (key, member) in zip(keys, members) { size += key.utf8.count + 2 + member.1.utf8.count }
        var out = "{"
        out.reserveCapacity(size)
        for (i, (key, member)) in zip(keys, members).enumerated() {
            if i > 0 { out += ", " }
            out += key
            out += ": "
            out += member.1
        }
        out += "}"
        return out
    }

    public static func array(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }
}

/// Watches a JSON text as it arrives, chunk by chunk, and stops it at the first string or
/// number longer than a limit, naming the line and the path of the value (`vms[3].name`),
/// before the rest of that value is read: a 200 MB string costs the limit, not 200 MB.
/// It follows only strings, nesting and keys; the parser judges the syntax afterwards.
public struct JSONValueLengthGuard {
    /// A value longer than the limit: where it starts, and the path of keys and indices to it.
    public struct TooLong: Error, Sendable, Equatable {
        public var line: Int
        public var path: String
        public var limit: Int
    }

    private enum Frame {
        case object(key: String?)
        case array(index: Int)
    }

    public let limit: Int
    private var line = 1
    private var valueLine = 1
    private var stack: [Frame] = []
    private var expectingKey = false
    private var inString = false
    private var escaped = false
    private var inBare = false
    private var length = 0
    /// The key being read, kept only up to a length a path can show.
    private var key: [UInt8] = []
    private var readingKey = false

    public init(limit: Int) { self.limit = limit }

    public mutating func feed(_ chunk: [UInt8]) throws(TooLong) {
        for b in chunk {
            if inString {
                if b == 0x0A { line += 1 }
                if escaped {
                    escaped = false
                } else if b == UInt8(ascii: "\\") {
                    escaped = true
                } else if b == UInt8(ascii: "\"") {
                    inString = false
                    if readingKey {
                        setKey(String(decoding: key, as: UTF8.self))
                        readingKey = false
                    }
                    continue
                }
                length += 1
                if readingKey && key.count < 64 { key.append(b) }
                if length > limit { throw tooLong() }
                continue
            }
            switch b {
            case UInt8(ascii: "\""):
                inBare = false
                inString = true
                length = 0
                valueLine = line
                readingKey = expectingKey
                key.removeAll(keepingCapacity: true)
            case UInt8(ascii: "{"):
                inBare = false
                stack.append(.object(key: nil))
                expectingKey = true
            case UInt8(ascii: "["):
                inBare = false
                stack.append(.array(index: 0))
                expectingKey = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                inBare = false
                if !stack.isEmpty { stack.removeLast() }
                expectingKey = false
            case UInt8(ascii: ","):
                inBare = false
                if case .array(let i)? = stack.last {
                    stack[stack.count - 1] = .array(index: i + 1)
                } else if case .object? = stack.last {
                    expectingKey = true
                }
            case UInt8(ascii: ":"):
                inBare = false
                expectingKey = false
            case 0x20, 0x09, 0x0D:
                inBare = false
            case 0x0A:
                inBare = false
                line += 1
            default:
                // A number or literal: long only if someone made it so.
                if !inBare {
                    inBare = true
                    length = 0
                    valueLine = line
                }
                length += 1
                if length > limit { throw tooLong() }
            }
        }
    }

    private mutating func setKey(_ name: String) {
        if case .object? = stack.last { stack[stack.count - 1] = .object(key: name) }
    }

    private func tooLong() -> TooLong {
        var path = ""
        // The key of a value being read is its own; a key that is itself too long is shown by its parent's path.
        let frames = readingKey ? stack.dropLast() : stack[...]
        for frame in frames {
            switch frame {
            case .object(let key?): path += path.isEmpty ? key.escapingControlCharacters : ".\(key.escapingControlCharacters)"
            case .object(nil): break
            case .array(let i): path += "[\(i)]"
            }
        }
        return TooLong(line: valueLine, path: path, limit: limit)
    }
}
