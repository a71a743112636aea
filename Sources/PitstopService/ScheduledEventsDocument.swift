// The shapes existing in-VM clients depend on (docs/rules.md#scheduled-events-and-instance-metadata):
// the api-versions and the fields each one has, the document, the approval body and the
// instance metadata. Written once, here; the server only sends the bytes.
public import PitstopCore

/// A served api-version of the scheduled-events endpoint. An older version omits the fields
/// that came later.
public enum ScheduledEventsAPIVersion: String, Sendable, Hashable, CaseIterable, Comparable {
    case v2017_03_01 = "2017-03-01"
    case v2017_08_01 = "2017-08-01"
    case v2017_11_01 = "2017-11-01"
    case v2019_01_01 = "2019-01-01"
    case v2019_04_01 = "2019-04-01"
    case v2019_08_01 = "2019-08-01"
    case v2020_07_01 = "2020-07-01"

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// The newest: what the document's digest is computed over.
    public static let newest: Self = allCases.max()!

    /// The version a query asks for.
    ///
    /// - Throws: ``PitstopError`` `.invalid` for a missing or unknown one, naming those served.
    public static func parse(_ text: String?) throws(PitstopError) -> Self {
        guard let text, !text.isEmpty else {
            throw PitstopError(.invalid, "api-version is missing; served: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let version = Self(rawValue: text) else {
            throw PitstopError(.invalid, "api-version '\(text.truncatedForMessage)' is not served; served: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return version
    }

    var hasDescription: Bool { self >= .v2019_04_01 }
    var hasEventSource: Bool { self >= .v2019_08_01 }
    var hasDurationInSeconds: Bool { self >= .v2020_07_01 }

    /// The fields of an event in this version, as a number: versions with the same number write
    /// the same bytes. 0 for the first fields alone, one more for each field added since.
    var fieldSet: Int { [hasDescription, hasEventSource, hasDurationInSeconds].filter { $0 }.count }

    /// The newest version of each ``fieldSet``, by its number.
    static let fieldSets: [Self] = (0...newest.fieldSet).map { n in allCases.last { $0.fieldSet == n }! }
}

/// One event of a document: one wave.
public struct ScheduledEvent: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        case scheduled = "Scheduled", started = "Started"
    }

    /// The wave id: unchanged from `Scheduled` to `Started`.
    public var eventId: String
    /// `Freeze` or `Reboot`.
    public var eventType: String
    /// The wave's VMs, by name (for a single-instance VM, itself).
    public var resources: [String]
    public var status: Status
    /// The planned start; written `""` once started.
    public var notBefore: Timestamp
    public var description: String
    public var eventSource: String = "Platform"
    public var durationInSeconds: Int64

    static func eventType(_ kind: MaintenanceKind) -> String {
        switch kind {
        case .freeze: "Freeze"
        case .reboot: "Reboot"
        }
    }

    func json(_ version: ScheduledEventsAPIVersion) -> String {
        var members: [(String, String)] = [
            ("EventId", JSONText.quote(eventId)),
            ("EventType", JSONText.quote(eventType)),
            ("ResourceType", JSONText.quote("VirtualMachine")),
            ("Resources", JSONText.array(resources.map(JSONText.quote))),
            ("EventStatus", JSONText.quote(status.rawValue)),
            ("NotBefore", JSONText.quote(status == .started ? "" : notBefore.rfc1123)),
        ]
        if version.hasDescription { members.append(("Description", JSONText.quote(description))) }
        if version.hasEventSource { members.append(("EventSource", JSONText.quote(eventSource))) }
        if version.hasDurationInSeconds { members.append(("DurationInSeconds", JSONText.number(durationInSeconds))) }
        return JSONText.object(members)
    }
}

/// What one VM sees at `/metadata/scheduledevents`.
public struct ScheduledEventsDocument: Sendable, Hashable {
    /// The VM it was served to.
    public var vm: String
    /// Rises exactly when the document's content changes, and never goes back.
    public let incarnation: Int64
    public let events: [ScheduledEvent]
    /// Identifies the content whatever its incarnation: the newest version's fields, hashed.
    /// Computed once: every poll's ETag carries it.
    public let digest: String
    /// `Events` written in each ``ScheduledEventsAPIVersion/fieldSet``, and the whole document
    /// in each, written once: a VM polls its unchanged document every second, and writing it
    /// anew each time was most of a poll's cost.
    private let renderedEvents: [String]
    private let rendered: [String]
    /// ``etag(_:)`` of each api-version, in `allCases` order.
    private let etags: [String]

    public init(vm: String, incarnation: Int64, events: [ScheduledEvent]) {
        self.vm = vm
        self.incarnation = incarnation
        self.events = events
        renderedEvents = ScheduledEventsAPIVersion.fieldSets.map { version in JSONText.array(events.map { $0.json(version) }) }
        rendered = Self.documents(incarnation, renderedEvents)
        digest = StableID.uuid(["scheduled-events", renderedEvents[ScheduledEventsAPIVersion.newest.fieldSet]])
        etags = Self.etags(incarnation, digest)
    }

    private static func documents(_ incarnation: Int64, _ events: [String]) -> [String] {
        events.map { JSONText.object([("DocumentIncarnation", JSONText.number(incarnation)), ("Events", $0)]) }
    }

