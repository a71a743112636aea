// The fleet as the planner and the checker see it: plain values plus indexes built once, so
// that a million VMs are grouped by set, update domain and region without per-VM lookups later.
import Synchronization

/// Everything the rules need to know about the fleet at one moment.
///
/// Build it once per planning or checking run; the initializer checks that the inventory
/// hangs together (every VM's region and set exist, UDs and FDs are within the set's counts)
/// and groups the VMs by set, update domain and region. VMs without an explicit UD or FD are
/// placed round-robin by their position among the set's VMs, (docs/rules.md#fleet-model).
public struct FleetSnapshot: Sendable {
    public let regions: [Region]
    public let pairs: [RegionPair]
    public let subscriptions: [Subscription]
    public let sets: [AvailabilitySet]
    public let vms: [VirtualMachine]
    public let windows: [MaintenanceWindow]
    public let blackouts: [Blackout]

    // Indexes. Int32 keeps a million-VM index small; -1 means "none".
    let regionIndex: [String: Int32]
    let setIndex: [String: Int32]
    /// VM name -> position in `vms`, built when first asked: a plan over a fleet with no other
    /// campaign, and a check whose plan knows its VMs' positions, never ask.
    let vmIndex: VMNameIndex
    let vmRegion: [Int32]
    let vmSet: [Int32]
    let vmUpdateDomain: [Int16]
    let vmFaultDomain: [Int16]
    let setRegion: [Int32]
    /// Per set, its VMs ordered by update domain, then by fleet order.
    let setMembers: [[Int32]]
    /// Per set, `setMembers[s][offsets[u]..<offsets[u+1]]` are the VMs of update domain `u`.
    let setUpdateDomainOffsets: [[Int32]]
    /// Per region, its single-instance VMs in fleet order.
    let singleInstanceVMs: [[Int32]]
    /// Per region, its sets sorted by name.
    let setsOfRegion: [[Int32]]
    /// Per region, the regions it must never overlap (every link, both directions), by name.
    let partnerRegions: [[Int32]]
    let setWindows: [[Int32]]
    let regionWindows: [[Int32]]
    /// Per region, the blackouts that cover it: fleet-wide ones and its own.
    let regionBlackouts: [[Int32]]
    let vmCountOfRegion: [Int]
    /// Per VM, its subscription as an index into `subscriptionNames` (the distinct names VMs use).
    let vmSubscription: [Int32]
    let subscriptionNames: [String]

