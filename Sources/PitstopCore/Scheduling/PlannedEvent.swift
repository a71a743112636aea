// A planned event: one VM's maintenance in one wave of a campaign.

/// One VM's maintenance: the unit the planner produces and the checker judges.
///
/// The planner gives every VM of a wave the same range. The fleet fields (region, set, UD, FD)
/// record where the VM was when the event was planned; the checker re-reads them from the
/// current fleet instead of trusting them.
public struct PlannedEvent: Sendable, Hashable, Codable {
    public var campaign: String
    public var vm: String
    public var region: String
    public var availabilitySet: String?
    public var updateDomain: Int?
    public var faultDomain: Int?
    /// The wave (a UUID-formatted id) this event goes with: the scheduled-events `EventId`.
    public var wave: String
    public var kind: MaintenanceKind
    /// Planned start and end.
    public var range: TimeRange
    public var status: EventStatus
    /// When the campaign was planned; the notice period counts from here.
    public var plannedAt: Timestamp

    public init(
        campaign: String, vm: String, region: String, availabilitySet: String?,
        updateDomain: Int?, faultDomain: Int?, wave: String, kind: MaintenanceKind, range: TimeRange,
        status: EventStatus = .scheduled, plannedAt: Timestamp
    ) {
        self.campaign = campaign
        self.vm = vm
        self.region = region
        self.availabilitySet = availabilitySet
        self.updateDomain = updateDomain
        self.faultDomain = faultDomain
        self.wave = wave
        self.kind = kind
        self.range = range
        self.status = status
        self.plannedAt = plannedAt
    }

    /// Deterministic: `<wave id>/<vm name>`. Made when asked, not kept: a million-VM plan
    /// kept a million of these strings (80 MB) that few readers look at.
    public var id: String { StableID.event(wave: wave, vm: vm) }

    /// Whether the VM had no availability set when planned.
    public var isSingleInstance: Bool { availabilitySet == nil }
}

/// Deterministic identifiers: the same campaign and fleet always give the same wave and
/// event ids, so a re-plan is comparable and the store can upsert.
///
/// The hash is FNV-1a 64 run twice with different offset bases, each finished with the
/// SplitMix64 mixer, giving 128 bits printed as a UUID (version 8, "custom"). It is not
/// cryptographic: ids only need to be stable and spread, not secret.
public enum StableID {
    /// A UUID-formatted id derived from `parts`; parts are separated so that
    /// `("ab", "c")` and `("a", "bc")` differ.
    public static func uuid(_ parts: [String]) -> String {
        var h1: UInt64 = 0xcbf2_9ce4_8422_2325
        var h2: UInt64 = 0x8422_2325_cbf2_9ce4 ^ 0x5bd1_e995_5bd1_e995
        let prime: UInt64 = 0x0000_0100_0000_01b3
        for (n, part) in parts.enumerated() {
            if n > 0 {
                h1 = (h1 ^ 0x1f) &* prime
                h2 = (h2 ^ 0x1f) &* prime
            }
            for byte in part.utf8 {
                h1 = (h1 ^ UInt64(byte)) &* prime
                h2 = (h2 ^ UInt64(byte)) &* prime
            }
        }
        var hi = mix(h1), lo = mix(h2 ^ hi)
        hi = (hi & ~0xf000) | 0x8000  // version 8
        lo = (lo & ~(0xc000_0000_0000_0000 as UInt64)) | 0x8000_0000_0000_0000  // RFC 9562 variant
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (i, word) in [hi, lo].enumerated() {
            for nibble in 0..<16 {
                let position = i * 16 + nibble
                if position == 8 || position == 12 || position == 16 || position == 20 { out.append(UInt8(ascii: "-")) }
                out.append(hex[Int((word >> UInt64(60 - nibble * 4)) & 0xf)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The wave of one update domain of one set in a campaign.
    public static func wave(campaign: String, region: String, availabilitySet: String, updateDomain: Int) -> String {
        uuid(["wave", campaign, region, availabilitySet, String(updateDomain)])
    }

    /// The wave of a region's single-instance VMs in a campaign.
    public static func singleInstanceWave(campaign: String, region: String) -> String {
        uuid(["single-instance", campaign, region])
    }

    /// One VM's event in a wave.
    public static func event(wave: String, vm: String) -> String { "\(wave)/\(vm)" }

    /// The wave and VM an event id names; nil for text that is not an event id. A wave id
    /// holds no '/' (the schema refuses one), a VM name may.
    public static func split(event id: String) -> (wave: String, vm: String)? {
        guard let slash = id.firstIndex(of: "/") else { return nil }
        let wave = String(id[..<slash]), vm = String(id[id.index(after: slash)...])
        return wave.isEmpty || vm.isEmpty ? nil : (wave, vm)
    }

    private static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
