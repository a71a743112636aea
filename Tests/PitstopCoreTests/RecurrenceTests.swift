// Tests for the recurEvery grammar and for maintenance-window occurrences built on it.
import Foundation
import PitstopTestSupport
import Testing
@testable import PitstopCore

/// `2026-03-08` as a CivilDate.
private func day(_ text: String) -> CivilDate {
    LocalDateTime(text + "T00:00")!.date
}

private func dates(_ texts: [String]) -> [CivilDate] { texts.map(day) }

private func zone(_ name: String) -> TimeZone { TimeZone(identifier: name)! }

/// A window starting at `start` (local) in `zoneName`, recurring as `recurEvery`.
private func window(
    _ start: String, _ zoneName: String, duration: String = "PT4H", recurEvery: String?,
    expires: String? = nil
) throws -> MaintenanceWindow {
    MaintenanceWindow(
        name: "test", scope: .region("eastus"), start: LocalDateTime(start)!, timeZone: zone(zoneName),
        duration: try DurationText(parsing: duration), recurrence: try recurEvery.map { try Recurrence(parsing: $0) },
        expires: expires.map { LocalDateTime($0)! })
}

/// The UTC range from `start` to `end`, both ISO 8601.
private func range(_ start: String, _ end: String) -> TimeRange {
    TimeRange(start: Timestamp(iso8601: start)!, end: Timestamp(iso8601: end)!)
}

@Suite struct RecurrenceParsingTests {
    typealias Rule = Recurrence.Rule

    @Test(arguments: [
        ("Day", Rule.daily(every: 1)),
        ("Days", .daily(every: 1)),
        ("day", .daily(every: 1)),
        ("1Day", .daily(every: 1)),
        ("2Day", .daily(every: 2)),
        ("3Days", .daily(every: 3)),
        ("999DAYS", .daily(every: 999)),
        ("Week", .weekly(every: 1, weekdays: [])),
        ("Weeks", .weekly(every: 1, weekdays: [])),
        ("2Weeks", .weekly(every: 2, weekdays: [])),
        ("Week Saturday,Sunday", .weekly(every: 1, weekdays: [6, 7])),
        ("2Weeks Monday", .weekly(every: 2, weekdays: [1])),
        ("week sat, SUN", .weekly(every: 1, weekdays: [6, 7])),
        ("Week Sunday,Wed,Sunday", .weekly(every: 1, weekdays: [3, 7])),
        ("Week Mon,Tue,Wed,Thu,Fri,Sat,Sun", .weekly(every: 1, weekdays: [1, 2, 3, 4, 5, 6, 7])),
        ("Month", .monthlyDays(every: 1, days: [])),
        ("Months", .monthlyDays(every: 1, days: [])),
        ("Month day23,day24", .monthlyDays(every: 1, days: [23, 24])),
        ("3Months day1", .monthlyDays(every: 3, days: [1])),
        ("Month Day31,day1,DAY15", .monthlyDays(every: 1, days: [1, 15, 31])),
        ("Month Third Sunday", .monthlyWeekday(every: 1, ordinal: 3, weekday: 7, offset: 0)),
        ("Month Last Sunday", .monthlyWeekday(every: 1, ordinal: Recurrence.last, weekday: 7, offset: 0)),
        ("Month First mon", .monthlyWeekday(every: 1, ordinal: 1, weekday: 1, offset: 0)),
        ("2Months Second Tuesday", .monthlyWeekday(every: 2, ordinal: 2, weekday: 2, offset: 0)),
        ("Month Fourth Monday Offset3", .monthlyWeekday(every: 1, ordinal: 4, weekday: 1, offset: 3)),
        ("Month Fourth Monday Offset+3", .monthlyWeekday(every: 1, ordinal: 4, weekday: 1, offset: 3)),
        ("Month Last Friday Offset-2", .monthlyWeekday(every: 1, ordinal: Recurrence.last, weekday: 5, offset: -2)),
        ("month last friday offset-6", .monthlyWeekday(every: 1, ordinal: Recurrence.last, weekday: 5, offset: -6)),
        ("Month First Friday Offset6", .monthlyWeekday(every: 1, ordinal: 1, weekday: 5, offset: 6)),
        ("Month First Friday Offset0", .monthlyWeekday(every: 1, ordinal: 1, weekday: 5, offset: 0)),
    ])
    func parses(text: String, rule: Rule) throws {
        let recurrence = try Recurrence(parsing: text)
        #expect(recurrence.rule == rule)
        #expect(recurrence.text == text)
        #expect(recurrence.description == text)
    }

