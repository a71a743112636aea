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
        // No valid duration is anywhere near this long; refusing before trimming keeps a
        // 100 MB field from being copied.
        let text = raw.utf8.count > Self.maximumLength ? "" : raw.trimmingCharacters(in: .whitespaces)
        let value = text.first == "P" || text.first == "p" ? Self.parseISO(text) : Self.parseShort(text)
        guard let value else {
            throw InputProblem("'\(raw.truncatedForMessage)' is not a duration (ISO 8601 like PT8H or P1DT30M, or 15m, 8h, 30d)")
        }
        self.seconds = value
        self.text = text
    }

    public var description: String { text }

    static let maximumLength = 100

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
        // P[nW][nD][T[nH][nM][nS]], calendar years and months excluded: they have no fixed length.
        // Units must come in that order, each at most once: that is the standard, and it also
        // bounds the total (five terms under 10^10 units each), so the sum cannot overflow.
        var total: Int64 = 0, number: Int64? = nil, inTime = false, sawUnit = false
        var rank = 0, sawTimeUnit = false
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
            let unit: Int64, unitRank: Int
            switch (c, inTime) {
            case ("W", false): (unit, unitRank) = (604_800, 1)
            case ("D", false): (unit, unitRank) = (86_400, 2)
            case ("H", true): (unit, unitRank) = (3600, 3)
            case ("M", true): (unit, unitRank) = (60, 4)
            case ("S", true): (unit, unitRank) = (1, 5)
            default: return nil
            }
            guard unitRank > rank else { return nil }
            rank = unitRank
            total += n * unit
            number = nil
            sawUnit = true
            sawTimeUnit = sawTimeUnit || inTime
        }
        // `P1DT` is not a duration: a `T` must be followed by a time part.
        guard !inTime || sawTimeUnit else { return nil }
        return sawUnit && number == nil ? total : nil
    }

    private static func parseShort(_ text: String) -> Int64? {
        // Units from largest to smallest, each at most once (`1h30m`, not `30m1h` or `1m1m`),
        // which also bounds the sum so it cannot overflow.
        var total: Int64 = 0, number: Int64? = nil, sawUnit = false, rank = 0
        for c in text.lowercased() {
            if let digit = c.wholeNumberValue, c.isASCII {
                let (v, overflow) = (number ?? 0).multipliedReportingOverflow(by: 10)
                guard !overflow, v < 10_000_000_000 else { return nil }
                number = v + Int64(digit)
                continue
            }
            guard let n = number else { return nil }
            let unit: Int64, unitRank: Int
            switch c {
            case "w": (unit, unitRank) = (604_800, 1)
            case "d": (unit, unitRank) = (86_400, 2)
            case "h": (unit, unitRank) = (3600, 3)
            case "m": (unit, unitRank) = (60, 4)
            case "s": (unit, unitRank) = (1, 5)
            default: return nil
            }
            guard unitRank > rank else { return nil }
            rank = unitRank
            total += n * unit
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
    /// does not become a 100 MB message, and control characters are escapes
    /// (``escapingControlCharacters``).
    public var truncatedForMessage: String {
        let limit = 60
        // Walk at most `limit` characters: `count` would read all 100 MB.
        guard let cut = index(startIndex, offsetBy: limit, limitedBy: endIndex), cut != endIndex else { return escapingControlCharacters }
        return String(self[..<cut]).escapingControlCharacters + "… (\(utf8.count) bytes)"
    }
}