    /// Indexes the fleet; throws an ``InputProblem`` naming the first entry that does not fit
    /// (a duplicate name, an unknown region or set, a VM in another region than its set, an
    /// update or fault domain outside the set's counts).
    public init(
        regions: [Region], pairs: [RegionPair] = [], subscriptions: [Subscription] = [],
        sets: [AvailabilitySet] = [], vms: [VirtualMachine] = [], windows: [MaintenanceWindow] = [],
        blackouts: [Blackout] = []
    ) throws(InputProblem) {
        self.regions = regions
        self.pairs = pairs
        self.subscriptions = subscriptions
        self.sets = sets
        self.vms = vms
        self.windows = windows
        self.blackouts = blackouts

        var regionIndex = [String: Int32](minimumCapacity: regions.count)
        for (i, region) in regions.enumerated() {
            guard regionIndex.updateValue(Int32(i), forKey: region.name) == nil else {
                throw InputProblem("regions[\(i)]: region '\(region.name.truncatedForMessage)' appears twice")
            }
        }
        var setIndex = [String: Int32](minimumCapacity: sets.count)
        var setRegion = [Int32]()
        setRegion.reserveCapacity(sets.count)
        for (i, set) in sets.enumerated() {
            guard let r = regionIndex[set.region] else {
                throw InputProblem("sets[\(i)] \(set.name.truncatedForMessage): region '\(set.region.truncatedForMessage)' is not in the fleet")
            }
            guard setIndex.updateValue(Int32(i), forKey: set.name) == nil else {
                throw InputProblem("sets[\(i)]: availability set '\(set.name.truncatedForMessage)' appears twice")
            }
            guard set.updateDomains >= 1, set.faultDomains >= 1 else {
                throw InputProblem("sets[\(i)] \(set.name.truncatedForMessage): needs at least one update domain and one fault domain")
            }
            setRegion.append(r)
        }

        // Names read from the store come sorted and unique (its primary key): one comparison
        // a VM proves there is no duplicate. Others are hashed, as the index does.
        var ascending = true
        var vmRegion = [Int32](repeating: -1, count: vms.count)
        var vmSet = [Int32](repeating: -1, count: vms.count)
        var vmUD = [Int16](repeating: -1, count: vms.count)
        var vmFD = [Int16](repeating: -1, count: vms.count)
        var addedToSet = [Int](repeating: 0, count: sets.count)
        var singles = [[Int32]](repeating: [], count: regions.count)
        var vmCount = [Int](repeating: 0, count: regions.count)
        var vmSubscription = [Int32](repeating: 0, count: vms.count)
        var subscriptionIndex: [String: Int32] = [:], subscriptionNames: [String] = []
        for (i, vm) in vms.enumerated() {
            // Neighbouring VMs mostly share a subscription: compare before hashing.
            if i > 0, vm.subscription == vms[i - 1].subscription {
                vmSubscription[i] = vmSubscription[i - 1]
            } else if let known = subscriptionIndex[vm.subscription] {
                vmSubscription[i] = known
            } else {
                vmSubscription[i] = Int32(subscriptionNames.count)
                subscriptionIndex[vm.subscription] = vmSubscription[i]
                subscriptionNames.append(vm.subscription)
            }
            guard let r = regionIndex[vm.region] else {
                throw InputProblem("vms[\(i)] \(vm.name.truncatedForMessage): region '\(vm.region.truncatedForMessage)' is not in the fleet")
            }
            if ascending, i > 0, !(vms[i - 1].name < vm.name) { ascending = false }
            vmRegion[i] = r
            vmCount[Int(r)] += 1
            guard let setName = vm.availabilitySet else {
                singles[Int(r)].append(Int32(i))
                continue
            }
            guard let s = setIndex[setName] else {
                throw InputProblem("vms[\(i)] \(vm.name.truncatedForMessage): availability set '\(setName.truncatedForMessage)' is not in the fleet")
            }
            let set = sets[Int(s)]
            guard set.region == vm.region else {
                throw InputProblem("vms[\(i)] \(vm.name.truncatedForMessage): is in \(vm.region) but its set \(set.name) is in \(set.region)")
            }
            let placed = set.placement(ofVMNumber: addedToSet[Int(s)])
            addedToSet[Int(s)] += 1
            let ud = vm.updateDomain ?? placed.updateDomain
            let fd = vm.faultDomain ?? placed.faultDomain
            guard (0..<set.updateDomains).contains(ud) else {
                throw InputProblem("vms[\(i)] \(vm.name.truncatedForMessage): update domain \(ud) is outside 0..\(set.updateDomains - 1) for set \(set.name)")
            }
            guard (0..<set.faultDomains).contains(fd) else {
                throw InputProblem("vms[\(i)] \(vm.name.truncatedForMessage): fault domain \(fd) is outside 0..\(set.faultDomains - 1) for set \(set.name)")
            }
            vmSet[i] = s
            vmUD[i] = Int16(ud)
            vmFD[i] = Int16(fd)
        }

        // Counting sort of each set's VMs by update domain, keeping fleet order inside a UD.
        var offsets = sets.map { [Int32](repeating: 0, count: $0.updateDomains + 1) }
        for i in 0..<vms.count where vmSet[i] >= 0 { offsets[Int(vmSet[i])][Int(vmUD[i]) + 1] += 1 }
        for s in 0..<sets.count {
            for u in 0..<sets[s].updateDomains { offsets[s][u + 1] += offsets[s][u] }
        }
        var members = sets.indices.map { [Int32](repeating: 0, count: Int(offsets[$0].last!)) }
        var cursor = offsets
        for i in 0..<vms.count where vmSet[i] >= 0 {
            let s = Int(vmSet[i]), u = Int(vmUD[i])
            members[s][Int(cursor[s][u])] = Int32(i)
            cursor[s][u] += 1
        }

        var setsOfRegion = [[Int32]](repeating: [], count: regions.count)
        for s in sets.indices { setsOfRegion[Int(setRegion[s])].append(Int32(s)) }
        for r in regions.indices { setsOfRegion[r].sort { sets[Int($0)].name < sets[Int($1)].name } }

        var partners = [[Int32]](repeating: [], count: regions.count)
        for (region, others) in Rules.pairConflicts(pairs) {
            guard let r = regionIndex[region] else { continue }
            partners[Int(r)] = others.compactMap { regionIndex[$0] }
        }

        var setWindows = [[Int32]](repeating: [], count: sets.count)
        var regionWindows = [[Int32]](repeating: [], count: regions.count)
        for (w, window) in windows.enumerated() {
            switch window.scope {
            case .region(let name): if let r = regionIndex[name] { regionWindows[Int(r)].append(Int32(w)) }
            case .availabilitySet(let name): if let s = setIndex[name] { setWindows[Int(s)].append(Int32(w)) }
            }
        }
        var regionBlackouts = [[Int32]](repeating: [], count: regions.count)
        for (b, blackout) in blackouts.enumerated() {
            for r in regions.indices where Rules.blackout(blackout, appliesTo: regions[r].name) { regionBlackouts[r].append(Int32(b)) }
        }

        self.regionIndex = regionIndex
        self.setIndex = setIndex
        if ascending {
            self.vmIndex = VMNameIndex(vms)
        } else {
            let (index, duplicate) = VMNameIndex.build(vms)
            if let i = duplicate { throw InputProblem("vms[\(i)]: VM '\(vms[i].name.truncatedForMessage)' appears twice") }
            self.vmIndex = VMNameIndex(vms, built: index)
        }
        self.vmRegion = vmRegion
        self.vmSet = vmSet
        self.vmUpdateDomain = vmUD
        self.vmFaultDomain = vmFD
        self.setRegion = setRegion
        self.setMembers = members
        self.setUpdateDomainOffsets = offsets
        self.singleInstanceVMs = singles
        self.setsOfRegion = setsOfRegion
        self.partnerRegions = partners
        self.setWindows = setWindows
        self.regionWindows = regionWindows
        self.regionBlackouts = regionBlackouts
        self.vmCountOfRegion = vmCount
        self.vmSubscription = vmSubscription
        self.subscriptionNames = subscriptionNames
    }

