import PitstopCore
import Testing

@Suite struct HexTests {
    @Test func everyByteIsTwoLowerCaseDigits() {
        #expect(Hex.string([0x00, 0x09, 0x0a, 0x0f, 0x10, 0x7f, 0xa5, 0xf0, 0xff]) == "00090a0f107fa5f0ff")
        #expect(Hex.string([UInt8]()) == "")
        #expect(Hex.bytes([0xbe, 0xef]) == Array("beef".utf8))
    }

    @Test func allTwoHundredFiftySixBytesRoundTrip() {
        let all = (0...255).map(UInt8.init)
        let text = Hex.string(all)
        #expect(text.count == 512)
        let back = stride(from: 0, to: 512, by: 2).map { i -> UInt8 in
            let pair = text.dropFirst(i).prefix(2)
            return UInt8(pair, radix: 16)!
        }
        #expect(back == all)
        #expect(text == text.lowercased())
    }
}
