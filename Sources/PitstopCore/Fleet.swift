// The fleet Pitstop maintains, as plain values (docs/rules.md#fleet-model).

/// A datacenter location such as `eastus`. The name is the key.
public struct Region: Sendable, Hashable, Codable {
    public var name: String
    public var displayName: String?

    public init(name: String, displayName: String? = nil) {
        self.name = name
        self.displayName = displayName
    }
}

/// A directed link `region -> pairedWith`. Links are neither symmetric nor a matching; the
/// scheduling rules treat every link as a conflict in both directions.
public struct RegionPair: Sendable, Hashable, Codable, Comparable {
    public var region: String
    public var pairedWith: String

    public init(region: String, pairedWith: String) {
        self.region = region
        self.pairedWith = pairedWith
    }

    public static func < (a: RegionPair, b: RegionPair) -> Bool {
        (a.region, a.pairedWith) < (b.region, b.pairedWith)
    }

    /// The published table the project starts from (docs/rules.md#default-region-pairs).
    public static let defaults: [RegionPair] = [
        ("northcentralus", "southcentralus"), ("eastus", "westus"), ("eastus2", "centralus"),
        ("northeurope", "westeurope"), ("southeastasia", "eastasia"), ("chinaeast", "chinanorth"),
        ("japaneast", "japanwest"), ("brazilsouth", "southcentralus"),
        ("australiasoutheast", "australiaeast"), ("usgoviowa", "usgovvirginia"),
    ].map { RegionPair(region: $0.0, pairedWith: $0.1) }
}

/// An owner account; its admins and co-admins receive maintenance notices.
public struct Subscription: Sendable, Hashable, Codable {
    public var id: String
    public var admins: [String]
    public var coAdmins: [String]
    /// The IANA zone in which notices show times beside UTC.
    public var noticeTimeZone: String

    public init(id: String, admins: [String] = [], coAdmins: [String] = [], noticeTimeZone: String = "UTC") {
        self.id = id
        self.admins = admins
        self.coAdmins = coAdmins
        self.noticeTimeZone = noticeTimeZone
    }
}

/// A group of VMs in one region that serve the same purpose, spread over update and fault
/// domains so that only part of them is down at a time.
public struct AvailabilitySet: Sendable, Hashable, Codable {
    public static let faultDomainRange = 1...3
    public static let updateDomainRange = 1...20
    public static let defaultFaultDomains = 2
    public static let defaultUpdateDomains = 5

    public var name: String
    public var region: String
    public var subscription: String
    public var faultDomains: Int
    public var updateDomains: Int

    public init(
        name: String, region: String, subscription: String,
        faultDomains: Int = AvailabilitySet.defaultFaultDomains,
        updateDomains: Int = AvailabilitySet.defaultUpdateDomains
    ) {
        self.name = name
        self.region = region
        self.subscription = subscription
        self.faultDomains = faultDomains
        self.updateDomains = updateDomains
    }

    /// Round-robin placement: the n-th VM added to a set (n from 0) gets UD n mod U and FD n mod F.
    public func placement(ofVMNumber n: Int) -> (updateDomain: Int, faultDomain: Int) {
        (n % updateDomains, n % faultDomains)
    }
}

/// A virtual machine in one region, in at most one availability set.
public struct VirtualMachine: Sendable, Hashable, Codable {
    public var name: String
    public var region: String
    public var subscription: String
    public var availabilitySet: String?
    public var updateDomain: Int?
    public var faultDomain: Int?
    public var ipAddress: String?

    public init(
        name: String, region: String, subscription: String, availabilitySet: String? = nil,
        updateDomain: Int? = nil, faultDomain: Int? = nil, ipAddress: String? = nil
    ) {
        self.name = name
        self.region = region
        self.subscription = subscription
        self.availabilitySet = availabilitySet
        self.updateDomain = updateDomain
        self.faultDomain = faultDomain
        self.ipAddress = ipAddress
    }

    /// Multi-instance VMs belong to a set (even a set of one); the rest are single-instance.
    public var isSingleInstance: Bool { availabilitySet == nil }
}

/// A UTC interval during which nothing may be scheduled, fleet-wide or for one region.
public struct Blackout: Sendable, Hashable, Codable {
    public var name: String
    /// `nil` for the whole fleet.
    public var region: String?
    public var start: Timestamp
    public var end: Timestamp

    public init(name: String, region: String?, start: Timestamp, end: Timestamp) {
        self.name = name
        self.region = region
        self.start = start
        self.end = end
    }

    public var range: TimeRange { TimeRange(start: start, end: end) }

    /// Whether it applies to VMs in `region` (``Rules/blackout(_:appliesTo:)``).
    public func covers(region other: String) -> Bool { Rules.blackout(self, appliesTo: other) }
}
