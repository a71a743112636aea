// Instants, intervals and wall-clock times. Instants are whole UTC seconds: the planner and
// the store compare and format millions of them, so they are plain integers, and their text
// form `YYYY-MM-DDTHH:MM:SSZ` sorts as it reads.
public import Foundation

/// An instant, in whole seconds since 1970-01-01T00:00:00Z.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }
    public init(_ date: Date) { self.seconds = Int64(date.timeIntervalSince1970.rounded(.down)) }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.seconds < b.seconds }
    public static func + (t: Timestamp, s: Int64) -> Timestamp { Timestamp(seconds: t.seconds + s) }
    public static func - (t: Timestamp, s: Int64) -> Timestamp { Timestamp(seconds: t.seconds - s) }
    public static func - (a: Timestamp, b: Timestamp) -> Int64 { a.seconds - b.seconds }

    public var date: Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }

    /// `2026-11-22T10:00:00Z`
    public var iso8601: String {
        let (days, secs) = seconds.floorDivided(by: 86_400)
        return LocalDateTime(date: CivilDate(daysSinceEpoch: days), secondOfDay: Int(secs)).text(zulu: true)
    }

    public var description: String { iso8601 }

    /// `Mon, 19 Sep 2016 18:29:47 GMT` (RFC 1123), as the scheduled-events document writes it.
    public var rfc1123: String {
        let (days, secs) = seconds.floorDivided(by: 86_400)
        let c = CivilDate(daysSinceEpoch: days)
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][Int(days.floorMod(7))]
        let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][c.month - 1]
        return String(
            format: "%@, %02d %@ %04d %02d:%02d:%02d GMT", weekday, c.day, month, c.year,
            Int(secs / 3600), Int(secs % 3600 / 60), Int(secs % 60))
    }

    /// Parses ISO 8601 with a zone: `2026-11-22T10:00:00Z`, `2026-11-22T11:00:00+01:00`,
    /// `2026-11-22T10:00Z`, `2026-11-22T11:00:00+01`; fractional seconds are truncated.
    /// Returns nil on anything else.
    public init?(iso8601 text: String) {
        var scanner = DigitScanner(text)
        guard let local = scanner.localDateTime() else { return nil }
        if scanner.peek == UInt8(ascii: ".") {
            scanner.advance()
            guard scanner.skipDigits() > 0 else { return nil }
        }
        var offset: Int64 = 0
        switch scanner.peek {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            scanner.advance()
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign: Int64 = scanner.peek == UInt8(ascii: "-") ? -1 : 1
            scanner.advance()
            guard let h = scanner.number(digits: 2) else { return nil }
            var m = 0
            // ISO 8601 allows the offset's minutes to be left out (`+01`).
            if !scanner.atEnd {
                if scanner.peek == UInt8(ascii: ":") { scanner.advance() }
                guard let minutes = scanner.number(digits: 2) else { return nil }
                m = minutes
            }
            guard h < 24, m < 60 else { return nil }
            offset = sign * Int64(h * 3600 + m * 60)
        default:
            return nil
        }
        guard scanner.atEnd else { return nil }
        self.seconds = local.secondsAsIfUTC - offset
    }
}

/// A half-open UTC interval `[start, end)`.
public struct TimeRange: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var start: Timestamp
    public var end: Timestamp

    public init(start: Timestamp, end: Timestamp) {
        self.start = start
        self.end = end
    }

    public var duration: Int64 { end - start }
    public var isEmpty: Bool { end <= start }

    public func overlaps(_ other: TimeRange) -> Bool { start < other.end && other.start < end }
    public func contains(_ other: TimeRange) -> Bool { start <= other.start && other.end <= end }
    public func contains(_ t: Timestamp) -> Bool { start <= t && t < end }

    public static func < (a: TimeRange, b: TimeRange) -> Bool { (a.start, a.end) < (b.start, b.end) }

    public var description: String { "\(start.iso8601)..\(end.iso8601)" }

    /// This range with every part covered by `holes` removed, in order.
    public func subtracting(_ holes: [TimeRange]) -> [TimeRange] {
        var pieces: [TimeRange] = []
        var cursor = start
        for hole in holes.filter({ $0.overlaps(self) }).sorted() {
            if hole.start > cursor { pieces.append(TimeRange(start: cursor, end: hole.start)) }
            cursor = max(cursor, hole.end)
            if cursor >= end { break }
        }
        if cursor < end { pieces.append(TimeRange(start: cursor, end: end)) }
        return pieces
    }
}

