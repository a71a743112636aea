// Tests for instants, wall-clock times and durations (Time.swift, Duration.swift).
import Foundation
import PitstopTestSupport
import Testing
@testable import PitstopCore

@Suite struct LocalDateTimeInstantTests {
    @Test(arguments: [
        // Ordinary times.
        ("2026-06-15T12:00:00", "UTC", "2026-06-15T12:00:00Z"),
        ("2026-01-15T22:00:00", "America/New_York", "2026-01-16T03:00:00Z"),
        ("2026-07-15T22:00:00", "America/New_York", "2026-07-16T02:00:00Z"),
        ("2026-06-15T08:00:00", "Asia/Kolkata", "2026-06-15T02:30:00Z"),
        // Gaps: the skipped time moves forward by the gap.
        ("2026-03-08T02:30:00", "America/New_York", "2026-03-08T07:30:00Z"),
        ("2026-03-08T02:00:00", "America/New_York", "2026-03-08T07:00:00Z"),
        ("2026-03-29T02:30:00", "Europe/Berlin", "2026-03-29T01:30:00Z"),
        ("2026-09-27T02:30:00", "Pacific/Auckland", "2026-09-26T14:30:00Z"),
        ("2026-10-04T02:15:00", "Australia/Lord_Howe", "2026-10-03T15:45:00Z"),
        // Overlaps: a time that happens twice is the first of the two.
        ("2026-11-01T01:30:00", "America/New_York", "2026-11-01T05:30:00Z"),
        ("2026-10-25T02:30:00", "Europe/Berlin", "2026-10-25T00:30:00Z"),
        ("2026-04-05T02:30:00", "Pacific/Auckland", "2026-04-04T13:30:00Z"),
        ("2026-04-05T01:45:00", "Australia/Lord_Howe", "2026-04-04T14:45:00Z"),
        // Just around the changes.
        ("2026-03-08T01:59:59", "America/New_York", "2026-03-08T06:59:59Z"),
        ("2026-03-08T03:00:00", "America/New_York", "2026-03-08T07:00:00Z"),
        ("2026-11-01T02:00:00", "America/New_York", "2026-11-01T07:00:00Z"),
        ("2026-11-01T00:59:59", "America/New_York", "2026-11-01T04:59:59Z"),
    ])
    func instant(local: String, zone: String, utc: String) throws {
        let wall = try #require(LocalDateTime(local))
        #expect(wall.instant(in: TimeZone(identifier: zone)!).iso8601 == utc)
    }

    @Test func gapTimeShowsAsTheFollowingHour() {
        let zone = TimeZone(identifier: "America/New_York")!
        let t = LocalDateTime(year: 2026, month: 3, day: 8, hour: 2, minute: 30).instant(in: zone)
        #expect(LocalDateTime(t, in: zone) == LocalDateTime(year: 2026, month: 3, day: 8, hour: 3, minute: 30))
    }

    @Test func overlapTimeIsTheFirstOfTheTwo() {
        let zone = TimeZone(identifier: "America/New_York")!
        let t = LocalDateTime(year: 2026, month: 11, day: 1, hour: 1, minute: 30).instant(in: zone)
        // An hour later the clock shows 01:30 again.
        #expect(LocalDateTime(t, in: zone) == LocalDateTime(t + 3600, in: zone))
        #expect(LocalDateTime(t - 3600, in: zone).hour == 0)
    }

