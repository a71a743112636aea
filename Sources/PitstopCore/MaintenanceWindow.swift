// Maintenance windows: when a region's or a set's VMs may be maintained
// (docs/rules.md#maintenance-windows). Occurrences are computed in the window's own zone, so a 22:00
// window stays at 22:00 local time across daylight-saving changes.
public import Foundation

/// Where a window applies. A set with windows of its own uses those instead of its region's.
public enum WindowScope: Sendable, Hashable {
    case region(String)
    case availabilitySet(String)
}

/// A start (local date and time), an IANA zone, a duration and an optional recurrence.
public struct MaintenanceWindow: Sendable, Hashable {
    public var name: String
    public var scope: WindowScope
    public var start: LocalDateTime
    public var timeZone: TimeZone
    public var duration: DurationText
    public var recurrence: Recurrence?
    /// Local wall-clock time after which no occurrence starts.
    public var expires: LocalDateTime?

    public init(
        name: String, scope: WindowScope, start: LocalDateTime, timeZone: TimeZone,
        duration: DurationText, recurrence: Recurrence? = nil, expires: LocalDateTime? = nil
    ) {
        self.name = name
        self.scope = scope
        self.start = start
        self.timeZone = timeZone
        self.duration = duration
        self.recurrence = recurrence
        self.expires = expires
    }

    /// Looks up an IANA zone name (`America/New_York`, `Etc/GMT-5`, `UTC`): the one rule for
    /// every time zone Pitstop reads (windows, notice zones, options). Offsets written as names
    /// (`UTC+5`, `GMT-3`, `+05:00`) are refused: ISO 8601 reads `UTC+5` as five hours ahead of
    /// UTC and POSIX as five hours behind, so either reading puts windows ten hours off for
    /// someone. The message names the `Etc/` zone or asks for the zone of the place.
    public static func timeZone(named name: String) throws(InputProblem) -> TimeZone {
        if let offset = writtenOffset(name) { throw offsetRefusal(name, offsetSeconds: offset) }
        guard !name.isEmpty, name.count <= 64, name.first?.isLetter == true,
              let zone = TimeZone(identifier: name) else {
            throw InputProblem("'\(name.truncatedForMessage)' is not an IANA time zone (like Europe/Paris or UTC)")
        }
        // Foundation makes a zone of its own out of any offset it can read ("UTC+5" becomes
        // GMT+0500); an IANA name never resolves to one of those.
        if zone.identifier.hasPrefix("GMT+") || zone.identifier.hasPrefix("GMT-") {
            throw offsetRefusal(name, offsetSeconds: zone.secondsFromGMT())
        }
        return zone
    }

    /// A zone's name as Pitstop shows, stores and exports it: its IANA identifier, except that
    /// Foundation names the zone it gives for `UTC` "GMT"; Pitstop keeps calling it UTC.
    public static func name(of zone: TimeZone) -> String {
        zone.identifier == "GMT" ? "UTC" : zone.identifier
    }

    /// A zone as it was stored by an earlier version, which accepted offsets such as
    /// `GMT+0500`: kept working as stored, so that an old database still opens; new input goes
    /// through ``timeZone(named:)``.
    public static func timeZone(stored name: String) throws(InputProblem) -> TimeZone {
        if let zone = TimeZone(identifier: name), zone.identifier.hasPrefix("GMT+") || zone.identifier.hasPrefix("GMT-") { return zone }
        return try timeZone(named: name)
    }

    /// The offset, in seconds east of UTC as ISO 8601 reads it, of a name written as an offset:
    /// `UTC+5`, `GMT-03`, `UT+05:30`, `+0530`, `-3`; nil for anything else.
    static func writtenOffset(_ name: String) -> Int? {
        var rest = Substring(name.trimmingCharacters(in: .whitespaces))
        for prefix in ["UTC", "GMT", "UT"] where rest.uppercased().hasPrefix(prefix) {
            rest = rest.dropFirst(prefix.count)
            break
        }
        rest = rest.drop(while: { $0 == " " })
        guard let sign = rest.first, "+-\u{2212}".contains(sign) else { return nil }
        let digits = rest.dropFirst().filter { $0 != ":" }
        guard (1...4).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let (hours, minutes): (Int, Int) = digits.count <= 2 ? (Int(digits)!, 0) : (Int(digits.dropLast(2))!, Int(digits.suffix(2))!)
        guard hours <= 14, minutes < 60 else { return nil }
        return (sign == "+" ? 1 : -1) * (hours * 3600 + minutes * 60)
    }

    private static func offsetRefusal(_ name: String, offsetSeconds offset: Int) -> InputProblem {
        let shown = "'\(name.truncatedForMessage)'"
        let hours = offset / 3600
        guard offset % 3600 == 0, (-12...14).contains(hours) else {
            return InputProblem("\(shown) is an offset, not a time zone: name the IANA zone of the place (like Asia/Kolkata or America/St_Johns)")
        }
        let etc = hours == 0 ? "UTC" : "Etc/GMT\(hours > 0 ? "-" : "+")\(abs(hours))"
        return InputProblem(
            "\(shown) is an offset, not a time zone, and offsets are read both ways (POSIX takes UTC+5 as five hours behind UTC): "
                + "name the IANA zone of the place (like Europe/Paris), or \(etc) for a fixed UTC\(hours >= 0 ? "+" : "-")\(String(format: "%02d", abs(hours))):00 all year")
    }

    /// The occurrences, as UTC ranges, that overlap `range`, in order.
    public func occurrences(overlapping range: TimeRange) -> [TimeRange] {
        guard !range.isEmpty else { return [] }
        let length = duration.seconds
        // Local days whose occurrence could reach into the range; a day either side covers
        // any zone offset.
        let firstDay = LocalDateTime(range.start - length, in: timeZone).date.adding(days: -1)
        let lastDay = LocalDateTime(range.end, in: timeZone).date.adding(days: 1)
        let days: [CivilDate]
        if let recurrence {
            days = recurrence.days(anchor: start.date, from: max(firstDay, start.date), through: lastDay)
        } else {
            days = (firstDay...lastDay).contains(start.date) ? [start.date] : []
        }
        var result: [TimeRange] = []
        for day in days {
            let local = LocalDateTime(date: day, secondOfDay: start.secondOfDay)
            if let expires, local >= expires { break }
            let begin = local.instant(in: timeZone)
            let occurrence = TimeRange(start: begin, end: begin + length)
            if occurrence.overlaps(range) { result.append(occurrence) }
        }
        return result
    }
}

extension CivilDate: Strideable {
    public func distance(to other: CivilDate) -> Int { Int(other.daysSinceEpoch - daysSinceEpoch) }
    public func advanced(by n: Int) -> CivilDate { adding(days: n) }
}