    @Test func keepsTextAsWritten() throws {
        let text = "  week  Saturday , sunday "
        #expect(try Recurrence(parsing: text).text == text)
    }

    @Test(arguments: [
        ("Week Funday", "'Week Funday': 'Funday' is not a weekday (Monday..Sunday"),
        ("", "is empty"),
        ("   ", "is empty"),
        ("Fortnight", "'Fortnight' is not a period (Day, Week or Month"),
        ("Weekly", "'Weekly' is not a period"),
        ("3", "'3' is not a period"),
        ("Weeks12", "'Weeks12' is not a period"),
        ("0Days", "'0Days' has a count outside 1..999"),
        ("1000Weeks", "'1000Weeks' has a count outside 1..999"),
        ("99999999999999999999999Days", "has a count outside 1..999"),
        ("Day Monday", "'Monday' is not allowed after 'Day'"),
        ("3Days day1", "'day1' is not allowed after '3Days'"),
        ("Week Saturday,Sun,Moonday", "'Moonday' is not a weekday"),
        ("Week day1", "'day1' is not a weekday"),
        ("Month day32", "'day32' is not a day of the month (day1..day31)"),
        ("Month day0", "'day0' is not a day of the month"),
        ("Month day1,dayX", "'dayX' is not a day of the month (day1..day31)"),
        ("Month day", "'day' is not a day of the month"),
        ("Month day001", "'day001' is not a day of the month"),
        ("Month Fifth Sunday", "'Fifth' is not a day of the month (day1..day31) or an ordinal (First, Second, Third, Fourth, Last)"),
        ("Month Sunday", "'Sunday' needs an ordinal before it (First, Second, Third, Fourth or Last)"),
        ("Month Third", "'Third' must be followed by a weekday (Monday..Sunday)"),
        ("Month Third Funday", "'Funday' is not a weekday"),
        ("Month Last Sunday Offset7", "'Offset7' is not an offset of -6..+6 days"),
        ("Month Last Sunday Offset-7", "'Offset-7' is not an offset of -6..+6 days"),
        ("Month Last Sunday Offset+", "'Offset+' is not an offset"),
        ("Month Last Sunday Offset", "'Offset' is not an offset"),
        ("Month Last Sunday OffsetX", "'OffsetX' is not an offset"),
        ("Month Last Sunday Offset99999999999999999999", "is not an offset of -6..+6 days"),
        ("Month Last Sunday Later", "'Later' is not allowed here: only an offset may follow the weekday"),
        ("Month Last Sunday Offset1 again", "'again' is not allowed here: nothing may follow the offset"),
    ])
    func rejects(text: String, message: String) {
        let error = #expect(throws: InputProblem.self) { try Recurrence(parsing: text) }
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "no error")")
    }

    /// A 100 MB rule is refused by its length before any parsing: a short message, and no
    /// hang (the time limit only guards against one; speed belongs in benchmarks).
    @Test(.hangGuard)
    func rejectsHugeInputWithAShortMessage() {
        let huge = "Week " + String(repeating: "Saturday,", count: 11_000_000)  // ~100 MB
        var message = ""
        do { _ = try Recurrence(parsing: huge) } catch { message = error.message }
        #expect(message.contains("too long"))
        #expect(message.utf8.count < 400)
    }

    @Test func rejectsSlightlyTooLongInput() {
        let long = "Week " + Array(repeating: "Saturday", count: 30).joined(separator: ",")
        #expect(throws: InputProblem.self) { try Recurrence(parsing: long) }
    }
}

