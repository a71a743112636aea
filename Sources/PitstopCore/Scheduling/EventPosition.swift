/// Where an event stands in the order events are listed: by start, then wave id, then VM name
/// (the stores' `ORDER BY`, all three compared as bytes). A page of a listing starts after one.
public struct EventPosition: Sendable, Hashable {
    public var start: Timestamp
    public var wave: String
    public var vm: String

    public init(start: Timestamp, wave: String, vm: String) {
        self.start = start
        self.wave = wave
        self.vm = vm
    }

    public init(of event: PlannedEvent) {
        self.init(start: event.range.start, wave: event.wave, vm: event.vm)
    }

    /// `<start, ISO 8601> <event id>`, whose bytes sort as the positions do: the times have
    /// one width (years 0001-9999) and wave ids one width (UUIDs), so the order of the bytes
    /// is that of the start, then the wave, then the VM.
    public var key: String { start.iso8601 + " " + StableID.event(wave: wave, vm: vm) }

    /// The position a ``key`` names; nil for text that is not one.
    public init?(key: String) {
        guard let space = key.firstIndex(of: " "), let start = Timestamp(iso8601: String(key[..<space])),
              let (wave, vm) = StableID.split(event: String(key[key.index(after: space)...]))
        else { return nil }
        self.init(start: start, wave: wave, vm: vm)
    }
}