    @Test(arguments: ["UTC", "America/New_York", "Europe/Berlin", "Pacific/Auckland", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham"])
    func everyInstantRoundTripsThroughItsWallClockTime(zone name: String) {
        let zone = TimeZone(identifier: name)!
        // Every 15 minutes through 2026: an instant's wall time names that instant, except
        // for the second of two identical wall times, which names the first.
        var t = Timestamp(iso8601: "2026-01-01T00:00:00Z")!
        let end = Timestamp(iso8601: "2027-01-01T00:00:00Z")!
        while t < end {
            let back = LocalDateTime(t, in: zone).instant(in: zone)
            #expect(back == t || (back < t && LocalDateTime(back, in: zone) == LocalDateTime(t, in: zone)), "\(t) in \(name)")
            t = t + 900
        }
    }

    @Test(arguments: [
        ("2026-12-05T22:00:00", true), ("2026-12-05T22:00", true), ("2026-12-05 22:00", true),
        ("2028-02-29T00:00", true), ("2027-02-29T00:00", false), ("2026-04-31T00:00", false),
        ("2026-12-05T24:00", false), ("2026-12-05T22:60", false), ("2026-12-05T22:00:60", false),
        ("2026-12-05", false), ("2026-12-05T22:00Z", false), ("", false), ("26-12-05T22:00", false),
    ])
    func parsesLocalDateTime(text: String, valid: Bool) {
        #expect((LocalDateTime(text) != nil) == valid)
    }

    @Test func localDateTimeDescription() {
        #expect(LocalDateTime("2026-12-05 22:00")?.description == "2026-12-05T22:00:00")
    }
}

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-11-22T10:00:00Z", Int64(1_795_341_600)),
        ("2026-11-22T10:00Z", 1_795_341_600),
        ("2026-11-22t10:00:00z", 1_795_341_600),
        ("2026-11-22T11:00:00+01:00", 1_795_341_600),
        ("2026-11-22T11:00:00+0100", 1_795_341_600),
        ("2026-11-22T11:00:00+01", 1_795_341_600),
        ("2026-11-22T05:30:00-04:30", 1_795_341_600),
        ("2026-11-22T10:00:00.999Z", 1_795_341_600),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59Z", -1),
        ("2016-09-19T18:29:47Z", 1_474_309_787),
        ("2000-02-29T12:00:00Z", 951_825_600),
    ])
    func parses(text: String, seconds: Int64) {
        #expect(Timestamp(iso8601: text)?.seconds == seconds)
    }

    @Test(arguments: [
        "", "2026-11-22T10:00:00", "2026-11-22", "2026-02-30T10:00:00Z", "2026-11-22T24:00:00Z",
        "2026-11-22T10:00:00+24:00", "2026-11-22T10:00:00+01:60", "2026-11-22T10:00:00Zjunk",
        "2026-11-22T10:00:00.Z", "2026-11-22T10:00:00+1", "2026-11-22T10:00:00 Z", " 2026-11-22T10:00:00Z",
    ])
    func rejects(text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }

    @Test(arguments: [0, -1, 1_474_309_787, 1_795_341_600, 951_825_600, 4_102_444_799, -31_536_000] as [Int64])
    func iso8601RoundTrips(seconds: Int64) {
        let t = Timestamp(seconds: seconds)
        #expect(Timestamp(iso8601: t.iso8601) == t)
        #expect(t.description == t.iso8601)
    }

    @Test(arguments: [
        (Int64(1_474_309_787), "2016-09-19T18:29:47Z", "Mon, 19 Sep 2016 18:29:47 GMT"),
        (0, "1970-01-01T00:00:00Z", "Thu, 01 Jan 1970 00:00:00 GMT"),
        (-1, "1969-12-31T23:59:59Z", "Wed, 31 Dec 1969 23:59:59 GMT"),
        (951_825_600, "2000-02-29T12:00:00Z", "Tue, 29 Feb 2000 12:00:00 GMT"),
        (1_795_341_600, "2026-11-22T10:00:00Z", "Sun, 22 Nov 2026 10:00:00 GMT"),
        (4_102_444_799, "2099-12-31T23:59:59Z", "Thu, 31 Dec 2099 23:59:59 GMT"),
    ])
    func formats(seconds: Int64, iso: String, rfc: String) {
        let t = Timestamp(seconds: seconds)
        #expect(t.iso8601 == iso)
        #expect(t.rfc1123 == rfc)
    }

    @Test func rfc1123AgreesWithFoundation() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var t = Timestamp(iso8601: "2024-01-01T00:00:00Z")!
        for _ in 0..<800 {
            #expect(t.rfc1123 == formatter.string(from: t.date))
            t = t + 86_400 + 3_661
        }
    }

    @Test func dateRoundTrips() {
        let t = Timestamp(seconds: 1_795_341_600)
        #expect(Timestamp(t.date) == t)
        #expect(Timestamp(Date(timeIntervalSince1970: -0.5)) == Timestamp(seconds: -1))
    }
}

@Suite struct DurationTextTests {
    @Test(arguments: [
        ("PT8H", Int64(28_800)), ("P1DT2H30M", 95_400), ("PT30S", 30), ("PT0S", 0), ("P2W", 1_209_600),
        ("P1D", 86_400), ("pt15m", 900), ("PT1H30M15S", 5_415), ("P1W2D", 777_600),
        ("90s", 90), ("15m", 900), ("8h", 28_800), ("30d", 2_592_000), ("2w", 1_209_600),
        ("1h30m", 5_400), ("1d2h3m4s", 93_784), ("8H", 28_800), ("  PT8H  ", 28_800),
    ])
    func parses(text: String, seconds: Int64) throws {
        let duration = try DurationText(parsing: text)
        #expect(duration.seconds == seconds)
        #expect(duration.text == text.trimmingCharacters(in: .whitespaces))
    }

    @Test(arguments: [
        "", "P", "PT", "P1DT", "P1M", "P1Y", "PT1D", "P1H", "PT1H1H", "PT30M1H", "P1D1W", "P1.5H",
        "PT-1H", "8", "h", "8x", "-5m", "1m1m", "30m1h", "1h 30m", "PT99999999999H", "1 h",
    ])
    func rejects(text: String) {
        let error = #expect(throws: InputProblem.self) { try DurationText(parsing: text) }
        #expect(error?.message.contains("is not a duration") == true)
    }

    /// Many summed terms used to overflow and trap; a 100 MB value must simply be refused, with
    /// a short message (the time limit only guards against a hang).
    @Test(.hangGuard)
    func rejectsHugeInputWithAShortMessage() {
        let huge = String(repeating: "9999999999w", count: 9_000_000)
        var message = ""
        do { _ = try DurationText(parsing: huge) } catch { message = error.message }
        #expect(message.contains("is not a duration"))
        #expect(message.utf8.count < 300)
    }

    @Test(arguments: [0, 1, 59, 60, 3600, 5_400, 28_800, 86_400, 95_400, 93_784, 1_209_600] as [Int64])
    func formsRoundTrip(seconds: Int64) throws {
        #expect(try DurationText(parsing: DurationText.iso8601(seconds)).seconds == seconds)
        #expect(try DurationText(parsing: DurationText.short(seconds)).seconds == seconds)
        #expect(DurationText(seconds: seconds).text == DurationText.iso8601(seconds))
    }

    @Test func formats() {
        #expect(DurationText.iso8601(95_400) == "P1DT2H30M")
        #expect(DurationText.iso8601(30) == "PT30S")
        #expect(DurationText.short(5_400) == "1h30m")
        #expect(DurationText.short(0) == "0s")
    }

    @Test func truncatedForMessageCutsLongValues() {
        #expect("short".truncatedForMessage == "short")
        let sixty = String(repeating: "x", count: 60)
        #expect(sixty.truncatedForMessage == sixty)
        let long = String(repeating: "é", count: 1000)
        #expect(long.truncatedForMessage == String(repeating: "é", count: 60) + "… (2000 bytes)")
    }
}