@Suite struct RecurrenceDaysTests {
    @Test(arguments: [
        // Daily cadence, counted from the anchor.
        ("Day", "2026-01-01", "2026-01-03", "2026-01-05", ["2026-01-03", "2026-01-04", "2026-01-05"]),
        ("3Days", "2026-01-01", "2026-01-05", "2026-01-20", ["2026-01-07", "2026-01-10", "2026-01-13", "2026-01-16", "2026-01-19"]),
        ("3Days", "2026-01-01", "2025-12-01", "2026-01-07", ["2026-01-01", "2026-01-04", "2026-01-07"]),
        ("2Days", "2026-02-27", "2026-02-27", "2026-03-05", ["2026-02-27", "2026-03-01", "2026-03-03", "2026-03-05"]),
        // Weekly defaults to the anchor's weekday (2026-01-06 is a Tuesday).
        ("Week", "2026-01-06", "2026-01-01", "2026-01-31", ["2026-01-06", "2026-01-13", "2026-01-20", "2026-01-27"]),
        ("Week Saturday,Sunday", "2026-01-07", "2026-01-01", "2026-01-18", ["2026-01-10", "2026-01-11", "2026-01-17", "2026-01-18"]),
        // Every second ISO week from the anchor's week (Jan 5-11); Monday Jan 5 is before the anchor.
        ("2Weeks Monday,Friday", "2026-01-07", "2026-01-01", "2026-02-08", ["2026-01-09", "2026-01-19", "2026-01-23", "2026-02-02", "2026-02-06"]),
        ("2Weeks", "2026-01-07", "2026-01-15", "2026-02-20", ["2026-01-21", "2026-02-04", "2026-02-18"]),
        ("3Weeks Sun", "2026-01-01", "2026-01-01", "2026-02-28", ["2026-01-04", "2026-01-25", "2026-02-15"]),
        // Monthly on days of the month; a day the month lacks is skipped.
        ("Month day23,day24", "2026-01-24", "2026-01-01", "2026-03-31", ["2026-01-24", "2026-02-23", "2026-02-24", "2026-03-23", "2026-03-24"]),
        ("Month day31", "2026-01-01", "2026-01-01", "2026-12-31",
         ["2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31", "2026-08-31", "2026-10-31", "2026-12-31"]),
        ("Month day30", "2026-01-01", "2026-01-01", "2026-04-30", ["2026-01-30", "2026-03-30", "2026-04-30"]),
        ("Month day29", "2027-01-01", "2027-02-01", "2027-03-01", []),
        ("Month day29", "2027-01-01", "2028-02-01", "2028-03-01", ["2028-02-29"]),
        ("Month", "2026-01-31", "2026-01-01", "2026-05-31", ["2026-01-31", "2026-03-31", "2026-05-31"]),
        ("Month", "2026-01-15", "2026-01-01", "2026-03-31", ["2026-01-15", "2026-02-15", "2026-03-15"]),
        ("2Months day15", "2026-01-20", "2026-01-01", "2026-07-31", ["2026-03-15", "2026-05-15", "2026-07-15"]),
        ("3Months day1", "2025-11-10", "2026-01-01", "2026-12-31", ["2026-02-01", "2026-05-01", "2026-08-01", "2026-11-01"]),
        // Monthly on a weekday of the month.
        ("Month Third Sunday", "2026-01-01", "2026-01-01", "2026-04-30", ["2026-01-18", "2026-02-15", "2026-03-15", "2026-04-19"]),
        ("Month Last Sunday", "2026-01-01", "2026-01-01", "2026-06-30",
         ["2026-01-25", "2026-02-22", "2026-03-29", "2026-04-26", "2026-05-31", "2026-06-28"]),
        ("Month First Monday", "2026-06-01", "2026-06-01", "2026-08-31", ["2026-06-01", "2026-07-06", "2026-08-03"]),
        ("Month Fourth Monday Offset3", "2026-01-01", "2026-01-01", "2026-04-30", ["2026-01-29", "2026-02-26", "2026-03-26", "2026-04-30"]),
        // The fourth Monday of September 2026 is the 28th: Offset3 lands on 1 October.
        ("Month Fourth Monday Offset3", "2026-01-01", "2026-09-01", "2026-10-31", ["2026-10-01", "2026-10-29"]),
        // Offset-6 carries April's first Friday (the 3rd) back to 28 March.
        ("Month First Friday Offset-6", "2026-03-01", "2026-03-01", "2026-04-30", ["2026-03-28", "2026-04-25"]),
        ("Month First Friday Offset-6", "2026-01-01", "2026-06-01", "2026-08-31", ["2026-06-27", "2026-08-01", "2026-08-29"]),
        // Offset+6 carries May's last Sunday (the 31st) into June.
        ("Month Last Sunday Offset+6", "2026-05-01", "2026-06-01", "2026-06-30", ["2026-06-06"]),
        ("2Months Last Sunday", "2026-01-01", "2026-01-01", "2026-06-30", ["2026-01-25", "2026-03-29", "2026-05-31"]),
        // Days before the anchor never occur, even when the pattern names them.
        ("Month Third Sunday", "2026-01-20", "2026-01-01", "2026-02-28", ["2026-02-15"]),
        ("Day", "2026-05-01", "2026-01-01", "2026-04-30", []),
        // An empty or reversed range.
        ("Day", "2026-01-01", "2026-02-10", "2026-02-09", []),
    ])
    func days(text: String, anchor: String, from: String, through: String, expected: [String]) throws {
        let recurrence = try Recurrence(parsing: text)
        #expect(recurrence.days(anchor: day(anchor), from: day(from), through: day(through)) == dates(expected))
    }

