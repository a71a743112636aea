// The iCalendars Pitstop answers with, each written once: the usable parts of windows
// (`pitstop windows --format ics`, `GET /api/v1/window-occurrences`) and the events ahead
// (`pitstop upcoming --format ics`, `GET /api/v1/upcoming` for text/calendar).
import Foundation
import PitstopCore

extension WindowOccurrence {
    /// The usable parts of `occurrences` as one iCalendar: what `pitstop windows --format ics`
    /// prints and `GET /api/v1/window-occurrences` answers with for text/calendar.
    public static func iCalendar(_ occurrences: [WindowOccurrence]) -> String {
        var calendar = ICalendar(name: "Pitstop maintenance windows")
        for o in occurrences {
            for (i, piece) in o.usable.enumerated() {
                calendar.addEvent(uid: "\(o.window)-\(piece.start.seconds)-\(i)@pitstop", start: piece.start, end: piece.end,
                                  summary: "Maintenance window \(o.window)", description: "\(o.scopeText), \(o.localStart) to \(o.localEnd) \(o.timeZone)")
            }
        }
        return calendar.text
    }
}

extension UpcomingEvent {
    /// One VEVENT per wave: the VMs of a wave go down together.
    public static func iCalendar(_ events: [UpcomingEvent]) -> String {
        var calendar = ICalendar(name: "Pitstop maintenance")
        var waves: [String: [UpcomingEvent]] = [:], order: [String] = []
        for u in events {
            if waves[u.record.event.wave] == nil { order.append(u.record.event.wave) }
            waves[u.record.event.wave, default: []].append(u)
        }
        for wave in order {
            let members = waves[wave]!
            let e = members[0].record.event
            let start = members.map(\.record.event.range.start).min()!, end = members.map(\.record.event.range.end).max()!
            let place = e.availabilitySet.map { "set \($0) UD \(e.updateDomain ?? 0)" } ?? "single-instance"
            calendar.addEvent(uid: "\(wave)@pitstop", start: start, end: end,
                              summary: "\(e.kind.rawValue.capitalized): \(e.region) \(place) (\(members.count) VM\(members.count == 1 ? "" : "s"))",
                              description: "Campaign \(e.campaign). VMs: \(members.map(\.record.event.vm).joined(separator: ", "))",
                              location: e.region)
        }
        return calendar.text
    }
}
