// An RFC 5545 (iCalendar) writer, so planned maintenance can be subscribed to from a calendar.

/// A calendar of events, written as RFC 5545 text: CRLF line endings, TEXT values escaped,
/// long lines folded at 75 octets.
///
/// ```swift
/// var calendar = ICalendar(name: "eastus maintenance")
/// calendar.addEvent(uid: "602d9444@pitstop", start: start, end: end, summary: "Reboot web-0")
/// let ics = calendar.text
/// ```
public struct ICalendar: Sendable, Hashable {
    /// The calendar's display name (`X-WR-CALNAME`).
    public var name: String
    private var events: [Event] = []

    private struct Event: Sendable, Hashable {
        var uid: String, start: Timestamp, end: Timestamp
        var summary: String, description: String?, location: String?
    }

    /// An empty calendar called `name`.
    public init(name: String) { self.name = name }

    /// Appends an event; events are written in the order they were added.
    ///
    /// - Parameters:
    ///   - uid: A globally unique, stable identifier, so a calendar that re-reads the feed
    ///     updates the event instead of duplicating it.
    ///   - start: The first instant of the event, written in UTC.
    ///   - end: The instant the event ends, written in UTC.
    public mutating func addEvent(
        uid: String, start: Timestamp, end: Timestamp, summary: String,
        description: String? = nil, location: String? = nil
    ) {
        events.append(Event(uid: uid, start: start, end: end, summary: summary, description: description, location: location))
    }

    /// The calendar as an RFC 5545 `VCALENDAR` object.
    public var text: String {
        var out = ""
        func line(_ name: String, _ value: String) { out += Self.fold(name + ":" + value) }
        func textLine(_ name: String, _ value: String) { line(name, Self.escape(value)) }

        line("BEGIN", "VCALENDAR")
        line("VERSION", "2.0")
        line("PRODID", "-//Pitstop//Pitstop//EN")
        line("CALSCALE", "GREGORIAN")
        textLine("X-WR-CALNAME", name)
        for event in events {
            line("BEGIN", "VEVENT")
            textLine("UID", event.uid)
            // DTSTAMP is required; the start (not the time of writing) keeps the output a
            // function of the plan, so an unchanged plan gives an unchanged feed.
            line("DTSTAMP", Self.utc(event.start))
            line("DTSTART", Self.utc(event.start))
            line("DTEND", Self.utc(event.end))
            textLine("SUMMARY", event.summary)
            if let description = event.description { textLine("DESCRIPTION", description) }
            if let location = event.location { textLine("LOCATION", location) }
            line("END", "VEVENT")
        }
        line("END", "VCALENDAR")
        return out
    }

    /// `20261122T100000Z`: the UTC DATE-TIME form of RFC 5545 section 3.3.5.
    static func utc(_ t: Timestamp) -> String {
        let (days, secs) = t.seconds.floorDivided(by: 86_400)
        let date = CivilDate(daysSinceEpoch: days)
        func pad(_ n: Int, _ width: Int) -> String {
            let digits = String(n)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let s = Int(secs)
        return pad(date.year, 4) + pad(date.month, 2) + pad(date.day, 2)
            + "T" + pad(s / 3600, 2) + pad(s % 3600 / 60, 2) + pad(s % 60, 2) + "Z"
    }

    /// A TEXT value (RFC 5545 section 3.3.11): backslash, semicolon and comma are escaped and
    /// every line break becomes `\n`. Other control characters are not allowed in TEXT and
    /// are dropped, so a stray one in a description cannot corrupt the feed.
    static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        var previousWasCR = false
        for scalar in value.unicodeScalars {
            defer { previousWasCR = scalar == "\r" }
            switch scalar {
            case "\\": out += "\\\\"
            case ";": out += "\\;"
            case ",": out += "\\,"
            case "\r": out += "\\n"
            // CRLF is one line break, already written for the CR.
            case "\n": if !previousWasCR { out += "\\n" }
            case "\t": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: break
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// One content line, folded (RFC 5545 section 3.1) so that no line exceeds 75 octets
    /// before its CRLF; a continuation line starts with a space, which counts toward its 75.
    /// Breaks fall between Unicode scalars, never inside a UTF-8 sequence.
    static func fold(_ line: String) -> String {
        let limit = 75
        var out = ""
        out.reserveCapacity(line.utf8.count + line.utf8.count / 70 * 3 + 2)
        var used = 0
        for scalar in line.unicodeScalars {
            let size = UTF8.width(scalar)
            if used + size > limit {
                out += "\r\n "
                used = 1
            }
            out.unicodeScalars.append(scalar)
            used += size
        }
        out += "\r\n"
        return out
    }
}
