// The events ahead as an iCalendar: what `upcoming --format ics` prints and what the API
// answers for `text/calendar`, written once.
import Foundation
public import PitstopCore

public enum UpcomingCalendar {
    /// One VEVENT per wave: the VMs of a wave go down together.
    public static func text(_ events: [UpcomingEvent]) -> String {
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
