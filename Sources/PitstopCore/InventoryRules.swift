// What makes a fleet record valid: names, addresses, domain ranges, references. One place,
// used by the importer, the single-record commands and (through the same numbers) the schema.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A problem with one field of one record; the caller prefixes the place it came from
/// (`inventory.json: vms[12]` or `fleet.csv:13`).
public struct FieldProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

/// Everything wrong with one record.
public struct RecordProblems: Error, Sendable, Hashable {
    public var problems: [FieldProblem]
    public init(_ problems: [FieldProblem]) { self.problems = problems }
}

/// Checks of single values, shared by every way a record enters Pitstop.
public enum InventoryRules {
    /// Longest name, in Unicode scalars (what SQLite's `length()` counts).
    public static let maxNameLength = 256

    /// A name is 1 to 256 characters with no control characters; anything else (quotes,
    /// semicolons, non-ASCII letters) is kept verbatim.
    public static func checkName(_ name: String) throws(InputProblem) {
        // Fast path for the common case: printable ASCII with no space at either end.
        let utf8 = name.utf8
        if utf8.count <= maxNameLength, let first = utf8.first, let last = utf8.last, first != 32, last != 32,
           utf8.allSatisfy({ $0 >= 32 && $0 < 127 }) {
            return
        }
        let scalars = name.unicodeScalars
        guard !scalars.isEmpty else { throw InputProblem("must not be empty") }
        guard scalars.count <= maxNameLength else {
            throw InputProblem("'\(name.truncatedForMessage)' is longer than \(maxNameLength) characters")
        }
        if let bad = scalars.first(where: { $0.properties.generalCategory == .control }) {
            throw InputProblem("'\(name.truncatedForMessage)' contains the control character U+\(String(bad.value, radix: 16, uppercase: true))")
        }
        guard name.trimmingWhitespace() == name else {
            throw InputProblem("'\(name.truncatedForMessage)' starts or ends with white space")
        }
    }

    /// No stored text holds U+0 (NUL): PostgreSQL cannot store or compare it in text, and
    /// SQLite's C interfaces end a string there. Refused wherever input arrives (a JSON
    /// string, an API path or query parameter) rather than reaching either engine.
    public static let nulRefusal = "the character U+0 (NUL), which no stored text may hold"

    /// Refuses `text` when it holds U+0 (see ``nulRefusal``).
    public static func checkStorable(_ text: some StringProtocol) throws(InputProblem) {
        guard text.utf8.contains(0) else { return }
        throw InputProblem("'\(String(text).truncatedForMessage)' contains \(nulRefusal)")
    }

    /// A plain `local@domain.tld` address: what a notice can be sent to.
    public static func checkEmail(_ address: String) throws(InputProblem) {
        let problem = InputProblem("'\(address.truncatedForMessage)' is not an e-mail address (like ops@contoso.example)")
        guard address.utf8.count <= 254 else { throw problem }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last,
              !local.isEmpty, local.utf8.count <= 64,
              domain.contains("."), !domain.hasPrefix("."), !domain.hasSuffix("."), !domain.contains("..")
        else { throw problem }
        let forbidden: Set<Character> = [" ", "\t", "<", ">", "(", ")", "[", "]", ",", ";", ":", "\\", "\""]
        guard !address.contains(where: { forbidden.contains($0) || $0.isNewline || ($0.asciiValue.map { $0 < 32 || $0 == 127 } ?? false) })
        else { throw problem }
    }

