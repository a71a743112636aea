// The inventory document: the JSON (and, for VMs, CSV) form in which operators import and
// export a fleet. Reading it collects every problem with its place instead of stopping at
// the first.
public import Foundation

/// Where a record came from, so that a problem can say `inventory.json:14: vms[12].updateDomain`.
public struct SourcePlace: Sendable, Hashable {
    public var line: Int
    /// The JSON path of the record (`vms[12]`); empty for a CSV row.
    public var path: String

    public init(line: Int, path: String) {
        self.line = line
        self.path = path
    }

    public func field(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
}

/// A problem with the input, with its file, line and field.
public struct InputError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var field: String?
    public var message: String

    public init(file: String, line: Int?, field: String?, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public init(file: String, place: SourcePlace, problem: FieldProblem) {
        self.init(file: file, line: place.line, field: place.field(problem.field), message: problem.message)
    }

    /// Where the problem is: `inventory.json:14: vms[12].updateDomain`.
    public var place: String {
        var out = file
        if let line { out += ":\(line)" }
        if let field { out += ": \(field)" }
        return out
    }

    /// `inventory.json:14: vms[12].updateDomain: 7 is outside 0..4 for set web`
    public var description: String { place + ": " + message }
}

/// A record and where it came from.
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public var place: SourcePlace

    public init(_ value: Value, at place: SourcePlace) {
        self.value = value
        self.place = place
    }
}

/// A set as written: fault and update domain counts may be left to their defaults.
public struct AvailabilitySetDraft: Sendable, Hashable {
    public var name: String
    public var region: String
    public var subscription: String
    public var faultDomains: Int
    public var updateDomains: Int

    public init(name: String, region: String, subscription: String, faultDomains: Int?, updateDomains: Int?) {
        self.name = name
        self.region = region
        self.subscription = subscription
        self.faultDomains = faultDomains ?? AvailabilitySet.defaultFaultDomains
        self.updateDomains = updateDomains ?? AvailabilitySet.defaultUpdateDomains
    }

    public var set: AvailabilitySet {
        AvailabilitySet(name: name, region: region, subscription: subscription, faultDomains: faultDomains, updateDomains: updateDomains)
    }
}

/// Everything one import brings, in document order within each kind.
public struct InventoryDocument: Sendable {
    public var regions: [Located<Region>] = []
    public var regionPairs: [Located<RegionPair>] = []
    public var subscriptions: [Located<Subscription>] = []
    public var availabilitySets: [Located<AvailabilitySetDraft>] = []
    public var vms: [Located<VMDraft>] = []
    public var maintenanceWindows: [Located<MaintenanceWindow>] = []
    public var blackouts: [Located<Blackout>] = []

    public init() {}

    public static let topLevelKeys = ["regions", "regionPairs", "subscriptions", "availabilitySets", "vms", "maintenanceWindows", "blackouts"]