    /// The document in the fields of `version`.
    public func json(_ version: ScheduledEventsAPIVersion) -> String { rendered[version.fieldSet] }

    /// A strong validator of the bytes ``json(_:)`` gives for `version`, quoted as the `ETag`
    /// header carries it.
    public func etag(_ version: ScheduledEventsAPIVersion) -> String {
        etags[ScheduledEventsAPIVersion.allCases.firstIndex(of: version)!]
    }

    private static func etags(_ incarnation: Int64, _ digest: String) -> [String] {
        ScheduledEventsAPIVersion.allCases.map { "\"\(incarnation)-\($0.rawValue)-\(digest.prefix(8))\"" }
    }

    func numbered(_ n: Int64) -> ScheduledEventsDocument {
        ScheduledEventsDocument(vm: vm, incarnation: n, events: events, renderedEvents: renderedEvents, digest: digest)
    }

    private init(vm: String, incarnation: Int64, events: [ScheduledEvent], renderedEvents: [String], digest: String) {
        self.vm = vm
        self.incarnation = incarnation
        self.events = events
        self.renderedEvents = renderedEvents
        self.digest = digest
        rendered = Self.documents(incarnation, renderedEvents)
        etags = Self.etags(incarnation, digest)
    }
}

/// The body of an approval: `{"StartRequests": [{"EventId": "..."}]}`.
public enum ApprovalRequest {
    /// The EventIds the body asks to start. Any other key, at either level, is ignored (old
    /// clients add `DocumentIncarnation`); whatever the Content-Type said, the body is read as JSON.
    ///
    /// - Throws: ``PitstopError`` `.invalid` for a body that is not such a JSON object.
    public static func eventIds(fromBody bytes: [UInt8]) throws(PitstopError) -> [String] {
        let root: JSONNode
        do throws(JSONSyntaxError) { root = try JSONParser.parse(bytes) } catch {
            throw PitstopError(.invalid, "the body is not JSON (\(error.message), line \(error.line)); expected {\"StartRequests\": [{\"EventId\": \"...\"}]}")
        }
        guard case .object(let members) = root.value else {
            throw PitstopError(.invalid, "the body is \(root.value.kindName), not an object; expected {\"StartRequests\": [{\"EventId\": \"...\"}]}")
        }
        guard let requests = members.first(where: { $0.key == "StartRequests" })?.node else {
            throw PitstopError(.invalid, "the body has no StartRequests; expected {\"StartRequests\": [{\"EventId\": \"...\"}]}")
        }
        guard case .array(let items) = requests.value else {
            throw PitstopError(.invalid, "StartRequests is \(requests.value.kindName), not an array")
        }
        return try items.enumerated().map { (n, item) throws(PitstopError) -> String in
            guard case .object(let fields) = item.value,
                  let id = fields.first(where: { $0.key == "EventId" }), case .string(let text) = id.node.value else {
                throw PitstopError(.invalid, "StartRequests[\(n)] has no EventId string")
            }
            return text
        }
    }
}

/// What a VM learns about itself at `/metadata/instance`.
public struct InstanceMetadata: Sendable, Hashable {
    public var name: String
    public var location: String
    public var resourceGroupName: String = ""
    public var subscriptionId: String
    /// Stable for a VM name, UUID-formatted.
    public var vmId: String
    /// Strings, empty for a single-instance VM.
    public var platformUpdateDomain: String
    public var platformFaultDomain: String

    public init(_ vm: VirtualMachine) {
        name = vm.name
        location = vm.region
        subscriptionId = vm.subscription
        vmId = StableID.uuid(["vm", vm.name])
        platformUpdateDomain = vm.updateDomain.map(String.init) ?? ""
        platformFaultDomain = vm.faultDomain.map(String.init) ?? ""
    }

    /// The compute fields, in the order they are written.
    public var compute: [(name: String, value: String)] {
        [("name", name), ("location", location), ("resourceGroupName", resourceGroupName), ("subscriptionId", subscriptionId),
         ("vmId", vmId), ("platformUpdateDomain", platformUpdateDomain), ("platformFaultDomain", platformFaultDomain)]
    }

    /// `{"compute": {...}}`.
    public var json: String {
        JSONText.object([("compute", JSONText.object(compute.map { ($0.name, JSONText.quote($0.value)) }))])
    }

    /// The first api-version of the instance endpoint; any later `YYYY-MM-DD` is served.
    public static let firstAPIVersion = "2017-03-01"

    /// Checks the instance endpoint's api-version: a calendar date from ``firstAPIVersion`` on.
    ///
    /// - Throws: ``PitstopError`` `.invalid` otherwise.
    public static func checkAPIVersion(_ text: String?) throws(PitstopError) {
        guard let text, !text.isEmpty else {
            throw PitstopError(.invalid, "api-version is missing; any YYYY-MM-DD from \(firstAPIVersion) on is served")
        }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, parts.map(\.count) == [4, 2, 2],
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let month = Int(parts[1]), (1...12).contains(month), let day = Int(parts[2]), (1...31).contains(day),
              text >= firstAPIVersion else {
            throw PitstopError(.invalid, "api-version '\(text.truncatedForMessage)' is not served; any YYYY-MM-DD from \(firstAPIVersion) on is")
        }
    }
}
