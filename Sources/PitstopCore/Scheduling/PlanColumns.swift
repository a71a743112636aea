// Planned events as columns: one row per VM, each wave's facts kept once. A million events as
// `PlannedEvent` values are a million structs with their own ids; as columns they are a name
// and three small numbers each, which is how the store hands a whole plan to the checker.

/// Planned events as columns, in no particular order. Row `i` is VM `names[name[i]]` (``vm(_:)``)
/// in wave `waves[wave[i]]`; ``event(_:)`` makes the `PlannedEvent` of one row when it is needed.
public struct PlanColumns: Sendable {
    /// What every VM of a wave shares.
    public struct Wave: Sendable, Hashable {
        public var id: String
        public var campaign: String
        public var kind: MaintenanceKind
        public var region: String
        public var availabilitySet: String?
        public var updateDomain: Int?
        public var range: TimeRange
        public var plannedAt: Timestamp

        public init(id: String, campaign: String, kind: MaintenanceKind, region: String, availabilitySet: String?,
                    updateDomain: Int?, range: TimeRange, plannedAt: Timestamp) {
            self.id = id
            self.campaign = campaign
            self.kind = kind
            self.region = region
            self.availabilitySet = availabilitySet
            self.updateDomain = updateDomain
            self.range = range
            self.plannedAt = plannedAt
        }
    }

    public private(set) var waves: [Wave] = []
    public private(set) var wave: [Int32] = []
    /// VM names, each once; rows point into it.
    public private(set) var names: [String] = []
    /// Per entry of `names`, the VM's position in the fleet snapshot the plan is checked
    /// against (-1: gone from the fleet), when the reader knew it; nil: the checker looks each
    /// name up. Set by whoever read the plan and the fleet together.
    public var fleetPositions: [Int32]?
    public private(set) var name: [Int32] = []
    /// -1 for a single-instance VM.
    public private(set) var faultDomain: [Int16] = []
    public private(set) var status: [EventStatus] = []

    /// Columns whose rows will name their VMs by their position in `names`.
    public init(names: [String] = []) { self.names = names }

    /// The columns of `events`, in their order, each event exactly as it is: events of one wave
    /// id whose facts differ (a plan edited by hand) get a wave entry each.
    public init(_ events: [PlannedEvent]) {
        var index: [Wave: Int32] = [:], nameIndex: [String: Int32] = [:]
        reserveCapacity(events.count)
        for e in events {
            let facts = Wave(id: e.wave, campaign: e.campaign, kind: e.kind, region: e.region, availabilitySet: e.availabilitySet,
                             updateDomain: e.updateDomain, range: e.range, plannedAt: e.plannedAt)
            let w: Int32
            if let known = index[facts] {
                w = known
            } else {
                w = append(wave: facts)
                index[facts] = w
            }
            let n: Int32
            if let known = nameIndex[e.vm] {
                n = known
            } else {
                n = Int32(names.count)
                names.append(e.vm)
                nameIndex[e.vm] = n
            }
            append(name: n, wave: w, faultDomain: e.faultDomain, status: e.status)
        }
    }

    public var count: Int { name.count }

    /// Row `i`'s VM name.
    public func vm(_ i: Int) -> String { names[Int(name[i])] }

    public mutating func reserveCapacity(_ n: Int) {
        wave.reserveCapacity(n)
        name.reserveCapacity(n)
        faultDomain.reserveCapacity(n)
        status.reserveCapacity(n)
    }

    /// Adds a wave and returns its index for ``append(vm:wave:faultDomain:status:)``.
    @discardableResult
    public mutating func append(wave: Wave) -> Int32 {
        waves.append(wave)
        return Int32(waves.count - 1)
    }

    /// Adds a row: VM `names[n]` in wave `w`.
    public mutating func append(name n: Int32, wave w: Int32, faultDomain fd: Int?, status s: EventStatus) {
        precondition(names.indices.contains(Int(n)), "a row names a VM outside names")
        wave.append(w)
        name.append(n)
        faultDomain.append(fd.map { Int16(clamping: $0) } ?? -1)
        status.append(s)
    }

    /// The id of row `i`'s event, without making the event.
    public func id(_ i: Int) -> String { StableID.event(wave: waves[Int(wave[i])].id, vm: vm(i)) }

    /// Row `i`'s VM's position in `fleet.vms`; nil for a VM gone from the fleet.
    func fleetPosition(_ i: Int, in fleet: FleetSnapshot) -> Int32? {
        guard let fleetPositions else { return fleet.vmIndex[vm(i)] }
        let p = fleetPositions[Int(name[i])]
        return p >= 0 ? p : nil
    }

    /// Row `i` as a `PlannedEvent`.
    public func event(_ i: Int) -> PlannedEvent {
        let w = waves[Int(wave[i])]
        return PlannedEvent(campaign: w.campaign, vm: vm(i), region: w.region,
                            availabilitySet: w.availabilitySet, updateDomain: w.updateDomain,
                            faultDomain: faultDomain[i] < 0 ? nil : Int(faultDomain[i]), wave: w.id, kind: w.kind, range: w.range,
                            status: status[i], plannedAt: w.plannedAt)
    }

    /// Every row as a `PlannedEvent`, in order.
    public var events: [PlannedEvent] { (0..<count).map(event) }
}