    /// Reads a JSON document. Returns every record that could be read and every problem
    /// found; a caller that gets problems writes nothing.
    public static func decode(json bytes: [UInt8], file: String) -> (InventoryDocument, [InputError]) {
        var document = InventoryDocument()
        let root: JSONNode
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            return (document, [InputError(file: file, line: error.line, field: nil, message: error.message)])
        }
        var errors: [InputError] = []
        guard case .object(let members) = root.value else {
            return (document, [InputError(file: file, line: root.line, field: nil, message: "the document must be a JSON object with keys \(topLevelKeys.joined(separator: ", ")), not \(root.value.kindName)")])
        }
        var seenKeys: Set<String> = []
        for (key, node) in members {
            guard seenKeys.insert(key).inserted else {
                errors.append(InputError(file: file, line: node.line, field: key, message: "appears twice in the document"))
                continue
            }
            guard topLevelKeys.contains(key) else {
                errors.append(InputError(file: file, line: node.line, field: key.truncatedForMessage, message: "unknown key; expected one of \(topLevelKeys.joined(separator: ", "))"))
                continue
            }
            if case .null = node.value { continue }
            guard case .array(let items) = node.value else {
                errors.append(InputError(file: file, line: node.line, field: key, message: "must be an array, not \(node.value.kindName)"))
                continue
            }
            for (index, item) in items.enumerated() {
                errors += document.read(item, key: key, at: SourcePlace(line: item.line, path: "\(key)[\(index)]"), file: file)
            }
        }
        errors += document.duplicateNameErrors(file: file)
        // A repeated VM is reported above with both places; the importer would report it again.
        var vmNames: Set<String> = []
        document.vms.removeAll { !vmNames.insert($0.value.name).inserted }
        return (document, errors)
    }

    /// One record object of the kind `key` (a top-level key: `regions`, `vms`, ...) read by the
    /// same reader as an item of that list in a document, so a single record (`POST /api/v1/vms`)
    /// and an import accept and refuse exactly the same fields. The document holds the record,
    /// or the problems say why not, each with its place (`body:3: updateDomain`).
    public static func decodeRecord(_ node: JSONNode, key: String, file: String) -> (InventoryDocument, [InputError]) {
        var document = InventoryDocument()
        guard topLevelKeys.contains(key) else {
            return (document, [InputError(file: file, line: node.line, field: nil, message: "'\(key.truncatedForMessage)' is not a kind of record")])
        }
        let errors = document.read(node, key: key, at: SourcePlace(line: node.line, path: ""), file: file)
        return (document, errors)
    }

    /// Reads one record of the kind `key` at `place` into the document; its problems.
    private mutating func read(_ item: JSONNode, key: String, at place: SourcePlace, file: String) -> [InputError] {
        var record = RecordReader(node: item, place: place)
        switch key {
        case "regions": if let v = record.region() { regions.append(Located(v, at: place)) }
        case "regionPairs": if let v = record.regionPair() { regionPairs.append(Located(v, at: place)) }
        case "subscriptions": if let v = record.subscription() { subscriptions.append(Located(v, at: place)) }
        case "availabilitySets": if let v = record.availabilitySet() { availabilitySets.append(Located(v, at: place)) }
        case "vms": if let v = record.vm() { vms.append(Located(v, at: place)) }
        case "maintenanceWindows": if let v = record.maintenanceWindow() { maintenanceWindows.append(Located(v, at: place)) }
        default: if let v = record.blackout() { blackouts.append(Located(v, at: place)) }
        }
        return record.problems.map { InputError(file: file, place: place, problem: $0) }
    }

    /// Two records of one kind with the same key in one document are refused: which one was
    /// meant cannot be told.
    func duplicateNameErrors(file: String) -> [InputError] {
        func duplicates<V>(_ items: [Located<V>], kind: String, field: String, key: (V) -> String) -> [InputError] {
            var first: [String: SourcePlace] = [:]
            var errors: [InputError] = []
            for item in items {
                let k = key(item.value)
                if let earlier = first[k] {
                    errors.append(InputError(file: file, line: item.place.line, field: item.place.field(field),
                                             message: "duplicate \(kind) '\(k.truncatedForMessage)' (also at \(earlier.path), line \(earlier.line))"))
                } else {
                    first[k] = item.place
                }
            }
            return errors
        }
        return duplicates(regions, kind: "region", field: "name") { $0.name }
            + duplicates(regionPairs, kind: "region pair", field: "pairedWith") { "\($0.region) -> \($0.pairedWith)" }
            + duplicates(subscriptions, kind: "subscription", field: "id") { $0.id }
            + duplicates(availabilitySets, kind: "availability set", field: "name") { $0.name }
            + duplicates(vms, kind: "VM", field: "name") { $0.name }
            + duplicates(maintenanceWindows, kind: "maintenance window", field: "name") { $0.name }
            + duplicates(blackouts, kind: "blackout", field: "name") { $0.name }
    }
}

/// The CSV form of bulk VMs.
public enum VMCSV {
    public static let header = ["name", "region", "subscription", "availabilitySet", "updateDomain", "faultDomain"]
    /// The header with the optional address column.
    public static let headerWithAddress = header + ["ipAddress"]

