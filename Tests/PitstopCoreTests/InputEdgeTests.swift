// Issue 11, items 3 to 5 in the core: the JSON value guard, the CSV byte-order mark, the one
// time-zone rule, numbers out of range and control characters in messages.
import Foundation
import Testing
@testable import PitstopCore

@Suite struct JSONValueLengthGuardTests {
    private func refusal(_ chunks: [String], limit: Int = 8) -> JSONValueLengthGuard.TooLong? {
        var watch = JSONValueLengthGuard(limit: limit)
        do throws(JSONValueLengthGuard.TooLong) {
            for chunk in chunks { try watch.feed(Array(chunk.utf8)) }
        } catch { return error }
        return nil
    }

    @Test func valuesUpToTheLimitPass() {
        #expect(refusal(["{\"regions\": [{\"name\": \"12345678\", \"n\": 12345678}]}"]) == nil)
    }

    @Test func aLongStringIsNamedByItsPathAndLineAcrossChunks() {
        let error = refusal(["{\"vms\": [{\"name\": \"a\"},\n {\"na", "me\": \"1234", "56789\"}]}"])
        #expect(error == JSONValueLengthGuard.TooLong(line: 2, path: "vms[1].name", limit: 8))
    }

    @Test func escapedQuotesDoNotEndAString() {
        #expect(refusal(["{\"a\": \"\\\"\\\"\\\"\\\"\\\"\"}"]) != nil)  // five escaped quotes: ten bytes
        #expect(refusal(["{\"a\": \"\\\"\\\"\", \"b\": \"x\"}"]) == nil)
    }

    @Test func aLongNumberOrKeyIsRefusedToo() {
        #expect(refusal(["{\"a\": 1234567890}"])?.path == "a")
        #expect(refusal(["{\"regions\": [{\"nameIsLong\": 1}]}"])?.path == "regions[0]")
    }
}

@Suite struct CSVByteOrderMarkTests {
    private func records(_ chunks: [[UInt8]]) -> [[String]] {
        var reader = CSVReader()
        var out: [[String]] = []
        for chunk in chunks { chunk.withUnsafeBufferPointer { reader.feed($0) { out.append($0.fields) } } }
        reader.finish { out.append($0.fields) }
        return out
    }

    @Test func aByteOrderMarkIsSkippedEvenWhenSplitAcrossChunks() {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let text = Array("a,b\n1,2\n".utf8)
        #expect(records([bom + text]) == [["a", "b"], ["1", "2"]])
        #expect(records([[0xEF], [0xBB], [0xBF] + text]) == [["a", "b"], ["1", "2"]])
        #expect(records([Array("ab".utf8)]) == [["ab"]])
        #expect(records([Array("a".utf8), Array(",b\n".utf8)]) == [["a", "b"]])
    }
}

@Suite struct TimeZoneRuleTests {
    @Test(arguments: [
        ("UTC+5", "Etc/GMT-5"), ("utc+5", "Etc/GMT-5"), ("GMT-3", "Etc/GMT+3"), ("GMT+05:00", "Etc/GMT-5"),
        ("+05:00", "Etc/GMT-5"), ("-0300", "Etc/GMT+3"), ("UT+1", "Etc/GMT-1"), ("UTC+0", "or UTC for"),
        ("UTC+05:30", "IANA zone of the place"), ("GMT+5:45", "IANA zone of the place"),
    ])
    func offsetsAreRefusedWithTheZoneToUse(_ name: String, _ suggestion: String) {
        #expect(throws: InputProblem.self) { try MaintenanceWindow.timeZone(named: name) }
        do { _ = try MaintenanceWindow.timeZone(named: name) } catch {
            #expect(error.message.hasPrefix("'\(name)' is an offset, not a time zone"), "\(error.message)")
            #expect(error.message.contains(suggestion), "\(error.message)")
        }
    }

    @Test(arguments: ["UTC", "GMT", "Etc/GMT-5", "Etc/GMT+12", "America/New_York", "Asia/Kolkata", "Europe/Paris"])
    func ianaNamesAreAccepted(_ name: String) throws {
        let zone = try MaintenanceWindow.timeZone(named: name)
        #expect(zone.identifier == name || name == "UTC")  // Foundation names UTC "GMT"
    }

    @Test func etcGMTMinusFiveIsFiveHoursAheadOfUTC() throws {
        #expect(try MaintenanceWindow.timeZone(named: "Etc/GMT-5").secondsFromGMT() == 5 * 3600)
    }

    @Test func aStoredOffsetZoneStillReads() throws {
        // An earlier version stored what Foundation made of UTC+5.
        #expect(try MaintenanceWindow.timeZone(stored: "GMT+0500").secondsFromGMT() == 5 * 3600)
        #expect(throws: InputProblem.self) { try MaintenanceWindow.timeZone(stored: "Mars/Olympus") }
    }
}

@Suite struct InputValueTests {
    @Test func aNumberTooLargeForAnIntegerIsOutOfRange() throws {
        for text in ["12345678901234567890", "-12345678901234567890"] {
            do { _ = try InputLimits.wholeNumber(text); Issue.record("accepted \(text)") } catch {
                #expect(error.message == "\(text) is out of range (\(Int.min)...\(Int.max))")
            }
        }
        do { _ = try InputLimits.wholeNumber("1.5") } catch { #expect(error.message == "1.5 is not a whole number") }
        #expect(try InputLimits.wholeNumber("-7") == -7)
    }

    @Test func controlCharactersAreEscapedInOneForm() {
        #expect("a\r\nb\tc\u{0}d\u{1B}e\u{7F}f\u{85}g".escapingControlCharacters == "a\\r\\nb\\tc\\u{0}d\\u{1B}e\\u{7F}f\\u{85}g")
        #expect("plain 'é' text".escapingControlCharacters == "plain 'é' text")
        #expect("x\r\ny".truncatedForMessage == "x\\r\\ny")
    }

    @Test func aRecordWithARepeatedKeyIsRefusedNamingKeyAndLines() {
        let json = "{\"regions\": [{\"name\": \"a\",\n \"displayName\": \"A\",\n \"name\": \"b\"}]}"
        let (document, errors) = InventoryDocument.decode(json: Array(json.utf8), file: "f.json")
        #expect(document.regions.isEmpty)
        #expect(errors.map(\.description) == ["f.json:1: regions[0].name: appears twice in this record (lines 1 and 3)"])
    }
}