    /// Each rule, queried over a long span once and then over many short windows: the short
    /// answers must be exactly the long answer's days in their window, which checks the
    /// cadence alignment at every start day.
    @Test(arguments: [
        "Day", "3Days", "7Days", "Week", "2Weeks Monday,Friday", "3Weeks Sat,Sun", "Month day31,day1",
        "2Months day29,day30", "Month", "Month Last Sunday Offset6", "3Months First Friday Offset-6",
        "Month Fourth Monday Offset3", "5Months Second Wed",
    ])
    func shortQueriesAgreeWithALongOne(text: String) throws {
        let recurrence = try Recurrence(parsing: text)
        let anchor = day("2027-01-31")
        let all = recurrence.days(anchor: anchor, from: day("2026-01-01"), through: day("2030-12-31"))
        #expect(!all.isEmpty)
        #expect(all == all.sorted())
        #expect(Set(all).count == all.count)
        #expect(all.allSatisfy { $0 >= anchor })
        var from = day("2026-11-01")
        while from < day("2029-03-01") {
            let through = from.adding(days: 90)
            let some = recurrence.days(anchor: anchor, from: from, through: through)
            #expect(some == all.filter { $0 >= from && $0 <= through }, "\(text) from \(from)")
            from = from.adding(days: 11)
        }
    }
}

@Suite struct MaintenanceWindowOccurrenceTests {
    private func starts(_ window: MaintenanceWindow, _ from: String, _ to: String) -> [String] {
        window.occurrences(overlapping: range(from, to)).map(\.start.iso8601)
    }