    /// Checks the header row; returns whether it carries the `ipAddress` column.
    public static func checkHeader(_ record: CSVRecord, file: String) throws(InputError) -> Bool {
        // An unreadable first line (100 MB, bad UTF-8) has no fields to compare; say why instead.
        if let problem = record.problem { throw InputError(file: file, line: record.line, field: nil, message: "cannot read the header: \(problem)") }
        if record.fields == header { return false }
        if record.fields == headerWithAddress { return true }
        throw InputError(file: file, line: record.line, field: nil,
                         message: "the header must be '\(header.joined(separator: ","))' (optionally followed by ',ipAddress'); \(headerDifference(record.fields))")
    }

    /// Where `found` first parts from the header: a quoted whole header would be cut before a
    /// difference in its last columns.
    static func headerDifference(_ found: [String]) -> String {
        guard let i = headerWithAddress.indices.first(where: { $0 >= found.count || found[$0] != headerWithAddress[$0] }) else {
            return "column \(headerWithAddress.count + 1) ('\(found[headerWithAddress.count].truncatedForMessage)') is not one Pitstop reads"
        }
        guard i < found.count else { return "it has \(found.count) columns: '\(headerWithAddress[i])' is missing" }
        return "column \(i + 1) is '\(found[i].truncatedForMessage)', not '\(headerWithAddress[i])'"
    }

    /// One data row as a VM draft; an empty cell means none, or automatic placement.
    public static func draft(_ record: CSVRecord, withAddress: Bool) -> Result<VMDraft, RecordProblems> {
        if let problem = record.problem { return .failure(RecordProblems([FieldProblem("record", problem)])) }
        let expected = withAddress ? headerWithAddress.count : header.count
        guard record.fields.count == expected else {
            return .failure(RecordProblems([FieldProblem("record", "has \(record.fields.count) fields, the header has \(expected)")]))
        }
        let f = record.fields
        var problems: [FieldProblem] = []
        func optional(_ s: String) -> String? { s.isEmpty ? nil : s }
        func integer(_ s: String, _ field: String) -> Int? {
            guard !s.isEmpty else { return nil }
            do throws(InputProblem) { return try InputLimits.wholeNumber(s, quoted: true) } catch {
                problems.append(FieldProblem(field, error.message))
                return nil
            }
        }
        let draft = VMDraft(
            name: f[0], region: optional(f[1]), subscription: optional(f[2]), availabilitySet: optional(f[3]),
            updateDomain: integer(f[4], "updateDomain"), faultDomain: integer(f[5], "faultDomain"),
            ipAddress: withAddress ? optional(f[6]) : nil, keepsStoredAddress: !withAddress)
        return problems.isEmpty ? .success(draft) : .failure(RecordProblems(problems))
    }
}

/// Reads the fields of one record object, noting every problem: the records of an inventory
/// document, and the bodies of the API's requests.
public struct RecordReader {
    let members: [(key: String, node: JSONNode)]
    public let place: SourcePlace
    public private(set) var problems: [FieldProblem] = []
    private var known: Set<String> = []
    private let isObject: Bool

    public init(node: JSONNode, place: SourcePlace) {
        self.place = place
        if case .object(let m) = node.value {
            members = m
            isObject = true
            // A key given twice: which value was meant cannot be told, so neither is taken.
            var firstLine: [String: Int] = [:]
            for (key, value) in m {
                if let earlier = firstLine[key] {
                    problems.append(FieldProblem(key.truncatedForMessage, "appears twice in this record (lines \(earlier) and \(value.line))"))
                } else {
                    firstLine[key] = value.line
                }
            }
        } else {
            members = []
            isObject = false
            problems.append(FieldProblem("", "must be an object, not \(node.value.kindName)"))
        }
    }

    private mutating func node(_ key: String) -> JSONNode? {
        known.insert(key)
        return members.first(where: { $0.key == key })?.node
    }

