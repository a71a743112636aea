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

    /// Looks up an IANA zone name (`America/New_York`, `UTC`), refusing abbreviations and
    /// unknown names.
    public static func timeZone(named name: String) throws(InputProblem) -> TimeZone {
        guard !name.isEmpty, name.count <= 64, name.first?.isLetter == true,
              let zone = TimeZone(identifier: name) else {
            throw InputProblem("'\(name.truncatedForMessage)' is not an IANA time zone (like Europe/Paris or UTC)")
        }
        return zone
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
