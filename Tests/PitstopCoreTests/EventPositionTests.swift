// An event's position in the listing order, and its cursor key.
import PitstopCore
import Testing

@Suite struct EventPositionTests {
    static let waves = (0..<4).map { StableID.wave(campaign: "c", region: "r", availabilitySet: "s", updateDomain: $0) }
    static let vms = ["a", "a b", "a/b", "a-b", "ab", "b", "é", "z"]
    static let starts = [Timestamp(seconds: 0), Timestamp(seconds: 59), Timestamp(seconds: 1_796_860_800), Timestamp(seconds: 253_402_300_799)]

    static var positions: [EventPosition] {
        starts.flatMap { start in waves.flatMap { wave in vms.map { EventPosition(start: start, wave: wave, vm: $0) } } }
    }

    @Test func aKeyNamesItsPositionBack() {
        for position in Self.positions {
            #expect(EventPosition(key: position.key) == position)
        }
        #expect(EventPosition(key: "1970-01-01T00:00:59Z \(Self.waves[0])/a/b") == EventPosition(start: Timestamp(seconds: 59), wave: Self.waves[0], vm: "a/b"))
    }

    @Test func keysSortAsPositionsDo() {
        // The order the stores list events in: start, then wave id, then VM name, as bytes.
        func before(_ a: EventPosition, _ b: EventPosition) -> Bool {
            if a.start != b.start { return a.start < b.start }
            if a.wave != b.wave { return Array(a.wave.utf8).lexicographicallyPrecedes(b.wave.utf8) }
            return Array(a.vm.utf8).lexicographicallyPrecedes(b.vm.utf8)
        }
        let byPosition = Self.positions.shuffled().sorted(by: before)
        let byKey = Self.positions.shuffled().sorted { Array($0.key.utf8).lexicographicallyPrecedes($1.key.utf8) }
        #expect(byKey == byPosition)
    }

    @Test(arguments: ["", "no-space", "2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z ", "2026-12-01T00:00:00Z no-slash",
                      "2026-12-01T00:00:00Z /vm", "2026-12-01T00:00:00Z wave/", "yesterday wave/vm"])
    func textThatIsNotAKeyNamesNoPosition(text: String) {
        #expect(EventPosition(key: text) == nil)
    }
}