    public mutating func string(_ key: String, required: Bool = false) -> String? {
        guard let n = node(key) else {
            if required && isObject { problems.append(FieldProblem(key, "is required")) }
            return nil
        }
        switch n.value {
        case .string(let s): return s
        case .null:
            if required { problems.append(FieldProblem(key, "is required")) }
            return nil
        default:
            problems.append(FieldProblem(key, "must be a string, not \(n.value.kindName)"))
            return nil
        }
    }

    mutating func requiredName(_ key: String) -> String? {
        guard let s = string(key, required: true) else { return nil }
        do throws(InputProblem) { try InventoryRules.checkName(s) } catch {
            problems.append(FieldProblem(key, error.message))
            return nil
        }
        return s
    }

    public mutating func integer(_ key: String) -> Int? {
        guard let n = node(key) else { return nil }
        switch n.value {
        case .null: return nil
        case .number(let text):
            do throws(InputProblem) { return try InputLimits.wholeNumber(text) } catch {
                problems.append(FieldProblem(key, error.message))
                return nil
            }
        default:
            problems.append(FieldProblem(key, "must be a whole number, not \(n.value.kindName)"))
            return nil
        }
    }

    /// `true` or `false`; absent or `null` is nil.
    public mutating func bool(_ key: String) -> Bool? {
        guard let n = node(key) else { return nil }
        switch n.value {
        case .null: return nil
        case .bool(let b): return b
        default:
            problems.append(FieldProblem(key, "must be true or false, not \(n.value.kindName)"))
            return nil
        }
    }

    /// A problem with a field that the caller found (a value of the right type that makes no sense).
    public mutating func problem(_ key: String, _ message: String) {
        problems.append(FieldProblem(key, message))
    }

    public mutating func strings(_ key: String) -> [String] {
        guard let n = node(key) else { return [] }
        switch n.value {
        case .null: return []
        case .array(let items):
            var out: [String] = []
            for (i, item) in items.enumerated() {
                if case .string(let s) = item.value { out.append(s) } else {
                    problems.append(FieldProblem("\(key)[\(i)]", "must be a string, not \(item.value.kindName)"))
                }
            }
            return out
        default:
            problems.append(FieldProblem(key, "must be an array of strings, not \(n.value.kindName)"))
            return []
        }
    }

    /// Unknown keys are refused: a misspelt `updateDomian` would otherwise vanish silently.
    public mutating func finish() {
        for (key, _) in members where !known.contains(key) {
            problems.append(FieldProblem(key.truncatedForMessage, "unknown key"))
        }
    }

    mutating func region() -> Region? {
        let name = requiredName("name"), display = string("displayName")
        finish()
        guard let name, problems.isEmpty else { return nil }
        return Region(name: name, displayName: display)
    }

    mutating func regionPair() -> RegionPair? {
        let region = requiredName("region"), partner = requiredName("pairedWith")
        finish()
        guard let region, let partner, problems.isEmpty else { return nil }
        guard region != partner else {
            problems.append(FieldProblem("pairedWith", "a region cannot be paired with itself ('\(region.escapingControlCharacters)')"))
            return nil
        }
        return RegionPair(region: region, pairedWith: partner)
    }

    mutating func subscription() -> Subscription? {
        let id = requiredName("id"), admins = strings("admins"), coAdmins = strings("coAdmins")
        let zone = string("noticeTimeZone")
        finish()
        for (field, list) in [("admins", admins), ("coAdmins", coAdmins)] {
            for (i, address) in list.enumerated() {
                do throws(InputProblem) { try InventoryRules.checkEmail(address) } catch {
                    problems.append(FieldProblem("\(field)[\(i)]", error.message))
                }
            }
        }
        if let zone {
            do throws(InputProblem) { _ = try MaintenanceWindow.timeZone(named: zone) } catch {
                problems.append(FieldProblem("noticeTimeZone", error.message))
            }
        }
        guard let id, problems.isEmpty else { return nil }
        return Subscription(id: id, admins: admins, coAdmins: coAdmins, noticeTimeZone: zone ?? "UTC")
    }