/// A wall-clock date and time with no zone, as maintenance windows are written
/// (`2026-12-05T22:00:00`).
public struct LocalDateTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        (self.year, self.month, self.day) = (year, month, day)
        (self.hour, self.minute, self.second) = (hour, minute, second)
    }

    /// Parses `YYYY-MM-DDTHH:MM[:SS]` (a space may stand for the `T`); nil on anything else,
    /// including a day the month does not have.
    public init?(_ text: String) {
        var scanner = DigitScanner(text)
        guard let value = scanner.localDateTime(), scanner.atEnd else { return nil }
        self = value
    }

    public var date: CivilDate { CivilDate(year: year, month: month, day: day) }
    public var secondOfDay: Int { hour * 3600 + minute * 60 + second }

    /// The instant this wall-clock time would be if the zone were UTC.
    public var secondsAsIfUTC: Int64 { date.daysSinceEpoch * 86_400 + Int64(secondOfDay) }

    public init(date: CivilDate, secondOfDay s: Int) {
        self.init(year: date.year, month: date.month, day: date.day, hour: s / 3600, minute: s % 3600 / 60, second: s % 60)
    }

    public static func < (a: LocalDateTime, b: LocalDateTime) -> Bool {
        (a.year, a.month, a.day, a.hour, a.minute, a.second) < (b.year, b.month, b.day, b.hour, b.minute, b.second)
    }

    /// `2026-12-05T22:00:00`
    public var description: String { text(zulu: false) }

    /// `2026-12-05T22:00:00`, with a `Z` after it when `zulu`. Written digit by digit: plans
    /// format millions of these, and String(format:) was the largest cost of writing a plan.
    func text(zulu: Bool) -> String {
        guard (0...9999).contains(year) else {
            return String(format: "%04d-%02d-%02dT%02d:%02d:%02d", year, month, day, hour, minute, second) + (zulu ? "Z" : "")
        }
        return String(unsafeUninitializedCapacity: 20) { buffer in
            func put(_ value: Int, _ width: Int, at offset: Int) {
                var v = value
                for i in stride(from: offset + width - 1, through: offset, by: -1) {
                    buffer[i] = UInt8(48 + v % 10)
                    v /= 10
                }
            }
            put(year, 4, at: 0); buffer[4] = 45
            put(month, 2, at: 5); buffer[7] = 45
            put(day, 2, at: 8); buffer[10] = 84
            put(hour, 2, at: 11); buffer[13] = 58
            put(minute, 2, at: 14); buffer[16] = 58
            put(second, 2, at: 17)
            guard zulu else { return 19 }
            buffer[19] = 90
            return 20
        }
    }

    /// The instant this wall-clock time names in `zone`. A time skipped by a daylight-saving
    /// change moves forward by the gap (02:30 on a spring-forward night is 03:30); a time that
    /// happens twice is the first of the two.
    public func instant(in zone: TimeZone) -> Timestamp {
        let wall = secondsAsIfUTC
        func offset(at t: Int64) -> Int64 { Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t)))) }
        // Sample a day either side: offsets reach +14 h, so in zones at +12 h or more
        // (Pacific/Auckland, Pacific/Chatham) samples only half a day away can both fall after
        // a transition near the wall time; a skipped time then moved backwards and a repeated
        // time resolved to the second of the two.
        let before = offset(at: wall - 86_400), after = offset(at: wall + 86_400)
        let candidates = [wall - before, wall - after].filter { offset(at: $0) == wall - $0 }
        if let first = candidates.min() { return Timestamp(seconds: first) }
        return Timestamp(seconds: wall - before)  // in a gap: the earlier offset lands past it
    }

    /// The wall-clock time `t` shows in `zone`.
    public init(_ t: Timestamp, in zone: TimeZone) {
        let local = t.seconds + Int64(zone.secondsFromGMT(for: t.date))
        let (days, secs) = local.floorDivided(by: 86_400)
        self.init(date: CivilDate(daysSinceEpoch: days), secondOfDay: Int(secs))
    }
}

/// A day of the proleptic Gregorian calendar.
public struct CivilDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var year: Int, month: Int, day: Int

    public init(year: Int, month: Int, day: Int) {
        (self.year, self.month, self.day) = (year, month, day)
    }

    /// Howard Hinnant's `civil_from_days`.
    public init(daysSinceEpoch: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(year: Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), month: Int(m), day: Int(d))
    }

    /// Howard Hinnant's `days_from_civil`.
    public var daysSinceEpoch: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public var isValid: Bool { (1...12).contains(month) && day >= 1 && day <= Self.daysIn(month: month, year: year) }

    /// ISO weekday: 1 = Monday ... 7 = Sunday.
    public var weekday: Int { Int((daysSinceEpoch + 3).floorMod(7)) + 1 }

    public func adding(days n: Int) -> CivilDate { CivilDate(daysSinceEpoch: daysSinceEpoch + Int64(n)) }

    public static func < (a: CivilDate, b: CivilDate) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }

    public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }
}

extension Int64 {
    func floorDivided(by d: Int64) -> (quotient: Int64, remainder: Int64) {
        let r = self.floorMod(d)
        return ((self - r) / d, r)
    }

    func floorMod(_ d: Int64) -> Int64 {
        let r = self % d
        return r < 0 ? r + d : r
    }
}

/// Reads the fixed-width digits of ISO 8601 text without allocating.
struct DigitScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    var atEnd: Bool { index == bytes.count }
    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }
    mutating func advance() { index += 1 }

    mutating func expect(_ c: Character) -> Bool {
        guard peek == c.asciiValue else { return false }
        index += 1
        return true
    }

    mutating func number(digits: Int) -> Int? {
        guard index + digits <= bytes.count else { return nil }
        var value = 0
        for b in bytes[index..<index + digits] {
            guard b >= 48 && b <= 57 else { return nil }
            value = value * 10 + Int(b - 48)
        }
        index += digits
        return value
    }

    mutating func skipDigits() -> Int {
        let start = index
        while let b = peek, b >= 48 && b <= 57 { index += 1 }
        return index - start
    }

    mutating func localDateTime() -> LocalDateTime? {
        guard let y = number(digits: 4), expect("-"), let mo = number(digits: 2), expect("-"),
              let d = number(digits: 2) else { return nil }
        guard expect("T") || expect("t") || expect(" ") else { return nil }
        guard let h = number(digits: 2), expect(":"), let mi = number(digits: 2) else { return nil }
        var s = 0
        if peek == UInt8(ascii: ":") {
            advance()
            guard let sec = number(digits: 2) else { return nil }
            s = sec
        }
        let value = LocalDateTime(year: y, month: mo, day: d, hour: h, minute: mi, second: s)
        guard value.date.isValid, h < 24, mi < 60, s < 60 else { return nil }
        return value
    }
}
