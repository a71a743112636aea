// The shapes existing in-VM clients depend on (docs/rules.md#scheduled-events-and-instance-metadata):
// the api-versions and the fields each one has, the document, the approval body and the
// instance metadata. Written once, here; the server only sends the bytes.
public import PitstopCore
import Synchronization

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
    /// The events and their text, which every VM of a set has alike: kept once for them all
    /// when the documents are interned (``DocumentContents``).
    private(set) var content: DocumentContent
    /// ``etag(_:)`` of each api-version, in `allCases` order.
    private let etags: [String]

    public var events: [ScheduledEvent] { content.events }
    /// Identifies the content whatever its incarnation: the newest version's fields, hashed.
    /// Computed once: every poll's ETag carries it.
    public var digest: String { content.digest }

    public init(vm: String, incarnation: Int64, events: [ScheduledEvent]) {
        self.init(vm: vm, incarnation: incarnation, content: DocumentContent(events))
    }

    private init(vm: String, incarnation: Int64, content: DocumentContent) {
        self.vm = vm
        self.incarnation = incarnation
        self.content = content
        etags = ScheduledEventsAPIVersion.allCases.map { "\"\(incarnation)-\($0.rawValue)-\(content.digest.prefix(8))\"" }
    }

    /// The document in the fields of `version`. Its events' text was written once, when the
    /// content was first seen: a VM polls its unchanged document every second, and writing the
    /// events anew each time was most of a poll's cost.
    public func json(_ version: ScheduledEventsAPIVersion) -> String {
        JSONText.object([("DocumentIncarnation", JSONText.number(incarnation)), ("Events", content.renderedEvents[version.fieldSet])])
    }

    /// A strong validator of the bytes ``json(_:)`` gives for `version`, quoted as the `ETag`
    /// header carries it.
    public func etag(_ version: ScheduledEventsAPIVersion) -> String {
        etags[ScheduledEventsAPIVersion.allCases.firstIndex(of: version)!]
    }

    func numbered(_ n: Int64) -> ScheduledEventsDocument {
        ScheduledEventsDocument(vm: vm, incarnation: n, content: content)
    }

    /// This document with its content taken from `contents`, where the same content of another
    /// VM is kept already.
    func interned(in contents: DocumentContents) -> ScheduledEventsDocument {
        var document = self
        document.content = contents.intern(content)
        return document
    }
}

/// A document's events and their text in each ``ScheduledEventsAPIVersion/fieldSet``, shared
/// by the documents that hold the same events: a wave lists every VM of its update domain, so
/// a copy per polling VM grew with the square of the set's size.
final class DocumentContent: Sendable, Hashable {
    let events: [ScheduledEvent]
    let renderedEvents: [String]
    let digest: String

    init(_ events: [ScheduledEvent]) {
        self.events = events
        renderedEvents = ScheduledEventsAPIVersion.fieldSets.map { version in JSONText.array(events.map { $0.json(version) }) }
        digest = StableID.uuid(["scheduled-events", renderedEvents[ScheduledEventsAPIVersion.newest.fieldSet]])
    }

    static func == (a: DocumentContent, b: DocumentContent) -> Bool { a === b || a.events == b.events }
    func hash(into hasher: inout Hasher) { hasher.combine(digest) }
}

/// The contents of the documents served lately, one instance per digest, so that the VMs of a
/// set hold one copy of their events between them. Bounded: past ``capacity`` distinct contents
/// it starts afresh (documents keep theirs; only later ones share less).
final class DocumentContents: Sendable {
    static let capacity = 16_384
    private let byDigest = Mutex<[String: DocumentContent]>([:])

    func intern(_ content: DocumentContent) -> DocumentContent {
        byDigest.withLock { kept in
            if let same = kept[content.digest], same == content { return same }
            if kept.count >= Self.capacity { kept.removeAll(keepingCapacity: true) }
            kept[content.digest] = content
            return content
        }
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
