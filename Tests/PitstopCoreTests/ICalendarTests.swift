// Tests for the RFC 5545 writer: structure, TEXT escaping, CRLF and folding at 75 octets.
import Testing
@testable import PitstopCore

/// The physical lines of `text` as byte arrays, split at CRLF (the last, empty one dropped).
private func physicalLines(_ text: String) -> [[UInt8]] {
    var lines: [[UInt8]] = [], current: [UInt8] = []
    let bytes = Array(text.utf8)
    var i = 0
    while i < bytes.count {
        if bytes[i] == 13, i + 1 < bytes.count, bytes[i + 1] == 10 {
            lines.append(current)
            current = []
            i += 2
        } else {
            current.append(bytes[i])
            i += 1
        }
    }
    if !current.isEmpty { lines.append(current) }
    return lines
}

/// RFC 5545 unfolding: a CRLF followed by a space is removed.
private func unfold(_ text: String) -> String {
    text.replacing("\r\n ", with: "")
}

@Suite struct ICalendarTests {
    private let start = Timestamp(iso8601: "2026-11-22T10:00:00Z")!
    private let end = Timestamp(iso8601: "2026-11-22T10:15:00Z")!

    @Test func writesACalendar() {
        var calendar = ICalendar(name: "eastus maintenance")
        calendar.addEvent(
            uid: "602d9444-d2cd-49c7-8624-8643e7171297@pitstop", start: start, end: end,
            summary: "Reboot web-0, web-5", description: "Host OS update", location: "eastus")
        calendar.addEvent(uid: "second@pitstop", start: end, end: end + 3600, summary: "Freeze")
        let expected = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Pitstop//Pitstop//EN",
            "CALSCALE:GREGORIAN",
            "X-WR-CALNAME:eastus maintenance",
            "BEGIN:VEVENT",
            "UID:602d9444-d2cd-49c7-8624-8643e7171297@pitstop",
            "DTSTAMP:20261122T100000Z",
            "DTSTART:20261122T100000Z",
            "DTEND:20261122T101500Z",
            "SUMMARY:Reboot web-0\\, web-5",
            "DESCRIPTION:Host OS update",
            "LOCATION:eastus",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "UID:second@pitstop",
            "DTSTAMP:20261122T101500Z",
            "DTSTART:20261122T101500Z",
            "DTEND:20261122T111500Z",
            "SUMMARY:Freeze",
            "END:VEVENT",
            "END:VCALENDAR",
        ].map { $0 + "\r\n" }.joined()
        #expect(calendar.text == expected)
    }

    @Test func emptyCalendar() {
        #expect(ICalendar(name: "none").text.hasPrefix("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"))
        #expect(ICalendar(name: "none").text.hasSuffix("X-WR-CALNAME:none\r\nEND:VCALENDAR\r\n"))
    }

    @Test func outputIsDeterministic() {
        func make() -> String {
            var calendar = ICalendar(name: "n")
            calendar.addEvent(uid: "u", start: start, end: end, summary: "s")
            return calendar.text
        }
        #expect(make() == make())
    }

    @Test func everyLineEndsWithCRLF() {
        var calendar = ICalendar(name: "multi\nline\r\nname")
        calendar.addEvent(uid: "u", start: start, end: end, summary: "a\nb", description: "c\r\nd\re")
        let text = calendar.text
        #expect(text.hasSuffix("\r\n"))
        let bytes = Array(text.utf8)
        for (i, byte) in bytes.enumerated() {
            if byte == 10 { #expect(i > 0 && bytes[i - 1] == 13) }
            if byte == 13 { #expect(i + 1 < bytes.count && bytes[i + 1] == 10) }
        }
        #expect(text.contains("X-WR-CALNAME:multi\\nline\\nname\r\n"))
        #expect(text.contains("DESCRIPTION:c\\nd\\ne\r\n"))
    }

    @Test(arguments: [
        ("plain", "plain"),
        ("a,b", "a\\,b"),
        ("a;b", "a\\;b"),
        ("back\\slash", "back\\\\slash"),
        ("line1\nline2", "line1\\nline2"),
        ("line1\r\nline2", "line1\\nline2"),
        ("line1\rline2", "line1\\nline2"),
        ("\n\n", "\\n\\n"),
        ("tab\there", "tab\there"),
        ("bell\u{07}null\u{00}del\u{7F}", "bellnulldel"),
        ("colon: ok \"quoted\"", "colon: ok \"quoted\""),
        ("Grüße, 東京; 😀\\", "Grüße\\, 東京\\; 😀\\\\"),
    ])
    func escapesText(raw: String, escaped: String) {
        #expect(ICalendar.escape(raw) == escaped)
        var calendar = ICalendar(name: "n")
        calendar.addEvent(uid: "u", start: start, end: end, summary: raw)
        #expect(unfold(calendar.text).contains("\r\nSUMMARY:\(escaped)\r\n"))
    }

    @Test(arguments: [
        String(repeating: "a", count: 200),
        String(repeating: "é", count: 100),
        String(repeating: "€", count: 100),
        String(repeating: "😀", count: 60),
        String(repeating: "a", count: 66) + "€€€",
        String(repeating: "a", count: 67) + String(repeating: "😀", count: 30),
        "👩‍👩‍👧‍👦 family " + String(repeating: "🇩🇪", count: 40),
        String(repeating: "x,", count: 80),
    ])
    func foldsAt75OctetsWithoutSplittingCharacters(summary: String) throws {
        var calendar = ICalendar(name: "n")
        calendar.addEvent(uid: "u", start: start, end: end, summary: summary, description: summary)
        let text = calendar.text
        for line in physicalLines(text) {
            #expect(line.count <= 75)
            // Each physical line is complete UTF-8 on its own: no sequence was cut.
            #expect(String(validating: line, as: UTF8.self) != nil)
        }
        let escaped = ICalendar.escape(summary)
        #expect(unfold(text).contains("\r\nSUMMARY:\(escaped)\r\n"))
        #expect(unfold(text).contains("\r\nDESCRIPTION:\(escaped)\r\n"))
    }

    @Test func foldsBeforeAMultiByteCharacterThatWouldCrossTheLimit() {
        // "SUMMARY:" and 66 letters are 74 octets; the 3-octet euro sign would make 77.
        let folded = ICalendar.fold("SUMMARY:" + String(repeating: "a", count: 66) + "€€")
        #expect(folded == "SUMMARY:" + String(repeating: "a", count: 66) + "\r\n €€\r\n")
        // Exactly 75 octets fit on one line.
        let exact = "SUMMARY:" + String(repeating: "a", count: 67)
        #expect(ICalendar.fold(exact) == exact + "\r\n")
        // 76 octets: the continuation line starts with a space, which counts toward its 75.
        let long = String(repeating: "b", count: 75 + 74 + 1)
        #expect(ICalendar.fold(long)
            == String(repeating: "b", count: 75) + "\r\n " + String(repeating: "b", count: 74) + "\r\n b\r\n")
    }

    @Test(arguments: [
        (Int64(0), "19700101T000000Z"),
        (1_795_341_600, "20261122T100000Z"),
        (951_825_659, "20000229T120059Z"),
        (-1, "19691231T235959Z"),
    ])
    func formatsUTCDateTimes(seconds: Int64, text: String) {
        #expect(ICalendar.utc(Timestamp(seconds: seconds)) == text)
    }
}
