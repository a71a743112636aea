// Tests for the core's inventory rules and readers: names, addresses, placement, VM checks,
// the JSON parser and the streaming CSV reader.
import Foundation
import Testing
@testable import PitstopCore

@Suite struct NameAndAddressTests {
    @Test(arguments: ["web-0", "O'Brien; DROP TABLE vms;--", "bücher-ß", "東京-1", "a \"quoted\" name", String(repeating: "x", count: 256)])
    func aNameIsAcceptedVerbatim(_ name: String) throws {
        try InventoryRules.checkName(name)
    }

    @Test(arguments: [("", "must not be empty"), (" web", "white space"), ("web\n", "control character"),
                      ("tab\there", "control character"), (String(repeating: "x", count: 257), "longer than 256")])
    func aBadNameIsRefusedWithTheReason(_ name: String, _ reason: String) {
        #expect(throws: InputProblem.self) { try InventoryRules.checkName(name) }
        do { try InventoryRules.checkName(name) } catch { #expect(error.message.contains(reason)) }
    }

    @Test(arguments: ["ops@contoso.example", "first.last+tag@sub.example.org"])
    func aPlainAddressIsAnEmail(_ address: String) throws {
        try InventoryRules.checkEmail(address)
    }

    @Test(arguments: ["ops", "ops@", "@contoso.example", "ops@contoso", "a@b@c.example", "ops @contoso.example", "ops@.example", "ops@contoso..example", "<ops@contoso.example>"])
    func aMalformedEmailIsRefused(_ address: String) {
        #expect(throws: InputProblem.self) { try InventoryRules.checkEmail(address) }
    }

    @Test(arguments: [("10.0.0.4", "10.0.0.4"), ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"), ("::1", "::1")])
    func anIPAddressIsStoredInCanonicalForm(_ text: String, _ canonical: String) throws {
        #expect(try InventoryRules.canonicalIPAddress(text) == canonical)
    }

    @Test(arguments: ["10.0.0", "10.0.0.256", "host.example", "10.0.0.4 ", "2001:db8::1::2", ""])
    func aMalformedIPAddressIsRefused(_ text: String) {
        #expect(throws: InputProblem.self) { try InventoryRules.canonicalIPAddress(text) }
    }
}

@Suite struct PlacementAndVMCheckTests {
    let web = AvailabilitySet(name: "web", region: "eastus", subscription: "contoso", faultDomains: 2, updateDomains: 5)
    var fleet: FleetIndex { FleetIndex(regions: ["eastus", "westus"], subscriptions: ["contoso"], sets: [web]) }

    @Test(arguments: 0..<12)
    func theNthVMGetsUDnModUAndFDnModF(_ n: Int) {
        #expect(web.placement(ofVMNumber: n) == (n % 5, n % 2))
    }

    @Test func aSetVMTakesItsSetsRegionAndSubscriptionAndIsPlaced() throws {
        var n = 7
        let vm = try VMDraft(name: "web-7", region: nil, subscription: nil, availabilitySet: "web")
            .resolve(in: fleet, existing: nil) { _ in defer { n += 1 }; return n }.get()
        #expect(vm.region == "eastus" && vm.subscription == "contoso")
        #expect(vm.updateDomain == 2 && vm.faultDomain == 1)
        #expect(n == 8)
    }

    @Test func aVMThatStaysInItsSetKeepsItsDomainsAndDoesNotCount() throws {
        let existing = VirtualMachine(name: "web-0", region: "eastus", subscription: "contoso", availabilitySet: "web", updateDomain: 3, faultDomain: 1)
        var calls = 0
        let vm = try VMDraft(name: "web-0", region: "eastus", subscription: "contoso", availabilitySet: "web")
            .resolve(in: fleet, existing: existing) { _ in calls += 1; return 0 }.get()
        #expect(vm.updateDomain == 3 && vm.faultDomain == 1)
        #expect(calls == 0)
    }

    @Test func everyProblemOfARecordIsReported() {
        let draft = VMDraft(name: "", region: "atlantis", subscription: "nobody", availabilitySet: "nope", updateDomain: 9, ipAddress: "x")
        guard case .failure(let problems) = draft.check(in: fleet) else {
            Issue.record("accepted")
            return
        }
        #expect(Set(problems.problems.map(\.field)) == ["name", "availabilitySet", "region", "subscription", "ipAddress"])
    }

    @Test func domainsOutsideTheSetsRangesAreRefused() {
        let draft = VMDraft(name: "web-9", region: nil, subscription: nil, availabilitySet: "web", updateDomain: 5, faultDomain: 2)
        guard case .failure(let problems) = draft.check(in: fleet) else {
            Issue.record("accepted")
            return
        }
        #expect(problems.problems.map(\.description) == ["updateDomain: 5 is outside 0..4 for set web", "faultDomain: 2 is outside 0..1 for set web"])
    }

    @Test func aSetVMInAnotherRegionIsRefused() {
        let draft = VMDraft(name: "web-9", region: "westus", subscription: nil, availabilitySet: "web")
        guard case .failure(let problems) = draft.check(in: fleet) else {
            Issue.record("accepted")
            return
        }
        #expect(problems.problems.map(\.description) == ["region: 'westus' is not the region of set web (eastus)"])
    }

    @Test func aStandaloneVMWithDomainsIsRefused() {
        let draft = VMDraft(name: "jump", region: "eastus", subscription: "contoso", updateDomain: 1)
        #expect((try? draft.check(in: fleet).get()) == nil)
    }
}

@Suite struct JSONParserTests {
    @Test func valuesKeepTheirLines() throws {
        let root = try JSONParser.parse(Array("{\n\"a\": [1,\n  \"x\"],\n\"b\": null}".utf8))
        guard case .object(let members) = root.value, case .array(let items) = members[0].node.value else {
            Issue.record("not an object with an array")
            return
        }
        #expect(items.map(\.line) == [2, 3])
        #expect(members[1].node.line == 4)
    }

    @Test func escapesAndSurrogatePairsDecode() throws {
        let root = try JSONParser.parse(Array(#""a\"b\\c\n\u00e9\ud83d\ude00""#.utf8))
        #expect(root.value == .string("a\"b\\c\né😀"))
    }

    @Test(arguments: [
        ("{\"a\": [1, 2", "truncated"), ("{\"a\" 1}", "expected ':'"), ("[1,]", "where a value should be"),
        ("{} x", "after the end"), ("", "empty"), ("\"abc", "truncated"), ("[01x]", "expected ',' or ']'"),
    ])
    func aSyntaxErrorSaysWhatAndWhere(_ text: String, _ message: String) {
        do {
            _ = try JSONParser.parse(Array(text.utf8))
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test func invalidUTF8IsRefusedWithItsOffset() {
        do {
            _ = try JSONParser.parse([0x22, 0x61, 0xC3, 0x28, 0x22])
            Issue.record("accepted")
        } catch {
            #expect(error.message.contains("invalid UTF-8"))
            #expect(error.message.contains("offset 2"))
        }
    }

    @Test func quotingRoundTrips() throws {
        let text = "line\nbreak \"quoted\" \\ tab\t \u{1} é"
        let root = try JSONParser.parse(Array(JSONText.quote(text).utf8))
        #expect(root.value == .string(text))
        // Every ASCII character but NUL alone, and beside text that needs no escape.
        for byte in UInt8(1)..<0x80 {
            for text in [String(decoding: [byte], as: UTF8.self), "東京-" + String(decoding: [byte], as: UTF8.self) + "-ß 🚀"] {
                #expect(try JSONParser.parse(Array(JSONText.quote(text).utf8)).value == .string(text), "\(byte)")
            }
        }
    }

    /// No stored text holds U+0, and PostgreSQL cannot: a JSON string with one is refused
    /// where it is read, with its line, whatever field it was meant for.
    @Test func aNULEscapeIsRefusedWithItsLine() {
        #expect {
            try JSONParser.parse(Array("{\n\"displayName\": \"East\\u0000US\"}".utf8))
        } throws: { error in
            (error as? JSONSyntaxError).map { "\($0)" } == "line 2: a \\u0000 escape in a string: \(InventoryRules.nulRefusal)"
        }
        #expect(throws: Never.self) { try JSONParser.parse(Array(#""East\u0001US""#.utf8)) }
    }

    @Test func quotingEscapesOnlyWhatJSONRequires() {
        #expect(JSONText.quote("a\"b\\c\nd\re\tf\u{1}g\u{1F}h\u{7F}") == #""a\"b\\c\nd\re\tf\u0001g\u001fh\#u{7F}""#)
        #expect(JSONText.quote("東京-ß 🚀") == "\"東京-ß 🚀\"")
        #expect(JSONText.quote("") == "\"\"")
        #expect(JSONText.quote(nil) == "null")
    }
}

@Suite struct CSVReaderTests {
    private func records(_ text: String, chunk: Int = 3, maxRecordBytes: Int = 1 << 20) -> [CSVRecord] {
        var reader = CSVReader(maxRecordBytes: maxRecordBytes)
        var out: [CSVRecord] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let piece = Array(bytes[i..<min(i + chunk, bytes.count)])
            piece.withUnsafeBufferPointer { reader.feed($0) { out.append($0) } }
            i += chunk
        }
        reader.finish { out.append($0) }
        return out
    }

    @Test func quotedFieldsMayHoldCommasQuotesAndNewlinesAcrossChunks() {
        let out = records("a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",x,y\nlast,1,2")
        #expect(out.map(\.fields) == [["a", "b,c", "say \"hi\""], ["multi\nline", "x", "y"], ["last", "1", "2"]])
        #expect(out.map(\.line) == [1, 2, 4])
        #expect(out.allSatisfy { $0.problem == nil })
    }

    @Test func blankLinesAreSkipped() {
        #expect(records("a,b\n\n\nc,d\n").map(\.fields) == [["a", "b"], ["c", "d"]])
    }

    @Test func anOverlongRecordIsRefusedWithoutKeepingIt() {
        let out = records("ok,1\n" + String(repeating: "x", count: 100) + "\nnext,2\n", chunk: 7, maxRecordBytes: 50)
        #expect(out.count == 3)
        #expect(out[1].problem?.contains("longer than 50 bytes") == true)
        #expect(out[1].fields.isEmpty)
        #expect(out[2].fields == ["next", "2"] && out[2].line == 3)
    }

    @Test func anUnclosedQuoteIsReported() {
        #expect(records("a,\"open\n").last?.problem?.contains("not closed") == true)
    }
}