    @Test func newYorkWeeklyWindowKeepsLocalTimeAcrossBothDSTChanges() throws {
        // 2026-03-01 is a Sunday; DST starts 2026-03-08 and ends 2026-11-01.
        let w = try window("2026-03-01T22:00", "America/New_York", recurEvery: "Week")
        let spring = w.occurrences(overlapping: range("2026-03-01T00:00Z", "2026-03-17T00:00Z"))
        #expect(spring.map(\.start.iso8601) == ["2026-03-02T03:00:00Z", "2026-03-09T02:00:00Z", "2026-03-16T02:00:00Z"])
        let autumn = w.occurrences(overlapping: range("2026-10-20T00:00Z", "2026-11-10T00:00Z"))
        #expect(autumn.map(\.start.iso8601) == ["2026-10-26T02:00:00Z", "2026-11-02T03:00:00Z", "2026-11-09T03:00:00Z"])
        for occurrence in spring + autumn {
            let local = LocalDateTime(occurrence.start, in: w.timeZone)
            #expect(local.hour == 22 && local.minute == 0 && local.date.weekday == 7)
            #expect(occurrence.duration == 4 * 3600)
        }
    }

    @Test func berlinWindowKeepsLocalTimeAcrossBothDSTChanges() throws {
        // Sundays at 10:00 Berlin time; DST starts 2026-03-29 and ends 2026-10-25.
        let w = try window("2026-03-22T10:00", "Europe/Berlin", recurEvery: "Week")
        #expect(starts(w, "2026-03-20T00:00Z", "2026-04-06T00:00Z")
            == ["2026-03-22T09:00:00Z", "2026-03-29T08:00:00Z", "2026-04-05T08:00:00Z"])
        #expect(starts(w, "2026-10-17T00:00Z", "2026-10-26T00:00Z") == ["2026-10-18T08:00:00Z", "2026-10-25T09:00:00Z"])
    }

    @Test func windowInTheSpringForwardGapMovesToTheFollowingHour() throws {
        // 02:30 does not exist in New York on 2026-03-08: that night's window starts at 03:30 EDT.
        let w = try window("2026-03-06T02:30", "America/New_York", duration: "PT1H", recurEvery: "Day")
        let occurrences = w.occurrences(overlapping: range("2026-03-06T00:00Z", "2026-03-10T00:00Z"))
        #expect(occurrences.map(\.start.iso8601)
            == ["2026-03-06T07:30:00Z", "2026-03-07T07:30:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"])
        let gapNight = LocalDateTime(occurrences[2].start, in: w.timeZone)
        #expect(gapNight == LocalDateTime(year: 2026, month: 3, day: 8, hour: 3, minute: 30))
        #expect(LocalDateTime(occurrences[3].start, in: w.timeZone).hour == 2)
    }

    @Test func windowCrossingMidnightBelongsToTheDayItStarts() throws {
        // Wednesdays 23:00-02:00 UTC; 2026-06-03 is a Wednesday.
        let w = try window("2026-06-03T23:00", "UTC", duration: "PT3H", recurEvery: "Week Wednesday")
        // A query covering only Thursday's small hours finds Wednesday's occurrence.
        let found = w.occurrences(overlapping: range("2026-06-11T01:00Z", "2026-06-11T01:30Z"))
        #expect(found == [range("2026-06-10T23:00Z", "2026-06-11T02:00Z")])
        // The rest of Thursday has none: Thursday is not a window day.
        #expect(w.occurrences(overlapping: range("2026-06-11T02:00Z", "2026-06-11T23:00Z")).isEmpty)
    }

    @Test func monthDay31SkipsShortMonths() throws {
        let w = try window("2026-01-31T01:00", "UTC", recurEvery: "Month day31")
        #expect(starts(w, "2026-01-01T00:00Z", "2026-08-01T00:00Z")
            == ["2026-01-31T01:00:00Z", "2026-03-31T01:00:00Z", "2026-05-31T01:00:00Z", "2026-07-31T01:00:00Z"])
    }

    @Test func monthDay29OnlyInLeapFebruary() throws {
        let w = try window("2027-01-29T12:00", "UTC", recurEvery: "Month day29")
        #expect(starts(w, "2027-02-01T00:00Z", "2027-03-01T00:00Z").isEmpty)
        #expect(starts(w, "2028-02-01T00:00Z", "2028-03-01T00:00Z") == ["2028-02-29T12:00:00Z"])
        #expect(starts(w, "2027-01-01T00:00Z", "2027-04-01T00:00Z") == ["2027-01-29T12:00:00Z", "2027-03-29T12:00:00Z"])
    }

    @Test func monthLastSunday() throws {
        let w = try window("2026-01-01T22:00", "Europe/Berlin", recurEvery: "Month Last Sunday")
        // 22:00 Berlin: 21:00Z in winter, 20:00Z in summer (Mar 29 is itself the change day).
        #expect(starts(w, "2026-01-01T00:00Z", "2026-05-01T00:00Z")
            == ["2026-01-25T21:00:00Z", "2026-02-22T21:00:00Z", "2026-03-29T20:00:00Z", "2026-04-26T20:00:00Z"])
    }

    @Test func monthFourthMondayOffset3() throws {
        let w = try window("2026-01-01T20:00", "UTC", recurEvery: "Month Fourth Monday Offset3")
        #expect(starts(w, "2026-08-01T00:00Z", "2026-11-01T00:00Z")
            == ["2026-08-27T20:00:00Z", "2026-10-01T20:00:00Z", "2026-10-29T20:00:00Z"])
    }

    @Test func offsetMinus6CrossesIntoThePreviousMonth() throws {
        let w = try window("2026-03-01T20:00", "UTC", recurEvery: "Month First Friday Offset-6")
        // April's first Friday is the 3rd: six days earlier is 28 March, the occurrence of April.
        #expect(starts(w, "2026-03-01T00:00Z", "2026-05-01T00:00Z") == ["2026-03-28T20:00:00Z", "2026-04-25T20:00:00Z"])
    }

    @Test func expiryStopsTheRecurrence() throws {
        let w = try window("2026-01-01T22:00", "UTC", recurEvery: "Day", expires: "2026-01-04T22:00")
        #expect(starts(w, "2026-01-01T00:00Z", "2026-02-01T00:00Z")
            == ["2026-01-01T22:00:00Z", "2026-01-02T22:00:00Z", "2026-01-03T22:00:00Z"])
        #expect(starts(w, "2026-01-10T00:00Z", "2026-02-01T00:00Z").isEmpty)
    }

    @Test func threeDayCadence() throws {
        let w = try window("2026-01-01T06:00", "Asia/Tokyo", duration: "PT2H", recurEvery: "3Days")
        // 06:00 JST is 21:00Z the day before.
        #expect(starts(w, "2026-01-05T00:00Z", "2026-01-14T00:00Z")
            == ["2026-01-06T21:00:00Z", "2026-01-09T21:00:00Z", "2026-01-12T21:00:00Z"])
    }

    @Test func twoWeekCadence() throws {
        // 2026-01-03 is a Saturday; every other weekend.
        let w = try window("2026-01-03T01:00", "UTC", recurEvery: "2Weeks Saturday,Sunday")
        #expect(starts(w, "2026-01-01T00:00Z", "2026-02-01T00:00Z")
            == ["2026-01-03T01:00:00Z", "2026-01-04T01:00:00Z", "2026-01-17T01:00:00Z",
                "2026-01-18T01:00:00Z", "2026-01-31T01:00:00Z"])
    }

    @Test func windowWithoutRecurrenceOccursOnce() throws {
        let w = try window("2026-01-03T01:00", "UTC", recurEvery: nil)
        #expect(starts(w, "2026-01-01T00:00Z", "2026-02-01T00:00Z") == ["2026-01-03T01:00:00Z"])
        #expect(starts(w, "2026-01-03T05:00Z", "2026-02-01T00:00Z").isEmpty)
    }
}