    /// The region called `name`, if the fleet has it.
    public func region(named name: String) -> Region? { regionIndex[name].map { regions[Int($0)] } }

    /// The availability set called `name`, if the fleet has it.
    public func availabilitySet(named name: String) -> AvailabilitySet? { setIndex[name].map { sets[Int($0)] } }

    /// The VM called `name`, with its update and fault domain filled in when it is in a set.
    public func vm(named name: String) -> VirtualMachine? {
        guard let i = vmIndex[name].map(Int.init) else { return nil }
        var vm = vms[i]
        if vmSet[i] >= 0 {
            vm.updateDomain = Int(vmUpdateDomain[i])
            vm.faultDomain = Int(vmFaultDomain[i])
        }
        return vm
    }

    /// Names of the regions that have at least one VM, sorted.
    public var regionsWithVMs: [String] {
        regions.indices.filter { vmCountOfRegion[$0] > 0 }.map { regions[$0].name }.sorted()
    }

    /// The regions that may never be under maintenance at the same time as `region`: every
    /// link that names it, in either direction, sorted by name.
    public func partners(of region: String) -> [String] {
        guard let r = regionIndex[region] else { return Rules.pairConflicts(pairs)[region] ?? [] }
        return partnerRegions[Int(r)].map { regions[Int($0)].name }
    }

    /// The windows that constrain the VM called `name` (see ``Rules/applicableWindows(set:region:in:)``).
    public func applicableWindows(forVM name: String) -> [MaintenanceWindow] {
        guard let i = vmIndex[name].map(Int.init) else { return [] }
        return Rules.applicableWindows(set: vmSet[i], region: vmRegion[i], in: self).map { windows[Int($0)] }
    }

    /// The number of VMs in `region`.
    public func vmCount(inRegion region: String) -> Int { regionIndex[region].map { vmCountOfRegion[Int($0)] } ?? 0 }
}

/// A fleet's VM name -> position index, built on first use (by whichever thread asks first).
final class VMNameIndex: Sendable {
    private let vms: [VirtualMachine]
    private let index: Mutex<[String: Int32]?>

    init(_ vms: [VirtualMachine], built: [String: Int32]? = nil) {
        self.vms = vms
        index = Mutex(built)
    }

    subscript(name: String) -> Int32? {
        index.withLock { index in
            if index == nil { index = Self.build(vms).index }
            return index![name]
        }
    }

    /// Each name's position (a name seen twice: its last), and where a name was first seen
    /// again, if one was.
    static func build(_ vms: [VirtualMachine]) -> (index: [String: Int32], duplicate: Int?) {
        var index = [String: Int32](minimumCapacity: vms.count)
        var duplicate: Int?
        for (i, vm) in vms.enumerated() where index.updateValue(Int32(i), forKey: vm.name) != nil && duplicate == nil {
            duplicate = i
        }
        return (index, duplicate)
    }
}