    mutating func availabilitySet() -> AvailabilitySetDraft? {
        let name = requiredName("name"), region = requiredName("region"), subscription = requiredName("subscription")
        let fds = integer("faultDomains"), uds = integer("updateDomains")
        finish()
        if let fds { do throws(InputProblem) { try InventoryRules.checkFaultDomains(fds) } catch { problems.append(FieldProblem("faultDomains", error.message)) } }
        if let uds { do throws(InputProblem) { try InventoryRules.checkUpdateDomains(uds) } catch { problems.append(FieldProblem("updateDomains", error.message)) } }
        guard let name, let region, let subscription, problems.isEmpty else { return nil }
        return AvailabilitySetDraft(name: name, region: region, subscription: subscription, faultDomains: fds, updateDomains: uds)
    }

    mutating func vm() -> VMDraft? {
        let name = requiredName("name"), region = string("region"), subscription = string("subscription")
        let set = string("availabilitySet"), ud = integer("updateDomain"), fd = integer("faultDomain")
        let ip = string("ipAddress"), mentionsAddress = members.contains { $0.key == "ipAddress" }
        finish()
        guard let name, problems.isEmpty else { return nil }
        return VMDraft(name: name, region: region, subscription: subscription, availabilitySet: set, updateDomain: ud, faultDomain: fd,
                       ipAddress: ip, keepsStoredAddress: !mentionsAddress)
    }

    mutating func maintenanceWindow() -> MaintenanceWindow? {
        let name = requiredName("name"), region = string("region"), set = string("availabilitySet")
        let startText = string("start", required: true), zoneText = string("timeZone", required: true)
        let durationText = string("duration", required: true), recurText = string("recurEvery")
        let expiresText = string("expires")
        finish()
        var scope: WindowScope?
        switch (region, set) {
        case let (r?, nil): scope = .region(r)
        case let (nil, s?): scope = .availabilitySet(s)
        case (nil, nil): problems.append(FieldProblem("region", "a window names either region or availabilitySet"))
        case (_?, _?): problems.append(FieldProblem("availabilitySet", "a window names either region or availabilitySet, not both"))
        }
        var fields = WindowFields()
        fields.parse(start: startText, zone: zoneText, duration: durationText, recurEvery: recurText, expires: expiresText, problems: &problems)
        guard let name, let scope, problems.isEmpty, let window = fields.window(name: name, scope: scope) else { return nil }
        return window
    }

    mutating func blackout() -> Blackout? {
        let name = requiredName("name"), region = string("region")
        let startText = string("start", required: true), endText = string("end", required: true)
        finish()
        let start = startText.flatMap { parseInstant($0, field: "start") }
        let end = endText.flatMap { parseInstant($0, field: "end") }
        if let start, let end, end <= start {
            problems.append(FieldProblem("end", "\(end.iso8601) is not after start \(start.iso8601)"))
        }
        guard let name, let start, let end, problems.isEmpty else { return nil }
        return Blackout(name: name, region: region, start: start, end: end)
    }

    private mutating func parseInstant(_ text: String, field: String) -> Timestamp? {
        guard let t = Timestamp(iso8601: text) else {
            problems.append(FieldProblem(field, "'\(text.truncatedForMessage)' is not an ISO 8601 instant with a zone (like 2026-12-20T00:00:00Z)"))
            return nil
        }
        return t
    }
}

/// The text fields of a maintenance window, checked together: used by the document reader
/// and by `pitstop window add`.
public struct WindowFields {
    public var start: LocalDateTime?
    public var zone: TimeZone?
    public var duration: DurationText?
    public var recurrence: Recurrence?
    public var expires: LocalDateTime?

    public init() {}

