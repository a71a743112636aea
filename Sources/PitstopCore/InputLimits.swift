// The bounds on what an operator can ask for, and how a value read from input is quoted back.
// A range typed on the command line or sent to the API is refused beyond its maximum before
// any work starts, so that no command's memory grows with a number someone typed.

/// The documented maximums of user-given ranges and of single values in a document.
public enum InputLimits {
    /// The longest range a listing looks ahead (`windows --within`, `upcoming --within`), a
    /// plan may reach (`plan --horizon`), a plan's per-VM downtime and gap between update
    /// domains, and a maintenance window's duration: 366 days. Listing window occurrences costs memory in
    /// proportion to the range; a year is the longest an operator plans ahead.
    public static let maximumRangeSeconds: Int64 = 366 * 86_400

    /// The longest wait for a relay (`notify --timeout`): one hour.
    public static let maximumRelayTimeoutSeconds: Int64 = 3600

    /// The longest string or number in a JSON document, in bytes: 64 KiB. The longest real
    /// value (a 256-character name, a recurrence) is far shorter; a longer one is refused while
    /// it is being read, so a 200 MB string costs no more than 64 KiB.
    public static let maximumJSONValueBytes = 65_536

    /// Refuses a range longer than ``maximumRangeSeconds`` (or negative).
    public static func checkRange(_ seconds: Int64) throws(InputProblem) {
        guard seconds >= 0 else { throw InputProblem("must not be negative") }
        guard seconds <= maximumRangeSeconds else {
            throw InputProblem("\(DurationText.short(seconds)) is longer than the maximum of \(DurationText.short(maximumRangeSeconds)) (366 days)")
        }
    }

    /// Reads a whole number as written in a document (`7`, `-1`): a number too large for an
    /// integer is out of range, not "not a whole number". `quoted` quotes the value in the
    /// message, as for a CSV cell (text) rather than a JSON number.
    public static func wholeNumber(_ text: String, quoted: Bool = false) throws(InputProblem) -> Int {
        if let n = Int(text) { return n }
        let shown = quoted ? "'\(text.truncatedForMessage)'" : text.truncatedForMessage
        let digits = text.utf8.first == UInt8(ascii: "-") ? text.utf8.dropFirst() : text.utf8[...]
        if !digits.isEmpty, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            throw InputProblem("\(shown) is out of range (\(Int.min)...\(Int.max))")
        }
        throw InputProblem("\(shown) is not a whole number")
    }
}

extension String {
    /// At most `width` characters: a longer text is cut to `width - 1` and ends in "…", for
    /// a table column or a one-line summary.
    public func cut(to width: Int) -> String {
        count > width ? String(prefix(Swift.max(0, width - 1))) + "…" : self
    }

    /// The value with control characters made visible, as every message quotes input:
    /// `\r`, `\n` and `\t` as those escapes, any other control character as `\u{X}` in
    /// hexadecimal (NUL is `\u{0}`, ESC `\u{1B}`). A message never carries a raw CR, LF or NUL
    /// from the input to a terminal or a log.
    public var escapingControlCharacters: String {
        guard unicodeScalars.contains(where: \.isControlForMessage) else { return self }
        var out = ""
        out.reserveCapacity(utf8.count + 8)
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.isControlForMessage: out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

extension Unicode.Scalar {
    /// C0 controls, DEL and C1 controls: what a terminal acts on instead of showing.
    var isControlForMessage: Bool { value < 0x20 || (0x7F...0x9F).contains(value) }
}