    /// An IPv4 or IPv6 address, returned in canonical form so that it matches the address a
    /// request comes from.
    public static func canonicalIPAddress(_ text: String) throws(InputProblem) -> String {
        let problem = InputProblem("'\(text.truncatedForMessage)' is not an IPv4 or IPv6 address")
        guard text.utf8.count <= 45 else { throw problem }
        var v4 = in_addr(), v6 = in6_addr()
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        if inet_pton(AF_INET, text, &v4) == 1 {
            guard inet_ntop(AF_INET, &v4, &buffer, socklen_t(buffer.count)) != nil else { throw problem }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            guard inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil else { throw problem }
        } else {
            throw problem
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func checkFaultDomains(_ n: Int) throws(InputProblem) {
        guard AvailabilitySet.faultDomainRange.contains(n) else {
            throw InputProblem("\(n) is outside \(AvailabilitySet.faultDomainRange.lowerBound)..\(AvailabilitySet.faultDomainRange.upperBound)")
        }
    }

    public static func checkUpdateDomains(_ n: Int) throws(InputProblem) {
        guard AvailabilitySet.updateDomainRange.contains(n) else {
            throw InputProblem("\(n) is outside \(AvailabilitySet.updateDomainRange.lowerBound)..\(AvailabilitySet.updateDomainRange.upperBound)")
        }
    }
}

/// A VM as an operator describes it, before placement: set, UD and FD may be missing.
public struct VMDraft: Sendable, Hashable {
    public var name: String
    public var region: String?
    public var subscription: String?
    public var availabilitySet: String?
    public var updateDomain: Int?
    public var faultDomain: Int?
    public var ipAddress: String?
    /// The input did not mention an address at all (a CSV without the column, a JSON record
    /// without the key): an update keeps the stored one instead of clearing it.
    public var keepsStoredAddress: Bool

    public init(
        name: String, region: String?, subscription: String?, availabilitySet: String? = nil,
        updateDomain: Int? = nil, faultDomain: Int? = nil, ipAddress: String? = nil, keepsStoredAddress: Bool = false
    ) {
        self.keepsStoredAddress = keepsStoredAddress
        self.name = name
        self.region = region
        self.subscription = subscription
        self.availabilitySet = availabilitySet
        self.updateDomain = updateDomain
        self.faultDomain = faultDomain
        self.ipAddress = ipAddress
    }
}

/// What a VM draft is checked against: the fleet as it will be once the surrounding change
/// is applied. A concrete type, not a protocol, because the importer calls it a million
/// times and generic dispatch showed up in its profile.
public struct FleetIndex: Sendable {
    public var regions: Set<String>
    public var subscriptions: Set<String>
    /// The sets in the order they became known. A set's position is its slot: an import
    /// counts placements per set in an array by slot, not in a dictionary by name, because
    /// hashing a set's name for every one of a million rows showed in its profile.
    public private(set) var sets: [AvailabilitySet] = []
    private var slots: [String: Int] = [:]

    public init(regions: Set<String> = [], subscriptions: Set<String> = [], sets: [AvailabilitySet] = []) {
        self.regions = regions
        self.subscriptions = subscriptions
        for set in sets { learn(set) }
    }

    public func hasRegion(_ name: String) -> Bool { regions.contains(name) }
    public func hasSubscription(_ id: String) -> Bool { subscriptions.contains(id) }
    public func availabilitySet(named name: String) -> AvailabilitySet? { slots[name].map { sets[$0] } }
    public func slot(ofSet name: String) -> Int? { slots[name] }

    /// Adds a set in the next slot, or replaces the one of that name in its own.
    public mutating func learn(_ set: AvailabilitySet) {
        if let slot = slots[set.name] {
            sets[slot] = set
        } else {
            slots[set.name] = sets.count
            sets.append(set)
        }
    }
}

/// A VM draft that passed every check that does not depend on what is stored: its
/// references exist and its domains are in range. Placement comes next.
public struct CheckedVM: Sendable {
    /// The VM with the domains it was given (nil where placement must choose).
    public var vm: VirtualMachine
    public var set: AvailabilitySet?
    /// The set's slot in the `FleetIndex` the VM was checked against; nil without a set.
    public var setSlot: Int?
    /// See `VMDraft.keepsStoredAddress`.
    public var keepsStoredAddress = false

    /// Places the VM. `existing` is the VM as stored, if any: a VM that stays in its set keeps
    /// its domains unless new ones are given. `nextPlacement` is called once for a VM that
    /// joins a set (new, or moved in) and returns the set's n, how many VMs joined it before;
    /// the caller counts it up.
    public func placed(existing: VirtualMachine?, nextPlacement: (AvailabilitySet) -> Int) -> VirtualMachine {
        var result = vm
        if keepsStoredAddress, let existing { result.ipAddress = existing.ipAddress }
        guard let set else { return result }
        let stays = existing?.availabilitySet == set.name
        if stays, let existing {
            result.updateDomain = vm.updateDomain ?? existing.updateDomain
            result.faultDomain = vm.faultDomain ?? existing.faultDomain
        } else {
            // Every VM that joins counts toward n, whether or not it names its domains.
            let n = set.placement(ofVMNumber: nextPlacement(set))
            result.updateDomain = vm.updateDomain ?? n.updateDomain
            result.faultDomain = vm.faultDomain ?? n.faultDomain
        }
        return result
    }
}

extension VMDraft {
    /// Checks the draft against `fleet`, collecting every problem.
    public func check(in fleet: FleetIndex) -> Result<CheckedVM, RecordProblems> {
        var problems: [FieldProblem] = []
        do throws(InputProblem) { try InventoryRules.checkName(name) } catch { problems.append(FieldProblem("name", error.message)) }

        var set: AvailabilitySet?, setSlot: Int?
        if let setName = availabilitySet {
            setSlot = fleet.slot(ofSet: setName)
            set = setSlot.map { fleet.sets[$0] }
            if set == nil { problems.append(FieldProblem("availabilitySet", "unknown availability set '\(setName.truncatedForMessage)'")) }
        }
        let regionName = region ?? set?.region
        if let regionName {
            if !fleet.hasRegion(regionName) {
                problems.append(FieldProblem("region", "unknown region '\(regionName.truncatedForMessage)'"))
            } else if let set, set.region != regionName {
                problems.append(FieldProblem("region", "'\(regionName.escapingControlCharacters)' is not the region of set \(set.name) (\(set.region))"))
            }
        } else if availabilitySet == nil {
            // With an unknown set, that is the one problem: the set would have given the region.
            problems.append(FieldProblem("region", "is required"))
        }
        // A VM without its own subscription belongs to its set's owner.
        let subscriptionID = subscription ?? set?.subscription
        if let subscriptionID {
            if !fleet.hasSubscription(subscriptionID) {
                problems.append(FieldProblem("subscription", "unknown subscription '\(subscriptionID.truncatedForMessage)'"))
            }
        } else if availabilitySet == nil {
            problems.append(FieldProblem("subscription", "is required for a VM without an availability set"))
        }
        if availabilitySet == nil {
            if let ud = updateDomain { problems.append(FieldProblem("updateDomain", "\(ud) given for a single-instance VM (no availabilitySet)")) }
            if let fd = faultDomain { problems.append(FieldProblem("faultDomain", "\(fd) given for a single-instance VM (no availabilitySet)")) }
        }
        if let set {
            if let ud = updateDomain, !(0..<set.updateDomains).contains(ud) {
                problems.append(FieldProblem("updateDomain", "\(ud) is outside 0..\(set.updateDomains - 1) for set \(set.name)"))
            }
            if let fd = faultDomain, !(0..<set.faultDomains).contains(fd) {
                problems.append(FieldProblem("faultDomain", "\(fd) is outside 0..\(set.faultDomains - 1) for set \(set.name)"))
            }
        }
        var address: String?
        if let ipAddress {
            do throws(InputProblem) { address = try InventoryRules.canonicalIPAddress(ipAddress) } catch { problems.append(FieldProblem("ipAddress", error.message)) }
        }
        guard problems.isEmpty, let regionName, let subscriptionID else { return .failure(RecordProblems(problems)) }
        let vm = VirtualMachine(name: name, region: regionName, subscription: subscriptionID, availabilitySet: set?.name,
                                updateDomain: set == nil ? nil : updateDomain, faultDomain: set == nil ? nil : faultDomain, ipAddress: address)
        return .success(CheckedVM(vm: vm, set: set, setSlot: setSlot, keepsStoredAddress: keepsStoredAddress && ipAddress == nil))
    }

    /// Checks and places in one step (see `check` and `CheckedVM.placed`).
    public func resolve(
        in fleet: FleetIndex, existing: VirtualMachine?, nextPlacement: (AvailabilitySet) -> Int
    ) -> Result<VirtualMachine, RecordProblems> {
        check(in: fleet).map { $0.placed(existing: existing, nextPlacement: nextPlacement) }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
