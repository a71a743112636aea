// Lengths of time as operators write them: ISO 8601 (`PT8H`) in documents, short forms
// (`15m`, `30d`) on the command line.
import Foundation

/// A length of time in whole seconds, read from ISO 8601 (`PT8H`, `P1DT2H30M`, `PT30S`) or
/// from the short form (`90s`, `15m`, `8h`, `30d`, `2w`, and sums like `1h30m`).
public struct DurationText: Sendable, Hashable, Codable, CustomStringConvertible {
    public let seconds: Int64
    /// The text as written, so a document round-trips unchanged.
    public let text: String

    public init(seconds: Int64) {
        self.seconds = seconds
        self.text = DurationText.iso8601(seconds)
    }

    /// Parses either form; throws a message an operator understands.
    public init(parsing raw: String) throws(InputProblem) {
        let text = raw.trimmingCharacters(in: .whitespaces)
        let value = text.first == "P" || text.first == "p" ? Self.parseISO(text) : Self.parseShort(text)
        guard let value else {
            throw InputProblem("'\(raw.truncatedForMessage)' is not a duration (ISO 8601 like PT8H or P1DT30M, or 15m, 8h, 30d)")
        }
        self.seconds = value
        self.text = text
    }

    public var description: String { text }

    /// `PT8H`, `P1DT2H30M`, `PT30S`.
    public static func iso8601(_ seconds: Int64) -> String {
        if seconds == 0 { return "PT0S" }
        let d = seconds / 86_400, h = seconds % 86_400 / 3600, m = seconds % 3600 / 60, s = seconds % 60
        var out = "P"
        if d > 0 { out += "\(d)D" }
        if h > 0 || m > 0 || s > 0 { out += "T" }
        if h > 0 { out += "\(h)H" }
        if m > 0 { out += "\(m)M" }
        if s > 0 { out += "\(s)S" }
        return out
    }

    /// `15m`, `1h30m`, `30s`: the short form the CLI prints.
    public static func short(_ seconds: Int64) -> String {
        if seconds == 0 { return "0s" }
        let d = seconds / 86_400, h = seconds % 86_400 / 3600, m = seconds % 3600 / 60, s = seconds % 60
        var out = ""
        if d > 0 { out += "\(d)d" }
        if h > 0 { out += "\(h)h" }
        if m > 0 { out += "\(m)m" }
        if s > 0 { out += "\(s)s" }
        return out
    }

    private static func parseISO(_ text: String) -> Int64? {
        // P[nW] or P[nD][T[nH][nM][nS]], calendar years and months excluded: they have no fixed length.
        var total: Int64 = 0, number: Int64? = nil, inTime = false, sawUnit = false
        for c in text.uppercased().dropFirst() {
            if let digit = c.wholeNumberValue, c.isASCII {
                let (v, overflow) = (number ?? 0).multipliedReportingOverflow(by: 10)
                guard !overflow, v < 10_000_000_000 else { return nil }
                number = v + Int64(digit)
                continue
            }
            if c == "T" {
                guard !inTime, number == nil else { return nil }
                inTime = true
                continue
            }
            guard let n = number else { return nil }
            let unit: Int64
            switch (c, inTime) {
            case ("W", false): unit = 604_800
            case ("D", false): unit = 86_400
            case ("H", true): unit = 3600
            case ("M", true): unit = 60
            case ("S", true): unit = 1
            default: return nil
            }
            total += n * unit
            number = nil
            sawUnit = true
        }
        return sawUnit && number == nil ? total : nil
    }

    private static func parseShort(_ text: String) -> Int64? {
        var total: Int64 = 0, number: Int64? = nil, sawUnit = false
        for c in text.lowercased() {
            if let digit = c.wholeNumberValue, c.isASCII {
                let (v, overflow) = (number ?? 0).multipliedReportingOverflow(by: 10)
                guard !overflow, v < 10_000_000_000 else { return nil }
                number = v + Int64(digit)
                continue
            }
            guard let n = number else { return nil }
            switch c {
            case "w": total += n * 604_800
            case "d": total += n * 86_400
            case "h": total += n * 3600
            case "m": total += n * 60
            case "s": total += n
            default: return nil
            }
            number = nil
            sawUnit = true
        }
        return sawUnit && number == nil ? total : nil
    }
}

/// What is wrong with one value, in words an operator understands. The caller adds the place
/// (file, line, field) where the value came from.
public struct InputProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension String {
    /// The value as an error message quotes it: long values are cut, so that a 100 MB field
    /// does not become a 100 MB message.
    public var truncatedForMessage: String {
        let limit = 60
        guard count > limit else { return self }
        return String(prefix(limit)) + "… (\(utf8.count) bytes)"
    }
}