    /// - Parameter stored: the fields come from the database, where an earlier version may
    ///   have kept an offset zone (``MaintenanceWindow/timeZone(stored:)``).
    public mutating func parse(start startText: String?, zone zoneText: String?, duration durationText: String?,
                               recurEvery: String?, expires expiresText: String?, stored: Bool = false, problems: inout [FieldProblem]) {
        if let startText {
            start = LocalDateTime(startText)
            if start == nil { problems.append(FieldProblem("start", "'\(startText.truncatedForMessage)' is not a local date and time (like 2026-12-05T22:00:00)")) }
        }
        if let zoneText {
            do throws(InputProblem) { zone = try stored ? MaintenanceWindow.timeZone(stored: zoneText) : MaintenanceWindow.timeZone(named: zoneText) } catch { problems.append(FieldProblem("timeZone", error.message)) }
        }
        if let durationText {
            do throws(InputProblem) {
                let d = try DurationText(parsing: durationText)
                if d.seconds <= 0 {
                    problems.append(FieldProblem("duration", "must be longer than zero"))
                } else {
                    try InputLimits.checkRange(d.seconds)
                    // Stored in ISO 8601 (the schema checks it starts with P): the short form
                    // (`90m`) and lower case become it; ISO 8601 as written is kept, so a
                    // document round-trips.
                    duration = d.text.hasPrefix("P") ? d : DurationText(seconds: d.seconds)
                }
            } catch { problems.append(FieldProblem("duration", error.message)) }
        }
        if let recurEvery {
            do throws(InputProblem) { recurrence = try Recurrence(parsing: recurEvery) } catch { problems.append(FieldProblem("recurEvery", error.message)) }
        }
        if let expiresText {
            expires = LocalDateTime(expiresText)
            if expires == nil {
                problems.append(FieldProblem("expires", "'\(expiresText.truncatedForMessage)' is not a local date and time (like 2027-06-30T00:00:00)"))
            } else if let start, let expires, expires <= start {
                problems.append(FieldProblem("expires", "\(expires) is not after start \(start)"))
            }
        }
    }

    public func window(name: String, scope: WindowScope) -> MaintenanceWindow? {
        guard let start, let zone, let duration else { return nil }
        return MaintenanceWindow(name: name, scope: scope, start: start, timeZone: zone, duration: duration, recurrence: recurrence, expires: expires)
    }
}

/// Where a move sends a VM, as `pitstop vm move` takes it: another set (or its own), other
/// domains, or out of any set.
public struct VMMove: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        /// The set it is in now, to change only its domains.
        case currentSet
        /// Single-instance.
        case noSet
        case set(String)
    }

    public var target: Target
    public var updateDomain: Int?
    public var faultDomain: Int?

    /// `{"availabilitySet": "web", "updateDomain": 1, "faultDomain": 0}`, each key optional:
    /// an absent `availabilitySet` keeps the current set and `null` makes the VM single-instance.
    /// Read by the document's record reader, so a field is refused in the same words.
    public static func decode(_ node: JSONNode, file: String) -> Result<VMMove, PitstopError> {
        let place = SourcePlace(line: node.line, path: "")
        var record = RecordReader(node: node, place: place)
        let setGiven = record.members.contains { $0.key == "availabilitySet" }
        let set = record.string("availabilitySet"), ud = record.integer("updateDomain"), fd = record.integer("faultDomain")
        record.finish()
        let target: Target = set.map { .set($0) } ?? (setGiven ? .noSet : .currentSet)
        if record.problems.isEmpty {
            if target == .noSet && (ud != nil || fd != nil) {
                record.problem("availabilitySet", "null (single-instance) cannot go with updateDomain or faultDomain")
            } else if target == .currentSet && ud == nil && fd == nil {
                record.problem("availabilitySet", "say where to: availabilitySet, updateDomain, faultDomain, or availabilitySet null")
            }
        }
        guard record.problems.isEmpty else {
            return .failure(.invalidInput(record.problems.map { InputError(file: file, place: place, problem: $0) }))
        }
        return .success(VMMove(target: target, updateDomain: ud, faultDomain: fd))
    }
}
